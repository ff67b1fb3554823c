"""Run a real ``redis-server`` on loopback for tests, and stop and restart it on the same port.

Nothing here sleeps blindly: starting polls, against a deadline, until the server
answers ``PING`` (and ``INFO`` shows it is the process just started, not another
server on that port); stopping waits until the process has exited and the port no
longer answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from .servers import free_port

__all__ = ["RedisServer", "RedisServerMissingError", "find_redis_server", "ping"]

_POLL = 0.01  # seconds between readiness probes: a polling interval, not synchronisation


class RedisServerMissingError(RuntimeError):
    """``redis-server`` is not installed where the tests look for it."""


def find_redis_server() -> str:
    """The ``redis-server`` executable: ``$REDIS_SERVER``, else the one on ``PATH``.

    Raises:
        RedisServerMissingError: with instructions, when there is none.
    """
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RedisServerMissingError(f"REDIS_SERVER={explicit!r} is not an executable file.")
        return explicit
    found = shutil.which("redis-server")
    if found is None:
        raise RedisServerMissingError(
            "redis-server is not installed (not on PATH), and the Redis tests need a real "
            "server: install it (e.g. 'apt-get install redis-server' or 'brew install redis') "
            "or point REDIS_SERVER at the executable."
        )
    return found


def ping(port: int, timeout: float = 0.2) -> bool:
    """Whether a Redis server on 127.0.0.1:*port* answers ``PING`` right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(64)
                if not chunk:
                    return False
                reply += chunk
            # "-LOADING ..." while it loads a dataset: not ready yet.
            return reply.startswith(b"+PONG")
    except OSError:
        return False


def _answering_pid(port: int, timeout: float = 0.2) -> int | None:
    """The process id of the Redis server answering on 127.0.0.1:*port*, if one is ready."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while b"\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                reply += chunk
            header, _, body = reply.partition(b"\r\n")
            if not header.startswith(b"$"):
                return None  # e.g. "-LOADING ...": not ready yet
            size = int(header[1:])
            while len(body) < size:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                body += chunk
    except (OSError, ValueError):
        return None
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("process_id:"):
            return int(line.partition(":")[2])
    return None


class RedisServer:
    """A ``redis-server`` subprocess bound to 127.0.0.1 without persistence.

    ``start()`` picks a free port the first time and keeps it, so ``stop()`` then
    ``start()`` simulates Redis going away and coming back at the same address
    (empty, since nothing is saved).

    Args:
        executable: the ``redis-server`` to run; found with :func:`find_redis_server`
            when ``None``.
        port: a fixed port; a free one is chosen when ``None``.
        directory: the working directory, created if missing (a new temporary one when
            ``None``, removed by :meth:`close`).
        config: more configuration, as command-line options (``"--maxmemory", "1mb"``).
    """

    def __init__(
        self,
        executable: str | None = None,
        *,
        port: int | None = None,
        directory: str | os.PathLike[str] | None = None,
        config: Sequence[str] = (),
    ) -> None:
        self.executable = executable or find_redis_server()
        self.config = tuple(config)
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="redis-test-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self._has_run = False  # once it ran, the port must stay the same

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        return self.directory / f"redis-{self._starts}.log"

    def log(self) -> str:
        """What the server of the latest start wrote."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (on the same port as before, if it ran already) and wait
        until it answers ``PING``.

        Raises:
            RuntimeError: if the server exits while starting (its log is included).
            TimeoutError: if it does not answer within *timeout* seconds.
        """
        if self.running:
            raise RuntimeError(f"redis-server is already running on port {self.port}")
        for attempt in range(5):
            try:
                self._start_once(timeout)
                return
            except _PortTaken:
                # The free port was taken between choosing and binding it; on the very
                # first start another one will do, later the address must stay the same.
                if self._fixed_port or self._has_run or attempt == 4:
                    raise RuntimeError(
                        f"port {self.port} is taken: cannot start redis-server there\n{self.log()}"
                    ) from None
                self.port = free_port()

    def _start_once(self, timeout: float) -> None:
        self._starts += 1
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.directory),
                    *self.config,
                ],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log()
                self.process = None
                if "Address already in use" in output:
                    raise _PortTaken
                raise RuntimeError(f"redis-server exited while starting:\n{output}")
            # Ready when *this* process answers, not another server on the same port.
            if ping(self.port) and _answering_pid(self.port) == self.process.pid:
                self._has_run = True
                return
            time.sleep(_POLL)
        self._terminate(signal.SIGKILL)
        raise TimeoutError(
            f"redis-server did not answer PING on port {self.port} within {timeout}s:\n{self.log()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after *timeout*) and wait until it has
        exited; the port is free for :meth:`start` again."""
        self._terminate(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        self._terminate(signal.SIGKILL)

    def _terminate(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.process = None
        deadline = time.monotonic() + timeout
        while ping(self.port) and time.monotonic() < deadline:
            time.sleep(_POLL)

    def close(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _PortTaken(Exception):
    pass
