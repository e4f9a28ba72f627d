"""Labels that follow the model card's definition of `violence`, for the two held-out sets whose own
labels do not (HatEval's AG label, ETHOS's `violence` column; bench/label_audit.py).

The judgements live in ``definition_labels.json`` beside this module, one per post, named by
:func:`text_id` (the first 12 hex digits of the SHA-1 of the post's text as
:mod:`.datasets` reads it): never the text. Per set they cover

- the **pool**: every post that any scorer `warden eval` reports ranks among its top K (Warden at
  each profile, encoder-only, linear-only, TF-IDF + LR, alt-profanity-check, the keyword list),
  each judged yes/no against the definition with a reason code;
- a seeded random **sample** of the rest, judged the same way, to estimate how many
  definition positives the pool misses.

`warden eval` scores these sets against the pool's judgements: a post outside the pool counts as
negative (the sample's positives too, so the estimate stays an estimate of what is counted
wrong). The original labels are reported beside them for reference only.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .stats import cohen_kappa, wilson

LABELS_FILE = Path(__file__).with_name("definition_labels.json")

# reason codes: why a post is (yes) or is not (no) violence by the definition
YES_CODES = {
    "call": "encourages or incites violence, including normative calls ('X should be hanged')",
    "threat": "the writer threatens or states a wish to harm a person or group themselves",
    "wish": "hopes that someone else harms a person or group ('I hope someone breaks your legs')",
    "glorification": "praises or welcomes an attack, a killing or an attacker",
    "removal": "dehumanising call to remove or exterminate a group, or to sterilise it by force",
}
NO_CODES = {
    "none": "no act of violence named (abuse, hate, politics, anything else)",
    "politics": "calls to deport, expel, jail, ban, wall off or sentence by a court (incl. the death penalty)",
    "abuse": "insult or hate without an act of violence",
    "deathwish": "wishes someone dead or ill without naming an act of violence ('die in a fire')",
    "selfharm": "urges the reader to kill or harm themselves",
    "sexual": "sexual talk or role play, not a threat of assault",
    "hyperbole": "hyperbole or a joke nobody would read as meant",
    "idiom": "an idiom ('killing me', 'rip you a new one')",
    "gaming": "games or sport talk",
    "news": "reports violence as news",
    "quote": "quotes words (lyrics, someone's threat) to report or criticise them",
    "counter": "condemns violence, or argues against it",
    "negated": "negates violence ('do not kill people')",
    "history": "history",
    "fiction": "fiction or a TV plot",
    "abstract": "aims at an idea or a religion, not people ('destroy islam')",
    "vague": "a veiled or vague menace that names no act of violence ('you are marked')",
}
_ID = re.compile(r"^[0-9a-f]{12}$")


def text_id(text: str) -> str:
    """How the labels file names a post: the first 12 hex digits of the SHA-1 of its text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass
class DefinitionSet:
    """One held-out set's judgements (see the module docstring)."""
    name: str  # "source/split", as `warden eval` names the set
    k: int  # each scorer's top K went into the pool
    scorers: list[str]
    rest: int  # posts outside the pool
    pool: dict[str, tuple[str, str]]  # text_id -> (verdict, reason code)
    sample: dict[str, tuple[str, str]] = field(default_factory=dict)
    sample_seed: int = 0

    def labels(self, texts: list[str]) -> np.ndarray:
        """1 for the posts in the pool judged violence by the definition, 0 for every other post."""
        return np.array([int(self.pool.get(text_id(t), ("no",))[0] == "yes") for t in texts], dtype=np.int64)

    def positives(self) -> int:
        return sum(v == "yes" for v, _ in self.pool.values())

    def missed(self) -> dict:
        """The sample's estimate of the definition positives outside the pool, with a 95 % Wilson
        interval scaled to the posts outside it (exact, with no interval, where the sample is all
        of them)."""
        n, k = len(self.sample), sum(v == "yes" for v, _ in self.sample.values())
        if self.rest == 0:
            return {"sample": 0, "sample_positives": 0, "rest": 0, "estimate": 0.0, "ci": [0.0, 0.0]}
        if n == 0:
            raise ValueError(f"{self.name}: {self.rest} posts outside the pool and no sample of them")
        lo, hi = wilson(k, n)
        exact = n == self.rest
        return {"sample": n, "sample_positives": k, "rest": self.rest, "estimate": k / n * self.rest,
                "ci": [float(k), float(k)] if exact else [lo * self.rest, hi * self.rest]}

    def agreement(self, texts: list[str], original: np.ndarray) -> dict:
        """How the set's original labels compare with the definition labels, post by post."""
        d = self.labels(texts).astype(bool)
        o = np.asarray(original).astype(bool)
        return {"both": int((d & o).sum()), "original_only": int((o & ~d).sum()),
                "definition_only": int((d & ~o).sum()), "neither": int((~d & ~o).sum()),
                "kappa": cohen_kappa(o, d)}


def _entries(raw: dict, where: str) -> dict[str, tuple[str, str]]:
    out = {}
    for key, value in raw.items():
        if not _ID.match(key):
            raise ValueError(f"{where}: {key!r} is not a 12-hex-digit text id")
        if not (isinstance(value, list) and len(value) == 2):
            raise ValueError(f"{where}: {key}: expected [verdict, reason code], got {value!r}")
        verdict, code = value
        allowed = YES_CODES if verdict == "yes" else NO_CODES if verdict == "no" else None
        if allowed is None or code not in allowed:
            raise ValueError(f"{where}: {key}: {verdict!r} with reason {code!r} is not a known judgement")
        out[key] = (verdict, code)
    return out


def load(path: Path = LABELS_FILE) -> dict[str, DefinitionSet]:
    """The judgements per set name, checked for shape (ids, verdicts, reason codes)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for name, s in raw["sets"].items():
        pool, sample = _entries(s["pool"], f"{name} pool"), _entries(s.get("sample", {}), f"{name} sample")
        if set(pool) & set(sample):
            raise ValueError(f"{name}: posts both in the pool and in the sample: {sorted(set(pool) & set(sample))[:5]}")
        if len(sample) > s["rest"]:
            raise ValueError(f"{name}: a sample of {len(sample)} from {s['rest']} posts outside the pool")
        out[name] = DefinitionSet(name, s["k"], s["scorers"], s["rest"], pool, sample, s.get("sample_seed", 0))
    return out


def relabel(names: list[str], texts: list[str], y: np.ndarray, sets: dict[str, DefinitionSet]) -> np.ndarray:
    """``y`` (one label per row, NaN where unknown) with every known row of a set in ``sets``
    (``names``: each row's "source/split") relabelled by the definition."""
    out = np.array(y, dtype=np.float64, copy=True)
    names = np.asarray(names)
    for name, ds in sets.items():
        rows = np.flatnonzero((names == name) & ~np.isnan(out))
        out[rows] = ds.labels([texts[i] for i in rows])
    return out
