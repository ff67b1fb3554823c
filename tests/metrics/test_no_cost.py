"""Without metrics, the request path pays one attribute check at most, counted in bytecode.

The guard's code is traced instruction by instruction (``sys.settrace`` with
opcode events) while requests go through it, and every instruction that reads the
guard's ``_metrics`` attribute is counted: none while maintenance is off, exactly
one per refused or bypassed request. No code of ``maintenance_core.metrics`` or
``maintenance_core.events`` runs at all for requests whose state did not change,
even with listeners subscribed. Instruction counts, unlike timings, do not
depend on the machine's load.
"""

from __future__ import annotations

import dis
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import maintenance_core
import pytest
from maintenance_core import (
    GenericAdapter,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MemoryBackend,
)
from maintenance_core.events import on_backend_problem, on_state_change
from maintenance_core.metrics import PrometheusMetrics
from prometheus_client import CollectorRegistry

pytestmark = pytest.mark.anyio

PACKAGE = str(Path(maintenance_core.__file__).parent)
SECRET = "no-cost-test-secret-Zq83Kd0w"
REQUESTS = 50


class Tally:
    """What ran in maintenance-core while tracing."""

    def __init__(self) -> None:
        self.metrics_reads = 0  # instructions reading an attribute named _metrics
        self.instructions: Counter[str] = Counter()  # per module file name
        self._names: dict[CodeType, dict[int, str | None]] = {}

    def attribute_read(self, code: CodeType, offset: int) -> str | None:
        names = self._names.get(code)
        if names is None:
            names = self._names[code] = {
                i.offset: i.argval if i.opname in ("LOAD_ATTR", "LOAD_METHOD") else None
                for i in dis.get_instructions(code)
            }
        return names.get(offset)


@contextmanager
def traced() -> Iterator[Tally]:
    tally = Tally()

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            code = frame.f_code
            tally.instructions[Path(code.co_filename).name] += 1
            if tally.attribute_read(code, frame.f_lasti) == "_metrics":
                tally.metrics_reads += 1
        return local

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        frame.f_trace_opcodes = True
        return local

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        yield tally
    finally:
        sys.settrace(previous)


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def request(app: Any, headers: list[tuple[bytes, bytes]] | None = None) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])


def build(on: bool, **options: Any) -> tuple[MaintenanceMiddleware, MemoryBackend]:
    backend = MemoryBackend(on)
    guard = MaintenanceGuard(adapter=GenericAdapter(), backend=backend, **options)
    return MaintenanceMiddleware(ok, guard), backend


async def run(app: Any, status: int, headers: list[tuple[bytes, bytes]] | None = None) -> Tally:
    assert await request(app, headers) == status  # warm up: first-read work is not per request
    with traced() as tally:
        for _ in range(REQUESTS):
            assert await request(app, headers) == status
    return tally


async def test_maintenance_off_reads_the_metrics_attribute_never() -> None:
    app, backend = build(False)
    on_state_change(backend, lambda change: None)
    on_backend_problem(backend, lambda problem: None)
    tally = await run(app, 200)
    assert tally.metrics_reads == 0
    assert tally.instructions["middleware.py"] > 0  # the tracer saw the guard run
    assert tally.instructions["metrics.py"] == tally.instructions["events.py"] == 0


async def test_a_refused_request_reads_it_once() -> None:
    app, backend = build(True)
    on_state_change(backend, lambda change: None)
    tally = await run(app, 503)
    assert tally.metrics_reads == REQUESTS
    assert tally.instructions["metrics.py"] == tally.instructions["events.py"] == 0


async def test_a_bypassed_request_reads_it_once() -> None:
    app, _ = build(True, bypass_secret=SECRET)
    tally = await run(app, 200, [(b"x-maintenance-bypass", SECRET.encode())])
    assert tally.metrics_reads == REQUESTS
    assert tally.instructions["metrics.py"] == tally.instructions["events.py"] == 0


async def test_the_tracer_sees_the_metrics_code_when_there_are_metrics() -> None:
    # The same measure with metrics: the counting code runs, so the zeros above mean
    # something.
    app, _ = build(True, metrics=PrometheusMetrics(CollectorRegistry()))
    tally = await run(app, 503)
    assert tally.metrics_reads >= REQUESTS
    assert tally.instructions["metrics.py"] > 0
