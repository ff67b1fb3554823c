"""Flip maintenance on and off at a steady pace from a process of its own.

Run as ``python -m tests.load.flipper`` from the repository root::

    echo go | python -m tests.load.flipper --seconds 20 --interval 0.1 file /tmp/state.txt
    echo go | python -m tests.load.flipper --seconds 20 redis redis://127.0.0.1:6379/0 KEY

Writes through the library's own backends (``LocalFileBackend.set_value``,
``RedisBackend.set_value``), starting with on and alternating every
``--interval`` seconds for ``--seconds`` seconds; the last write is always on,
so requests that wait for maintenance inside a handler are released. A late
write is not made up for with a burst: the next one is due an interval later.

Prints ``ready`` once the backend is built, then waits for a line on its
standard input (``go``) before the first write, so the caller decides when the
flipping starts without sleeping; at the end it prints one JSON line:
``{"flips": n, "on": n, "off": n, "elapsed": s, "max_gap": s, "last": true}``.
Standard input closed before ``go``: it exits without writing anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from maintenance_core.backends import BaseStateBackend, LocalFileBackend


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.flipper")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    sub = parser.add_subparsers(dest="kind", required=True)
    file = sub.add_parser("file")
    file.add_argument("path")
    redis = sub.add_parser("redis")
    redis.add_argument("url")
    redis.add_argument("key")
    return parser.parse_args(argv)


def _backend(args: argparse.Namespace) -> BaseStateBackend:
    if args.kind == "file":
        return LocalFileBackend(args.path)
    from maintenance_core.backends.redis import RedisBackend

    return RedisBackend(args.url, key=args.key)


async def flip(backend: BaseStateBackend, seconds: float, interval: float) -> dict[str, object]:
    counts = {True: 0, False: 0}
    value = True
    max_gap = 0.0
    start = last = time.monotonic()
    due = start
    while True:
        await backend.set_value(value)
        now = time.monotonic()
        counts[value] += 1
        max_gap = max(max_gap, now - last)
        last = now
        if value and now - start >= seconds:
            break
        value = not value
        due = max(due + interval, now)
        # Pacing of this writer, not synchronisation: the test waits for the exit.
        await asyncio.sleep(max(due - time.monotonic(), 0.0))
    return {
        "flips": counts[True] + counts[False],
        "on": counts[True],
        "off": counts[False],
        "elapsed": round(time.monotonic() - start, 3),
        "max_gap": round(max_gap, 3),
        "last": value,
    }


async def main(argv: list[str]) -> None:
    args = _parse(argv)
    backend = _backend(args)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    try:
        report = await flip(backend, args.seconds, args.interval)
    finally:
        close = getattr(backend, "aclose", None)
        if close is not None:
            await close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
