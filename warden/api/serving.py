"""Running several server processes on one port so that the kernel spreads the connections over them.

uvicorn's `--workers N` binds one listening socket in the parent and lets every worker accept from
it. Whichever worker's event loop wakes first accepts every connection waiting, so a burst of new
keep-alive connections (a load balancer's pool, a benchmark's clients, a busy client's reconnects)
lands on one process and stays there: measured with 8 keep-alive clients on 2 cores, all 8 were
on one worker, which ran at 100% of a core while the other idled, and `--workers 2` served fewer
reads a second than one process.

With SO_REUSEPORT each worker gets its own listening socket on the same address, and the kernel
hands every new connection to one of them by a hash of its addresses, so connections (and with
them the work) spread over the processes whether or not those are busy. The parent binds each
socket before it starts the worker that owns it, so a port already in use fails `warden serve` at
once; it then closes its copy, so that a worker that dies takes its socket (and its share of new
connections) with it, and its replacement joins with a fresh one.

Where the platform has no SO_REUSEPORT, `run` falls back to uvicorn's shared socket.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

APP = "warden.api.asgi:app"
OPTIONS: dict[str, Any] = {"log_level": "warning", "access_log": False, "loop": "uvloop", "http": "httptools"}


def run(host: str, port: int, workers: int) -> None:
    """Serve the app on `host:port` with `workers` processes (blocks until stopped)."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, host=host, port=port, workers=workers, **OPTIONS)
        return
    probe = listener(host, port)  # bound, never listening: it holds the port and is handed no connection
    try:
        config = Config(APP, host=host, port=probe.getsockname()[1], workers=workers, **OPTIONS)
        ReusePortMultiprocess(config).run()
    finally:
        probe.close()


class PortBusy(Exception):
    """Another program already listens on the address `warden serve` was asked to use."""


def check_free(host: str, port: int) -> None:
    """Raise PortBusy if `host:port` is taken. The check binds without SO_REUSEPORT, so it fails even
    where the holder is another `warden serve` (whose SO_REUSEPORT sockets would otherwise let a second
    server join the port silently and take half its connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is no holder
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortBusy(f"port {port} on {host} is busy ({exc.strerror}): stop what listens there, "
                               f"or choose another with --port") from None
            raise


def advertised_base_url(host: str, port: int) -> str:
    """The URL this server is reached at when WARDEN_BASE_URL is not set: the address it listens on,
    with a wildcard address (0.0.0.0, ::) named by this machine's host name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname() or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def set_base_url(host: str, port: int) -> str:
    """Put the advertised base URL in the environment, which every worker process reads its settings
    from (`warden/api/asgi.py`), unless the operator set WARDEN_BASE_URL; answer the URL in force."""
    if not os.environ.get("WARDEN_BASE_URL"):
        os.environ["WARDEN_BASE_URL"] = advertised_base_url(host, port)
    return os.environ["WARDEN_BASE_URL"].rstrip("/")


def listener(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that others may share through SO_REUSEPORT (the worker that is
    handed it listens on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


class ReusePortMultiprocess(Multiprocess):
    """uvicorn's supervisor (signals, health checks, restarts), each worker with a socket of its own."""

    def __init__(self, config: Config) -> None:
        super().__init__(config, sockets=[])

    def spawn(self) -> Process:
        sock = listener(self.config.host, self.config.port)
        process = Process(self.config, [sock])
        try:
            process.start()  # the child inherits its own copy of the descriptor
        finally:
            sock.close()
        return process

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            self.processes.append(self.spawn())

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                self.should_exit.set()  # the app cannot start: restarting would fail the same way
                return
            if self.should_exit.is_set():
                return
            self.processes[idx] = self.spawn()

    def restart_all(self) -> None:
        """SIGHUP: replace the workers one at a time, each new one serving before the old one goes."""
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self.spawn()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def handle_ttin(self) -> None:
        self.processes_num += 1
        self.processes.append(self.spawn())
