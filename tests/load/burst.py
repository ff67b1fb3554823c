"""A burst of requests that reach the server at the same moment.

``burst(url, path, count)`` opens *count* connections first, and only once all of
them are open sends one ``GET`` on each, so the server gets *count* requests at
the same moment: a cold process answers them all before any state read it
started has completed. Answers are parsed with h11; a connection that fails is
reported as an error instead of an answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
from multidict import CIMultiDict

from tests.load.driver import is_documented_503


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def documented_503(self) -> bool:
        return is_documented_503(self.status, self.headers, self.body)


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    path: str,
) -> Answer:
    connection = h11.Connection(our_role=h11.CLIENT)
    request = h11.Request(method="GET", target=path, headers=[("Host", host)])
    writer.write(connection.send(request) + connection.send(h11.EndOfMessage()))
    await writer.drain()
    status = 0
    headers: CIMultiDict[str] = CIMultiDict()
    body = b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection before answering")
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = CIMultiDict((name.decode(), value.decode()) for name, value in event.headers)
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return Answer(status, headers, body)
        elif isinstance(event, h11.ConnectionClosed):
            raise ConnectionError("the server closed the connection while answering")


async def burst(url: str, path: str, count: int) -> list[Answer | BaseException]:
    """Send ``GET path`` on *count* fresh connections at once; the answers in order."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    streams = await asyncio.gather(*(_open(host, port) for _ in range(count)))
    try:
        # Every connection is open: the requests now leave within one turn of the loop.
        results = await asyncio.gather(
            *(_exchange(reader, writer, parts.netloc, path) for reader, writer in streams),
            return_exceptions=True,
        )
    finally:
        for _, writer in streams:
            writer.close()
        await asyncio.gather(
            *(writer.wait_closed() for _, writer in streams), return_exceptions=True
        )
    return list(results)
