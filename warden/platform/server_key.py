"""The server's secret key: signs what must come back unaltered (appeal links, cases/appeal_links.py).

WARDEN_SECRET_KEY, or a random key generated once into the data dir (mode 0600) and reused by every
process and restart after; set WARDEN_SECRET_KEY when several machines serve the same site.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from warden.config import DEFAULT_DATA_DIR, Settings

SECRET_FILE = "console-secret.key"


def data_dir(settings: Settings) -> Path:
    """Where generated secrets live: next to the SQLite database, else WARDEN_DATA_DIR (./data)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path(os.environ.get("WARDEN_DATA_DIR", DEFAULT_DATA_DIR))


def secret_key(settings: Settings) -> str:
    """WARDEN_SECRET_KEY, or a random key generated once into the data dir (mode 0600)."""
    configured = os.environ.get("WARDEN_SECRET_KEY", "").strip()
    if configured:
        return configured
    folder = data_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        raise RuntimeError(f"{path} holds no usable secret key: delete it, or set WARDEN_SECRET_KEY") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        key = secrets.token_urlsafe(48)
        handle.write(key + "\n")
    return key
