"""What the moderation gate needs from an image, read once when it is uploaded: its PDQ hash (with the
hashes of lightly cropped copies, for the block list) and the text in it.

`read()` works on the processed image's bytes (after media processing re-encoded it), so what is
hashed and read is exactly what would be served.
"""

from __future__ import annotations

import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from warden.detection import ocr, pdq

log = logging.getLogger("warden.image_signals")


@dataclass(frozen=True)
class ImageSignals:
    pdq: pdq.PdqHash
    #: hashes of cropped copies (`pdq.crop_variants`), concatenated hex
    variants: str
    #: the text read from the image ("" when none); None when no OCR engine ran
    text: str | None
    engine: str


#: OCR runs here while the calling thread hashes (Tesseract is a subprocess: the two use two cores).
_OCR_THREADS = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="warden-ocr")


def read(data: bytes) -> ImageSignals:
    image = Image.open(io.BytesIO(data))
    image.load()
    engine = ocr.engine()
    reading = _OCR_THREADS.submit(engine.read, image) if engine is not None else None
    hashed = pdq.hash_image(image)
    variants = "".join(pdq.crop_variants(image))
    text: str | None = None
    name = "none"
    if engine is not None and reading is not None:
        name = engine.name
        try:
            text = reading.result()
        except ocr.OcrFailed as exc:  # the hash and alt text still count; the post is not held for it
            log.warning("could not read the text of an image: %s", exc)
            name = f"{engine.name} (failed)"
    return ImageSignals(pdq=hashed, variants=variants, text=text, engine=name[:50])
