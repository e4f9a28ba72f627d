"""The media API against a live server (SQLite and PostgreSQL): uploads, files, posts with images, and
who may fetch the files of held, removed and deleted posts."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from tests.helpers import LiveServer, User
from tests.media.images import encode, jpeg_with_gps, mp4_header, photo, png_header_only
from warden.media.processing import MAX_UPLOAD_BYTES
from warden.store.media_models import MediaAttachment
from warden.store.models import Status


def upload(user: User, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg", *,
           version: int = 2, **fields: str) -> httpx.Response:
    return user.post(f"/api/v{version}/media", files={"file": (name, data, content_type)}, data=fields)


def uploaded(user: User, **fields: str) -> dict:  # type: ignore[type-arg]
    response = upload(user, encode(photo(320, 240), "JPEG"), **fields)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def fetch(url: str, user: User | None = None) -> httpx.Response:
    return httpx.get(url, headers=user.headers if user else {}, timeout=30)


def stored(server: LiveServer, user: User) -> tuple[int, int]:
    """(rows of `user`'s attachments, files in the media folder)."""
    with server.db.read() as session:
        rows = session.scalar(select(func.count()).select_from(MediaAttachment)
                              .where(MediaAttachment.account_id == user.id)) or 0
    return rows, sum(1 for p in Path(server.settings.media_dir).rglob("*") if p.is_file())


@pytest.mark.parametrize(("fmt", "content_type", "served_as"), [
    ("JPEG", "image/jpeg", "image/jpeg"), ("PNG", "image/png", "image/png"),
    ("WEBP", "image/webp", "image/webp"), ("GIF", "image/gif", "image/png"),
])
def test_upload_each_format_and_fetch_its_files(server: LiveServer, fmt: str, content_type: str,
                                                served_as: str) -> None:
    user = server.user()
    response = upload(user, encode(photo(800, 600), fmt), f"picture.{fmt.lower()}", content_type,
                      description="A gradient", focus="0.25,-0.5")
    assert response.status_code == 200, response.text
    media = response.json()
    assert media["type"] == "image" and media["description"] == "A gradient"
    assert media["meta"]["original"] == {"width": 800, "height": 600, "size": "800x600", "aspect": 800 / 600}
    assert media["meta"]["focus"] == {"x": 0.25, "y": -0.5}
    assert media["meta"]["small"]["width"] * media["meta"]["small"]["height"] <= 230_400
    assert media["blurhash"] and media["remote_url"] is None
    original = fetch(media["url"])
    assert original.status_code == 200 and original.headers["content-type"] == served_as
    assert Image.open(io.BytesIO(original.content)).size == (800, 600)
    assert "max-age" in original.headers["cache-control"] and original.headers["x-content-type-options"] == "nosniff"
    assert fetch(media["url"]).status_code == 200
    again = httpx.get(media["url"], headers={"If-None-Match": original.headers["etag"]})
    assert again.status_code == 304
    preview = fetch(media["preview_url"])
    assert preview.status_code == 200
    assert Image.open(io.BytesIO(preview.content)).size == (media["meta"]["small"]["width"],
                                                            media["meta"]["small"]["height"])


def test_v1_upload_and_gps_is_gone_from_what_is_served(server: LiveServer) -> None:
    user = server.user()
    response = upload(user, jpeg_with_gps(640, 480, orientation=6), version=1)
    assert response.status_code == 200, response.text
    served = fetch(response.json()["url"]).content
    image = Image.open(io.BytesIO(served))
    assert not image.getexif() and b"WardenCam" not in served and b"secret comment" not in served
    assert image.size == (480, 640)


def test_big_photo_is_scaled_to_mastodons_limit(server: LiveServer) -> None:
    media = upload(server.user(), encode(photo(4800, 3600), "JPEG", quality=70)).json()  # 17.3 MP
    original = media["meta"]["original"]
    assert original["width"] * original["height"] <= 8_294_400 and original["width"] >= 3300
    assert abs(original["aspect"] - 4 / 3) < 0.01


@pytest.mark.parametrize(("data", "name", "content_type", "status", "message"), [
    (png_header_only(50_000, 50_000), "bomb.png", "image/png", 422, "pixels"),
    (png_header_only(6_000, 6_000), "big.png", "image/png", 422, "pixels"),
    (encode(photo(64, 64), "JPEG")[:200], "cut.jpg", "image/jpeg", 422, "could not be read"),
    (b"%PDF-1.4 not an image", "doc.pdf", "application/pdf", 422, "content type is invalid"),
    (mp4_header(), "clip.mp4", "video/mp4", 422, "Video and audio are not supported"),
    (b"\x00" * (MAX_UPLOAD_BYTES + 10), "huge.jpg", "image/jpeg", 413, "larger than 16 MB"),
])
def test_refused_uploads_store_nothing(server: LiveServer, data: bytes, name: str, content_type: str,
                                       status: int, message: str) -> None:
    user = server.user()
    before = stored(server, user)
    response = upload(user, data, name, content_type)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert stored(server, user) == before


def test_a_body_far_over_the_cap_is_refused_at_the_door(server: LiveServer) -> None:
    user = server.user()
    response = upload(user, b"\xff" * (MAX_UPLOAD_BYTES + 200_000))
    assert response.status_code == 413 and "error" in response.json()


def test_upload_needs_a_file_and_write_media(server: LiveServer) -> None:
    user = server.user()
    assert user.post("/api/v2/media", data={"description": "no file"}).status_code == 422
    reader = server.token(user, "read")
    refused = httpx.post(f"{server.url}/api/v2/media", headers={"Authorization": f"Bearer {reader}"},
                         files={"file": ("a.jpg", encode(photo(32, 32), "JPEG"), "image/jpeg")})
    assert refused.status_code == 403
    anonymous = httpx.post(f"{server.url}/api/v2/media",
                           files={"file": ("a.jpg", encode(photo(32, 32), "JPEG"), "image/jpeg")})
    assert anonymous.status_code == 401


def test_get_put_delete_own_unattached_media(server: LiveServer) -> None:
    user, other = server.user(), server.user()
    media = uploaded(user)
    path = f"/api/v1/media/{media['id']}"
    assert user.get(path).status_code == 200 and user.get(path).json()["id"] == media["id"]
    assert other.get(path).status_code == 404
    changed = user.request("PUT", path, data={"description": "New <b>alt</b> text", "focus": "-1,1"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "New <b>alt</b> text"
    assert changed.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert user.request("PUT", path, data={"focus": "2,0"}).status_code == 422
    assert user.request("PUT", path, data={"focus": "left"}).status_code == 422
    assert user.request("PUT", path, data={"description": "x" * 1501}).status_code == 422
    assert other.request("PUT", path, data={"description": "mine now"}).status_code == 404
    assert other.request("DELETE", path).status_code == 404
    assert user.request("DELETE", path).status_code == 200
    assert user.get(path).status_code == 404
    assert fetch(media["url"]).status_code == 404
    assert user.get("/api/v1/media/99999999999").status_code == 404


def test_post_with_media_renders_everywhere(server: LiveServer) -> None:
    author, follower = server.user(), server.user()
    assert follower.post(f"/api/v1/accounts/{author.id}/follow").status_code == 200
    first, second = uploaded(author, description="first"), uploaded(author, description="second")
    posted = author.post("/api/v1/statuses", data={"status": "Two pictures", "media_ids[]": [second["id"], first["id"]]})
    assert posted.status_code == 200, posted.text
    status = posted.json()
    assert [m["id"] for m in status["media_attachments"]] == [second["id"], first["id"]]
    assert status["media_attachments"][0]["description"] == "second"
    views = [author.get(f"/api/v1/statuses/{status['id']}").json(),
             next(s for s in follower.get("/api/v1/timelines/home").json() if s["id"] == status["id"]),
             next(s for s in follower.get("/api/v1/timelines/public").json() if s["id"] == status["id"]),
             next(s for s in follower.get(f"/api/v1/accounts/{author.id}/statuses").json() if s["id"] == status["id"])]
    for view in views:
        assert view["media_attachments"] == status["media_attachments"]
    # a reblog renders the original's attachments (the home timeline's general path)
    reblog = follower.post(f"/api/v1/statuses/{status['id']}/reblog").json()
    assert reblog["reblog"]["media_attachments"] == status["media_attachments"]
    # attached media leave the media API (as on Mastodon) but their files are served
    assert author.get(f"/api/v1/media/{first['id']}").status_code == 404
    in_use = author.request("DELETE", f"/api/v1/media/{first['id']}")
    assert in_use.status_code == 422 and "used by a status" in in_use.json()["error"]
    assert fetch(status["media_attachments"][0]["url"]).status_code == 200


def test_media_alone_is_a_post(server: LiveServer) -> None:
    author = server.user()
    media = uploaded(author)
    posted = author.post("/api/v1/statuses", json={"media_ids": [media["id"]]})
    assert posted.status_code == 200, posted.text
    assert posted.json()["content"] == "" and len(posted.json()["media_attachments"]) == 1
    assert author.post("/api/v1/statuses", json={"status": "   "}).status_code == 422


def test_media_ids_are_checked(server: LiveServer) -> None:
    author, other = server.user(), server.user()
    five = [uploaded(author)["id"] for _ in range(5)]
    too_many = author.post("/api/v1/statuses", data={"status": "five", "media_ids[]": five})
    assert too_many.status_code == 422 and "more than 4" in too_many.json()["error"]
    theirs = author.post("/api/v1/statuses", data={"status": "not mine", "media_ids[]": [uploaded(other)["id"]]})
    assert theirs.status_code == 422 and "not found" in theirs.json()["error"]
    unknown = author.post("/api/v1/statuses", data={"status": "nothing", "media_ids[]": ["123456789012"]})
    assert unknown.status_code == 422
    assert author.post("/api/v1/statuses", data={"status": "junk", "media_ids[]": ["abc"]}).status_code == 422
    assert author.post("/api/v1/statuses", data={"status": "ok", "media_ids[]": five[:1]}).status_code == 200
    reused = author.post("/api/v1/statuses", data={"status": "again", "media_ids[]": five[:1]})
    assert reused.status_code == 422 and "already attached" in reused.json()["error"]
    with author.server.db.read() as session:  # the refused posts attached nothing
        attached = session.scalars(select(MediaAttachment.id).where(MediaAttachment.status_id.is_not(None),
                                                                    MediaAttachment.account_id == author.id)).all()
    assert [str(i) for i in attached] == five[:1]


def test_edit_replaces_or_keeps_attachments(server: LiveServer) -> None:
    author = server.user()
    first, second = uploaded(author), uploaded(author)
    status = author.post("/api/v1/statuses", data={"status": "v1", "media_ids[]": [first["id"]]}).json()
    kept = author.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": "v2"})
    assert kept.status_code == 200 and [m["id"] for m in kept.json()["media_attachments"]] == [first["id"]]
    swapped = author.request("PUT", f"/api/v1/statuses/{status['id']}",
                             data={"status": "v3", "media_ids[]": [second["id"], first["id"]]})
    assert [m["id"] for m in swapped.json()["media_attachments"]] == [second["id"], first["id"]]
    dropped = author.request("PUT", f"/api/v1/statuses/{status['id']}",
                             data={"status": "v4", "media_ids[]": [second["id"]]})
    assert [m["id"] for m in dropped.json()["media_attachments"]] == [second["id"]]
    assert author.get(f"/api/v1/media/{first['id']}").status_code == 200  # back to its owner, unattached
    assert author.get(f"/api/v1/statuses/{status['id']}").json()["media_attachments"][0]["id"] == second["id"]


def _set_state(server: LiveServer, status_id: str, state: str) -> None:
    with server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(status_id)).values(state=state))


def test_files_of_held_removed_and_deleted_posts_are_not_served_to_others(server: LiveServer) -> None:
    author, other = server.user(), server.user()
    media = uploaded(author)
    status = author.post("/api/v1/statuses", data={"status": "pic", "media_ids[]": [media["id"]]}).json()
    url, preview = media["url"], media["preview_url"]
    assert fetch(url).status_code == 200 and fetch(url, other).status_code == 200

    _set_state(server, status["id"], "held")
    for address in (url, preview):
        assert fetch(address).status_code == 404 and fetch(address, other).status_code == 404
    own = fetch(url, author)
    assert own.status_code == 200 and own.headers["cache-control"] == "private, no-store"

    _set_state(server, status["id"], "removed")
    for who in (None, other, author):
        assert fetch(url, who).status_code == 404
    token = media["url"].split("/")[-2]
    kept = [p.name for p in Path(server.settings.media_dir).rglob("*") if p.is_file() and p.parent.name == token]
    assert sorted(kept) == ["original.jpg", "small.jpg"]  # kept, not served: a removal can be appealed

    _set_state(server, status["id"], "published")
    assert fetch(url).status_code == 200
    assert author.request("DELETE", f"/api/v1/statuses/{status['id']}").status_code == 200
    assert fetch(url).status_code == 404 and fetch(preview, author).status_code == 404


def test_unknown_and_malformed_file_paths_are_404(server: LiveServer) -> None:
    media = uploaded(server.user())
    folder = media["url"].rsplit("/", 1)[0]
    for path in (f"{folder}/original.png", f"{folder}/large.jpg", f"{folder}/../x",
                 f"{server.url}/system/media_attachments/{'0' * 32}/original.jpg",
                 f"{server.url}/system/media_attachments/short/original.jpg"):
        assert fetch(path).status_code == 404, path


def test_instance_advertises_media_limits(server: LiveServer) -> None:
    config = httpx.get(f"{server.url}/api/v2/instance").json()["configuration"]
    assert config["statuses"]["max_media_attachments"] == 4
    media = config["media_attachments"]
    assert media["image_size_limit"] == 16 * 1024 * 1024 and "image/webp" in media["supported_mime_types"]


def test_mastodon_py_media_post_and_status_post(server: LiveServer, tmp_path: Path) -> None:
    user = server.user()
    api = server.mastodon(user)
    picture = tmp_path / "holiday.png"
    photo(400, 300).save(picture)
    media = api.media_post(str(picture), description="A holiday", focus=(0.1, 0.2))
    assert media.url and media.description == "A holiday" and media.meta.original.width == 400
    assert api.media_update(media, description="Changed").description == "Changed"
    status = api.status_post("With a picture", media_ids=[media])
    assert status.media_attachments[0].id == media.id
    assert status.media_attachments[0].description == "Changed"
    assert api.status(status.id).media_attachments[0].preview_url.endswith(".jpg")


def test_only_media_filters_timelines(server: LiveServer) -> None:
    author = server.user()
    tag = f"pics{author.id}"
    text_only = author.post("/api/v1/statuses", data={"status": f"words #{tag}"}).json()
    with_media = author.post("/api/v1/statuses", data={"status": f"a picture #{tag}",
                                                      "media_ids[]": [uploaded(author)["id"]]}).json()
    for path in (f"/api/v1/timelines/tag/{tag}", f"/api/v1/accounts/{author.id}/statuses"):
        everything = [s["id"] for s in author.get(path).json()]
        assert everything == [with_media["id"], text_only["id"]], path
        assert [s["id"] for s in author.get(path, params={"only_media": "true"}).json()] == [with_media["id"]], path
    public = [s["id"] for s in author.get("/api/v1/timelines/public", params={"only_media": "true"}).json()]
    assert with_media["id"] in public and text_only["id"] not in public


def test_media_streams_carry_public_posts_with_media(server: LiveServer) -> None:
    from tests.streaming_client import Stream, payload

    viewer, author = server.user(), server.user()
    with Stream(server, viewer) as stream:
        stream.subscribe("public:media")
        stream.sync()
        assert author.post("/api/v1/statuses", data={"status": "no picture"}).status_code == 200
        pictured = author.post("/api/v1/statuses", data={"status": "a picture",
                                                        "media_ids[]": [uploaded(author)["id"]]}).json()
        frame = stream.next_event("update")  # the text-only post before it never arrived
        assert frame["stream"] == ["public:media"] and payload(frame)["id"] == pictured["id"]
        assert payload(frame)["media_attachments"] == pictured["media_attachments"]
