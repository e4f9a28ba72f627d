"""Scoring a draft in two steps (`prescore_staged`): on SQLite the API scores on the event loop and
hands only the encoder stage to a thread. What the gate keeps must be what `prescore` keeps."""

from __future__ import annotations

from typing import Any

from warden.config import Settings
from warden.detection.detector import Detection
from warden.detection.normalize import normalize
from warden.policy import gate as gate_module
from warden.policy.engine import PolicyGate, draft_text
from warden.policy.gate import AllowAll


class StagedDetector:
    """Settles drafts with "calm" in them at stage 1; the rest need the (counted) encoder stage."""

    thresholds: dict[str, dict[str, float]] = {}

    def __init__(self) -> None:
        self.encoder_runs = 0
        self.whole_scores = 0

    def _detection(self, text: str, stage: str) -> Detection:
        return Detection({"violence": 0.9 if "kill" in text else 0.0}, [], "test-model", stage, normalize(text))

    def score(self, text: str) -> Detection:
        self.whole_scores += 1
        return self._detection(text, "encoder")

    def score_stage1(self, text: str) -> tuple[Detection | None, Any]:
        if "calm" in text:
            settled = self._detection(text, "linear")
            return settled, lambda: settled

        def rest() -> Detection:
            self.encoder_runs += 1
            return self._detection(text, "encoder")
        return None, rest


class OneStepDetector(StagedDetector):
    score_stage1 = None  # type: ignore[assignment]  # a detector without the split


def gate_with(detector: Any) -> PolicyGate:
    return PolicyGate(Settings(database_url="sqlite://", copies_enabled=False), store=None,  # type: ignore[arg-type]
                      detector=detector)


def test_a_draft_settled_at_stage_1_is_kept_at_once_and_not_scored_again() -> None:
    detector = StagedDetector()
    gate = gate_with(detector)
    assert gate.prescore_staged("a calm post", "cw") is None
    kept = gate._detect(draft_text("a calm post", "cw"))
    assert kept.stage == "linear" and (detector.encoder_runs, detector.whole_scores) == (0, 0)


def test_a_draft_that_needs_the_encoder_is_kept_only_once_the_rest_has_run() -> None:
    detector = StagedDetector()
    gate = gate_with(detector)
    rest = gate.prescore_staged("we will kill them")
    assert rest is not None and detector.encoder_runs == 0
    rest()
    assert detector.encoder_runs == 1
    kept = gate._detect("we will kill them")
    assert kept.stage == "encoder" and kept.scores["violence"] == 0.9
    assert detector.whole_scores == 0  # what the rest kept was used: the draft was not scored again


def test_a_detector_without_stages_is_scored_whole_by_the_rest() -> None:
    detector = OneStepDetector()
    gate = gate_with(detector)
    rest = gate.prescore_staged("a calm post")
    assert rest is not None and detector.whole_scores == 0
    rest()
    assert detector.whole_scores == 1
    gate._detect("a calm post")
    assert detector.whole_scores == 1


def test_gates_without_a_split_leave_all_of_prescore_to_the_rest() -> None:
    assert gate_module.prescore_staged(AllowAll(), "anything") is None
    assert gate_with(None).prescore_staged("anything") is None  # no detector: nothing to score

    class PrescoreOnly:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        def prescore(self, text: str, spoiler_text: str = "") -> None:
            self.calls.append((text, spoiler_text))

    only = PrescoreOnly()
    rest = gate_module.prescore_staged(only, "text", "cw")  # type: ignore[arg-type]
    assert rest is not None and only.calls == []
    rest()
    assert only.calls == [("text", "cw")]
