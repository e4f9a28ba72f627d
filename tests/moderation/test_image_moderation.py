"""Image moderation in the write-path gate (issue 33): a removed post's image is blocked when it comes
back transformed, partners' hash lists block and can be withdrawn, and the text in an image (OCR) or
about it (alt text) is judged as the post's own text would be. Images are made here (tests/images.py)."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from tests.helpers import LiveServer, User, eventually
from tests.images import jpeg_bytes, png_bytes, render_post, synthetic_image, transforms
from tests.moderation.conftest import Team, cases_for, create_partner
from warden.detection import ocr
from warden.detection.pdq import hash_image

THREAT = "We will kill every one of them tonight. Bring weapons to the square."


def photo(seed: int) -> Image.Image:
    """A synthetic photo with enough structure for PDQ to trust its hash."""
    for candidate in range(seed, seed + 50):
        image = synthetic_image(candidate, (800, 600))
        if hash_image(image).quality >= 80:
            return image
    raise AssertionError("no synthetic image of good quality")


def upload(user: User, data: bytes, name: str = "image.jpg", kind: str = "image/jpeg",
           description: str | None = None) -> str:
    response = user.post("/api/v2/media", files={"file": (name, data, kind)},
                         data={"description": description} if description else None, timeout=60)
    assert response.status_code in (200, 202), response.text
    return str(response.json()["id"])


def post_with(user: User, media_id: str, text: str = "") -> Any:
    return user.post("/api/v1/statuses", data={"status": text, "media_ids[]": [media_id]})


def statement(user: User, decision_id: str) -> dict[str, Any]:
    response = user.get(f"/api/warden/v1/decisions/{decision_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_removed_posts_image_is_blocked_when_reuploaded_transformed(mod_server: LiveServer, team: Team) -> None:
    author, reporter, evader = mod_server.user("imgauthor"), mod_server.user("imgreporter"), mod_server.user("evader")
    original = photo(100)
    posted = post_with(author, upload(author, jpeg_bytes(original)), "look at this")
    assert posted.status_code == 200, posted.text
    status_id = str(posted.json()["id"])
    reported = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": [status_id],
                                                      "comment": "gore", "category": "other"})
    assert reported.status_code == 200, reported.text
    case = eventually(lambda: cases_for(team.senior, {status_id}), what="the report's case")[0]
    removed = team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "remove", "policy": "violence", "explanation": "Graphic violence."})
    assert removed.status_code == 200, removed.text
    assert set(removed.json()["decision"]["statement_of_reasons"]["content_type"]) == \
        {"CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"}

    # Re-uploaded scaled, re-compressed, cropped and in greyscale: refused before publication, like text.
    by_name = dict(transforms())
    for name in ("scale 50% + jpeg q40", "crop 5% + scale 150% + jpeg q75", "greyscale + jpeg q60"):
        copy = by_name[name](original)
        blocked = post_with(evader, upload(evader, jpeg_bytes(copy, 85)), "nothing to see here")
        assert blocked.status_code == 422, (name, blocked.text)
        decision_id = blocked.json()["decision_id"]
        decision = statement(evader, decision_id)
        assert decision["statement_of_reasons"]["content_type"] == ["CONTENT_TYPE_IMAGE"], name
        assert decision["rule"].startswith("hashlist:") and decision["action"] == "block"
        assert "matches an image on the block list" in decision["explanation"]
    # An unrelated picture still posts.
    assert post_with(evader, upload(evader, jpeg_bytes(photo(300))), "my garden").status_code == 200

    # The removal is overturned on appeal: the post is restored and its image leaves the block list.
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": removed.json()["decision"]["id"],
                                                         "text": "It is a news photo."})
    assert appeal.status_code == 201, appeal.text
    overturned = team.senior2.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision",
                                   json={"outcome": "overturned", "explanation": "Newsworthy."})
    assert overturned.status_code == 200, overturned.text
    again = post_with(evader, upload(evader, jpeg_bytes(by_name["jpeg q60"](original))), "news")
    assert again.status_code == 200, again.text


def test_partner_hash_list_round_trip(mod_server: LiveServer) -> None:
    token = create_partner(mod_server, f"hash-partner-{id(object())}", trusted=True)
    other = create_partner(mod_server, f"other-partner-{id(object())}", trusted=False)
    headers = {"Authorization": f"Bearer {token}"}
    client = mod_server.user("hashclient").http()
    known = photo(500)
    value = hash_image(known)
    body = {"hashes": [{"hash": value.hex.upper(), "quality": value.quality, "label": "violence", "reference": "tx-1"},
                       {"hash": "zz" * 32, "quality": 90},
                       {"hash": value.hex, "quality": 101},
                       "not an object"]}
    submitted = client.post("/api/warden/v1/hashes", json=body, headers=headers)
    assert submitted.status_code == 200, submitted.text
    results = submitted.json()["hashes"]
    assert results[0]["hash"] == value.hex and results[0]["provenance"]["source"] == "partner"
    assert results[0]["provenance"]["reference"] == "tx-1" and results[0]["withdrawn_at"] is None
    assert "64 hexadecimal" in results[1]["error"] and "0 to 100" in results[2]["error"] and "error" in results[3]
    hash_id = results[0]["id"]
    # Bad requests: no token, an empty list, a non-list.
    assert client.post("/api/warden/v1/hashes", json=body).status_code == 401
    assert client.post("/api/warden/v1/hashes", json={"hashes": []}, headers=headers).status_code == 422
    assert client.post("/api/warden/v1/hashes", json={"hashes": "x"}, headers=headers).status_code == 422
    # The list, with provenance, paginated with a Link header.
    submitted2 = client.post("/api/warden/v1/hashes", json={"hashes": [{"hash": "0f" * 32, "quality": 70}]},
                             headers=headers)
    page = client.get("/api/warden/v1/hashes", params={"limit": 1, "mine": "true"}, headers=headers)
    assert page.status_code == 200 and len(page.json()) == 1
    assert page.json()[0]["id"] == submitted2.json()["hashes"][0]["id"]
    assert 'rel="next"' in page.headers["Link"]
    following = client.get(page.links["next"]["url"], headers=headers).json()
    assert following[0]["id"] == hash_id and following[0]["provenance"]["partner"].startswith("hash-partner")
    # A user's upload of that picture, re-compressed, is refused before publication.
    user = mod_server.user("hashuser")
    blocked = post_with(user, upload(user, jpeg_bytes(known, 60)))
    assert blocked.status_code == 422, blocked.text
    assert statement(user, blocked.json()["decision_id"])["statement_of_reasons"]["content_type"] == \
        ["CONTENT_TYPE_IMAGE"]
    # Only its owner withdraws it; then it stops matching at once and stays listed as withdrawn.
    assert client.delete(f"/api/warden/v1/hashes/{hash_id}", headers={"Authorization": f"Bearer {other}"}) \
        .status_code == 404
    withdrawn = client.delete(f"/api/warden/v1/hashes/{hash_id}", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    assert client.get(f"/api/warden/v1/hashes/{hash_id}", headers=headers).json()["withdrawn_at"] is not None
    active = client.get("/api/warden/v1/hashes", params={"active": "true", "mine": "true"}, headers=headers).json()
    assert hash_id not in {h["id"] for h in active}
    assert post_with(user, upload(user, jpeg_bytes(known, 60))).status_code == 200
    assert client.get("/api/warden/v1/hashes", params={"active": "maybe"}, headers=headers).status_code == 422
    client.close()


@pytest.mark.skipif(ocr.engine() is None, reason="Tesseract is not installed (apt-get install tesseract-ocr)")
def test_the_text_in_an_image_and_its_alt_text_are_judged_as_the_text_itself(mod_server: LiveServer) -> None:
    user = mod_server.user("screenshot")
    as_text = user.post("/api/v1/statuses", data={"status": THREAT})
    assert as_text.status_code == 422, as_text.text
    # The same words in a screenshot of a post, under an innocent caption: refused the same way.
    shot = post_with(user, upload(user, png_bytes(render_post(THREAT)), "shot.png", "image/png"), "lol look")
    assert shot.status_code == 422, shot.text
    decision = statement(user, shot.json()["decision_id"])
    assert decision["statement_of_reasons"]["content_type"] == ["CONTENT_TYPE_IMAGE"]
    assert decision["explanation"].startswith("Automated check before publication: text in the image of image 1")
    # ... and the same threat in alt text, on a harmless picture.
    alt = post_with(user, upload(user, jpeg_bytes(photo(700)), description=THREAT), "sunset")
    assert alt.status_code == 422, alt.text
    assert "alt text of image 1" in statement(user, alt.json()["decision_id"])["explanation"]
    # A screenshot of a harmless post publishes.
    fine = post_with(user, upload(user, png_bytes(render_post("Lovely morning at the harbour today.")), "ok.png",
                                  "image/png"), "morning")
    assert fine.status_code == 200, fine.text
