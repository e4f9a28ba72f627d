"""Fingerprints of a post's text that survive light editing: MinHash signatures and LSH band keys.

A post is read as the detector reads it (`normalize_text`: evasions undone, mentions and links
dropped), cut into words, and shingled into its words and its two-word phrases. Those shingles go
into a MinHash signature (datasketch, `NUM_PERM` values), whose share of equal values estimates the
Jaccard similarity of two posts' shingle sets. The signature is cut into `BANDS` bands of `ROWS`
values; two posts that agree on a whole band share that band's key, which is what the database
is searched for (warden/cases/copies.py). With 3-value bands a pair at similarity 0.45 shares a band
98% of the time, one at 0.2 about 28%, one at 0.1 4%: the candidates are then confirmed on the
estimated similarity.

A post of fewer than `MIN_WORDS` words has too few shingles for a similarity to mean anything
("you are a liar" and "you are a big liar" are 0.6 alike): it gets one key, of its exact words,
and matches only the very same words. One of fewer than `SHORT_WORDS` must be a little more alike
than a longer one (`threshold_for`).

Why these shingles: bench/bench_near_duplicates.py (--compare-shingles) measured, on exact Jaccard,
real posts with a fifth of their words changed, moved or padded against 100,000 benign ones. Words +
two-word phrases keep 98-99% of copies at 0.45-0.5 with 54-78 false matches; two-word phrases alone
lose copies (76% at 0.45), character 5-grams lose more than words + phrases at each threshold, and
character 4-grams are about level with them. Words alone did as well at 0.6 (98.9%, 49), with the
copies closer to the threshold, where the signature's estimate (+-0.045) loses more; they also cannot
tell word order ("man bites dog"). (docs/detection.md, "Copies of removed posts".)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from warden.detection.normalize import normalize_text

BANDS = 42
ROWS = 3
NUM_PERM = BANDS * ROWS
SEED = 1
SCHEME = "affine32"
#: Fewer words than this: matched on the exact words only.
MIN_WORDS = 5
#: Fewer words than this (and at least MIN_WORDS): a copy must be `SHORT_MARGIN` more alike than the
#: threshold asks of longer posts. Benign posts of 5-9 words met removed ones by chance more than
#: twice as often as longer posts did (bench/bench_near_duplicates.py).
SHORT_WORDS = 10
SHORT_MARGIN = 0.05
#: Changes whenever the shingles or the hashing change: fingerprints of another version never meet.
VERSION = f"w1w2-minhash-{SCHEME}-s{SEED}-{BANDS}x{ROWS}-splitmix"

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


@dataclass(frozen=True)
class Fingerprint:
    #: the post's words as normalised
    words: int
    #: the keys to store (a removed post) or to look up (a draft): band keys, or the one exact key
    keys: tuple[int, ...]
    #: NUM_PERM uint32 values as bytes; None for a short post (matched exactly)
    signature: bytes | None

    @property
    def exact(self) -> bool:
        return self.signature is None


def words_of(text: str, *, normalised: str | None = None) -> list[str]:
    """The words of a post as the detector reads it (`normalised`: its `normalize_text`, when the
    detector has it already)."""
    return _WORD.findall(normalize_text(text) if normalised is None else normalised)


def shingles(words: list[str]) -> set[str]:
    """Its words and two-word phrases."""
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}


@lru_cache(maxsize=1)
def _minhash() -> tuple[type, np.ndarray]:
    """datasketch's MinHash and its permutations, made once. Imported on first use: datasketch loads
    scipy with it (about 1.5 s and 50 MB), which a process that never fingerprints does not need;
    the policy gate calls `warm()` when it starts so that no post waits for it."""
    from datasketch import MinHash

    return MinHash, MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def warm() -> None:
    _minhash()


def _exact_key(words: list[str]) -> int:
    """A signed 64-bit key (the database's BIGINT) for a short post's exact words."""
    digest = hashlib.blake2b(" ".join(words).encode(), digest_size=8, person=b"exact words").digest()
    return int.from_bytes(digest, "big", signed=True)


_MIX = np.array([0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB], dtype=np.uint64)


def _band_keys(values: np.ndarray) -> tuple[int, ...]:
    """A signed 64-bit key for each band: its index and its ROWS values mixed (splitmix64's
    finaliser), all bands at once; two bands share a key only if they are equal (or by a 2^-64 chance)."""
    rows = values.astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        key = np.arange(1, BANDS + 1, dtype=np.uint64) * _MIX[0]
        for column in range(ROWS):
            key = (key ^ rows[:, column]) * _MIX[1]
            key ^= key >> np.uint64(31)
            key = key * _MIX[2]
            key ^= key >> np.uint64(29)
    return tuple(key.view(np.int64).tolist())


def fingerprint(text: str, *, normalised: str | None = None) -> Fingerprint | None:
    """The post's fingerprint, or None when it has no words (nothing to compare)."""
    words = words_of(text, normalised=normalised)
    if not words:
        return None
    if len(words) < MIN_WORDS:
        return Fingerprint(words=len(words), keys=(_exact_key(words),), signature=None)
    minhash_type, permutations = _minhash()
    minhash = minhash_type(num_perm=NUM_PERM, seed=SEED, permutations=permutations, scheme=SCHEME)
    minhash.update_batch([s.encode() for s in sorted(shingles(words))])
    values = minhash.hashvalues.astype("<u4")
    return Fingerprint(words=len(words), keys=_band_keys(values), signature=values.tobytes())


def threshold_for(words: int, threshold: float) -> float:
    """The similarity a draft of `words` words must reach to be a copy, given the configured threshold."""
    return threshold + SHORT_MARGIN if words < SHORT_WORDS else threshold


def similarity(a: bytes, b: bytes) -> float:
    """The Jaccard similarity of two posts' shingles, estimated from their signatures."""
    left, right = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    if len(left) != len(right):
        return 0.0
    return float(np.count_nonzero(left == right)) / len(left)
