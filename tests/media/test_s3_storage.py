"""Media on S3-compatible object storage, end to end through the app, against a real server.

Runs only when WARDEN_TEST_S3_ENDPOINT names one (MinIO, Garage, Ceph RGW, AWS...), with credentials
in the usual AWS_* variables and WARDEN_TEST_S3_BUCKET an existing bucket it may write to; skipped
otherwise (no such server runs in CI). docs/media.md says what it was run against.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.conftest import _free_port, start_server
from tests.helpers import LiveServer
from tests.media.images import encode, photo
from warden.config import Settings
from warden.media.storage import MissingFile, S3Storage

ENDPOINT = os.environ.get("WARDEN_TEST_S3_ENDPOINT")
BUCKET = os.environ.get("WARDEN_TEST_S3_BUCKET", "warden-test")

pytestmark = pytest.mark.skipif(not ENDPOINT, reason="set WARDEN_TEST_S3_ENDPOINT to an S3-compatible server")


@pytest.fixture(scope="module")
def s3_server(database_url: str, backend: str) -> Iterator[LiveServer]:
    port = _free_port()
    settings = Settings(database_url=database_url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                        media_storage="s3", s3_bucket=BUCKET, s3_endpoint_url=ENDPOINT,
                        s3_region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                        s3_prefix=f"test-{secrets.token_hex(4)}/")
    srv, thread, db = start_server(settings)
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend)
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


def test_storage_round_trip() -> None:
    storage = S3Storage(BUCKET, prefix=f"test-{secrets.token_hex(4)}/", endpoint_url=ENDPOINT)
    storage.put("ab/abc/original.jpg", b"bytes", "image/jpeg")
    assert storage.exists("ab/abc/original.jpg") and storage.get("ab/abc/original.jpg") == b"bytes"
    storage.delete("ab/abc/original.jpg")
    assert not storage.exists("ab/abc/original.jpg")
    with pytest.raises(MissingFile):
        storage.get("ab/abc/original.jpg")


def test_upload_post_and_serve_from_s3(s3_server: LiveServer) -> None:
    user = s3_server.user()
    media = user.post("/api/v2/media", files={"file": ("p.jpg", encode(photo(300, 200), "JPEG"), "image/jpeg")})
    assert media.status_code == 200, media.text
    posted = user.post("/api/v1/statuses", data={"status": "from S3", "media_ids[]": [media.json()["id"]]})
    served = httpx.get(posted.json()["media_attachments"][0]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.content)).size == (300, 200)
    assert user.request("DELETE", f"/api/v1/statuses/{posted.json()['id']}").status_code == 200
    assert httpx.get(posted.json()["media_attachments"][0]["url"]).status_code == 404
