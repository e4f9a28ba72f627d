"""Images for the image-moderation tests and bench/bench_image_moderation.py, made here, never downloaded.

- `render_post`: a text post as a client screenshot shows it (a card with the author's name and the
  wrapped text), drawn with DejaVu Sans when Debian's fonts-dejavu-core is installed, else Pillow's
  own default font (a TTF since Pillow 10.1);
- `synthetic_image`: a "photo-like" picture from a seed: smooth gradients, blurred noise, random
  shapes and sometimes a line of text, so that different seeds give unrelated pictures;
- `transforms`: the re-upload edits an evader makes (scale 50-200%, JPEG quality 40-95, 5% crop,
  greyscale) as (name, function) pairs.
"""

from __future__ import annotations

import io
import random
import textwrap
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = DEJAVU_BOLD if bold else DEJAVU
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def render_post(text: str, *, author: str = "alice", width: int = 720, size: int = 26, dark: bool = False) -> Image.Image:
    """A screenshot of a post: name, handle and the text wrapped to the card's width."""
    body = font(size)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width=max(10, int(width / (size * 0.55)))) or [""])
    line_height = int(size * 1.45)
    height = 40 + 2 * size + 20 + line_height * len(lines) + 40
    background, ink, muted = ((21, 24, 32), (236, 238, 242), (140, 147, 160)) if dark else \
        ((255, 255, 255), (20, 22, 28), (100, 106, 118))
    image = Image.new("RGB", (width + 60, height), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 30, 30 + 2 * size, 30 + 2 * size), fill=(99, 100, 255))
    draw.text((40 + 2 * size, 30), author.capitalize(), font=font(int(size * 0.8), bold=True), fill=ink)
    draw.text((40 + 2 * size, 32 + size), f"@{author}", font=font(int(size * 0.7)), fill=muted)
    y = 40 + 2 * size + 20
    for line in lines:
        draw.text((30, y), line, font=body, fill=ink)
        y += line_height
    return image


def synthetic_image(seed: int, size: tuple[int, int] | None = None) -> Image.Image:
    """A picture unrelated to any other seed's: one of gradient, noise, shapes or mixed."""
    rng = random.Random(seed)
    width, height = size or (rng.randint(320, 1024), rng.randint(240, 900))
    kind = rng.choice(("gradient", "noise", "shapes", "mixed"))
    # a smooth background: two colours blended along a random direction
    c1 = tuple(rng.randrange(256) for _ in range(3))
    c2 = tuple(rng.randrange(256) for _ in range(3))
    small = Image.new("RGB", (8, 8))
    small.putdata([tuple(int(a + (b - a) * ((x * rng.random() + y * rng.random()) / 14)) for a, b in zip(c1, c2))
                   for y in range(8) for x in range(8)])
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    if kind in ("noise", "mixed"):
        noise = Image.effect_noise((max(8, width // rng.randint(4, 40)), max(8, height // rng.randint(4, 40))),
                                   rng.uniform(30, 90)).resize((width, height), Image.Resampling.BICUBIC)
        tint = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
        image = Image.composite(image, tint, noise.filter(ImageFilter.GaussianBlur(rng.uniform(0, 4))))
    if kind in ("shapes", "mixed", "gradient"):
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(3, 25) if kind != "gradient" else rng.randint(0, 3)):
            x0, y0 = rng.randrange(width), rng.randrange(height)
            x1, y1 = x0 + rng.randint(10, width // 2), y0 + rng.randint(10, height // 2)
            colour = tuple(rng.randrange(256) for _ in range(3))
            shape = rng.choice(("rectangle", "ellipse", "line", "polygon"))
            if shape == "rectangle":
                draw.rectangle((x0, y0, x1, y1), fill=colour)
            elif shape == "ellipse":
                draw.ellipse((x0, y0, x1, y1), fill=colour)
            elif shape == "line":
                draw.line((x0, y0, x1, y1), fill=colour, width=rng.randint(1, 12))
            else:
                draw.polygon([(rng.randrange(width), rng.randrange(height)) for _ in range(rng.randint(3, 6))],
                             fill=colour)
    if rng.random() < 0.3:
        draw = ImageDraw.Draw(image)
        words = rng.sample(["sunset", "market", "harbour", "garden", "friday", "coffee", "street", "mountain",
                            "river", "concert", "birthday", "lunch", "train", "summer", "snow"], 3)
        draw.text((rng.randrange(max(1, width // 2)), rng.randrange(max(1, height - 40))), " ".join(words),
                  font=font(rng.randint(14, 48)), fill=tuple(rng.randrange(256) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _scale(image: Image.Image, factor: float) -> Image.Image:
    return image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                        Image.Resampling.LANCZOS)


def _crop(image: Image.Image, fraction: float, where: str) -> Image.Image:
    dx, dy = round(image.width * fraction), round(image.height * fraction)
    boxes = {"centre": (dx // 2, dy // 2, image.width - (dx - dx // 2), image.height - (dy - dy // 2)),
             "top-left": (dx, dy, image.width, image.height),
             "bottom-right": (0, 0, image.width - dx, image.height - dy)}
    return image.crop(boxes[where])


def transforms() -> list[tuple[str, Callable[[Image.Image], Image.Image]]]:
    """The re-uploads to catch: each alone, and a few combined as an evader would."""
    out: list[tuple[str, Callable[[Image.Image], Image.Image]]] = []
    for factor in (0.5, 0.75, 1.5, 2.0):
        out.append((f"scale {factor:.0%}", lambda im, f=factor: _scale(im, f)))
    for quality in (40, 60, 75, 95):
        out.append((f"jpeg q{quality}", lambda im, q=quality: _jpeg(im, q)))
    for where in ("centre", "top-left", "bottom-right"):
        out.append((f"crop 5% {where}", lambda im, w=where: _crop(im, 0.05, w)))
    out.append(("greyscale", lambda im: im.convert("L").convert("RGB")))
    out.append(("greyscale + jpeg q60", lambda im: _jpeg(im.convert("L"), 60)))
    out.append(("scale 50% + jpeg q40", lambda im: _jpeg(_scale(im, 0.5), 40)))
    out.append(("crop 5% + scale 150% + jpeg q75", lambda im: _jpeg(_scale(_crop(im, 0.05, "centre"), 1.5), 75)))
    return out


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
