"""Image moderation's bars, measured (issue 33). Prints numbers; asserts nothing.

    .venv/bin/python bench/bench_image_moderation.py [--removed 40] [--unrelated 1000] [--skip-ocr]

1. Re-uploads of removed images: synthetic photo-like images (tests/images.py: gradients, blurred
   noise, shapes, some with a line of text; one per seed) are put on the block list as a removal puts
   them (the hash and 80 crop variants), then every transform of tests/images.transforms() (scale
   50-200%, JPEG quality 40-95, 5% crops, greyscale, and combinations) plus 10 random crops of up to 5%
   of each side are hashed after a JPEG round trip and matched at PDQ's distance 31.
2. Unrelated images: 1,000 more seeds (none of them on the list) matched against the same list.
3. Lookup time of the in-memory index at 10^4 to 10^6 hashes.
4. OCR on rendered posts (light and dark cards, 18 and 26 px): Tesseract (the engine Warden uses),
   and rapidocr-onnxruntime when it is installed (pip install rapidocr-onnxruntime==1.4.4), as
   character error rate and seconds per image.
5. A screenshot of a violent post, read by OCR and scored by the real detector, against the post's own
   text: the largest difference in the violence score.
6. Processing a 12-megapixel photo: media processing, then reading its signals (hash, variants, OCR).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from tests.images import jpeg_bytes, render_post, synthetic_image, transforms  # noqa: E402
from warden.detection import ocr, pdq  # noqa: E402
from warden.detection.hash_index import HashIndex  # noqa: E402

VIOLENT = [
    "I will kill you and burn your house down tonight, you will not see it coming.",
    "Meet at the square at 5pm, bring weapons and we finish every one of them.",
    "All of them deserve to be hanged from the nearest tree, every single one.",
    "We should burn down their mosque and shoot whoever runs out.",
    "Next time I see you I am going to stab you until you stop moving.",
    "Grab your guns, tonight we hunt them down street by street.",
]
BENIGN = [
    "Lovely morning at the harbour, the coffee place on Main Street finally reopened!",
    "Does anyone know a good vet near the old train station? My cat is limping.",
    "Reminder: the community garden meeting moved to Thursday 7pm, room 12.",
    "Happy birthday to my wonderful sister, 30 years young today :)",
]


def jpeg_round_trip(image: Image.Image, quality: int = 90) -> Image.Image:
    return Image.open(io.BytesIO(jpeg_bytes(image, quality))).convert("RGB")


def random_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    fx, fy = rng.uniform(0, 0.05), rng.uniform(0, 0.05)
    left, top = rng.uniform(0, fx), rng.uniform(0, fy)
    w, h = image.size
    return image.crop((round(w * left), round(h * top), w - round(w * (fx - left)), h - round(h * (fy - top))))


def bench_hashes(removed: int, unrelated: int) -> None:
    print(f"== 1-2. PDQ block list (match distance {pdq.MATCH_DISTANCE}, quality >= {pdq.MIN_QUALITY})")
    rng = random.Random(7)
    owners: list[int] = []
    hexes: list[str] = []
    originals: list[Image.Image] = []
    low_quality = 0
    seed = 0
    while len(originals) < removed:
        image = synthetic_image(seed)
        seed += 1
        served = jpeg_round_trip(image)  # what processing stores and hashes
        value = pdq.hash_image(served)
        if value.quality < pdq.MIN_QUALITY:
            low_quality += 1  # never listed: PDQ's own advice for featureless images
            continue
        for h in [value.hex, *pdq.crop_variants(served)]:
            owners.append(len(originals))
            hexes.append(h)
        originals.append(image)
    index = HashIndex(owners, hexes)
    print(f"removed images: {removed} listed ({low_quality} more seeds skipped: quality < {pdq.MIN_QUALITY}), "
          f"{len(index)} hashes with crop variants")
    by_transform: dict[str, list[bool]] = {}
    distances: list[int] = []
    for number, image in enumerate(originals):
        cases = [(name, fn(image)) for name, fn in transforms()]
        cases += [("random crop <= 5%", random_crop(image, rng)) for _ in range(10)]
        for name, copy in cases:
            value = pdq.hash_image(jpeg_round_trip(copy))
            nearest = index.nearest([value.hex])
            hit = nearest is not None and nearest.distance <= pdq.MATCH_DISTANCE and nearest.owner == number \
                and value.quality >= pdq.MIN_QUALITY
            by_transform.setdefault(name, []).append(hit)
            distances.append(nearest.distance if nearest else 256)
    total = [hit for hits in by_transform.values() for hit in hits]
    print(f"re-uploads blocked: {sum(total)}/{len(total)} = {100 * sum(total) / len(total):.1f}% "
          f"(distance to the nearest listed hash: median {statistics.median(distances):.0f}, "
          f"p95 {np.percentile(distances, 95):.0f})")
    for name, hits in by_transform.items():
        print(f"  {name:34s} {sum(hits):4d}/{len(hits):<4d} {100 * sum(hits) / len(hits):5.1f}%")
    blocked = 0
    nearest_unrelated: list[int] = []
    for seed2 in range(100_000, 100_000 + unrelated):
        value = pdq.hash_image(jpeg_round_trip(synthetic_image(seed2)))
        nearest = index.nearest([value.hex])
        assert nearest is not None
        nearest_unrelated.append(nearest.distance)
        blocked += nearest.distance <= pdq.MATCH_DISTANCE and value.quality >= pdq.MIN_QUALITY
    print(f"unrelated images blocked: {blocked}/{unrelated} (nearest listed hash: min distance "
          f"{min(nearest_unrelated)}, 1st percentile {np.percentile(nearest_unrelated, 1):.0f}, "
          f"median {statistics.median(nearest_unrelated):.0f})")


def bench_lookup() -> None:
    print("== 3. Index lookup (brute force, numpy popcount), one image's hash")
    rng = np.random.default_rng(1)
    for size in (10_000, 100_000, 1_000_000):
        hexes = [bytes(row).hex() for row in rng.integers(0, 256, size=(size, 32), dtype=np.uint8)]
        index = HashIndex(list(range(size)), hexes)
        query = bytes(rng.integers(0, 256, size=32, dtype=np.uint8)).hex()
        index.nearest([query])
        runs = 20 if size < 1_000_000 else 5
        start = time.perf_counter()
        for _ in range(runs):
            index.nearest([query])
        each = (time.perf_counter() - start) / runs
        print(f"  {size:>9,} hashes ({size // 81:>6,} blocked images with variants): {each * 1000:7.2f} ms a lookup")


def cer(reference: str, hypothesis: str) -> float:
    a, b = " ".join(reference.split()), " ".join(hypothesis.split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(1, len(a))


def bench_ocr() -> None:
    print("== 4. OCR on rendered posts: character error rate (name, handle and text) and seconds per image")
    engines: dict[str, object] = {}
    tesseract = ocr.engine()
    if tesseract is not None:
        engines[tesseract.name] = tesseract.read
    else:
        print("  Tesseract is not installed (apt-get install tesseract-ocr)")
    try:
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-not-found]

        rapid = RapidOCR()

        def read_rapid(image: Image.Image) -> str:
            result, _ = rapid(np.asarray(image.convert("RGB")))
            return " ".join(row[1] for row in result or [])

        engines["rapidocr-onnxruntime"] = read_rapid
    except ImportError:
        print("  rapidocr-onnxruntime is not installed: only Tesseract measured")
    texts = VIOLENT + BENIGN
    for name, read in engines.items():
        for dark in (False, True):
            for size in (18, 26):
                errors, seconds = [], 0.0
                for text in texts:
                    image = render_post(text, size=size, dark=dark)
                    start = time.perf_counter()
                    out = read(image)  # type: ignore[operator]
                    seconds += time.perf_counter() - start
                    errors.append(cer(f"Alice @alice {text}", out))
                print(f"  {name:22s} {'dark ' if dark else 'light'} {size} px: CER {100 * statistics.mean(errors):5.1f}%"
                      f"  {seconds / len(texts):.2f} s/image")


def bench_screenshot_scores() -> None:
    print("== 5. Screenshots of violent posts vs the text itself (real detector, violence score)")
    engine = ocr.engine()
    if engine is None:
        print("  skipped: Tesseract is not installed")
        return
    try:
        from warden.detection import get_detector

        detector = get_detector()
    except (FileNotFoundError, OSError, KeyError, ValueError) as exc:
        print(f"  skipped: the detector cannot be loaded ({exc})")
        return
    differences = []
    styles = ((False, 26, 720), (True, 26, 720), (False, 18, 720), (True, 20, 480))
    texts = VIOLENT + BENIGN + hatecheck_threats(24)
    for number, text in enumerate(texts):
        dark, size, width = styles[number % len(styles)]
        read = engine.read(render_post(text, dark=dark, size=size, width=width))
        own = detector.score(text).scores["violence"]
        # as the gate reads it: the strictest of the text's readings (warden/detection/ocr.py)
        shot = max(detector.score(r).scores["violence"] for r in ocr.readings(read))
        differences.append(abs(own - shot))
        print(f"  text {own:.3f}  screenshot {shot:.3f}  {'dark ' if dark else 'light'} {size}px {text[:48]!r}")
    over = sum(d > 0.15 for d in differences)
    print(f"  {len(texts)} posts: largest difference {max(differences):.3f}, mean {statistics.mean(differences):.3f}, "
          f"{over} over the bar of 0.15")


def hatecheck_threats(n: int) -> list[str]:
    """Direct threats from HateCheck (../shared/data, when present): more varied wording than ours."""
    import csv

    path = ROOT.parent / "shared" / "data" / "hatecheck" / "test_suite_cases.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r["test_case"] for r in csv.DictReader(handle)
                if r["functionality"] in ("threat_dir_h", "threat_norm_h")]
    return random.Random(3).sample(rows, min(n, len(rows)))


def bench_big_photo() -> None:
    print("== 6. A 12-megapixel photo (4000 x 3000 JPEG): media processing, then its signals")
    from warden.detection import image_signals
    from warden.media.processing import process_image

    data = jpeg_bytes(synthetic_image(42, (4000, 3000)), 92)
    process_image(data, "image/jpeg")
    for label, fn in (("process_image (Pillow)", lambda: process_image(data, "image/jpeg")),):
        start = time.perf_counter()
        processed = fn()
        print(f"  {label:34s} {time.perf_counter() - start:.2f} s")
    stored = processed.original.data
    image = Image.open(io.BytesIO(stored))
    image.load()
    for label, fn in (("PDQ hash", lambda: pdq.hash_image(image)),
                      ("80 crop variants", lambda: pdq.crop_variants(image)),
                      ("OCR", lambda: ocr.engine().read(image) if ocr.engine() else ""),  # type: ignore[union-attr]
                      ("image_signals.read (all three)", lambda: image_signals.read(stored))):
        start = time.perf_counter()
        fn()
        print(f"  {label:34s} {time.perf_counter() - start:.2f} s  ({image.width} x {image.height} stored)")
    totals = []
    for _ in range(5):  # what an upload spends before it is stored: processing, then reading
        start = time.perf_counter()
        image_signals.read(process_image(data, "image/jpeg").original.data)
        totals.append(time.perf_counter() - start)
    print(f"  processing + reading, 5 runs: p50 {statistics.median(totals):.2f} s, max {max(totals):.2f} s "
          f"(bar: 1.5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--removed", type=int, default=40)
    parser.add_argument("--unrelated", type=int, default=1000)
    parser.add_argument("--skip-ocr", action="store_true", help="leave out the OCR comparison (4)")
    args = parser.parse_args()
    version = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"bench_image_moderation: {version} CPUs")
    bench_hashes(args.removed, args.unrelated)
    bench_lookup()
    if not args.skip_ocr:
        bench_ocr()
    bench_screenshot_scores()
    bench_big_photo()


if __name__ == "__main__":
    main()
