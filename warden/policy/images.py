"""The gate's look at a draft's images, in the same call as its text (`PolicyGate.moderate`).

1. Hash list: an image within PDQ's match distance of an active hash on the block list
   (warden/cases/hashlist.py) blocks the post.
2. Text: each image's alt text and the text read from it at upload (OCR) are evaluated under the same
   policy and detector as the post's text; the strictest evaluation of all decides.

`ImageFindings.drove` says whether an image decided the verdict, so that the decision's statement of
reasons says `CONTENT_TYPE_IMAGE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.detection import ocr
from warden.policy.gate import Draft
from warden.policy.model import STRICTNESS

TEXT = "CONTENT_TYPE_TEXT"
IMAGE = "CONTENT_TYPE_IMAGE"


@dataclass
class ImageFindings:
    #: the evaluation that decides (the text's own, unless an image's was stricter)
    result: Any
    #: whether an image drove `result`
    drove: bool = False
    #: the media ids to put on the block list if the post is blocked because of them
    to_list: list[int] = field(default_factory=list)
    #: what the decision's evidence keeps about the images
    evidence: list[dict[str, Any]] = field(default_factory=list)
    #: a detection of an image's text that could not be scored in time
    unscored: bool = False

    @property
    def content_type(self) -> str:
        return IMAGE if self.drove else TEXT


def _key(compiled: Any, evaluation: Any) -> tuple[int, float]:
    label = compiled.policy.labels.get(evaluation.label or "") if evaluation.label else None
    return STRICTNESS.get(evaluation.action, 0), (label.severity if label is not None else 0.0)


def assess(session: Session, compiled: Any, draft: Draft, text_result: Any,
           evaluate_text: Callable[[str], tuple[Any, bool]]) -> ImageFindings:
    """`evaluate_text(text)` -> (evaluation, unscored) runs the policy and detector on one text."""
    from warden.cases import hashlist
    from warden.policy.engine import Evaluation

    findings = ImageFindings(result=text_result)
    if not draft.images:
        return findings
    ids = [image.media_id for image in draft.images]
    signals = hashlist.signals_of(session, ids)
    for position, image in enumerate(draft.images, start=1):
        signal = signals.get(image.media_id)
        findings.evidence.append({
            "position": position, "media_id": image.media_id, "description": image.description,
            "pdq": signal.pdq_hash if signal else None, "pdq_quality": signal.pdq_quality if signal else None,
            "ocr_text": signal.ocr_text if signal else None, "ocr_engine": signal.ocr_engine if signal else None})
    match = hashlist.BLOCKLIST.match(session, [(i.media_id, signals[i.media_id].pdq_hash or "",
                                                signals[i.media_id].pdq_quality or 0)
                                               if i.media_id in signals else (i.media_id, "", 0)
                                               for i in draft.images])
    if match is not None:
        where = (f"decision {match.decision_id}" if match.source == "decision" else "a partner's hash list")
        label = match.label if match.label in compiled.policy.labels else None
        findings.result = Evaluation(
            action="block", label=label, rule=f"hashlist:{match.entry_id}",
            reason=f"image {match.image + 1} matches an image on the block list (hash {match.entry_id}, from "
                   f"{where}; PDQ distance {match.distance})",
            scores=text_result.scores, model=text_result.model)
        findings.drove = True
        findings.evidence[match.image]["hash_match"] = {"hash_id": str(match.entry_id), "distance": match.distance,
                                                        "source": match.source, "decision_id": match.decision_id}
        return findings
    best = _key(compiled, text_result)
    for position, image in enumerate(draft.images, start=1):
        signal = signals.get(image.media_id)
        readings = [("alt text", image.description)]
        readings += [("text in the image", text) for text in ocr.readings(signal.ocr_text or "")] if signal else []
        for what, text in readings:
            if not text or not text.strip():
                continue
            evaluation, unscored = evaluate_text(text)
            findings.unscored = findings.unscored or unscored
            key = _key(compiled, evaluation)
            findings.evidence[position - 1].setdefault("scores", []).append({"of": what, "scores": evaluation.scores})
            if key > best:
                best = key
                findings.result = replace(evaluation, reason=f"{what} of image {position}: {evaluation.reason}",
                                          spans=[])
                findings.drove = True
                # the picture itself goes on the list only when its own text decided, not its alt text
                findings.to_list = [image.media_id] if what == "text in the image" else []
    return findings


def texts_of(session: Session, account_id: int, media_ids: list[str]) -> list[str]:
    """The texts the gate will score for these attachments of `account_id` (alt text, OCR readings), so
    the write path can score them before its transaction (`ModerationGate.prescore`), as it does the
    post's own text. Ids that do not parse or are not the author's are left to the write path to refuse."""
    from warden.cases import hashlist
    from warden.platform.ids import as_id
    from warden.store.media_models import MediaAttachment

    ids = [i for i in (as_id(str(raw)) for raw in media_ids[:8]) if i is not None]
    if not ids:
        return []
    rows = session.execute(select(MediaAttachment.id, MediaAttachment.description)
                           .where(MediaAttachment.id.in_(ids), MediaAttachment.account_id == account_id)).all()
    signals = hashlist.signals_of(session, [row.id for row in rows])
    texts: list[str] = []
    for row in rows:
        if row.description and row.description.strip():
            texts.append(row.description)
        signal = signals.get(row.id)
        if signal is not None and signal.ocr_text:
            texts.extend(ocr.readings(signal.ocr_text))
    return texts
