"""PDQ perceptual hashes of images (Meta's open standard for sharing hashes of known bad images).

A PDQ hash is 256 bits, written as 64 hexadecimal characters as ThreatExchange and the industry's hash
lists write it; two images are "the same picture" when their hashes differ in at most
`MATCH_DISTANCE` bits. Its quality (0-100) says how much structure the image had: a nearly flat image
has a hash that matches too much, so hashes under `MIN_QUALITY` are kept but never used to block.
Hashing uses the `pdqhash` package (Python bindings to the reference C++ implementation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

#: The distance at or under which two hashes are one picture: PDQ's reference threshold (its authors
#: recommend 31 for matching; unrelated images differ in about 128 bits). bench/bench_image_moderation.py
#: measures re-uploads and unrelated images against it.
MATCH_DISTANCE = 31
#: Hashes of lower quality are stored but never match: ThreatExchange's default cut-off.
MIN_QUALITY = 50
#: The side PDQ's reference implementation downsamples to before hashing; hashing a smaller copy is
#: as good and far cheaper for a 12-megapixel photo.
HASH_SIDE = 512
#: Crop variants are hashed from a smaller copy still (PDQ itself reads a 64 x 64 reduction).
VARIANT_SIDE = 256
HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PdqHash:
    hex: str
    quality: int

    def distance(self, other: "PdqHash | str") -> int:
        return distance(self.hex, other if isinstance(other, str) else other.hex)


def normalise_hex(value: object) -> str | None:
    """A PDQ hash as 64 lower-case hexadecimal characters, or None when `value` is not one."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if HEX.match(value) else None


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256 0/1 values (most significant bit first) as ThreatExchange's hex string."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_words(value: str) -> np.ndarray:
    """A hex hash as four unsigned 64-bit words (for XOR and popcount)."""
    return np.frombuffer(bytes.fromhex(value), dtype=">u8").astype(np.uint64)


def distance(a: str, b: str) -> int:
    return int(np.bitwise_count(hex_to_words(a) ^ hex_to_words(b)).sum())


def _rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode not in ("RGB", "L"):
        if image.mode in ("RGBA", "LA", "P"):  # transparency over white, as a viewer shows it
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("RGB")
    if image.mode == "L":
        image = image.convert("RGB")
    if max(image.size) > HASH_SIDE:
        image = image.copy()
        image.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def hash_image(image: Image.Image) -> PdqHash:
    """The PDQ hash of a decoded image (any mode; animated images: their first frame)."""
    import pdqhash  # the compiled extension, imported when an image is first hashed

    bits, quality = pdqhash.compute(_rgb_array(image))
    return PdqHash(hex=bits_to_hex(bits), quality=int(quality))


#: The crops whose hashes a blocked image also goes on the list with: per side, the share cut off
#: (left/top, right/bottom), 0-5% of each dimension in steps of 1.25%. A re-upload cropped by up
#: to 5% is then within `MATCH_DISTANCE` of one of them (bench/bench_image_moderation.py).
CROPS = ((0.0, 0.0), (0.025, 0.0), (0.0, 0.025), (0.05, 0.0), (0.0, 0.05), (0.025, 0.025),
         (0.0125, 0.0125), (0.0375, 0.0125), (0.0125, 0.0375))


def crop_variants(image: Image.Image) -> list[str]:
    """The hashes of the image cropped as `CROPS` says (every pair of horizontal and vertical cuts but
    none at all), as hex, for the block list."""
    import pdqhash

    small = image
    if max(image.size) > VARIANT_SIDE:
        small = image.copy()
        small.thumbnail((VARIANT_SIDE, VARIANT_SIDE), Image.Resampling.BILINEAR)
    width, height = small.size
    out: list[str] = []
    for left, right in CROPS:
        for top, bottom in CROPS:
            if left == right == top == bottom == 0.0:
                continue
            box = (round(width * left), round(height * top), width - round(width * right),
                   height - round(height * bottom))
            bits, _ = pdqhash.compute(_rgb_array(small.crop(box)))
            out.append(bits_to_hex(bits))
    return out
