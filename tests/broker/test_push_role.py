"""Web Push with a broker: the servers push nothing themselves, `warden worker --roles push` does, once."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import http_ece

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer, eventually
from tests.test_client_api3 import Receiver, _browser_keys, ok, post
from tests.test_streaming_nodes import BROKER_URL
from warden.broker.worker import BrokerWorker
from warden.config import Settings


def test_the_push_role_delivers_notifications_once(tmp_data_dir: Path) -> None:
    url, drop = make_database("postgresql", tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                        broker_url=BROKER_URL, broker_namespace=f"test{secrets.token_hex(4)}")
    srv, thread, db = start_server(settings)
    receiver = Receiver()
    pushers = [BrokerWorker(settings, db, ["push"]) for _ in range(2)]  # two processes' worth: one pushes
    try:
        server = LiveServer(url=settings.base_url, settings=settings, db=db, backend="postgresql")
        reader, fan = server.user("pushed"), server.user("pushfan")
        key, p256dh, auth_bytes, auth = _browser_keys()
        ok(reader.post("/api/v1/push/subscription", json={
            "subscription": {"endpoint": receiver.url, "keys": {"p256dh": p256dh, "auth": auth},
                             "standard": True},
            "data": {"alerts": {"favourite": True}, "policy": "all"}}))
        mine = post(reader, "push me through the worker")
        ok(fan.post(f"/api/v1/statuses/{mine['id']}/favourite"))
        time.sleep(1.0)
        assert receiver.received == []  # a server with a broker leaves pushing to the push role
        for pusher in pushers:
            pusher.start()
        ok(fan.post(f"/api/v1/statuses/{post(reader, 'and again')['id']}/favourite"))
        _, body = eventually(lambda: receiver.received[0] if receiver.received else None, what="a push")
        payload = http_ece.decrypt(body, private_key=key, auth_secret=auth_bytes, version="aes128gcm")
        assert b"favourited your post" in payload
        time.sleep(1.0)
        assert len(receiver.received) == 1
    finally:
        for pusher in pushers:
            pusher.stop()
        receiver.close()
        srv.should_exit = True
        thread.join(timeout=10)
        db.dispose()
        drop()  # type: ignore[operator]
