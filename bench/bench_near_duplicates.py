"""Copies of removed posts (issue 32), measured through the real index and lookup. Prints numbers;
asserts nothing.

    .venv/bin/python bench/bench_near_duplicates.py [--originals 500] [--index 5000] [--stream 100000]
        [--latency 2000] [--postgresql URL] [--compare-shingles]

Data (../shared/data, read through warden.detection.training.datasets; no text is copied anywhere):
- originals: real violent posts (violence label 1) of the held-out splits (test / held-out sets; not
  HateCheck's templates nor Warden's own exemplars), drawn with a fixed seed;
- the index of removed posts: every violent post of those sets (train splits too), then hate-labelled
  posts up to --index, each put in the index as a removal puts it (`copies.add_status`);
- the benign stream: --stream non-violent posts (Parler, Davidson, TweetEval, HateXplain, GHC,
  HatEval, EDOS, ETHOS, implicit hate: violence label 0, or no violence label and no violent call
  words), none of them in the index. A stream post that shares 8 words in a row with an indexed post
  (the same post in two sets, a retweet, a headline shared with "via" or a hashtag added, labelled
  differently) is left out, looked up separately and counted: it is a copy, not a false match.

1. Catch rate: each original, then a copy of it with a fifth of its words (rounded down) changed
   (replaced by words of other posts), reordered (taken out and put back at random places), padded
   (a run of words of another post inserted at the start, the end or the middle), or a mix of the
   three, written with a mention and a link and in other capitals; looked up at the threshold. By
   kind and by the original's length.
2. False matches: the benign stream looked up in the same index.
3. Both again at other thresholds (from the same lookups: each records its best similarity).
4. Added gate latency: `copies.match` (fingerprint + one query) per draft, p50/p99, against SQLite
   (a file, as served) and PostgreSQL, with the index above; with the thread's CPU time (what a busy
   machine's scheduling does not inflate: on SQLite, the query's own work too), the fingerprint
   alone, and the lookup from the detector's normalised reading (what the gate passes).
5. --compare-shingles: the shingle choice, on exact Jaccard (no MinHash): words, word pairs, words +
   word pairs, character 4- and 5-grams; catch rate at 20% and false matches per threshold.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from warden.cases import copies  # noqa: E402
from warden.detection import text_fingerprint  # noqa: E402
from warden.detection.normalize import normalize_text  # noqa: E402
from warden.detection.training import datasets  # noqa: E402
from warden.store.db import Database  # noqa: E402
from warden.store.migrate import upgrade  # noqa: E402
from warden.store.models import Status  # noqa: E402
from warden.store.moderation_models import ModerationDecision  # noqa: E402

KINDS = ("changed", "reordered", "padded", "mixed")
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6)
SEED = 32
PG_ADMIN = os.environ.get("WARDEN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# --- data ----------------------------------------------------------------------------------------


#: A stream post sharing this many words in a row with a removed post copies (part of) it.
VERBATIM_RUN = 8


def load(originals: int, index: int, stream: int) -> tuple[list[str], list[str], list[str], list[str]]:
    violent, hateful, benign, seen = [], [], [], set()
    for example in datasets.load_all():
        if example.source in ("hatecheck", "exemplars") or example.text in seen:
            continue
        seen.add(example.text)
        violence = example.labels.get("violence")
        if violence == 1:
            violent.append(example)
        elif violence == 0 or (violence is None and example.source in ("parler", "tweeteval")
                               and not datasets.weak_violence(example.text)):
            (hateful if example.labels.get("hate") == 1 else benign).append(example.text)
    rng = random.Random(SEED)
    held_out = [e.text for e in violent if e.split in ("test", "heldout")]
    rng.shuffle(held_out)
    rng.shuffle(hateful)
    removed = [e.text for e in violent] + hateful[:max(0, index - len(violent))]
    pool = benign + hateful[max(0, index - len(violent)):]
    rng.shuffle(pool)
    runs = {tuple(w[i:i + VERBATIM_RUN]) for w in map(text_fingerprint.words_of, removed)
            for i in range(max(1, len(w) - VERBATIM_RUN + 1))}
    kept, copied = [], []
    for post in pool:
        w = text_fingerprint.words_of(post)
        if any(tuple(w[i:i + VERBATIM_RUN]) in runs for i in range(max(1, len(w) - VERBATIM_RUN + 1))):
            copied.append(post)  # the same words as a removed post, or a run of 8 of them: a copy
            continue
        kept.append(post)
        if len(kept) == stream:
            break
    return held_out[:originals], removed, kept, copied


class Mutator:
    """Copies of a post with a fifth of its words (rounded down) changed, reordered, padded or a mix."""

    def __init__(self, others: list[str], seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.others = others
        self.vocabulary = [w for post in others[:5000] for w in post.split() if w.isalpha()]

    def copy(self, post: str, kind: str) -> str:
        words = post.split()
        k = len(words) // 5
        rng = self.rng
        if k and kind == "changed":
            for i in rng.sample(range(len(words)), k):
                words[i] = rng.choice(self.vocabulary)
        elif k and kind == "reordered":
            moved = [words.pop(i) for i in sorted(rng.sample(range(len(words)), k), reverse=True)]
            for word in moved:
                words.insert(rng.randrange(len(words) + 1), word)
        elif k and kind == "padded":
            source = (rng.choice(self.others).split() or ["hello"]) * k
            start = rng.randrange(max(1, len(source) - k))
            at = rng.choice((0, len(words), rng.randrange(len(words) + 1)))
            words[at:at] = source[start:start + k]
        elif k and kind == "mixed":
            for _ in range(k):
                step = rng.choice("crp")
                if step == "c":
                    words[rng.randrange(len(words))] = rng.choice(self.vocabulary)
                elif step == "r":
                    word = words.pop(rng.randrange(len(words)))
                    words.insert(rng.randrange(len(words) + 1), word)
                else:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(self.vocabulary))
        copy = " ".join(words)
        if kind == "mixed":  # what a raid adds for free: a mention, a link, other capitals
            copy = f"@raid{rng.randrange(999)} {copy.upper() if rng.random() < 0.5 else copy} https://example.test/{k}"
        return copy


# --- the index -----------------------------------------------------------------------------------


def fresh_database(backend: str, folder: Path, postgresql: str) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench-near-duplicates.sqlite3'}", lambda: None
    name = f"warden_bench_nd_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(postgresql, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return postgresql.rsplit("/", 1)[0] + f"/{name}", drop


def fill(db: Database, removed: list[str]) -> dict[int, int]:
    """Index every removed post as its removal would; returns status id -> position in `removed`."""
    ids: dict[int, int] = {}
    with db.write() as session:
        for position, post in enumerate(removed):
            status_id = 1_000_000 + position
            decision = ModerationDecision(id=f"dec_bench{position:08d}", label="violence")
            if copies.add_status(session, decision, Status(id=status_id, text=post)) is not None:
                ids[status_id] = position
    with db.write() as session:  # the statistics autovacuum keeps (PostgreSQL) / `ANALYZE` (SQLite)
        session.execute(text("ANALYZE removed_texts"))
        session.execute(text("ANALYZE removed_text_keys"))
    return ids


def best(session: object, draft: str) -> tuple[float, int | None]:
    """The best similarity of `draft` to an indexed post (0 when no band is shared) less what a post of
    its length needs above the threshold (`text_fingerprint.threshold_for`), so that the draft is a
    copy at threshold t when this is t or more; and that post."""
    found = copies.match(session, draft, threshold=0.0)  # type: ignore[arg-type]
    if found is None:
        return 0.0, None
    extra = text_fingerprint.threshold_for(len(text_fingerprint.words_of(draft)), 0.0)
    return found.similarity - extra, found.status_id


# --- the measurements ----------------------------------------------------------------------------


def length_bucket(post: str) -> str:
    n = len(text_fingerprint.words_of(post))
    return ("<5 words (exact only)" if n < text_fingerprint.MIN_WORDS else
            "5-9 words" if n < 10 else "10-19 words" if n < 20 else "20+ words")


def catch_and_false_matches(db: Database, originals: list[str], removed: list[str], stream: list[str],
                            copied: list[str], threshold: float) -> None:
    mutator = Mutator(stream)
    position = {post: i for i, post in enumerate(removed)}
    results: dict[str, list[tuple[float, bool, str]]] = {kind: [] for kind in ("exact",) + KINDS}
    with db.read() as session:
        for post in originals:
            own = 1_000_000 + position[post]
            for kind in results:
                draft = post if kind == "exact" else mutator.copy(post, kind)
                similarity, status_id = best(session, draft)
                results[kind].append((similarity, status_id == own, length_bucket(post)))
    print(f"\n1. Catch rate at threshold {threshold} ({len(originals)} real violent posts; a fifth of their words "
          "changed / reordered / padded / mixed, rounded down):")
    for kind, rows in results.items():
        caught = [s >= threshold for s, _, _ in rows]
        own = [s >= threshold and mine for s, mine, _ in rows]
        print(f"   {kind:<10} caught {sum(caught) / len(rows):7.2%}   (matched to its own original {sum(own) / len(rows):.2%})")
    every = [r for kind in KINDS for r in results[kind]]
    print(f"   all copies caught {sum(s >= threshold for s, _, _ in every) / len(every):.2%} of {len(every)}")
    buckets = Counter(bucket for _, _, bucket in every)
    for bucket in sorted(buckets):
        rows = [r for r in every if r[2] == bucket]
        print(f"     originals of {bucket:<22} {len(rows) // len(KINDS):4d}: caught "
              f"{sum(s >= threshold for s, _, _ in rows) / len(rows):.2%}")

    started = time.perf_counter()
    with db.read() as session:
        similarities = [(best(session, post)[0], length_bucket(post)) for post in stream]
        in_data = [best(session, post)[0] for post in copied]
    took = time.perf_counter() - started
    matched = [b for s, b in similarities if s >= threshold]
    print(f"\n2. False matches on {len(stream):,} benign posts against {len(removed):,} removed ones: "
          f"{len(matched)} ({len(matched) / len(stream):.3%}) at threshold {threshold}  [{took:.0f} s for the lookups]")
    for bucket, count in sorted(Counter(matched).items()):
        print(f"     {bucket:<22} {count}")
    print(f"   The {len(copied)} left out of the stream (the words of a removed post, or {VERBATIM_RUN} of them in a "
          f"row: copies in the data, labelled differently) were looked up too: {sum(s >= threshold for s in in_data)} "
          "held as copies")
    print("\n3. The same lookups at other thresholds (copies caught, all kinds / false matches):")
    for at in THRESHOLDS:
        caught = sum(s >= at for s, _, _ in every) / len(every)
        false = sum(s >= at for s, _ in similarities)
        print(f"   {at:.2f}: {caught:7.2%} caught / {false} false ({false / len(stream):.3%})")


def latency(db: Database, backend: str, drafts: list[str]) -> None:
    """Each draft timed twice: from its text, and from the detector's normalised reading of it (what
    the gate passes when the real detector scored the post: normalising is the detector's cost)."""
    normalised = [normalize_text(d) for d in drafts]
    fingerprints, lookups, reused, cpu = [], [], [], []
    with db.read() as session:
        for draft in drafts[:50]:  # warm the connection and the statement cache
            copies.match(session, draft, threshold=0.5)
        for draft, reading in zip(drafts, normalised):
            started, started_cpu = time.perf_counter(), time.thread_time()
            found = text_fingerprint.fingerprint(draft)
            middle = time.perf_counter()
            copies.match(session, draft, threshold=0.5, found=found)
            ended, ended_cpu = time.perf_counter(), time.thread_time()
            copies.match(session, draft, threshold=0.5, normalised=reading)
            fingerprints.append((middle - started) * 1000)
            lookups.append((ended - started) * 1000)
            cpu.append((ended_cpu - started_cpu) * 1000)
            reused.append((time.perf_counter() - ended) * 1000)

    def p(values: list[float], q: int) -> str:
        return f"{statistics.quantiles(values, n=100)[q - 1]:.2f}"

    print(f"   {backend:<10} from the text: p50 {p(lookups, 50)} ms  p99 {p(lookups, 99)} ms "
          f"(this thread's CPU time p50 {p(cpu, 50)}  p99 {p(cpu, 99)}; the fingerprint alone p50 {p(fingerprints, 50)}  "
          f"p99 {p(fingerprints, 99)}) | from the detector's reading: p50 {p(reused, 50)} ms  p99 {p(reused, 99)} ms  "
          f"({len(drafts)} drafts)")


# --- 5: the shingle choice -----------------------------------------------------------------------


def compare_shingles(originals: list[str], removed: list[str], stream: list[str]) -> None:
    import numpy as np
    from scipy import sparse

    mutator = Mutator(stream, seed=SEED + 1)
    words = {post: re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", normalize_text(post))
             for post in set(originals) | set(removed) | set(stream)}
    copied = [(post, mutator.copy(post, kind)) for post in originals for kind in KINDS]
    for post, copy in copied:
        words[copy] = re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", normalize_text(copy))

    def shingle(w: list[str], scheme: str) -> set[str]:
        if scheme == "words":
            return set(w)
        if scheme == "word pairs":
            return {f"{a} {b}" for a, b in zip(w, w[1:])} or set(w)
        if scheme == "words + word pairs":
            return text_fingerprint.shingles(w)
        n = int(scheme[-1])
        joined = " ".join(w)
        return {joined[i:i + n] for i in range(max(1, len(joined) - n + 1))} if joined else set()

    print(f"\n5. Shingles compared on exact Jaccard (posts of {text_fingerprint.MIN_WORDS}+ words; shorter ones match "
          "exactly): copies caught / false matches in the stream")
    for scheme in ("words", "word pairs", "words + word pairs", "characters 4", "characters 5"):
        vocabulary: dict[str, int] = {}

        def matrix(posts: list[str]) -> tuple[object, np.ndarray, np.ndarray]:
            rows, cols, sizes, lengths = [], [], [], []
            for i, post in enumerate(posts):
                found = shingle(words[post], scheme)
                sizes.append(len(found))
                lengths.append(len(words[post]))
                for s in found:
                    rows.append(i)
                    cols.append(vocabulary.setdefault(s, len(vocabulary)))
            return (rows, cols), np.array(sizes), np.array(lengths)

        (ri, ci), index_sizes, index_lengths = matrix(removed)
        (rs, cs), stream_sizes, stream_lengths = matrix(stream)
        width = len(vocabulary)
        index = sparse.csr_matrix((np.ones(len(ri), np.float32), (ri, ci)), shape=(len(removed), width)).T.tocsc()
        posts = sparse.csr_matrix((np.ones(len(rs), np.float32), (rs, cs)), shape=(len(stream), width))
        short_index = index_lengths < text_fingerprint.MIN_WORDS
        highest = np.zeros(len(stream))
        for start in range(0, len(stream), 5000):
            overlap = (posts[start:start + 5000] @ index).toarray()
            similarity = overlap / np.maximum(stream_sizes[start:start + 5000, None] + index_sizes[None, :] - overlap, 1)
            similarity[:, short_index] = 0
            highest[start:start + 5000] = similarity.max(axis=1)
        highest[stream_lengths < text_fingerprint.MIN_WORDS] = 0
        copy_similarity = []
        for post, copy in copied:
            a, b = shingle(words[post], scheme), shingle(words[copy], scheme)
            long_enough = len(words[post]) >= text_fingerprint.MIN_WORDS and len(words[copy]) >= text_fingerprint.MIN_WORDS
            exact = words[post] == words[copy]
            copy_similarity.append(1.0 if exact else (len(a & b) / len(a | b) if long_enough and a | b else 0.0))
        cells = [f"{at:.2f}: {np.mean(np.array(copy_similarity) >= at):6.1%} / {int((highest >= at).sum()):4d}"
                 for at in THRESHOLDS]
        print(f"   {scheme:<20} " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--originals", type=int, default=500)
    parser.add_argument("--index", type=int, default=5000, help="removed posts in the index (violent ones first)")
    parser.add_argument("--stream", type=int, default=100_000, help="benign posts looked up")
    parser.add_argument("--latency", type=int, default=2000, help="drafts timed per backend")
    parser.add_argument("--threshold", type=float, default=0.45, help="WARDEN_COPY_THRESHOLD's default")
    parser.add_argument("--postgresql", default=PG_ADMIN, help="a PostgreSQL server's URL ('' to skip it)")
    parser.add_argument("--compare-shingles", action="store_true", help="also run 5 (about four minutes)")
    parser.add_argument("--latency-only", action="store_true", help="only 4 (the index is still filled)")
    args = parser.parse_args()

    started = time.perf_counter()
    originals, removed, stream, copied = load(args.originals, args.index, args.stream)
    print(f"{len(originals)} originals, {len(removed):,} removed posts indexed, {len(stream):,} benign posts "
          f"({len(copied)} left out: copies of a removed post in the data); {text_fingerprint.VERSION}; posts of "
          f"<{text_fingerprint.MIN_WORDS} words exact only, of <{text_fingerprint.SHORT_WORDS} words threshold "
          f"+{text_fingerprint.SHORT_MARGIN}  [{time.perf_counter() - started:.0f} s]")
    with tempfile.TemporaryDirectory() as folder:
        backends = ["sqlite"] + (["postgresql"] if args.postgresql else [])
        rng = random.Random(SEED)
        mutator = Mutator(stream, seed=SEED + 2)
        drafts = [rng.choice(stream) if i % 2 else mutator.copy(rng.choice(originals), KINDS[i % 4])
                  for i in range(args.latency)]
        for backend in backends:
            url, drop = fresh_database(backend, Path(folder), args.postgresql)
            try:
                upgrade(url)
                db = Database(url)
                indexed = fill(db, removed)
                if backend == "sqlite" and not args.latency_only:
                    catch_and_false_matches(db, [o for o in originals if 1_000_000 + removed.index(o) in indexed],
                                            removed, stream, copied, args.threshold)
                if backend == "sqlite":
                    print("\n4. Added gate latency (copies.match: fingerprint + one query; half copies, half benign):")
                latency(db, backend, drafts)
                db.dispose()
            finally:
                drop()  # type: ignore[operator]
    if args.compare_shingles:
        compare_shingles(originals, removed, stream)
    print(f"\n[{time.perf_counter() - started:.0f} s in all]")


if __name__ == "__main__":
    main()
