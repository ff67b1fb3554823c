"""In-process microbenchmarks of the middleware, with pyperf.

Each case calls an app of :mod:`benchmarks.apps` directly, on one event loop,
with a canned HTTP scope (``GET`` on one path, a few headers), a ``receive``
returning one empty body message and a ``send`` that discards: the time per
request is the app's and the middleware's CPU, without a server or a socket.
Before timing, a worker runs the app's lifespan startup and checks one answer:
``200`` with the route's body when the request should get through, ``503`` when
refused.

Run from the repository root (pyperf's options apply, e.g. ``--fast``, ``-o``)::

    python -m benchmarks.micro -o micro.json                # our cases
    python -m benchmarks.micro --suite v005 -o v005.json    # those 0.0.5 has, in its venv

The ``redis`` cases start a ``redis-server`` on a free loopback port (the test
suite's :class:`~tests.support.redis_server.RedisServer`) for the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import importlib
import importlib.metadata
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pyperf  # type: ignore[import-untyped]

from benchmarks.apps import BYPASS_HEADER, HELLO, LARGE_PATH, REDIS_URL_VAR

Message = MutableMapping[str, Any]
ASGIApp = Callable[[Message, Callable[[], Awaitable[Message]], Callable[[Message], Any]], Any]


@dataclass(frozen=True)
class Case:
    """One benchmark: an app shape and variant, the request, the status it must get,
    and the case it is compared with in the results."""

    name: str
    module: str  # in benchmarks.apps
    variant: str
    what: str
    reference: str | None = None
    path: str = "/"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    status: int = 200


def _framework_cases(framework: str) -> list[Case]:
    one, large = f"{framework}_app", f"{framework}_large"
    bare, large_bare = f"{framework} bare", f"{framework} large bare"
    return [
        Case(bare, one, "bare", "no middleware: the reference"),
        Case(f"{framework} off", one, "off", "env backend, maintenance off", bare),
        Case(
            f"{framework} on", one, "on", "env backend, maintenance on: the 503", bare, status=503
        ),
        Case(
            f"{framework} bypass",
            one,
            "bypass",
            "maintenance on, valid X-Maintenance-Bypass header: passes",
            bare,
            headers=(BYPASS_HEADER,),
        ),
        Case(
            f"{framework} redis",
            one,
            "redis",
            "RedisBackend on redis-server, maintenance off",
            bare,
        ),
        Case(large_bare, large, "bare", "1,000 routes in routers, no middleware", path=LARGE_PATH),
        Case(
            f"{framework} large off",
            large,
            "off",
            "1,000 routes, one forced on, maintenance off",
            large_bare,
            path=LARGE_PATH,
        ),
    ]


CASES = [
    *_framework_cases("fastapi"),
    *_framework_cases("litestar"),
    Case(
        "raw 503", "raw503", "bare", "raw ASGI app sending the same 503 (no framework)", status=503
    ),
]
V005_CASES = ("fastapi bare", "fastapi off", "fastapi on")  # what 0.0.5 can run too
SUITES = {"ours": [case.name for case in CASES], "v005": list(V005_CASES)}


def http_scope(case: Case, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": case.path,
        "raw_path": case.path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"pyperf"),
            (b"accept", b"*/*"),
            *case.headers,
        ],
        "state": state,
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: Message) -> None:
    pass


@dataclass
class Prepared:
    """A case's app, started on its own event loop, with its canned scope."""

    case: Case
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    app: ASGIApp | None = None
    scope: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        module = importlib.import_module(f"benchmarks.apps.{self.case.module}")
        self.app = module.build(self.case.variant)
        state: dict[str, Any] = {}
        self.scope = http_scope(self.case, state)
        stop = self.loop.run_until_complete(start_lifespan(self.app, state))
        atexit.register(lambda: self.loop.run_until_complete(stop()))
        status, body = self.loop.run_until_complete(self.answer())
        if status != self.case.status or (status == 200 and body != HELLO):
            raise RuntimeError(f"{self.case.name}: answered {status} {body!r}")

    async def answer(self) -> tuple[int, bytes]:
        """The status and body of one request."""
        assert self.app is not None
        sent: list[Message] = []

        async def record(message: Message) -> None:
            sent.append(message)

        await self.app(dict(self.scope), receive, record)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return int(sent[0]["status"]), body

    async def timed(self, loops: int) -> float:
        app, scope = self.app, self.scope
        assert app is not None
        start = time.perf_counter()
        for _ in range(loops):
            await app(scope.copy(), receive, discard)  # a fresh dict, as a server gives
        return time.perf_counter() - start


async def start_lifespan(app: ASGIApp, state: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """Run the app's lifespan startup; return the coroutine function that shuts it down."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan startup failed: {started}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


_prepared: dict[str, Prepared] = {}


def time_requests(loops: int, case: Case) -> float:
    """pyperf's time function: seconds for *loops* requests (the app built on first call)."""
    prepared = _prepared.get(case.name)
    if prepared is None:
        prepared = _prepared[case.name] = Prepared(case)
        prepared.start()
    return prepared.loop.run_until_complete(prepared.timed(loops))


def versions() -> dict[str, str]:
    found = {}
    for name in ("fastapi-maintenance", "litestar-maintenance", "fastapi", "starlette", "litestar"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[f"bench_{name.replace('-', '_')}"] = importlib.metadata.version(name)
    return found


def add_worker_args(command: list[str], args: argparse.Namespace) -> None:
    command.extend(("--suite", args.suite))
    if args.cases:
        command.extend(("--cases", args.cases))
    if args.redis_url:
        command.extend(("--redis-url", args.redis_url))


def main() -> None:
    # 6 worker processes of 4 values each (pyperf's default is 20 of 3): the whole
    # suite takes about 3 minutes on 2 CPUs; --fast halves it, -p/-n change it.
    runner = pyperf.Runner(
        processes=6,
        values=4,
        metadata=versions(),
        program_args=("-m", "benchmarks.micro"),
        add_cmdline_args=add_worker_args,
    )
    runner.argparser.add_argument("--suite", choices=sorted(SUITES), default="ours")
    runner.argparser.add_argument("--cases", help="only these cases (names, comma-separated)")
    runner.argparser.add_argument("--redis-url", help="(set by the main process for workers)")
    args = runner.parse_args()
    names = SUITES[args.suite]
    if args.cases:
        wanted = [name.strip() for name in args.cases.split(",")]
        unknown = set(wanted) - set(names)
        if unknown:
            runner.argparser.error(f"unknown cases: {', '.join(sorted(unknown))}")
        names = [name for name in names if name in wanted]
    cases = [case for case in CASES if case.name in names]
    if any(case.variant == "redis" for case in cases):
        if not args.worker and not args.redis_url:
            from tests.support.redis_server import RedisServer

            server = RedisServer()
            server.start()
            atexit.register(server.close)
            args.redis_url = server.url
        os.environ[REDIS_URL_VAR] = args.redis_url
    for case in cases:
        runner.bench_time_func(case.name, time_requests, case)


if __name__ == "__main__":
    main()
