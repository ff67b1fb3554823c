"""Drive the app under test with many keep-alive connections and count every answer.

``drive_while(url, during)`` opens ``connections`` connections through one
aiohttp connector (its limit is the number of connections, and there is one
worker per connection), keeps them busy until the coroutine ``during`` returns,
then lets every worker finish its request in flight and stops.

Each answer is classified:

- ``200`` from ``/fast`` whose body is the app's own answer for that very request;
- ``200`` from ``/slow``, from a handler that was released by maintenance turning on;
- the documented ``503``: ``application/json``, body
  ``{"detail": "Service temporarily unavailable due to maintenance"}`` and a
  ``Retry-After`` that is a positive number of seconds;
- anything else (another status, another body, a missing header) is "unexpected",
  and the first few are kept for the report;
- a request that raised (connection refused, reset or closed, timeout) is a
  connection error.

A dropped connection can hide behind aiohttp's one silent retry of an idempotent
request on a reused connection, so connections are counted too: with no connection
ever closed, exactly ``connections`` are opened for the whole run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TypeVar

import aiohttp
import anyio

from tests.load.apps import APP_NAME

T = TypeVar("T")

DOCUMENTED_503_BODY = {"detail": "Service temporarily unavailable due to maintenance"}
REQUEST_TIMEOUT = 20.0  # seconds for one request, /slow included (it waits up to 10 s)
DRAIN_TIMEOUT = 30.0  # seconds for the workers to finish their last request
KEEP_EXAMPLES = 10


@dataclass
class Tally:
    """What the workers saw."""

    connections: int
    slow_connections: int
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    app_answers: int = 0
    documented_503: int = 0
    slow_answers: int = 0
    slow_waited_for_maintenance: int = 0
    slow_refused: int = 0
    fast_latencies: list[float] = field(default_factory=list)
    slow_waits: list[float] = field(default_factory=list)
    unexpected: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    connections_opened: int = 0
    connections_reused: int = 0
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    _next_id: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)

    @property
    def other_statuses(self) -> dict[int, int]:
        return {status: n for status, n in self.statuses.items() if status not in (200, 503)}

    @property
    def connection_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def dropped_connections(self) -> int:
        """Connections opened beyond one per worker: each replaced a closed one."""
        return max(self.connections_opened - self.connections, 0)

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _example(self, text: str) -> None:
        self.unexpected += 1
        if len(self.examples) < KEEP_EXAMPLES:
            self.examples.append(text)

    def record_fast(self, i: int, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if status == 200:
            if _json(headers, body) == {"app": APP_NAME, "i": i}:
                self.app_answers += 1
            else:
                self._example(f"/fast?i={i}: 200 {dict(headers)} {body[:200]!r}")
        elif status == 503:
            self._record_503("/fast", headers, body)
        else:
            self._example(f"/fast?i={i}: {status} {dict(headers)} {body[:200]!r}")

    def record_slow(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if status == 503:
            self.slow_refused += 1
            self._record_503("/slow", headers, body)
            return
        answer = _json(headers, body)
        if (
            status == 200
            and isinstance(answer, dict)
            and answer.get("app") == APP_NAME
            and answer.get("slow") is True
            and answer.get("saw_maintenance") is True
        ):
            self.slow_answers += 1
            if answer.get("entered_while_off") is True:
                self.slow_waited_for_maintenance += 1
                self.slow_waits.append(float(answer["waited"]))
        else:
            self._example(f"/slow: {status} {dict(headers)} {body[:200]!r}")

    def _record_503(self, path: str, headers: Mapping[str, str], body: bytes) -> None:
        if is_documented_503(503, headers, body):
            self.documented_503 += 1
        else:
            self._example(f"{path}: 503 {dict(headers)} {body[:200]!r}")

    def record_error(self, path: str, exc: BaseException) -> None:
        self.requests += 1
        name = type(exc).__name__
        self.errors[name] += 1
        if self.errors[name] <= 3 and len(self.examples) < KEEP_EXAMPLES:
            self.examples.append(f"{path}: {name}: {exc}")

    def summary(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        return (
            f"{self.requests} requests in {self.seconds:.1f}s ({rate:.0f}/s) on "
            f"{self.connections} connections ({self.slow_connections} for /slow), /fast "
            f"latency median {_median(self.fast_latencies):.3f}s, p99 "
            f"{_quantile(self.fast_latencies, 0.99):.3f}s, max "
            f"{max(self.fast_latencies, default=0.0):.3f}s: "
            f"200 app answers {self.app_answers}, 200 /slow released by maintenance "
            f"{self.slow_waited_for_maintenance} (of {self.slow_answers}; wait median "
            f"{_median(self.slow_waits):.3f}s, max {max(self.slow_waits, default=0.0):.3f}s; "
            f"/slow refused {self.slow_refused}), documented 503 {self.documented_503}, "
            f"other 5xx {self.server_errors}, other statuses {self.other_statuses}, "
            f"unexpected answers {self.unexpected}, connection errors "
            f"{self.connection_errors} {dict(self.errors)}, connections opened "
            f"{self.connections_opened} (dropped {self.dropped_connections}, reused "
            f"{self.connections_reused} times), "
            f"statuses {dict(sorted(self.statuses.items()))}"
            + (f"; examples: {self.examples}" if self.examples else "")
        )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def _json(headers: Mapping[str, str], body: bytes) -> object:
    """The JSON body of an ``application/json`` answer, else ``None``.

    *headers* is looked up with capitalised names: pass case-insensitive headers.
    """
    if headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_documented_503(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether an answer is the documented maintenance response: ``503``, JSON
    ``{"detail": "Service temporarily unavailable due to maintenance"}`` and a
    ``Retry-After`` of a positive number of seconds (*headers* case-insensitive)."""
    retry_after = headers.get("Retry-After", "")
    return (
        status == 503
        and _json(headers, body) == DOCUMENTED_503_BODY
        and retry_after.isascii()
        and retry_after.isdigit()
        and int(retry_after) > 0
    )


async def _fast_worker(
    session: aiohttp.ClientSession, url: str, tally: Tally, stop: anyio.Event
) -> None:
    while not stop.is_set():
        i = tally.next_id()
        sent = time.monotonic()
        try:
            async with session.get(f"{url}/fast", params={"i": str(i)}) as response:
                body = await response.read()
                tally.fast_latencies.append(time.monotonic() - sent)
                tally.record_fast(i, response.status, response.headers, body)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            tally.record_error("/fast", exc)


async def _slow_worker(
    session: aiohttp.ClientSession, url: str, tally: Tally, stop: anyio.Event
) -> None:
    while not stop.is_set():
        try:
            async with session.get(f"{url}/slow") as response:
                body = await response.read()
                tally.record_slow(response.status, response.headers, body)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            tally.record_error("/slow", exc)


def _counting_connections(tally: Tally) -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()

    async def opened(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceConnectionCreateEndParams,
    ) -> None:
        tally.connections_opened += 1

    async def reused(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceConnectionReuseconnParams,
    ) -> None:
        tally.connections_reused += 1

    trace.on_connection_create_end.append(opened)
    trace.on_connection_reuseconn.append(reused)
    return trace


async def drive_while(
    url: str,
    during: Callable[[], Awaitable[T]],
    *,
    connections: int,
    slow_connections: int,
) -> tuple[Tally, T]:
    """Load *url* from *connections* workers (*slow_connections* of them on ``/slow``)
    until ``await during()`` returns; return the tally and what *during* returned."""
    if not 0 <= slow_connections < connections:
        raise ValueError("slow_connections must be at least 0 and less than connections")
    tally = Tally(connections=connections, slow_connections=slow_connections)
    stop = anyio.Event()
    outcome: list[T] = []
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        trace_configs=[_counting_connections(tally)],
    ) as session:
        start = time.monotonic()
        async with anyio.create_task_group() as group:
            for n in range(connections):
                worker = _slow_worker if n < slow_connections else _fast_worker
                group.start_soon(worker, session, url, tally, stop)
            try:
                outcome.append(await during())
            finally:
                stop.set()
                group.cancel_scope.deadline = anyio.current_time() + DRAIN_TIMEOUT
        tally.seconds = time.monotonic() - start
        if group.cancel_scope.cancel_called:
            raise AssertionError(
                f"the workers did not finish within {DRAIN_TIMEOUT}s: {tally.summary()}"
            )
    return tally, outcome[0]
