"""PDQ hashing and the nearest-hash index, without a server (warden/detection/pdq.py, hash_index.py)."""

from __future__ import annotations

import secrets

from tests.images import synthetic_image, transforms
from warden.detection import ocr, pdq
from warden.detection.hash_index import HashIndex


def test_transformed_copies_stay_within_the_match_distance_and_other_images_do_not() -> None:
    original = next(im for im in (synthetic_image(s, (640, 480)) for s in range(200, 260))
                    if pdq.hash_image(im).quality >= 80)
    listed = [pdq.hash_image(original).hex, *pdq.crop_variants(original)]
    assert len(listed) == 81 and all(pdq.normalise_hex(h) == h for h in listed)
    index = HashIndex([1] * len(listed), listed)
    for name, transform in transforms():
        nearest = index.nearest([pdq.hash_image(transform(original)).hex])
        assert nearest is not None and nearest.distance <= pdq.MATCH_DISTANCE, name
    for seed in range(900, 920):
        nearest = index.nearest([pdq.hash_image(synthetic_image(seed)).hex])
        assert nearest is not None and nearest.distance > pdq.MATCH_DISTANCE + 20


def test_index_finds_the_nearest_hash_and_which_query_it_was() -> None:
    hashes = [secrets.token_hex(32) for _ in range(1000)]
    index = HashIndex(list(range(1000)), hashes)
    target = bytearray(bytes.fromhex(hashes[637]))
    target[0] ^= 0b1011  # three bits off
    nearest = index.nearest([secrets.token_hex(32), bytes(target).hex()])
    assert nearest is not None and (nearest.owner, nearest.distance, nearest.query) == (637, 3, 1)
    assert HashIndex([], []).nearest([hashes[0]]) is None


def test_hex_validation_and_ocr_readings() -> None:
    assert pdq.normalise_hex(" " + "AB" * 32 + " ") == "ab" * 32
    for bad in ("ab" * 31, "zz" * 32, 42, None, "ab" * 33):
        assert pdq.normalise_hex(bad) is None
    assert ocr.clean("Alice\n\n@alice\n| will  find you\n") == "Alice\n@alice\nI will find you"
    assert ocr.readings("Alice\n@alice\nI will find you and\nhurt you") == \
        ["Alice @alice I will find you and hurt you", "I will find you and hurt you"]
