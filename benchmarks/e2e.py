"""A short end-to-end throughput run: real uvicorn processes, loaded by wrk.

Every variant is a FastAPI app of :mod:`benchmarks.apps` (or the raw 503 app)
served by one uvicorn process, started with the test suite's
:func:`~tests.support.servers.uvicorn_server`, under two servers: ``h11``
(``--http h11 --loop asyncio``) and ``standard`` (``--http httptools --loop
uvloop``, what ``uvicorn[standard]`` runs). A run checks one answer (status; for
the 503s, body and headers equal to the raw app's), warms up with wrk, then
measures ``wrk -t1 -c32 -d<seconds>s``. Each round runs every (server, variant)
pair once, each variant right next to its reference, the order rotated from
round to round. On two or more CPUs the servers run on CPU 0 and wrk on CPU 1.

    python -m benchmarks.e2e --output e2e.json [--rounds 3] [--duration 4] [--quick]

The JSON holds every run and, per server and variant, the median rate and the
ratio to its reference (the bare app for 200s, the raw 503 app for 503s): the
median over the rounds of the ratio to the same round's reference run. The
server's CPU time during each run (from ``/proc``) gives the same ratio per
server CPU-second, which CPU taken by other processes does not lower, and how
busy the server was: a run with the server busy less than 90% of the time was
disturbed, and is repeated once (``--retries``; at most a quarter of the runs
are, so a busy machine cannot stretch the run much), keeping the busier attempt.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from benchmarks.apps import HELLO, LARGE_PATH, STATE_FILE_VAR, VARIANT_VAR, raw503
from tests.support.servers import uvicorn_server


@dataclass(frozen=True)
class Variant:
    name: str
    app: str  # uvicorn's module:attribute
    variant: str  # $BENCH_VARIANT
    reference: str  # the variant this one's ratio is taken against
    path: str = "/"
    status: int = 200


ONE = "benchmarks.apps.fastapi_app:app"
LARGE = "benchmarks.apps.fastapi_large:app"
VARIANTS = [
    Variant("bare", ONE, "bare", "bare"),
    Variant("env off", ONE, "off", "bare"),
    Variant("file off", ONE, "file", "bare"),
    Variant("on (503)", ONE, "on", "raw 503", status=503),
    Variant("raw 503", "benchmarks.apps.raw503:app", "bare", "raw 503", status=503),
    Variant("large bare", LARGE, "bare", "large bare", path=LARGE_PATH),
    Variant("large off", LARGE, "off", "large bare", path=LARGE_PATH),
]
SERVERS = {
    "h11": ("--http", "h11", "--loop", "asyncio"),
    "standard": ("--http", "httptools", "--loop", "uvloop"),
}
CONNECTIONS = 32
BUSY = 0.9  # a run whose server was busy less than this was disturbed: it is repeated
T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    round: int
    server: str
    variant: str
    rate: float  # responses per second, as wrk reports it
    requests: int
    non_2xx: int
    socket_errors: int
    server_cpu: float  # seconds of CPU the server used during the run
    wall: float  # seconds the run took (wrk's start and exit included)
    attempts: int = 1

    @property
    def busy(self) -> float:
        return self.server_cpu / self.wall

    @property
    def per_cpu(self) -> float:
        """Responses per second of the server's CPU: CPU taken by other processes
        does not lower it."""
        return self.requests / self.server_cpu


def check_answer(url: str, variant: Variant) -> None:
    """One request: the expected status and body; a 503 must equal the raw app's."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", variant.path)
        response = connection.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    if response.status != variant.status:
        raise RuntimeError(f"{variant.name}: status {response.status}, expected {variant.status}")
    if variant.status == 200 and body != HELLO:
        raise RuntimeError(f"{variant.name}: answered {body!r}")
    if variant.status == 503:
        expected = {name.decode(): value.decode() for name, value in raw503.HEADERS}
        got = {name: headers.get(name) for name in expected}
        if body != raw503.BODY or got != expected:
            raise RuntimeError(f"{variant.name}: not the raw app's 503: {got} {body!r}")


def wrk(url: str, seconds: int) -> tuple[float, int, int, int]:
    """Run wrk on *url*; return requests/s, requests, non-2xx/3xx answers and socket errors."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", url]
    cpus = client_cpus()
    if cpus:
        command = ["taskset", "-c", ",".join(map(str, cpus)), *command]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        output,
    )
    return (
        float(rate.group(1)),
        int(total.group(1)),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
    )


def server_cpu_seconds() -> float:
    """The CPU time (user + system) used so far by the server: this process's only
    child while wrk is not running."""
    me = os.getpid()
    (child,) = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def client_cpus() -> set[int]:
    """The CPU for wrk: the last one, when there are two or more (the servers get CPU 0)."""
    count = os.cpu_count() or 1
    return {count - 1} if count > 1 else set()


def measure(
    round_no: int, server: str, variant: Variant, state_file: Path, seconds: int, warmup: int
) -> Run:
    env = {VARIANT_VAR: variant.variant, STATE_FILE_VAR: str(state_file)}
    args = ("--no-access-log", *SERVERS[server])
    with uvicorn_server(variant.app, env=env, args=args) as base:
        url = base + variant.path
        check_answer(base, variant)
        wrk(url, warmup)
        cpu_before, started = server_cpu_seconds(), time.monotonic()
        rate, requests, non_2xx, errors = wrk(url, seconds)
        server_cpu, wall = server_cpu_seconds() - cpu_before, time.monotonic() - started
    expected_non_2xx = requests if variant.status >= 300 else 0
    if non_2xx != expected_non_2xx:
        raise RuntimeError(
            f"{server} {variant.name}: {non_2xx} non-2xx answers of {requests}, "
            f"expected {expected_non_2xx}"
        )
    return Run(round_no, server, variant.name, rate, requests, non_2xx, errors, server_cpu, wall)


def rotated(items: list[T], by: int) -> list[T]:
    by %= len(items)
    return items[by:] + items[:by]


def schedule(round_no: int) -> list[tuple[str, Variant]]:
    """Every (server, variant) pair once, each variant next to its reference (so a
    disturbance of the machine hits both alike), the orders rotated by round."""
    groups = [[v for v in VARIANTS if v.reference == ref.name] for ref in VARIANTS]
    order = []
    for group in rotated([g for g in groups if g], round_no):
        for server in rotated(list(SERVERS), round_no):
            order += [(server, variant) for variant in rotated(group, round_no)]
    return order


def summarize(runs: list[Run]) -> list[dict[str, object]]:
    """Per server and variant: the rates, their median, and the ratio to the
    reference: the median of the rounds' ratios (each to the same round's run);
    the same from responses per server CPU-second; how busy the server was."""
    by_key = {(r.round, r.server, r.variant): r for r in runs}
    rounds = sorted({r.round for r in runs})
    rows: list[dict[str, object]] = []
    for server in SERVERS:
        for variant in VARIANTS:
            mine = [by_key[n, server, variant.name] for n in rounds]
            refs = [by_key[n, server, variant.reference] for n in rounds]
            ratios = [run.rate / ref.rate for run, ref in zip(mine, refs, strict=True)]
            cpu_ratios = [run.per_cpu / ref.per_cpu for run, ref in zip(mine, refs, strict=True)]
            rows.append(
                {
                    "server": server,
                    "variant": variant.name,
                    "reference": variant.reference,
                    "rates": [run.rate for run in mine],
                    "median": statistics.median(run.rate for run in mine),
                    "ratios": ratios,
                    "ratio": statistics.median(ratios),
                    "cpu_ratio": statistics.median(cpu_ratios),
                    "busy": statistics.median(run.busy for run in mine),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="write every run and the summary as JSON")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4, help="seconds of wrk per run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before it")
    parser.add_argument(
        "--retries", type=int, default=1, help=f"repeats of a run with the server busy < {BUSY:.0%}"
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s, no repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.retries = 1, 1, 1, 0
    if client_cpus():
        os.sched_setaffinity(0, {0})  # inherited by the servers
    runs: list[Run] = []
    budget = len(VARIANTS) * len(SERVERS) * args.rounds // 4  # repeats in all, at most
    with tempfile.TemporaryDirectory() as tmp:
        state_file = Path(tmp) / "maintenance_mode.txt"
        state_file.write_text("0")
        for round_no in range(1, args.rounds + 1):
            for server, variant in schedule(round_no):
                run = measure(round_no, server, variant, state_file, args.duration, args.warmup)
                for _ in range(args.retries):
                    if run.busy >= BUSY or budget == 0:
                        break
                    budget -= 1
                    again = measure(
                        round_no, server, variant, state_file, args.duration, args.warmup
                    )
                    run = replace(max(run, again, key=lambda r: r.busy), attempts=run.attempts + 1)
                print(
                    f"round {round_no} {server:8} {variant.name:10} {run.rate:10,.0f} req/s"
                    f"  server busy {run.busy:.0%}, attempts {run.attempts}",
                    file=sys.stderr,
                )
                runs.append(run)
    summary = summarize(runs)
    for row in summary:
        print(
            f"{row['server']:8} {row['variant']:10} {row['median']:10,.0f} req/s"
            f"  {row['ratio']:.3f} of {row['reference']} (per server CPU-second"
            f" {row['cpu_ratio']:.3f})"
        )
    if args.output:
        settings = {
            "rounds": args.rounds,
            "duration": args.duration,
            "warmup": args.warmup,
            "connections": CONNECTIONS,
            "servers": {name: " ".join(flags) for name, flags in SERVERS.items()},
            "pinned": bool(client_cpus()),
            "busy_threshold": BUSY,
            "retries": args.retries,
        }
        every_run = [{**asdict(r), "per_cpu": r.per_cpu, "busy": r.busy} for r in runs]
        document = {"settings": settings, "runs": every_run, "summary": summary}
        args.output.write_text(json.dumps(document, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
