"""Learning from moderators (issue 32): decisions as labelled examples, `warden train --with-decisions`'s
held-out check, `warden eval --decisions`, retention and erasure.

The database is a real one per backend (SQLite and PostgreSQL, migrated as in production), and every
decision is made through the service layer, as a moderator's request would make it."""
from __future__ import annotations

import json
import types
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import update

from tests.conftest import make_database
from tests.helpers import _PASSWORD_HASH, PASSWORD, unique_name
from warden.cases import appeals, audit, cases, decisions, erasure
from warden.config import Settings
from warden.detection import commands
from warden.detection.commands import register
from warden.detection.training import heldout_check, moderators
from warden.detection.training.agreement import cohen_kappa, format_report, report, wilson
from warden.errors import Conflict, Forbidden
from warden.platform import accounts, statuses
from warden.policy.engine import CompiledPolicy
from warden.policy.model import DEFAULT_POLICY_PATH, load_policy
from warden.store.db import Database
from warden.store.models import Account, Status
from warden.store.moderation_models import ModerationDecision

THREAT = "i will burn your house down tonight, you and your family"
CASUAL = "what a lovely garden party this afternoon"
SLUR = "those people are vermin and should never be our neighbours"


def _cli() -> click.Group:
    @click.group()
    def cli() -> None:
        pass

    register(cli)
    return cli


@dataclass
class World:
    url: str
    db: Database
    settings: Settings
    policy: CompiledPolicy
    people: dict[str, int] = field(default_factory=dict)
    #: what each scenario's post became: name -> (status id, the decision id that should be its example)
    posts: dict[str, tuple[int, str]] = field(default_factory=dict)

    def account(self, session: Any, name: str) -> Account:
        found = session.get(Account, self.people[name])
        assert found is not None
        return found

    def post(self, session: Any, author: str, text: str, **kw: Any) -> Status:
        return statuses.create(session, self.settings, self.account(session, author), text=text, **kw).status

    def decide(self, session: Any, status: Status, action: str, label: str | None, by: str = "mod") -> ModerationDecision:
        """A moderator's decision on a post's case (the case opens as a report would open it)."""
        case = cases.open_or_join(session, self.settings, self.policy, status_id=status.id,
                                  account_id=status.account_id, source_type="user",
                                  source_ref=f"report:{status.id}", label=label)
        _, decision = cases.decide(session, self.settings, self.policy, case.id, self.account(session, by),
                                   action=action, label=label)
        return decision


@pytest.fixture(scope="module")
def world(backend: str, tmp_data_dir: Path) -> Any:
    url, drop = make_database(backend, tmp_data_dir)
    policy, body = load_policy(DEFAULT_POLICY_PATH)
    w = World(url=url, db=Database(url), settings=Settings(database_url=url, detection_enabled=False),
              policy=CompiledPolicy.build(policy, body))
    with w.db.write() as s:
        for name, role in (("mod", "moderator"), ("senior", "senior"), ("senior2", "senior"), ("admin", "admin"),
                           ("alice", "user"), ("bob", "user")):
            username = unique_name(name)
            w.people[name] = accounts.register(s, username=username, email=f"{username}@example.test",
                                               password=PASSWORD, role=role, allow_reserved=True,
                                               password_hash=_PASSWORD_HASH).id
    texts = {"threat": THREAT, "casual": CASUAL, "hate": SLUR,
             "overturned": "they should all be shot for this, honestly",  # removed, restored on appeal
             "automated": "meet me at the gates with your rifles at dawn",  # the detector removed it
             "labelled": "this movie was a bloodbath, loved every minute",
             "spam": "buy cheap followers at my site now",
             "old": "gonna stab the next one who says that",  # decided long ago
             "deleted": "we will hang every last one of them",  # removed, later deleted by alice
             "threat_again": THREAT}  # the same text, decided later: one example, the later decision's
    with w.db.write() as s:  # every post first: alice's strikes will suspend her
        ids = {name: w.post(s, "alice", text).id for name, text in texts.items()}
        ids["bob"] = w.post(s, "bob", "i know where you sleep and i am bringing a knife").id  # bob's data goes
        ids["reply_to_bob"] = w.post(s, "alice", "please calm down, nobody wants trouble",
                                     in_reply_to_id=ids["bob"]).id
    with w.db.write() as s:
        def decide(name: str, action: str, label: str | None) -> None:
            status = s.get(Status, ids[name])
            w.posts[name] = (ids[name], w.decide(s, status, action, label).id)

        for name, action, label in (("threat", "remove", "violence"), ("casual", "no_violation", "violence"),
                                    ("hate", "remove", "hate"), ("overturned", "remove", "violence"),
                                    ("labelled", "label", "violence"), ("spam", "remove", "other"),
                                    ("old", "remove", "violence"), ("deleted", "remove", "violence"),
                                    ("bob", "remove", "violence"), ("reply_to_bob", "no_violation", "violence")):
            decide(name, action, label)
        auto = decisions.enforce(s, w.settings, w.policy, action="remove", status_id=ids["automated"],
                                 label="violence", kind="async", source="detector", automated=True)
        w.posts["automated"] = (ids["automated"], auto.id)
        statuses.delete_status(s, w.account(s, "alice"), ids["deleted"])
    with w.db.write() as s:
        decide("threat_again", "remove", "violence")
        s.execute(update(ModerationDecision).where(ModerationDecision.id == w.posts["old"][1])
                  .values(created_at=datetime.now(UTC) - timedelta(days=400)))
    with w.db.write() as s:  # appeals: the author files, a senior moderator decides
        alice = w.account(s, "alice")
        appeal = appeals.file(s, alice, decision_id=w.posts["overturned"][1], text="it was a figure of speech")
        _, outcome = appeals.decide(s, w.settings, w.policy, appeal.id, w.account(s, "senior"), outcome="overturned")
        w.posts["overturned"] = (w.posts["overturned"][0], outcome.id)
        appeal = appeals.file(s, alice, decision_id=w.posts["automated"][1], text="it was a joke")
        _, outcome = appeals.decide(s, w.settings, w.policy, appeal.id, w.account(s, "senior2"), outcome="upheld")
        w.posts["automated"] = (w.posts["automated"][0], outcome.id)
    yield w
    w.db.dispose()
    drop()


def _examples(w: World, days: int = 365) -> dict[str, moderators.ModeratorExample]:
    with w.db.read() as s:
        found = moderators.read(s, retention_days=days)
    by_decision = {e.decision_id: e for e in found}
    assert len(by_decision) == len(found)
    return {name: by_decision[d] for name, (_, d) in w.posts.items() if d in by_decision}


def test_human_decisions_become_labelled_examples(world: World) -> None:
    ex = _examples(world)
    assert ex["threat_again"].labels == {"violence": 1, "hate": None, "harassment": None}
    assert ex["threat_again"].text == THREAT and ex["threat_again"].role == "moderator"
    assert ex["casual"].labels == {"violence": 0, "hate": None, "harassment": None}
    assert ex["hate"].labels == {"violence": None, "hate": 1, "harassment": None}  # the ground says hate
    assert ex["reply_to_bob"].labels["violence"] == 0
    assert ex["threat_again"].origin == "decision" and ex["threat_again"].meta["action"] == "remove"
    # left out: an automated decision, a borderline label, a ground the detector does not learn
    assert {"labelled", "spam"}.isdisjoint(ex)
    with world.db.read() as s:
        assert all(e.decided_at.tzinfo is not None for e in moderators.read(s, retention_days=365))


def test_an_appeal_outcome_overrides_the_decision_it_answers(world: World) -> None:
    ex = _examples(world)
    over = ex["overturned"]  # removed by a moderator, restored on appeal: a negative, the senior's
    assert over.labels["violence"] == 0 and over.origin == "appeal" and over.role == "senior"
    assert over.meta["answers"] is not None
    upheld = ex["automated"]  # the detector's removal is no example; a person upholding it is
    assert upheld.labels["violence"] == 1 and upheld.origin == "appeal" and upheld.role == "senior"
    with world.db.read() as s:
        found = moderators.read(s, retention_days=365)
    answered = {e.meta["answers"] for e in found}
    assert not answered & {e.decision_id for e in found}  # the decisions they answer are gone


def test_one_example_per_text_the_latest_decision(world: World) -> None:
    ex = _examples(world)
    assert "threat_again" in ex and "threat" not in ex
    with world.db.read() as s:
        found = moderators.read(s, retention_days=365)
    digests = [e.digest for e in found]
    assert len(digests) == len(set(digests))
    assert [e.decided_at for e in found] == sorted(e.decided_at for e in found)


def test_retention_and_deleted_posts(world: World) -> None:
    assert "old" not in _examples(world, days=365)     # decided 400 days ago
    assert "old" in _examples(world, days=500)
    assert "deleted" not in _examples(world, days=500)  # its author deleted it


def test_the_held_out_share_is_seeded_by_text() -> None:
    digests = [moderators.text_digest(f"post number {i}") for i in range(2000)]
    held = [moderators._held_out(d) for d in digests]
    assert 0.17 < sum(held) / len(held) < 0.23
    assert held == [moderators._held_out(d) for d in digests]


def test_erasing_an_account_takes_its_posts_out_of_training(world: World) -> None:
    assert "bob" in _examples(world)
    with world.db.write() as s:
        bob, admin, mod = (world.account(s, n) for n in ("bob", "admin", "mod"))
        with pytest.raises(Conflict):  # suspended first, as Mastodon asks
            erasure.erase_account(s, bob.id, admin)
        decisions.enforce(s, world.settings, world.policy, action="suspend", account_id=bob.id, actor_id=mod.id,
                          kind="account")
        with pytest.raises(Forbidden):
            erasure.erase_account(s, bob.id, mod)
        done = erasure.erase_account(s, bob.id, admin)
    assert done.statuses == 1 and done.decisions >= 1 and done.cases >= 1
    ex = _examples(world)
    assert "bob" not in ex
    assert "reply_to_bob" in ex  # alice's reply stays, without bob's words quoted in its snapshot
    with world.db.read() as s:
        bob_decision = s.get(ModerationDecision, world.posts["bob"][1])
        assert bob_decision is not None and bob_decision.evidence["text"] is None
        assert bob_decision.evidence["erased_at"] and bob_decision.statement["decision_ground"]
        reply = s.get(ModerationDecision, world.posts["reply_to_bob"][1])
        assert reply.evidence["in_reply_to_text"] is None and reply.evidence["text"]
        post = s.get(Status, world.posts["bob"][0])
        assert post.text == "" and post.deleted_at is not None
        case = cases.get(s, bob_decision.case_id)
        assert case.evidence["content"]["text"] is None
        texts = json.dumps([d.evidence for d in s.query(ModerationDecision).all()])
        assert "bringing a knife" not in texts
        assert audit.verify(s).ok  # erasing appended to the chain and rewrote nothing


# --------------------------------------------------------------------------- warden eval --decisions


def test_eval_decisions_reports_agreement_with_the_shipped_model(world: World) -> None:
    res = CliRunner().invoke(_cli(), ["eval", "--decisions", "--database", world.url, "--by", "week", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    with world.db.read() as s:
        expected = [e for e in moderators.read(s, retention_days=365) if e.labels["violence"] is not None]
    assert out["overall"]["n"] == len(expected) and out["label"] == "violence" and out["by"] == "week"
    assert sum(p["n"] for p in out["periods"]) == len(expected)
    assert out["model"].startswith("warden-violence-") and out["trained_through"] is None
    assert out["overall"]["seen"] == 0  # the shipped model learnt from no decisions
    assert out["overall"]["moderator_positives"] == sum(e.labels["violence"] for e in expected)
    assert out["overall"]["recall"] > 0  # the plain threats are flagged at review
    table = CliRunner().invoke(_cli(), ["eval", "--decisions", "--database", world.url])
    assert table.exit_code == 0, table.output
    assert "| overall |" in table.output and f"| {out['overall']['n']} |" in table.output


def test_eval_decisions_says_when_there_is_nothing_to_compare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    from warden.store.migrate import upgrade

    upgrade(url)
    res = CliRunner().invoke(_cli(), ["eval", "--decisions", "--database", url])
    assert res.exit_code == 1 and "no moderators' decisions" in res.output
    res = CliRunner().invoke(_cli(), ["eval", "--by", "week"])
    assert res.exit_code == 2 and "go with --decisions" in res.output


def _example(day: datetime, label: int) -> moderators.ModeratorExample:
    return moderators.ModeratorExample(text="x", labels={"violence": label, "hate": None, "harassment": None},
                                       decided_at=day, decision_id=f"dec_{day.isoformat()}_{label}", role="moderator",
                                       origin="decision", digest="0" * 64)


def test_agreement_flags_the_period_that_drifts() -> None:
    rng = np.random.default_rng(4)
    rows, scores = [], []
    for month, agree_rate in ((1, 0.9), (2, 0.9), (3, 0.9), (4, 0.4)):
        for k in range(60):
            label = int(rng.random() < 0.5)
            agree = rng.random() < agree_rate
            rows.append(_example(datetime(2026, month, 1 + k % 28, tzinfo=UTC), label))
            scores.append(0.9 if (label == 1) == agree else 0.1)
    res = report(rows, scores, threshold=0.5, by="month")
    assert [p["period"] for p in res["periods"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [p["drift"] for p in res["periods"]] == [False, False, False, True]
    assert res["overall"]["n"] == 240
    assert "DRIFT" in format_report(res) and "2026-04" in format_report(res).split("Drift:")[1]


def test_kappa_precision_recall_on_a_known_table() -> None:
    # moderators 1 1 1 1 0 0 0 0 0 0; model flags 1 1 1 0 1 0 0 0 0 0
    human = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    model = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    # observed 0.8; chance 0.4*0.4 + 0.6*0.6 = 0.52; kappa = 0.28 / 0.48
    assert cohen_kappa(model, human) == pytest.approx(0.28 / 0.48)
    day = datetime(2026, 5, 4, tzinfo=UTC)
    res = report([_example(day, int(h)) for h in human], [0.9 if m else 0.1 for m in model], threshold=0.5, by="week")
    assert res["periods"][0]["period"] == "2026-W19"
    assert res["overall"]["precision"] == pytest.approx(0.75) and res["overall"]["recall"] == pytest.approx(0.75)
    lo, hi = wilson(8, 10)
    assert lo < 0.8 < hi and res["overall"]["agreement_ci"] == [lo, hi]


# --------------------------------------------------------------------------- the held-out check


def _fake_sets(rng: np.random.Generator, worse: set[str]) -> tuple[dict, dict]:
    current, new = {}, {}
    for name in ("violence: ghc/heldout", "violence: ethos/test", "hate: davidson/test"):
        y = (rng.random(600) < 0.1).astype(int)
        good = y * 1.5 + rng.normal(0, 0.6, len(y))
        current[name] = (y, good)
        new[name] = (y, rng.normal(0, 1, len(y)) if name in worse else good + rng.normal(0, 0.05, len(y)))
    return current, new


def test_a_set_regresses_only_beyond_its_paired_interval() -> None:
    current, new = _fake_sets(np.random.default_rng(1), worse={"violence: ethos/test"})
    checks = {c.name: c for c in heldout_check.check_sets(current, new)}
    bad = checks["violence: ethos/test"]
    assert bad.regressed and bad.new < bad.current_ci[0] < bad.current
    assert not checks["violence: ghc/heldout"].regressed and not checks["hate: davidson/test"].regressed
    # a small drop inside the current model's interval passes, even where the paired ratio is below 1
    y, p = current["violence: ghc/heldout"]
    small = heldout_check.check_sets({"s": (y, p)}, {"s": (y, p + np.random.default_rng(5).normal(0, 0.15, len(y)))})[0]
    assert small.new < small.current and small.current_ci[0] <= small.new and not small.regressed
    with pytest.raises(ValueError, match="different rows"):
        heldout_check.check_sets(current, {k: (1 - y, p) for k, (y, p) in new.items()})


def _staged_training(tmp_path: Path, worse: set[str]) -> tuple[Path, Any, Any]:
    out = tmp_path / "model"
    out.mkdir()
    (out / "meta.json").write_text('{"version": "current"}', encoding="utf-8")
    (out / "encoder.int8.onnx").write_bytes(b"kept")
    current, new = _fake_sets(np.random.default_rng(2), worse)

    def train_into(folder: Path) -> None:
        assert (folder / "encoder.int8.onnx").read_bytes() == b"kept"  # a copy: --keep-encoder finds it
        (folder / "meta.json").write_text('{"version": "new"}', encoding="utf-8")

    def score(folder: Path) -> dict:
        return new if json.loads((folder / "meta.json").read_text())["version"] == "new" else current

    return out, train_into, score


def test_a_regression_keeps_the_current_model_unless_forced(tmp_path: Path) -> None:
    out, train_into, score = _staged_training(tmp_path, worse={"violence: ghc/heldout"})
    with pytest.raises(heldout_check.Regressed, match="violence: ghc/heldout"):
        heldout_check.train_checked(train_into, score, out_dir=out, current_dir=out, log=lambda m: None)
    assert json.loads((out / "meta.json").read_text())["version"] == "current"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # the staging folder is gone
    heldout_check.train_checked(train_into, score, out_dir=out, current_dir=out, force=True, log=lambda m: None)
    assert json.loads((out / "meta.json").read_text())["version"] == "new"
    assert (out / "encoder.int8.onnx").read_bytes() == b"kept"


def test_no_regression_installs_the_new_model(tmp_path: Path) -> None:
    out, train_into, score = _staged_training(tmp_path, worse=set())
    checks = heldout_check.train_checked(train_into, score, out_dir=out, current_dir=out, log=lambda m: None)
    assert len(checks) == 3 and not any(c.regressed for c in checks)
    assert json.loads((out / "meta.json").read_text())["version"] == "new"


def test_train_with_decisions_refuses_a_regression_with_the_set_named(world: World, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from warden.detection.training import train as train_module

    monkeypatch.setattr(commands, "_train_extra", lambda: types.ModuleType("torch"))  # no torch here
    out, _, score = _staged_training(tmp_path, worse={"hate: davidson/test"})
    seen: dict[str, Any] = {}

    def fake_train(data_dir: Any, folder: Path, **kw: Any) -> dict:
        seen.update(kw)
        (Path(folder) / "meta.json").write_text('{"version": "new"}', encoding="utf-8")
        return {}

    monkeypatch.setattr(train_module, "train", fake_train)
    monkeypatch.setattr(heldout_check, "eval_set_scorer", lambda data_dir, log=print: score)
    args = ["train", "--with-decisions", "--database", world.url, "--keep-encoder", "--out", str(out)]
    res = CliRunner().invoke(_cli(), args)
    assert res.exit_code == 1, res.output
    assert "regresses on: hate: davidson/test" in res.output and "--force" in res.output
    assert json.loads((out / "meta.json").read_text())["version"] == "current"
    with world.db.read() as s:
        expected = moderators.read(s, retention_days=365)
    assert [e.decision_id for e in seen["decisions"]] == [e.decision_id for e in expected]
    assert seen["decisions_info"]["n"] == len(expected) and seen["keep_encoder"] is True
    assert CliRunner().invoke(_cli(), [*args, "--force"]).exit_code == 0
    assert json.loads((out / "meta.json").read_text())["version"] == "new"


def test_train_with_decisions_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = CliRunner().invoke(_cli(), ["train", "--force", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "go with --with-decisions" in res.output
    monkeypatch.setattr(commands, "_train_extra", lambda: types.ModuleType("torch"))
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    from warden.store.migrate import upgrade

    upgrade(url)
    res = CliRunner().invoke(_cli(), ["train", "--with-decisions", "--database", url, "--out", str(tmp_path / "m")])
    assert res.exit_code == 1 and "no moderators' decisions to learn from" in res.output
    assert not (tmp_path / "m").exists()
    monkeypatch.setenv("WARDEN_TRAINING_RETENTION_DAYS", "soon")
    res = CliRunner().invoke(_cli(), ["train", "--with-decisions", "--database", url])
    assert res.exit_code == 1 and "WARDEN_TRAINING_RETENTION_DAYS" in res.output


def test_the_ground_decides_the_label() -> None:
    assert moderators.ground_of("violence", None) == "violence"
    assert moderators.ground_of("threats", {"category": "STATEMENT_CATEGORY_VIOLENCE"}) == "violence"
    assert moderators.ground_of("slurs", {"category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                                          "category_specification": ["KEYWORD_HATE_SPEECH"]}) == "hate"
    assert moderators.ground_of("other", {"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}) is None
    assert moderators.label_of("remove", None) is None
    assert moderators.label_of("no_violation", None) == {"violence": 0, "hate": None, "harassment": None}
    assert moderators.label_of("limit", "violence") is None


def test_the_held_out_check_scores_the_sets_as_the_detector_does() -> None:
    """The real scorer of `warden train --with-decisions` (the fakes above stand in for it elsewhere), on a
    few rows with the shipped model: each evaluation set's labels and the model's own profile's scores,
    the same scores as the detector gives one post at a time. (It once crashed after a whole training
    run: it still unpacked the components as a tuple.)"""
    from warden.detection.detector import DEFAULT_MODEL_DIR, Detector
    from warden.detection.training.datasets import Example

    rows = [Example("we will hunt them down and shoot every one of them", "ghc", "heldout", {"violence": 1}),
            Example("lovely weather for the garden today", "ghc", "heldout", {"violence": 0}),
            Example("burn their houses and kill their children", "ethos", "test", {"violence": 1, "hate": 1}),
            Example("I disagree with this policy, write to your representative", "ethos", "test",
                    {"violence": 0, "hate": 0}),
            Example("not an evaluation row", "gab", "train", {"violence": 1})]
    score = heldout_check.eval_set_scorer(None, use_cache=False, log=lambda m: None, examples=rows)
    sets = score(DEFAULT_MODEL_DIR)
    assert set(sets) == {"violence: ghc/heldout", "violence: ethos/test", "hate: ethos/test"}
    detector = Detector.load()
    for name, texts in (("violence: ghc/heldout", rows[:2]), ("violence: ethos/test", rows[2:4])):
        y, p = sets[name]
        assert list(y) == [1, 0] and p[0] > p[1]
        alone = [detector.score(e.text).scores["violence"] for e in texts]
        assert np.allclose(p, alone, atol=0.02), (name, p, alone)
