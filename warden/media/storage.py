"""Where media files live, behind one small interface: a folder under the data directory by default,
or S3-compatible object storage (boto3, the optional `s3` extra) when several nodes serve one site.

Keys are relative paths such as ``ab/ab12.../original.jpg``. Files are never served straight from the
storage: the app serves them (`warden.api.routes.media`) after checking the post they belong to may
still be seen, so a bucket stays private and a folder need not be exposed by a web server.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from warden.config import Settings


class MissingFile(LookupError):
    """The storage holds no file under this key."""


class MediaStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, durably, replacing what was there."""

    def get(self, key: str) -> bytes:
        """The file's bytes; `MissingFile` when there is none."""

    def delete(self, key: str) -> None:
        """Remove the file; nothing happens when there is none."""

    def exists(self, key: str) -> bool: ...

    def path(self, key: str) -> Path | None:
        """A local file to serve directly (sendfile), or None when the storage is remote."""


def _checked(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ValueError(f"not a media storage key: {key!r}")
    return key


class LocalStorage:
    """Files in a folder (`Settings.media_dir`). Writes go to a temporary file that is fsynced and then
    renamed over the target, so a reader never sees half a file and a crash leaves none."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise MissingFile(key) from None

    def delete(self, key: str) -> None:
        target = self.path(key)
        target.unlink(missing_ok=True)
        try:  # the attachment's own folder, once empty
            target.parent.rmdir()
        except OSError:
            pass

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Garage, Ceph RGW, ...), under `prefix`.
    The bucket stays private: the app reads objects and serves them itself."""

    def __init__(self, bucket: str, *, prefix: str = "media/", endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:  # pragma: no cover - depends on the install
                raise RuntimeError("WARDEN_MEDIA_STORAGE=s3 needs boto3: pip install 'warden[s3]'") from None
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def path(self, key: str) -> None:
        return None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise MissingFile(key) from None
        return bytes(response["Body"].read())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def from_settings(settings: Settings) -> MediaStorage:
    if settings.media_storage == "local":
        return LocalStorage(settings.media_dir)
    if settings.media_storage == "s3":
        if not settings.s3_bucket:
            raise RuntimeError("WARDEN_MEDIA_STORAGE=s3 needs WARDEN_S3_BUCKET")
        return S3Storage(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region)
    raise RuntimeError(f"WARDEN_MEDIA_STORAGE must be local or s3, not {settings.media_storage!r}")
