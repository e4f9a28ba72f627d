"""`warden serve --workers N`: every worker listens on a socket of its own (SO_REUSEPORT), so the
kernel spreads new connections over the workers instead of one worker taking a whole burst."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port
from tests.helpers import eventually, stop_process
from warden.store.migrate import upgrade

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on local `port` in `state` ("01": established, "0A": listening)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def _get_instance(conn: socket.socket) -> bytes:
    """One keep-alive request on `conn`; the whole response, read to its Content-Length."""
    conn.sendall(b"GET /api/v1/instance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    conn.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)
    return head


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WARDEN_DATABASE_URL": url, "WARDEN_DETECTION": "0", "WARDEN_WORKER": "0"}
    return subprocess.Popen([sys.executable, "-m", "warden.cli", "serve", "--workers", "2", "--port", str(port),
                             "--no-migrate"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_burst_of_keep_alive_connections_is_spread_over_both_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    upgrade(url)
    port = _free_port()
    proc = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    clients: list[socket.socket] = []
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=2).text == "OK" and len(_sockets_on(port, "0A")) == 2
            except httpx.HTTPError:
                return False

        eventually(up, timeout=90, what="two workers listening")
        clients += [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]  # a burst, kept open
        for client in clients:
            assert _get_instance(client).startswith(b"HTTP/1.1 200")
        connections = _sockets_on(port, "01")
        held = {pid: len(_socket_inodes(pid) & connections) for pid in _children(proc.pid)}
        assert sum(held.values()) == 16
        busy = [pid for pid, count in held.items() if count]
        assert len(busy) == 2, f"connections per worker: {held}"  # all 16 on one: 2 chances in 65,536
        for client in clients:  # and each worker answers again on the connections it was given
            assert _get_instance(client).startswith(b"HTTP/1.1 200")
    finally:
        for client in clients:
            client.close()
        stop_process(proc)
    assert proc.returncode == 0


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = _serve(url, taken.getsockname()[1])
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                stop_process(proc)
    assert proc.returncode != 0
    assert "Address already in use" in err.decode()
    assert "Traceback" not in err.decode()


def _wait_for_instance(port: int, proc: subprocess.Popen[bytes]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/api/v2/instance", timeout=5)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer in 60 s")


def test_serve_without_a_base_url_advertises_the_address_it_listens_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    upgrade(url)
    port = _free_port()
    os.environ.pop("WARDEN_BASE_URL", None)
    proc = _serve(url, port)  # two workers: each reads the advertised URL from the environment it inherits
    try:
        instance = _wait_for_instance(port, proc)
        assert instance["domain"] == f"127.0.0.1:{port}"
        thumbnail = instance["thumbnail"]["url"]
        assert thumbnail.startswith(f"http://127.0.0.1:{port}/")
        assert httpx.get(thumbnail, timeout=5).status_code == 200  # a link that leads somewhere
    finally:
        stop_process(proc)


def test_a_second_server_on_the_same_port_is_refused_in_one_line(tmp_path: Path) -> None:
    """The first server's sockets allow port sharing (SO_REUSEPORT); a second `warden serve` must not
    silently join it and take half of its connections."""
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    upgrade(url)
    port = _free_port()
    first = _serve(url, port)
    try:
        _wait_for_instance(port, first)
        second = _serve(url, port)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0
        message = err.decode().strip()
        assert f"port {port} on 127.0.0.1 is busy" in message
        assert len(message.splitlines()) == 1 and "Traceback" not in message
    finally:
        stop_process(first)
