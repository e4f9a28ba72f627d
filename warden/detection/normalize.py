"""Text normalisation against filter evasion, with an offset map back to the original text.

Pipeline (each step is a public function over a :class:`Buf` and is tested on its own):

1. ``strip_invisible``  zero-width, bidi-control and other format characters, variation selectors
   ``drop_mentions_and_links``  @mentions ("@bob", "@bob@mastodon.social", "RT @x:") and links
   ``split_hashtags``   words run together in a camel-case hashtag: "#HangThemAll" -> "#Hang Them All"
   ``read_capital_i``   a capital I standing for an l inside a word: "kiII" -> "kill"
2. ``fold_unicode``     NFKC per character (fullwidth, math alphabets, ligatures), strip stacked
                        combining marks and accents, lower-case
3. ``map_confusables``  Cyrillic / Greek / other look-alike letters -> Latin
4. ``map_emoji``        weapon and violence emoji -> words (🔫 -> " gun ")
5. ``join_spaced``      letters spaced or dotted apart: "k i l l", "k.i.l.l" -> "kill"
6. ``map_leet``         leetspeak inside words: "k1ll", "5h00t" -> "kill", "shoot"
7. ``squeeze_repeats``  "kiiiill" -> "kill", "soooo" -> "so" (chosen with a word list)
   ``join_broken``      a violent word broken in two: "k-ill", "de.ad", "mur der" -> "kill", ...
   ``split_underscores`` words joined by underscores: "kill_them_all" -> "kill them all"
   ``read_hashtags``    hashtags read as words: the "#" dropped, and words run together in a
                        one-case hashtag split with a word list ranked by frequency:
                        "#hangmikepence" -> "hang mike pence" ("#therapist" stays one word)
8. ``expand_slang``     violent slang and code words spelled out: "kys" -> "kill yourself",
                        "unalive" -> "kill", "dotr" -> "day of the rope"
9. ``squeeze_space``    runs of white space -> one space, trimmed

Every character of the normalised text remembers the ``[start, end)`` range of the original
characters it came from, so a span found in normalised text maps back with
:meth:`Normalized.to_original`.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# The buffer: characters with their original ranges


@dataclass
class Buf:
    chars: list[str]
    starts: list[int]
    ends: list[int]

    @classmethod
    def of(cls, text: str) -> "Buf":
        n = len(text)
        return cls(list(text), list(range(n)), list(range(1, n + 1)))

    @property
    def text(self) -> str:
        return "".join(self.chars)


@dataclass(frozen=True)
class Normalized:
    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of the normalised text to the original text."""
        if not self.text:
            return 0, 0
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.starts[start], self.ends[end - 1]


def _extend(buf: Buf, pieces: list[tuple[str, int, int]]) -> None:
    """Append ``pieces`` to ``buf``: each string's characters, all of them with its original range."""
    for s, a, b in pieces:
        if len(s) == 1:
            buf.chars.append(s)
            buf.starts.append(a)
            buf.ends.append(b)
        elif s:
            buf.chars.extend(s)
            buf.starts.extend([a] * len(s))
            buf.ends.extend([b] * len(s))


def _rebuild(buf: Buf, pieces: list[tuple[str, int, int]]) -> Buf:
    out = Buf([], [], [])
    _extend(out, pieces)
    return out


def _keep(buf: Buf, keep: list[int]) -> Buf:
    """``buf`` with only the characters at the positions in ``keep`` (in order)."""
    return Buf([buf.chars[i] for i in keep], [buf.starts[i] for i in keep], [buf.ends[i] for i in keep])


def _splice(buf: Buf, edits: list[tuple[int, int, list[tuple[str, int, int]]]]) -> Buf:
    """``buf`` with each ``[start, end)`` range of its text replaced by new pieces (edits in
    order, not overlapping); the characters between edits keep their original ranges."""
    out = Buf([], [], [])
    pos = 0
    for start, end, new in edits:
        out.chars += buf.chars[pos:start]
        out.starts += buf.starts[pos:start]
        out.ends += buf.ends[pos:start]
        _extend(out, new)
        pos = end
    out.chars += buf.chars[pos:]
    out.starts += buf.starts[pos:]
    out.ends += buf.ends[pos:]
    return out


# ---------------------------------------------------------------------------------------------
# 1. invisible characters

_INVISIBLE = set(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0"
) | {chr(c) for c in range(0xFE00, 0xFE10)} | {chr(c) for c in range(0xE0000, 0xE0080)}


def _is_invisible(ch: str) -> bool:
    return ch in _INVISIBLE or (ord(ch) > 127 and unicodedata.category(ch) == "Cf")


def strip_invisible(buf: Buf) -> Buf:
    if buf.text.isascii() or not any(_is_invisible(c) for c in set(buf.chars)):
        return buf
    keep = [i for i, ch in enumerate(buf.chars) if not _is_invisible(ch)]
    return _keep(buf, keep)


# ---------------------------------------------------------------------------------------------
# 1a. mentions and links

# "@bob", "@bob@mastodon.social" (with "RT" and a colon around a retweeted one), and web links
_MENTION_OR_LINK = re.compile(
    r"(?:\bRT\s+)?(?<![\w@.])@[A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?:?"
    r"|\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)]")


def _at_for_a(word: str) -> bool:
    """Whether "@word" reads as a word with its "@" an "a" ("@ll" is "all", "@ss" "ass")."""
    return "a" + word[1:] in lexicon()


def drop_mentions_and_links(buf: Buf) -> Buf:
    """Drop @mentions and links: who a post addresses and what it links to are not what it says.
    A reply starts with its mentions, and the training posts that carry mentions and links (tweets)
    are nearly all non-violent, so left in they taught the model that "@bob I am going to kill you"
    is harmless (0.002 against 0.805 without the mention)."""
    text = buf.text
    if "@" not in text and "://" not in text and "www." not in text:
        return buf
    # "@ll" and "@ss" are leetspeak ("all", "ass"), not people
    gone = [(m.start(), m.end()) for m in _MENTION_OR_LINK.finditer(text)
            if not (m.group(0).startswith("@") and _at_for_a(m.group(0).rstrip(":").lower()))]
    if not gone:
        return buf
    return _splice(buf, [(a, b, []) for a, b in gone])


# ---------------------------------------------------------------------------------------------
# 1b. camel-case hashtags (before case is folded away)

_CAMEL_TAG = re.compile(r"#\w*?(?:[a-z][A-Z]|[A-Z][A-Z][a-z])")
_TAG = re.compile(r"#\w+")


def _has_camel_tag(text: str) -> bool:
    return "#" in text and _CAMEL_TAG.search(text) is not None


def _camel_breaks(tag: str) -> list[int]:
    """Positions in ``tag`` where a new word starts: a capital after a small letter ("hangThem"),
    or the last capital of a run followed by a small letter ("DACAVote" -> "DACA Vote")."""
    out = []
    for i in range(1, len(tag)):
        a, b = tag[i - 1], tag[i]
        if b.isupper() and (a.islower() or (a.isupper() and i + 1 < len(tag) and tag[i + 1].islower())):
            out.append(i)
    return out


def split_hashtags(buf: Buf) -> Buf:
    """Space out the words of camel-case hashtags: a threat written as "#HangTheTraitors" reads
    like the words it is made of. Hashtags all in one case are left alone (no guessing where
    "#therapist" breaks); the inserted spaces map to the capital they stand before."""
    text = buf.text
    if not _has_camel_tag(text):
        return buf
    edits = []
    for m in _TAG.finditer(text):
        for i in _camel_breaks(m.group(0)):
            at = m.start() + i
            edits.append((at, at, [(" ", buf.starts[at], buf.ends[at])]))
    return _splice(buf, edits) if edits else buf


# ---------------------------------------------------------------------------------------------
# 1c. a capital I standing for a lower-case l ("kiII", "sheII"), before case is folded away

_I_TOKEN = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")


def read_capital_i(buf: Buf) -> Buf:
    """Read a capital I inside a word with lower-case letters as the l it looks like, where that
    makes a word and the word as written is none ("kiII" -> "kill"; "NoIslam" and "McIntyre" stay).
    One character for one: the offset map is unchanged."""
    text = buf.text
    if "I" not in text:
        return buf
    chars = None
    for m in _I_TOKEN.finditer(text):
        tok = m.group(0)
        if "I" not in tok[1:]:
            continue
        read = tok[0] + tok[1:].replace("I", "l")
        if read.lower() in lexicon() and tok.lower() not in lexicon():
            chars = chars or list(buf.chars)
            chars[m.start():m.end()] = list(read)
    return Buf(chars, buf.starts, buf.ends) if chars else buf


# ---------------------------------------------------------------------------------------------
# 2. NFKC, accents, case


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        for d in unicodedata.normalize("NFD", c):
            if unicodedata.category(d) in ("Mn", "Me"):
                continue
            out.append(d)
    return "".join(out).lower()


def fold_unicode(buf: Buf) -> Buf:
    text = buf.text
    if text.isascii():
        return Buf(list(text.lower()), buf.starts, buf.ends)
    folded = [_fold_char(c) for c in buf.chars]
    if all(len(f) == 1 for f in folded):
        return Buf(folded, buf.starts, buf.ends)
    return _rebuild(buf, [(_fold_char(c), a, b) for c, a, b in zip(buf.chars, buf.starts, buf.ends)])


# ---------------------------------------------------------------------------------------------
# 3. confusables (applied after lower-casing)

CONFUSABLES = {
    # Cyrillic
    "а": "a", "б": "b", "в": "b", "г": "r", "д": "d", "е": "e", "ё": "e", "з": "3", "и": "u", "й": "u",
    "к": "k", "л": "n", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ц": "u", "ш": "w", "щ": "w", "ъ": "b", "ь": "b", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "һ": "h", "ү": "y", "ɡ": "g", "ꞵ": "b",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "θ": "o", "ι": "i", "κ": "k",
    "λ": "l", "μ": "u", "ν": "v", "ο": "o", "π": "n", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u",
    "φ": "o", "χ": "x", "ψ": "w", "ω": "w",
    # other Latin-looking letters
    "ı": "i", "ȷ": "j", "ℓ": "l", "ø": "o", "ð": "d", "þ": "p", "ß": "ss", "æ": "ae", "œ": "oe",
    "ɑ": "a", "ɩ": "i", "ʟ": "l", "ᴋ": "k", "ɪ": "i", "ʀ": "r", "ᴛ": "t", "ᴏ": "o", "ᴜ": "u",
    "ѵ": "v", "ԧ": "h", "ʜ": "h", "ɢ": "g", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f",
    "ᴊ": "j", "ᴍ": "m", "ɴ": "n", "ᴘ": "p", "ꜱ": "s", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}


# letters NFKC leaves alone: negative circled (🅐) and negative squared (🅰) capitals
CONFUSABLES.update({chr(base + k): chr(ord("a") + k) for base in (0x1F150, 0x1F170) for k in range(26)})
CONFUSABLES["ĸ"] = "k"
# (regional indicators, 🇰, are not read as letters: in the data sets every lone one is half of
# a flag written with a space inside, never a spelled-out word)

_CONF_SET = frozenset(CONFUSABLES)


def map_confusables(buf: Buf) -> Buf:
    if "¡" in buf.chars:  # an inverted exclamation mark inside a word is an i ("k¡ll")
        t = buf.chars
        buf = Buf([("i" if c == "¡" and 0 < k < len(t) - 1 and t[k - 1].isalpha() and t[k + 1].isalpha() else c)
                   for k, c in enumerate(t)], buf.starts, buf.ends)
    if _CONF_SET.isdisjoint(buf.chars):
        return buf
    return _rebuild(buf, [(CONFUSABLES.get(c, c), a, b) for c, a, b in zip(buf.chars, buf.starts, buf.ends)])


# ---------------------------------------------------------------------------------------------
# 4. weapon / violence emoji

EMOJI_WORDS = {
    "🔫": "gun", "🔪": "knife", "💣": "bomb", "🗡": "dagger", "⚔": "swords", "🪓": "axe", "🧨": "dynamite",
    "🏹": "bow and arrow", "🩸": "blood", "⚰": "coffin", "🪦": "grave", "💥": "explosion", "🪚": "saw",
    "🔨": "hammer", "⛓": "chains", "🪢": "rope", "☠": "death", "🎯": "target", "🚀": "rocket",
    "🥊": "punch", "👊": "punch", "🤜": "punch", "🔥": "fire",
}
_EMOJI_SET = frozenset(EMOJI_WORDS)


def map_emoji(buf: Buf) -> Buf:
    if _EMOJI_SET.isdisjoint(buf.chars):
        return buf
    pieces = []
    for c, a, b in zip(buf.chars, buf.starts, buf.ends):
        w = EMOJI_WORDS.get(c)
        pieces.append((f" {w} " if w else c, a, b))
    return _rebuild(buf, pieces)


# ---------------------------------------------------------------------------------------------
# word list (the encoder tokenizer's whole-word vocabulary) for leet / repeat disambiguation

_EXTRA_WORDS = {
    "kill", "killed", "killing", "shoot", "shooting", "stab", "stabbed", "hang", "hanged", "lynch", "bomb",
    "behead", "slaughter", "exterminate", "murder", "burn", "gas", "rape", "die", "dead", "shot", "gun",
    "guns", "knife", "attack", "beat", "genocide", "massacre", "execute", "nuke", "torch",
    # slurs and insults the tokenizer's vocabulary lacks, so that "n*gger" or "f4gg0t" read as written
    "cunt", "slut", "faggot", "nigger", "nigga", "twat", "retard", "kike", "spic", "tranny", "wetback", "shemale", "jihadi",
}


@lru_cache(maxsize=1)
def _vocab() -> dict[str, int]:
    """The encoder tokenizer's vocabulary (word piece -> id); empty if the file is missing."""
    path = Path(__file__).resolve().parent / "model" / "tokenizer.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, KeyError, ValueError):
        return {}


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    words = set(_EXTRA_WORDS)
    words.update(w for w in _vocab() if w.isalpha() and w.isascii() and not w.startswith("##") and len(w) > 1)
    words.update({"a", "i"})
    return frozenset(words)


# ---------------------------------------------------------------------------------------------
# 5. letters spaced / dotted apart

# one letter to a line ("k\ni\nl\nl") is spaced apart too
_SEP = " .-_*·•/|~\n\r"
_SPACED = re.compile(
    r"(?<![a-z0-9])[a-z0-9](?:(?P<sep>[ .\-_*·•/|~\n\r]{1,2})[a-z0-9](?![a-z0-9]))(?:(?P=sep)[a-z0-9](?![a-z0-9])){1,}"
)


# three or more letters each in brackets, side by side or spaced: "(k)(i)(l)(l)", "[k] [i] [l] [l]"
_WRAPPED = re.compile(r"(?<![a-z0-9])(?:[(\[{][a-z][)\]}] ?){3,}")


def unwrap_letters(buf: Buf) -> Buf:
    """Letters written one to a bracket lose their brackets: "(k)(i)(l)(l)" -> "kill"; spaced
    ones, "(k) (i) (l) (l)", become spaced letters for ``join_spaced``. Two in a row ("(a) or
    (b)") are left as written."""
    text = buf.text
    if not _WRAPPED.search(text):
        return buf
    edits = []
    for m in _WRAPPED.finditer(text):
        new = []
        for i in range(m.start(), m.end()):
            if text[i] == " ":
                new.append((" ", buf.starts[i], buf.ends[i]))
            elif text[i] not in "()[]{}":  # the letter stands for its brackets too
                new.append((buf.chars[i], buf.starts[i - 1], buf.ends[i + 1]))
        edits.append((m.start(), m.end(), new))
    return _splice(buf, edits)


def _spaced_words(letters: str) -> tuple[str, ...]:
    """How a run of spaced-out letters reads: one word, or where the run is no word but is made
    of words ("k i l l t h e m", "i h a t e", "k i l l u"), those words. Acronyms stay whole
    ("r.i.n.o", "m.a.g.a"): a cut may leave "a" or "i" alone only before another word and "u"
    only at the end, and no other piece shorter than two letters."""
    if not letters.isalpha() or letters in lexicon() or len(letters) < 4:
        return (letters,)
    words = _split_words(letters, texting=True)
    if words is None:
        return (letters,)
    costs = _word_costs()
    last = len(words) - 1
    for k, w in enumerate(words):
        if _piece_cost(w, costs, texting=True) is None or (w in ("a", "i") and k == last) or (w == "u" and k != last) or (len(w) < 2 and w not in "aiu"):
            return (letters,)
    return words


def join_spaced(buf: Buf) -> Buf:
    """Join letters spaced or dotted apart, or one to a line ("k i l l", "k.i.l.l", "k\\ni\\nl\\nl");
    a run that spells several words keeps a space between them ("k i l l t h e m" -> "kill them")."""
    text = buf.text
    if not _SPACED.search(text):
        return buf
    edits = []
    for m in _SPACED.finditer(text):
        seg = m.group(0)
        if sum(ch.isalpha() for ch in seg) < 2:
            continue
        pos = [m.start() + k for k, ch in enumerate(seg) if ch not in _SEP]
        letters = "".join(text[i] for i in pos)
        # only letters spaced by spaces are read as several words; dotted ones are acronyms ("a.s.a.p")
        words = _spaced_words(letters) if m.group("sep").strip() == "" else (letters,)
        cuts = set()
        n = 0
        for w in words[:-1]:
            n += len(w)
            cuts.add(n)  # a space before the n-th letter
        new = []
        for k, i in enumerate(pos):
            if k in cuts:
                new.append((" ", buf.starts[i - 1], buf.ends[i - 1]))
            new.append((buf.chars[i], buf.starts[i], buf.ends[i]))
        edits.append((m.start(), m.end(), new))
    if not edits:
        return buf
    return _splice(buf, edits)


# ---------------------------------------------------------------------------------------------
# 6. leetspeak

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s",
        "!": "i", "|": "l", "+": "t", "€": "e"}
_LEET_ALT = {"1": "l", "|": "i", "!": "l", "9": "q", "0": "o"}
# a star masking a letter ("k*ll", "f*ck"): read only where some vowel makes a known word
_MASK = "*"
_MASK_OPTIONS = ["a", "e", "i", "o", "u"]
# tokens with at least one leet or masking character (the only ones _leet_word can change)
_LEET_TOKEN = re.compile(r"[a-z0-9@$!|+€*]*[0-9@$!|+€*][a-z0-9@$!|+€*]*")


# ordinals, times and units ("1st", "4th", "10am", "100k", "5kg") are numbers, never leetspeak
_NUMBER = re.compile(r"\d+(?:st|nd|rd|th|am|pm|k|m|s|x|h|g|kg|km|mm|cm|ft|lb|lbs|yo|mph)")


_LEET_CHARS = frozenset(LEET) | {_MASK}  # the characters _leet_word can read as letters


def _leet_word(tok: str, last_star_masks: bool = False) -> str | None:
    if not last_star_masks and tok.endswith(_MASK) and _MASK in tok[:-1].strip(_MASK):
        # a star ending a word with a masked letter inside may mask its last letter too
        # ("ex*cut*" -> "execute"): two stars, so read only where that gives a violent word
        whole = _leet_word(tok, last_star_masks=True)
        if whole is not None and _MASK not in whole:
            return whole
    if not any(c.isalpha() for c in tok) or _LEET_CHARS.isdisjoint(tok):
        return None
    core_start, core_end = 0, len(tok)
    # trailing punctuation, not leet (a trailing star too, unless it is read as a mask)
    while core_end > 0 and tok[core_end - 1] in ("!|+" if last_star_masks else "!|+*"):
        core_end -= 1
    while core_start < core_end and tok[core_start] == _MASK:  # "*emphasis*" is not masking
        core_start += 1
    core = tok[core_start:core_end]
    if not core or _LEET_CHARS.isdisjoint(core):
        return None
    # a mention, unless drop_mentions_and_links kept it as leetspeak ("@ll", "@ss"; a one-letter
    # name such as the Gab corpus's "@a" stays as written)
    if core[0] == "@" and not (len(core) >= 3 and _at_for_a(core)):
        return None
    lex = lexicon()
    if core in lex or _NUMBER.fullmatch(core):
        return None
    options = [_MASK_OPTIONS if c == _MASK else [LEET[c], _LEET_ALT[c]] if c in _LEET_ALT else [LEET.get(c, c)]
               for c in core]
    n_combo = 1
    for o in options:
        n_combo *= len(o)
    if n_combo <= 32:
        cands = ["".join(combo) for combo in itertools.product(*options)]
        words = [c for c in cands if c in lex]
        if _MASK in core:
            # a word with one masked letter is read only when one reading alone is a word
            # ("k*ll" -> "kill"; "h*ll" could be hall, hell, hill or hull, so it stays); two stars
            # often hide consonants too ("c**t"), so those are read only when the one reading
            # that is a word is a violent one ("m*rd*r" -> "murder"; "sh**t" could be shoot or
            # shout, so it stays)
            stars = core.count(_MASK)
            if stars == 1 and len(words) == 1:
                return tok[:core_start] + words[0] + tok[core_end:]
            if stars == 2:
                violent = _violent_words()[0]
                readings = set(words) | {c for c in cands if c in violent}  # "drowned" is no whole word piece
                if len(readings) == 1 and readings <= violent:
                    return tok[:core_start] + readings.pop() + tok[core_end:]
        elif words:
            # a reading that is a word as it stands ("ki11" -> "kill") beats one that becomes a
            # word once its repeated letters are squeezed ("kiii" -> "ki")
            return tok[:core_start] + words[0] + tok[core_end:]
        else:
            for cand in cands:
                if _squeeze_word(cand) in lex:
                    return tok[:core_start] + cand + tok[core_end:]
    if _MASK in core:  # no fallback reading for a masked letter
        return None
    letters = sum(c.isalpha() for c in core)
    inside = any(c in LEET and 0 < i < len(core) - 1 for i, c in enumerate(core))
    if letters >= 2 and (inside or letters >= 3) and not core[:-2].isdigit():
        # a word and a number run together stay ("trump2020", "covid19"), unless a reading is a
        # word ("ki11" above)
        if re.fullmatch(r"[a-z]+\d{2,}", core):
            return None
        return tok[:core_start] + "".join(o[0] for o in options) + tok[core_end:]
    return None


def map_leet(buf: Buf) -> Buf:
    text = buf.text
    if _LEET_CHARS.isdisjoint(text):
        return buf
    edits = []
    for m in _LEET_TOKEN.finditer(text):
        new = _leet_word(m.group(0))
        if new is None or len(new) != len(m.group(0)):
            continue
        a = m.start()
        edits.append((a, m.end(), [(ch, buf.starts[a + k], buf.ends[a + k]) for k, ch in enumerate(new)]))
    return _splice(buf, edits) if edits else buf


# ---------------------------------------------------------------------------------------------
# 7. repeated letters

_RUN3 = re.compile(r"(.)\1{2,}")
_WORD = re.compile(r"[a-z]+")


def _squeeze_word(word: str) -> str:
    """Best collapse of runs of 3+ equal letters, checked against the word list."""
    runs = list(re.finditer(r"(.)\1{2,}", word))
    if not runs:
        return word
    lex = lexicon()
    if len(runs) <= 4:
        for combo in itertools.product((2, 1), repeat=len(runs)):
            out, pos = [], 0
            for r, k in zip(runs, combo):
                out.append(word[pos:r.start()])
                out.append(r.group(1) * k)
                pos = r.end()
            out.append(word[pos:])
            cand = "".join(out)
            if cand in lex:
                return cand
    return re.sub(r"(.)\1{2,}", r"\1\1", word)


def squeeze_repeats(buf: Buf) -> Buf:
    text = buf.text
    runs = list(_RUN3.finditer(text))
    if not runs:
        return buf
    # letters: word-list guided; other characters (!!!, ...): keep one
    if not all(m.group(1).isalpha() for m in runs):
        keep: list[int] = []
        pos = 0
        for m in runs:
            if m.group(1).isalpha():
                continue
            keep.extend(range(pos, m.start() + 1))
            pos = m.end()
        keep.extend(range(pos, len(text)))
        buf = _keep(buf, keep)
        text = buf.text
    if not any(m.group(1).isalpha() for m in runs):
        return buf
    edits = []
    for m in _WORD.finditer(text):
        w = m.group(0)
        if not _RUN3.search(w):
            continue
        new = _squeeze_word(w)
        # map each kept output letter to the run it came from
        runs = [(r.start(), r.end()) for r in re.finditer(r"(.)\1*", w)]
        newruns = [(r.start(), r.end()) for r in re.finditer(r"(.)\1*", new)]
        pieces = []
        for (a, b), (c, d) in zip(runs, newruns):
            for k in range(d - c):
                i = m.start() + a + min(k, b - a - 1)
                s = buf.starts[m.start() + a] if k == 0 else buf.starts[i]
                e = buf.ends[m.start() + b - 1] if k == d - c - 1 else buf.ends[i]
                pieces.append((new[c + k], s, e))
        edits.append((m.start(), m.end(), pieces))
    return _splice(buf, edits)


# ---------------------------------------------------------------------------------------------
# 7a. a violent word broken into pieces ("k-ill", "de.ad", "mur der", "ki'll", "k-il-l")

_BREAKS = frozenset("-._*~ '’")
_TOKEN = re.compile(r"[a-z]+")
# the tokens the quick check looks at: not the tail of a contraction ("it's", "i'll", "don't"),
# since a word broken before "ll" ("ki'll") has a piece before it that no word is
_HEAD_TOKEN = re.compile(r"(?<![a-z'’])[a-z]+|(?<=['’])(?!(?:s|ll|re|ve|d|t|m)(?![a-z]))[a-z]+")
_APOSTROPHES = frozenset("'’")
# what follows the apostrophe of a contraction ("she'll", "it's", "we'd", "don't"): not a break
_CONTRACTED = frozenset(["s", "ll", "re", "ve", "d", "t", "m"])


def _is_word(w: str) -> bool:
    return w in lexicon() and (len(w) > 2 or w in _SHORT_WORDS)


@lru_cache(maxsize=1)
def _violent_words() -> tuple[frozenset[str], frozenset[str]]:
    """The violent acts in the word list (those stage 1's structure flags look for: "kill",
    "dead", "murder", ...) and every half of one that is no word itself ("k", "ll", "mur")."""
    from .features import violent_act

    words = frozenset({w for w in lexicon() if violent_act(w)} | _inflections(_VIOLENT_VERBS))
    halves = frozenset(h for w in words for i in range(1, len(w)) for h in (w[:i], w[i:]) if not _is_word(h))
    return words, halves


# violent verbs whose inflections the word list may lack ("exterminated", "massacred", "lynched")
_VIOLENT_VERBS = ("kill", "shoot", "stab", "hang", "lynch", "bomb", "behead", "slaughter", "exterminate", "murder",
                  "burn", "gas", "rape", "attack", "beat", "massacre", "execute", "nuke", "torch", "assassinate",
                  "poison", "strangle", "drown", "choke", "torture", "butcher", "eliminate", "annihilate", "purge")


def _inflections(verbs: tuple[str, ...]) -> set[str]:
    out = set()
    for v in verbs:
        if v.endswith("e"):
            out.update((v, v + "d", v + "s", v[:-1] + "ing"))
        elif len(v) <= 4 and v[-1] in "bgmnpst" and v[-2] in "aeiou" and v[-3] not in "aeiou":  # stab, gas -> stabbed
            out.update((v, v + v[-1] + "ed", v + ("es" if v.endswith("s") else "s"), v + v[-1] + "ing"))
        elif v.endswith(("ch", "sh", "s")):
            out.update((v, v + "ed", v + "es", v + "ing"))
        else:
            out.update((v, v + "ed", v + "s", v + "ing"))
    return out


def _contraction(a: str, sep: str, b: str) -> bool:
    """``a'b`` is a contraction or a possessive ("it's", "she'll", "ga's"), not a broken word.
    After what is no word, an apostrophe before anything but an "s" breaks a word ("ki'll",
    "dea'd"); before an "s" it is still a possessive ("GA's vote" is not "gas vote")."""
    if sep not in _APOSTROPHES or b not in _CONTRACTED:
        return False
    return b == "s" or _is_word(a) or a in ("i", "u")


def _broken_at(text: str, heads: list[str] | None = None) -> list[int]:
    """Positions of the characters that break a violent word into two or three pieces (see
    :func:`join_broken`). ``heads``: ``_HEAD_TOKEN.findall(text)`` where the caller has it."""
    violent, halves = _violent_words()
    if halves.isdisjoint(_HEAD_TOKEN.findall(text) if heads is None else heads):
        return []  # no token is part of a broken violent word: the common case
    toks = list(_TOKEN.finditer(text))
    words = [m.group(0) for m in toks]
    # a run of pieces that is no run of words holds a piece that is part of a violent word
    starts = sorted({j for k, w in enumerate(words) if w in halves for j in (k - 2, k - 1, k) if j >= 0})
    at: list[int] = []
    done = -1  # the last token joined so far
    for i in starts:
        if i <= done:
            continue
        for n in (3, 2):  # the longest run of pieces that makes a violent word
            if i + n > len(toks) or "".join(words[i:i + n]) not in violent:
                continue
            gaps = [toks[i + k].end() for k in range(n - 1)]
            if any(toks[i + k + 1].start() != gaps[k] + 1 or text[gaps[k]] not in _BREAKS for k in range(n - 1)):
                continue
            first = toks[i].start()
            if first >= 2 and text[first - 1] in _APOSTROPHES and text[first - 2].isalpha():
                continue  # the tail of "it's" does not start a word ("it's hot" is not "it shot")
            pieces = words[i:i + n]
            if any(_contraction(pieces[k], text[gaps[k]], pieces[k + 1]) for k in range(n - 1)):
                continue
            if all(_is_word(w) for w in pieces):
                continue
            at.extend(gaps)
            done = i + n - 1
            break
    return at


def join_broken(buf: Buf) -> Buf:
    """Join the pieces of a violent word broken by a hyphen, dot, underscore, star, tilde,
    apostrophe or space, where a piece is no word ("k-ill", "de.ad", "sho_ot", "ki ll", "k'ill",
    "mur der", "k-il-l" -> "kill", "dead", "shoot", "kill", "kill", "murder", "kill"). Words stay
    apart where together they would be violent ("be head", "gun shot"), a contraction stays as it
    is ("she'll" is not "shell"), and only a violent word of the word list is made."""
    text = buf.text
    gone = set(_broken_at(text))
    if not gone:
        return buf
    keep = [i for i in range(len(text)) if i not in gone]
    return _keep(buf, keep)


_JOINED = re.compile(r"(?<=[a-z0-9])_(?=[a-z0-9])")


def split_underscores(buf: Buf) -> Buf:
    """Words joined by underscores read as words: "we_should_kill_them" -> "we should kill them"
    (one character for one)."""
    text = buf.text
    if "_" not in text:
        return buf
    chars = list(buf.chars)
    for m in _JOINED.finditer(text):
        chars[m.start()] = " "
    return Buf(chars, buf.starts, buf.ends)


# ---------------------------------------------------------------------------------------------
# 7b. hashtags read as words

# two-letter words a hashtag may be cut into; other two-letter pieces ("de", "re") are more often
# parts of a longer word the list lacks ("#deportthemall" is not "de port them all")
_SHORT_WORDS = frozenset("a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we".split())
_HASHTAG = re.compile(r"(?<![\w&])#([a-z][a-z0-9_]*)")


@lru_cache(maxsize=1)
def _word_costs() -> dict[str, float]:
    """Cost of each word of the tokenizer's whole-word vocabulary, ``log(rank)``-style (its ids
    from 1996 on run roughly from the most to the least frequent English word), as in the
    Zipf-law segmenters (wordninja): a split into common words beats one into rare words."""
    ranked = sorted((i, w) for w, i in _vocab().items()
                    if i >= 1996 and w.isascii() and w.isalpha() and not w.startswith("##"))
    words = [w for _, w in ranked if len(w) > 2 or w in _SHORT_WORDS]
    n = len(words) + len(_EXTRA_WORDS)
    scale = math.log(max(n, 2))
    costs = {w: math.log((r + 1) * scale) for r, w in enumerate(words)}
    for w in ("a", "i"):  # single letters sit below id 1996 in the vocabulary; both are common
        costs[w] = math.log(10 * scale)
    for w in (*_EXTRA_WORDS, *SLANG):  # words the vocabulary lacks ("hang", slurs, "kys"): moderately common
        costs.setdefault(w, math.log(5000 * scale))
    return costs


_UNKNOWN_MIN = 4  # a piece the word list lacks (a name: "#hangmikepence") has at least 4 letters


@lru_cache(maxsize=1)
def _rarest_word_cost() -> float:
    return max(_word_costs().values(), default=12.0)


# texting words a run of spaced-out letters may end in ("k i l l u"); not used for hashtags
_TEXTING = {"u": 8.0, "ur": 9.0}


def _piece_cost(w: str, costs: dict[str, float], texting: bool = False) -> float | None:
    """The cost of ``w`` as one piece of a cut into words (``costs``: :func:`_word_costs`): a known
    word's, a little more for the plural of one, a texting word's where ``texting``; None for a
    piece the word list lacks."""
    c = costs.get(w)
    if c is not None:
        return c
    if texting and w in _TEXTING:
        return _TEXTING[w]
    for suffix in ("es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4 and w[:-len(suffix)] in costs:
            return costs[w[:-len(suffix)]] + 1.0
    return None


@lru_cache(maxsize=8192)
def _split_words(s: str, texting: bool = False) -> tuple[str, ...] | None:
    """The cheapest way to cut ``s`` into known words, allowing one piece of four or more letters
    the list lacks (names, slang: "pence") at a cost that grows with its length, so that known
    words win where they fit. A plural of a known word costs a little more than the word. None
    when there is no such cut, or when the unknown piece would be most of ``s``."""
    costs = _word_costs()
    unknown_base = _rarest_word_cost()

    def cost(w: str) -> float | None:
        return _piece_cost(w, costs, texting)

    inf = (math.inf, 0, 0)
    # best[k][end]: (cost, start of the last piece, unknown pieces used before it) with k unknown pieces
    best = [[(0.0, 0, 0)] + [inf] * len(s), [inf] * (len(s) + 1)]
    for end in range(1, len(s) + 1):
        for start in range(max(0, end - 24), end):
            piece = s[start:end]
            c = cost(piece)
            for k in (0, 1):
                if best[k][start][0] == math.inf:
                    continue
                if c is not None:
                    if best[k][start][0] + c < best[k][end][0]:
                        best[k][end] = (best[k][start][0] + c, start, k)
                elif k == 0 and len(piece) >= _UNKNOWN_MIN and len(piece) < len(s):
                    u = unknown_base + 3.0 * len(piece)
                    if best[0][start][0] + u < best[1][end][0]:
                        best[1][end] = (best[0][start][0] + u, start, 0)
    k = 0 if best[0][-1][0] <= best[1][-1][0] else 1
    if best[k][-1][0] == math.inf:
        return None
    out, end = [], len(s)
    while end > 0:
        _, start, k_prev = best[k][end]
        out.append(s[start:end])
        end, k = start, k_prev
    out.reverse()
    unknown = sum(len(p) for p in out if cost(p) is None)
    return None if unknown * 2 > len(s) else tuple(out)


def read_hashtags(buf: Buf) -> Buf:
    """Read hashtags as the words they are made of: the ``#`` goes, and a hashtag written in one
    case is spaced into words ("#hangmikepence" -> "hang mike pence"), which the camel-case step
    cannot do. A call to violence written as a hashtag otherwise reads to the models as a topic
    label, not as words. Only hashtags of six letters or more that are not a word themselves are
    cut ("#therapist" stays whole), and only where known words cover most of them; an inserted
    space maps to the letter it stands before. A ``#`` not starting a hashtag ("#1", "C#",
    "&#8220;") stays."""
    text = buf.text
    if "#" not in text:
        return buf
    edits = []
    for m in _HASHTAG.finditer(text):
        edits.append((m.start(), m.start() + 1, []))
        body = m.group(1)
        if len(body) < 6 or not body.isalpha() or body in lexicon():
            continue
        parts = _split_words(body)
        if not parts or len(parts) < 2:
            continue
        at = m.start(1)
        for part in parts[:-1]:
            at += len(part)
            edits.append((at, at, [(" ", buf.starts[at], buf.ends[at])]))
    return _splice(buf, edits) if edits else buf


# ---------------------------------------------------------------------------------------------
# 8. violent slang and code words, spelled out (every new character maps to the whole word)

SLANG = {
    "kys": "kill yourself", "unalive": "kill", "unalived": "killed", "unaliving": "killing", "unalives": "kills",
    "dotr": "day of the rope", "rahowa": "racial holy war",
}
# violent words misspelt to slip past a word filter: a doubled letter written once ("kil",
# "stabed") or the vowels left out ("kll", "mrdr"). Only spellings that are no word of the word
# list and, for the vowel-less ones, the skeleton of no other word ("stb" could be "stub", "bhd"
# and "dth" are abbreviations, so those are not read)
MISSPELT = {
    "kil": "kill", "kils": "kills", "kiled": "killed", "kiling": "killing", "kiler": "killer", "kilers": "killers",
    "kll": "kill", "klls": "kills", "klld": "killed", "kllng": "killing", "kllrs": "killers",
    "shoting": "shooting", "stabed": "stabbed", "stabing": "stabbing", "stbbd": "stabbed", "stbbng": "stabbing",
    "mrdr": "murder", "mrdrd": "murdered", "mrdrng": "murdering", "mrdrr": "murderer",
    "slghtr": "slaughter", "masacre": "massacre", "msscr": "massacre", "extrmnt": "exterminate",
    "lynchd": "lynched", "bulet": "bullet", "bulets": "bullets", "hngd": "hanged", "bmbd": "bombed", "bmbng": "bombing",
}
_SPELLED_OUT = {**SLANG, **MISSPELT}  # what expand_slang writes for each (hashtags are cut with SLANG only)
_SLANG_WORDS = frozenset(_SPELLED_OUT)
_SLANG = re.compile(r"(?<![a-z0-9'])(?:" + "|".join(sorted(_SPELLED_OUT, key=len, reverse=True)) + r")(?![a-z0-9'])")


def expand_slang(buf: Buf) -> Buf:
    text = buf.text
    if not _SLANG.search(text):
        return buf
    return _splice(buf, [(m.start(), m.end(), [(_SPELLED_OUT[m.group(0)], buf.starts[m.start()], buf.ends[m.end() - 1])])
                         for m in _SLANG.finditer(text)])


# ---------------------------------------------------------------------------------------------
# 9. white space


_SPACE_TO_FIX = re.compile(r"\s\s+|[^\S ]|^ | \Z")  # the runs that are not one plain space between words


def squeeze_space(buf: Buf) -> Buf:
    text = buf.text
    if not _SPACE_TO_FIX.search(text):
        return buf
    # each run of white space becomes its first character (as a plain space), except a run at the
    # start or the end, which goes; a single plain space between words stays as it is
    n = len(text)
    return _splice(buf, [(m.start(), m.end(), [(" ", buf.starts[m.start()], buf.ends[m.start()])]
                          if 0 < m.start() and m.end() < n else [])
                         for m in _SPACE_TO_FIX.finditer(text)])


STEPS = (strip_invisible, drop_mentions_and_links, split_hashtags, read_capital_i, fold_unicode, map_confusables, map_emoji,
         unwrap_letters, join_spaced, map_leet,
         squeeze_repeats, join_broken, split_underscores, read_hashtags, expand_slang, squeeze_space)

_SUSPECT = re.compile(r"[0-9@$!|+€*]|(.)\1\1|\bunaliv\w*|(?<![a-z0-9])[a-z0-9][ .\-_*·•/|~]{1,2}[a-z0-9](?![a-z0-9])|\s\s|^\s|\s$"
                      r"|(?:[(\[{][a-z][)\]}] ?){3}",
                      re.IGNORECASE)


# what is left to do for a plain ASCII text with nothing suspect in it but hashtags (none in camel
# case), underscores, slang or a misspelt violent word, or a broken violent word: every other step
# leaves such a text as lower-casing does
_PLAIN_STEPS = (join_broken, split_underscores, read_hashtags, expand_slang, squeeze_space)
_CAPITAL_I = re.compile(r"[a-z]I")


def normalize(text: str) -> Normalized:
    """Normalise ``text`` and keep the offset map to the original."""
    if (text.isascii() and not _SUSPECT.search(text) and "\t" not in text and "\n" not in text
            and not _has_camel_tag(text) and not _CAPITAL_I.search(text) and "://" not in text
            and "www." not in text):
        low = text.lower()  # ASCII lower-casing keeps length: identity offset map
        n = len(low)
        heads = _HEAD_TOKEN.findall(low)
        if "#" not in low and "_" not in low and _SLANG_WORDS.isdisjoint(heads) and not _broken_at(low, heads):
            return Normalized(text, low, tuple(range(n)), tuple(range(1, n + 1)))
        buf = Buf(list(low), list(range(n)), list(range(1, n + 1)))
        for step in _PLAIN_STEPS:
            buf = step(buf)
        return Normalized(text, buf.text, tuple(buf.starts), tuple(buf.ends))
    buf = Buf.of(text)
    for step in STEPS:
        buf = step(buf)
    return Normalized(text, buf.text, tuple(buf.starts), tuple(buf.ends))


def normalize_text(text: str) -> str:
    return normalize(text).text


def apply_step(step, text: str) -> str:
    """Run one step on a plain string (for tests and debugging)."""
    return step(Buf.of(text)).text
