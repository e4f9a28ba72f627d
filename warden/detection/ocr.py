"""Text in images (OCR), offline, with Debian's Tesseract (the `tesseract-ocr` package).

Chosen over rapidocr-onnxruntime on rendered posts (bench/bench_image_moderation.py, docs/media.md):
Tesseract 5.3 read them with a character error rate of 0.1% at 26 px against 0.6-3.3% for RapidOCR
(whose PP-OCR models also drop the spaces between words, which hides a threat from the detector), and
3-7 times faster on two cores. It runs as a subprocess (`tesseract stdin stdout`), one thread per
image (OMP_THREAD_LIMIT=1), on a greyscale copy scaled so that text is large enough to read.

`make install` and CI install the package (`apt-get install tesseract-ocr`). A server without it
still runs: `engine()` is then None, images are not read (their hash and alt text still count), and
the server says so once at start.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image, ImageOps

log = logging.getLogger("warden.ocr")

#: Longest side an image is read at: larger images are scaled down (screenshots are rarely larger),
#: smaller ones scaled up so that their text is tall enough for Tesseract.
MAX_SIDE = 2000
MIN_SIDE = 1000
TIMEOUT_SECONDS = 20.0
MAX_TEXT = 5000


class OcrFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class TesseractEngine:
    binary: str
    version: str
    language: str = "eng"

    @property
    def name(self) -> str:
        return f"tesseract {self.version}"

    def read(self, image: Image.Image) -> str:
        """The text in `image`, whitespace collapsed per line (at most `MAX_TEXT` characters)."""
        prepared = prepare(image)
        buffer = io.BytesIO()
        prepared.save(buffer, "PNG", compress_level=1)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            done = subprocess.run([self.binary, "stdin", "stdout", "-l", self.language, "--psm", "3"],
                                  input=buffer.getvalue(), capture_output=True, timeout=TIMEOUT_SECONDS,
                                  env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise OcrFailed(f"tesseract took more than {TIMEOUT_SECONDS:.0f} s") from exc
        if done.returncode != 0:
            raise OcrFailed(f"tesseract failed: {done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return clean(done.stdout.decode("utf-8", "replace"))


#: A lone vertical bar between words is Tesseract misreading the pronoun "I" (common in screenshots).
_BAR = re.compile(r"(?<!\S)\|(?!\S)")


def clean(text: str) -> str:
    """One line per line read, whitespace collapsed, empty lines dropped."""
    lines = (" ".join(_BAR.sub("I", line).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[:MAX_TEXT]


def readings(text: str) -> list[str]:
    """What the detector scores of an image's text: its lines joined as one paragraph (a post's text
    wraps over lines), and, for a screenshot, the same without the short lines it starts with (the
    author's name, handle and time above a post lower a threat's score: 0.89 to 0.74 for one)."""
    lines = [line for line in text.splitlines() if line.strip()]
    out = [" ".join(lines)]
    start = 0
    while start < len(lines) - 1 and len(lines[start].split()) <= 3:
        start += 1
    if start:
        out.append(" ".join(lines[start:]))
    return [r for r in out if r]


def prepare(image: Image.Image) -> Image.Image:
    """Greyscale, transparency over white, scaled into [MIN_SIDE, MAX_SIDE] on its longest side."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    grey = ImageOps.grayscale(image)
    longest = max(grey.size)
    if longest > MAX_SIDE:
        grey.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    elif longest < MIN_SIDE:
        factor = min(3.0, MIN_SIDE / longest)
        grey = grey.resize((round(grey.width * factor), round(grey.height * factor)), Image.Resampling.BICUBIC)
    return grey


@functools.cache
def engine() -> TesseractEngine | None:
    """The installed engine, or None (logged once) when Tesseract is not installed or OCR is off
    (`WARDEN_OCR=off`)."""
    if os.environ.get("WARDEN_OCR", "on").lower() in ("0", "off", "false"):
        return None
    binary = shutil.which("tesseract")
    if binary is None:
        log.warning("text in images is not read: Tesseract is not installed (apt-get install tesseract-ocr)")
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        log.warning("text in images is not read: %s --version failed", binary)
        return None
    first = (out.stdout or out.stderr).decode("utf-8", "replace").split("\n", 1)[0]
    return TesseractEngine(binary=binary, version=first.replace("tesseract", "").strip() or "unknown")
