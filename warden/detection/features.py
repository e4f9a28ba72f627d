"""Stage-1 features: hashed word (1-2) and char (3-5) n-grams of normalised text, plus flags for
the structure of incitement (call to act, violent act, target, time/place). Pure numpy/regex, used
identically at training and run time.
"""
from __future__ import annotations

import hashlib
import re
import zlib
from functools import lru_cache

import numpy as np

N_BUCKETS = 1 << 18
_MASK = np.uint64(N_BUCKETS - 1)
_P = np.uint64(1000003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
CHAR_N = (3, 4, 5)
MAX_CHARS = 2000  # the linear stage reads the first 2000 chars; the encoder reads everything

# --------------------------------------------------------------------------- incitement structure
_ACT = (r"kill\w*|murder\w*|shoot\w*|shot|stab\w*|hang\w*|hung|lynch\w*|behead\w*|slaughter\w*|exterminat\w*|"
        r"massacre\w*|genocide|bomb\w*|burn\w*|execut\w*|gas|gassed|tortur\w*|rape\w*|beat\w*|bullet\w*|gun\w*|"
        r"knife|knives|stab|string\w* up|wipe\w* out|eradicat\w*|cleanse\w*|purge\w*|drown\w*|die|dead|death|"
        r"blood|rope|noose|lampposts?|firing squad|deport\w*|remove\w*|eliminat\w*|destroy\w*|attack\w*|hurt\w*|"
        r"run (?:them|him|her) over|put (?:them|him|her) down|hunt\w* (?:them|him|her)? ?down|suffer\w*|bleed\w*|"
        r"throats?|strangl\w*|chok\w*|poison\w*|smash\w*|end (?:[\w']+ ){0,3}li(?:fe|ves)|in the ground|"
        r"six feet under|mass grave|assassinat\w*|take (?:them|him|her) out")
_CALL = (r"should|must|want to|wanna|going to|will|need to|needs to|ought to|let'?s|lets|time to|go and|we will|we'll|i will|i'll|i'?m going to|"
         r"i'?m gonna|gonna|we are going to|deserve\w*|hope\w*|wish|somebody|someone|anyone|arm yourselves|"
         r"take up arms|grab your|bring (?:your|a|the)|on sight|no mercy|every (?:last )?one|all of them|have to")
_TARGET = (r"them|they|those|these|him|her|you|your|all \w+|every \w+|\w+s|the \w+|that \w+|"
           r"women|jews|muslims|blacks|whites|immigrants|refugees|gays|trans|liberals|traitors")
_TIME = (r"tonight|tomorrow|today|this weekend|next week|on (?:monday|tuesday|wednesday|thursday|friday|"
         r"saturday|sunday)|at dawn|at noon|at \d|when (?:they|he|she)|before they|soon|now")
_PLACE = (r"at (?:the|their|his|her|city) \w+|outside (?:the|their) \w+|in the parking lot|their homes?|"
          r"where (?:you|they|he|she) live|your house|your address")
_META = (r"saying|said|says|tweeted|wrote|posted|quote|quoted|like '|\"|report\w*|condemn\w*|never|n't|not|"
         r"no one|nobody|police said|according to|accused|charged|sentenced|novel|movie|film|book|game|chapter")


def _top_level(alternatives: str) -> list[str]:
    """The alternatives of a pattern "a|b|(?:c|d)e" that are not inside a group: a, b, (?:c|d)e."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(alternatives):
        c = alternatives[i]
        if c == "\\":
            i += 1
        elif c in "([":  # no alternative contains a "[" other than a class, nor a class with ( or )
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "|" and not depth:
            out.append(alternatives[start:i])
            start = i + 1
        i += 1
    return [*out, alternatives[start:]]


def by_first_letter(alternatives: str) -> str:
    """The same alternatives grouped by the lower-case letter they start with ("kill\\w*|knife|
    murder" -> "k(?:ill\\w*|nife)|murder"): they match the same strings, and Python's regex engine,
    which tries a group's alternatives one by one at every word, then tries about a third as many
    (``structure_flags`` runs a third faster). Alternatives that start otherwise keep their place."""
    groups: dict[str, list[str]] = {}
    rest = []
    for alt in _top_level(alternatives):
        if alt[:1].isascii() and alt[:1].islower() and alt[1:2] not in ("?", "*", "+", "{"):
            groups.setdefault(alt[0], []).append(alt[1:])
        else:
            rest.append(alt)
    return "|".join([c + (tails[0] if len(tails) == 1 else "(?:" + "|".join(tails) + ")")
                     for c, tails in groups.items()] + rest)


_RE = {k: re.compile(r"\b(?:" + by_first_letter(v) + r")\b") for k, v in
       {"act": _ACT, "call": _CALL, "target": _TARGET, "time": _TIME, "place": _PLACE, "meta": _META}.items()}
STRUCT_NAMES = ("act", "call", "target", "time", "place", "meta", "call_act", "call_act_target", "plan", "meta_act")

# --------------------------------------------------------------------------- the cascade's veto
# Words of harm beyond the violent acts above: weapons, injuries, the dead, and the words in which
# people are wished dead as vermin. A post that holds one (or a violent act) is never settled by
# stage 1 under a profile with the veto: the encoder reads it ("bring molotovs to the courthouse",
# "waiting outside your office with my rifle", "they will end up in body bags", "euthanize them"
# scored 0.01-0.02 at stage 1 and 0.3-0.6 once the encoder read them).
_HARM = (r"rifles?|pistols?|handguns?|shotguns?|firearms?|ammo|ammunition|molotovs?|grenades?|explosives?|"
         r"dynamite|machetes?|axes?|hatchets?|crowbars?|swords?|blades?|acid|petrol bombs?|lighter fluid|"
         r"ar-?15s?|ak-?47s?|glocks?|snipers?|guillotines?|pitchforks?|gallows|bats?|hammers?|"
         r"skulls?|teeth|bones|ribs|kneecaps?|necks?|throats?|legs|jaws?|eyes out|"
         r"pulp|senseless|stomp\w*|curb ?stomp\w*|punch\w*|kick\w*|maul\w*|slit\w*|gouge\w*|smother\w*|"
         r"suffocat\w*|decapitat\w*|dismember\w*|castrat\w*|slay|slays|slew|slain|torch\w*|ablaze|alight|arson|"
         r"firebomb\w*|incinerat\w*|cull\w*|euthani[sz]\w*|extinguish\w*|fumigat\w*|put (?:them|him|her|it) to sleep|"
         r"body ?bags?|coffins?|graves?|corpses?|funerals?|bleed\w*|bloody|bruis\w*|ambush\w*|hostages?|"
         r"open fire|opened fire|lamp ?posts?|drag\w* (?:them|him|her)|tear (?:them|him|her) apart|"
         r"break\w* (?:\w+ ){0,2}(?:legs?|arms?|necks?|bones?|jaws?|noses?|fingers?|ribs?|kneecaps?|skulls?)|"
         r"annihilat\w*|nukes?|nuked|nuking|slap\w*|smack\w*|whoop\w*|chopp\w*|suicid\w*|aim for (?:the )?heads?|"
         r"hit\w* (?:a |that |the |this )?(?:wom[ae]n|girls?|her|him|them|you)")
_HARM_RE = re.compile(r"\b(?:" + by_first_letter(_ACT) + "|" + by_first_letter(_HARM) + r")\b")
#: names the veto's word list: a profile cut with the veto records it (meta.json), so that the model's
#: version digest covers the list, and a detector refuses a profile cut with another one
HARM_WORDS_DIGEST = hashlib.sha1(_HARM_RE.pattern.encode()).hexdigest()[:12]


def harm_words(text: str) -> bool:
    """Whether normalised ``text`` names a violent act (the ``act`` flag's words), a weapon, an
    injury, the dead, or a death wish in the words used for vermin: the cascade's veto
    (``detector.settled_by_stage1``), under which such a post always reaches the encoder."""
    return _HARM_RE.search(text) is not None


def violent_act(word: str) -> bool:
    """Whether ``word`` (normalised, lower case) is one of the violent acts the flags look for."""
    return _RE["act"].fullmatch(word) is not None


def structure_flags(text: str) -> np.ndarray:
    """Ten 0/1 flags describing the structure of incitement in normalised text."""
    text = text[:MAX_CHARS]
    f = {k: bool(r.search(text)) for k, r in _RE.items()}
    f["call_act"] = f["call"] and f["act"]
    f["call_act_target"] = f["call_act"] and f["target"]
    f["plan"] = f["call_act"] and (f["time"] or f["place"])
    f["meta_act"] = f["meta"] and f["act"]
    return np.array([f[k] for k in STRUCT_NAMES], dtype=np.float32)


# --------------------------------------------------------------------------- hashing


def _mix(h: np.ndarray, salt: int) -> np.ndarray:
    h = (h ^ np.uint64(salt)) * _MIX
    h ^= h >> np.uint64(29)
    return h & _MASK


_SHIFT = np.uint64(18)  # log2(N_BUCKETS): a (row, bucket) key is row << 18 | bucket
_ROWS32 = 1 << 14  # batches below this many rows sort 32-bit keys
_FLAG_BUCKETS = _mix(np.arange(1000, 1000 + len(STRUCT_NAMES), dtype=np.uint64), 0x33)


def _char_ngrams(codes: np.ndarray) -> list[np.ndarray]:
    out = []
    n_codes = len(codes)
    for n in CHAR_N:
        if n_codes < n:
            continue
        h = np.zeros(n_codes - n + 1, dtype=np.uint64)
        for k in range(n):
            h = h * _P + codes[k:n_codes - n + 1 + k]
        out.append(_mix(h, 0x51 + n))
    return out


def _word_hashes(text: str) -> np.ndarray:
    return np.fromiter((zlib.crc32(w.encode("utf-8")) for w in _WORD.findall(text)), dtype=np.uint64)


def _word_grams(text: str) -> list[np.ndarray]:
    """Hashed word unigrams and bigrams of normalised ``text``."""
    w = _word_hashes(text)
    if not len(w):
        return []
    parts = [_mix(w, 0x11)]
    if len(w) > 1:
        parts.append(_mix(w[:-1] * _P + w[1:], 0x22))
    return parts


def feature_indices(text: str) -> np.ndarray:
    """Sorted unique bucket indices of normalised ``text`` (word 1-2 grams, char 3-5 grams, flags)."""
    text = text[:MAX_CHARS]
    parts = _word_grams(text)
    codes = np.frombuffer((" " + text + " ").encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    parts.extend(_char_ngrams(codes))
    parts.append(_FLAG_BUCKETS[np.flatnonzero(structure_flags(text))])
    parts.append(np.array([0], dtype=np.uint64))  # bias-like always-on bucket 0
    return np.unique(np.concatenate(parts)).astype(np.int64)


@lru_cache(maxsize=65536)
def word_indices(word: str) -> np.ndarray:
    """Feature indices that a single word fires on its own (unigram + its char n-grams)."""
    h = np.array([zlib.crc32(word.encode("utf-8"))], dtype=np.uint64)
    idx = [_mix(h, 0x11)]
    codes = np.frombuffer((" " + word + " ").encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    idx.extend(_char_ngrams(codes))
    return np.unique(np.concatenate(idx)).astype(np.int64)


def word_spans(text: str) -> list[tuple[int, int, np.ndarray]]:
    """(start, end, indices) per word of normalised text: the features that the word alone fires."""
    return [(m.start(), m.end(), word_indices(m.group(0))) for m in re.finditer(r"[a-z0-9']+", text)]


def batch_indices(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated indices and row offsets (CSR-style indptr) for a batch of normalised texts.

    Same result as ``feature_indices`` per text, computed for the whole batch at once: every hash
    runs over the batch's concatenated arrays (n-grams that would cross two texts are dropped) and
    one sort of (row, bucket) keys replaces a ``np.unique`` per text."""
    n = len(texts)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    cut = [t[:MAX_CHARS] for t in texts]
    rows = np.arange(n, dtype=np.uint64)
    keys = [rows << _SHIFT]  # the always-on bucket 0 of every row
    # char n-grams of " " + text + " "
    padded = [" " + t + " " for t in cut]
    lens = np.fromiter(map(len, padded), dtype=np.int64, count=n)
    ends = np.cumsum(lens)
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(rows, lens)
    for k_n, grams in zip(CHAR_N, _char_ngrams(codes)):  # the gram at p is valid if it ends inside p's text
        r = row_of[:len(grams)]
        valid = np.arange(k_n, len(grams) + k_n) <= ends[r.astype(np.int64)]
        keys.append((r[valid] << _SHIFT) | grams[valid])
    # word unigrams and bigrams
    words = [_WORD.findall(t) for t in cut]
    counts = np.fromiter(map(len, words), dtype=np.int64, count=n)
    wh = np.fromiter((zlib.crc32(w.encode("utf-8")) for ws in words for w in ws), dtype=np.uint64,
                     count=int(counts.sum()))
    wrow = np.repeat(rows, counts)
    keys.append((wrow << _SHIFT) | _mix(wh, 0x11))
    same = wrow[:-1] == wrow[1:]
    keys.append((wrow[:-1][same] << _SHIFT) | _mix((wh[:-1] * _P + wh[1:])[same], 0x22))
    # incitement-structure flags
    fr, fc = np.nonzero(np.stack([structure_flags(t) for t in cut]))
    keys.append((rows[fr] << _SHIFT) | _FLAG_BUCKETS[fc])
    allk = np.concatenate(keys)
    if n < _ROWS32:  # (row, bucket) fits 32 bits: a faster sort
        allk = allk.astype(np.uint32)
    allk.sort()
    allk = allk[np.concatenate(([True], allk[1:] != allk[:-1]))]
    indptr = np.searchsorted(allk >> allk.dtype.type(18), np.arange(n + 1, dtype=allk.dtype)).astype(np.int64)
    return (allk & allk.dtype.type(N_BUCKETS - 1)).astype(np.int64), indptr


CHUNK_CHARS = 400
CHUNK_STEP = 200
# the cascade gate also reads shorter chunks (short_chunk_logits): in a 400-char chunk a
# one-sentence threat is outweighed by the sentences around it, and the post was settled at stage 1
GATE_CHUNK_CHARS = 160
GATE_CHUNK_STEP = 80
# ... and each sentence of a long post on its own: in a 160-char chunk a one-line threat ("Hang the
# traitors.") still shares the estimate with the sentences beside it
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
MIN_SENTENCE_CHARS = 8


def text_chunks(text: str, size: int = CHUNK_CHARS, step: int = CHUNK_STEP) -> list[str]:
    """Overlapping chunks of about ``size`` chars (cut at spaces, starting every ``step`` or so)
    of a long text; [text] for short ones."""
    if len(text) <= size:
        return [text]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            sp = text.rfind(" ", start + step, end)
            end = sp if sp > 0 else end
        out.append(text[start:end])
        if end >= len(text):
            break
        nxt = text.find(" ", start + step, end)
        start = (nxt + 1) if nxt > 0 else start + step
    return out


#: ``batch_indices`` hashes at most about this many characters of pieces at a time (its arrays take
#: some 60 bytes a character): a batch of long posts, cut into overlapping chunks, holds many times
#: its own length in pieces
PIECE_CHARS = 200_000


def _max_over_pieces(W: np.ndarray, b: np.ndarray, texts: list[str], pieces_of) -> np.ndarray:
    """Logits (n_texts, n_columns), each text's the max over its pieces (``pieces_of(text)``, a
    list of strings); -inf for a text without any. The pieces are hashed about ``PIECE_CHARS``
    characters at a time, so memory does not grow with the texts' length."""
    out = np.full((len(texts), W.shape[1]), -np.inf, dtype=np.float32)
    pieces: list[str] = []
    owner: list[int] = []
    chars = 0

    def flush() -> None:
        idx, indptr = batch_indices(pieces)
        np.maximum.at(out, np.asarray(owner), linear_logits(W, b, idx, indptr).astype(np.float32))
        pieces.clear()
        owner.clear()

    for i, t in enumerate(texts):
        for p in pieces_of(t):
            pieces.append(p)
            owner.append(i)
            chars += min(len(p), MAX_CHARS)
            if chars >= PIECE_CHARS:
                flush()
                chars = 0
    if pieces:
        flush()
    return out


def chunked_linear_logits(W: np.ndarray, b: np.ndarray, texts: list[str]) -> np.ndarray:
    """Stage-1 logits reading long texts in full: max over the whole text (first MAX_CHARS) and
    its overlapping chunks."""
    if all(len(t) <= CHUNK_CHARS for t in texts):  # one piece per text: its logits as they are
        idx, indptr = batch_indices(texts)
        return linear_logits(W, b, idx, indptr)
    return _max_over_pieces(W, b, texts, lambda t: [t] if len(t) <= CHUNK_CHARS else [t, *text_chunks(t)])


def sentences(text: str) -> list[str]:
    """The sentences of normalised ``text`` (cut after ``.``, ``!`` or ``?``), stripped, of at least
    ``MIN_SENTENCE_CHARS`` characters ("Mr." and "U.S." fragments dropped)."""
    return [s for s in (m.group(0).strip() for m in _SENTENCE.finditer(text)) if len(s) >= MIN_SENTENCE_CHARS]


def gate_pieces(text: str) -> list[str]:
    """What the cascade gate reads of a long post besides the whole: its 160-char chunks
    (``GATE_CHUNK_CHARS``, step ``GATE_CHUNK_STEP``) and its shorter sentences; none for a post no
    longer than one chunk."""
    if len(text) <= GATE_CHUNK_CHARS:
        return []
    return text_chunks(text, GATE_CHUNK_CHARS, GATE_CHUNK_STEP) + [
        s for s in sentences(text) if len(s) < GATE_CHUNK_CHARS]


def short_chunk_logits(w: np.ndarray, b: float, texts: list[str]) -> np.ndarray:
    """One column's logits (weights ``w``, bias ``b``) as the max over each text's ``gate_pieces``;
    -inf for a text no longer than one chunk."""
    return _max_over_pieces(w[:, None], np.array([b], dtype=np.float32), texts, gate_pieces)[:, 0]


def linear_logits(W: np.ndarray, b: np.ndarray, idx: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Logits (n_texts, n_labels) for weights W (N_BUCKETS, n_labels): binary features scaled by
    1/sqrt(number of active features)."""
    n = len(indptr) - 1
    counts = np.diff(indptr)
    if len(idx) == 0:
        return np.tile(b, (n, 1)).astype(np.float32)
    sums = np.add.reduceat(W[idx].astype(np.float32), indptr[:-1].clip(max=len(idx) - 1), axis=0)
    sums[counts == 0] = 0
    return sums / np.sqrt(np.maximum(counts, 1))[:, None] + b[None, :]
