"""A TCP proxy on loopback in front of a real ``redis-server``, which loses a reply
or a connection when a command carries chosen bytes.

No real component loses exactly the reply to one chosen command, so this one
stands in for the network. It runs in the test's event loop. Commands are
recognised per chunk read from the client: redis-py sends each of the small
commands these tests watch in a single write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

_CHUNK = 65536


@dataclass
class Rule:
    """What to do to the connection of a command that contains *marker*.

    ``drop_reply``: Redis gets the command, the client never gets the answer, and
    both connections are closed. ``close_after_reply``: the answer goes through,
    then both connections are closed. ``times``: to how many of the commands the
    rule applies, the first ones (``None``: all).
    """

    marker: bytes
    action: str
    times: int | None = 1
    seen: int = field(default=0, init=False)
    """How many commands carried the marker, whether the rule applied or not."""

    def applies_to(self, chunk: bytes) -> bool:
        if self.marker not in chunk:
            return False
        self.seen += 1
        return self.times is None or self.seen <= self.times


class RedisProxy:
    """Forward 127.0.0.1:``port`` to a Redis server on 127.0.0.1:*upstream_port*."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.rules: list[Rule] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def _pipe_from_client(
        self,
        client: asyncio.StreamReader,
        upstream: asyncio.StreamWriter,
        pending: list[str],
    ) -> None:
        while chunk := await client.read(_CHUNK):
            for rule in self.rules:
                if rule.applies_to(chunk):
                    pending.append(rule.action)
                    break
            upstream.write(chunk)
            await upstream.drain()

    async def _pipe_to_client(
        self,
        upstream: asyncio.StreamReader,
        client: asyncio.StreamWriter,
        pending: list[str],
    ) -> None:
        while chunk := await upstream.read(_CHUNK):
            action = pending.pop(0) if pending else None
            if action != "drop_reply":
                client.write(chunk)
                await client.drain()
            if action is not None:
                return  # the connection is lost here

    async def _handle(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        upstream_in, upstream_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        pending: list[str] = []
        pipes = [
            asyncio.ensure_future(self._pipe_from_client(client_in, upstream_out, pending)),
            asyncio.ensure_future(self._pipe_to_client(upstream_in, client_out, pending)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for writer in (client_out, upstream_out):
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RedisProxy]:
        self._server = await asyncio.start_server(self._track, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
