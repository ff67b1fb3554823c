"""Throughput of fastapi-maintenance next to the bare app, and Redis propagation.

Every variant is a real uvicorn process on 127.0.0.1 driven by wrk; variants are
measured interleaved, in rounds of shuffled order, and reported as the median
rate and its ratio to the bare app's median rate. See ``benchmarks/README.md``.

Run it through ``benchmarks/run`` (installs what is missing), or directly with
``uv run python benchmarks/run.py [options]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import hashlib
import http.client
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
APPS_DIR = BENCH_DIR / "apps"
LUA_SCRIPT = BENCH_DIR / "status.lua"
VENV_OLD = BENCH_DIR / ".venv-005"
OLD_VERSION = "0.0.5"
WORKSPACE_DISTS = {
    "fastapi-maintenance",
    "maintenance-core",
    "litestar-maintenance",
    "maintenance-workspace",
}
# Versions reported for both environments (and pinned equal in the 0.0.5 venv).
REPORTED_DISTS = ("fastapi", "starlette", "uvicorn", "h11", "anyio", "pydantic")
HOST = "127.0.0.1"
_CPUS = sorted(os.sched_getaffinity(0))  # read before this script pins itself
NPROC = len(_CPUS)
SERVER_CPU = str(_CPUS[0])  # the uvicorn servers
CLIENT_CPU = str(_CPUS[-1])  # wrk, redis-server and this script (pinning needs 2 CPUs)
REDIS_KEY_NOTE = "default key (maintenance_mode)"

# On the 2-CPU VM this was tuned on, runs of the same app differ by up to ~10%, from
# one server start to the next and over time, while a few seconds of wrk already
# average out the short-term jitter: more, shorter rounds beat fewer, longer ones.
DEFAULTS = {"duration": 4.0, "rounds": 7, "warmup": 1.5, "connections": 32, "flips": 40}
QUICK = {"duration": 2.0, "rounds": 1, "warmup": 0.5, "flips": 10}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Variants
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    lib: str  # "ours" (the workspace venv) or "old" (fastapi-maintenance 0.0.5 venv)
    backend: str  # "none" (no middleware), "env", "file" or "redis"
    description: str
    on: bool = False
    target: float | None = None
    default: bool = True

    @property
    def expected_status(self) -> int:
        return 503 if self.on else 200


VARIANTS = [
    Variant("bare", "ours", "none", "no middleware (the reference)"),
    Variant("ours-env", "ours", "env", "EnvVarBackend, off", target=0.97),
    Variant("ours-file", "ours", "file", "LocalFileBackend (file holds 0)", target=0.95),
    Variant("ours-redis", "ours", "redis", "RedisBackend (key holds 0)", target=0.95),
    Variant(
        "ours-on", "ours", "env", "EnvVarBackend, FASTAPI_MAINTENANCE_MODE=1", on=True, target=2.0
    ),
    Variant("v0.0.5-env", "old", "env", "0.0.5, EnvVarBackend, off"),
    Variant("v0.0.5-file", "old", "file", "0.0.5, LocalFileBackend (file holds 0)"),
    Variant("v0.0.5-on", "old", "env", "0.0.5, FASTAPI_MAINTENANCE_MODE=1", on=True),
    Variant(
        "v0.0.5-bare", "old", "none", "no middleware, in the 0.0.5 venv (venv check)", default=False
    ),
]
BY_NAME = {variant.name: variant for variant in VARIANTS}
PROPAGATION = "propagation"


class VariantError(Exception):
    """A variant could not be started, verified or measured."""


class Skip(Exception):
    """A variant cannot run on this checkout or machine (reason in the message)."""


# ---------------------------------------------------------------------------
# Processes: everything started here is tracked and killed on the way out.
# ---------------------------------------------------------------------------


class Processes:
    """Child processes, each in its own session, so each can be ended as a group."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        # The children run no subprocesses of their own (single uvicorn worker, wrk,
        # redis-server without saving), so a leader that has exited leaves no group.
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc)


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_get(port: int, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_answer(variant: Variant, status: int, body: bytes) -> None:
    if status != variant.expected_status:
        raise VariantError(f"GET / answered {status}, expected {variant.expected_status}")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise VariantError(f"GET / answered a non-JSON body: {body[:200]!r}") from exc
    if variant.on:
        if "maintenance" not in str(payload.get("detail", "")).lower():
            raise VariantError(f"503 without the maintenance detail: {payload!r}")
    elif payload != {"message": "Hello World"}:
        raise VariantError(f"unexpected body: {payload!r}")


def wait_for_status(port: int, status: int, timeout: float) -> float:
    """Poll GET / until it answers *status*; return the seconds it took."""
    start = time.perf_counter()
    last: object = None
    while time.perf_counter() - start < timeout:
        try:
            last, _ = http_get(port)
        except OSError as exc:
            last = exc
        if last == status:
            return time.perf_counter() - start
        time.sleep(0.01)
    raise VariantError(f"GET / did not answer {status} within {timeout:.0f}s (last: {last})")


def pinned(argv: list[str], cpu: str, pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if pin else argv


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def write_state_file(path: Path, value: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("1" if value else "0")
    os.replace(tmp, path)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def source_id() -> str:
    """A short hash of the packages' sources, to notice edits made during a run."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "packages").glob("*/src/**/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------


def redis_backend_class() -> tuple[Any, str]:
    """Our RedisBackend class, or None and why it cannot be used."""
    try:
        from fastapi_maintenance.backends import RedisBackend
    except ImportError as exc:
        return None, f"RedisBackend not available yet ({exc})"
    return RedisBackend, ""


async def _close_backend(backend: Any) -> None:
    for name in ("aclose", "close"):
        method = getattr(backend, name, None)
        if callable(method):
            result = method()
            if asyncio.iscoroutine(result):
                await result
            return


async def _redis_set(cls: Any, url: str, value: bool) -> None:
    backend = cls(url=url)
    try:
        await backend.set_value(value)
    finally:
        await _close_backend(backend)


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# ---------------------------------------------------------------------------
# CPU accounting: how much CPU did other processes on the machine take meanwhile?
# ---------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_times() -> dict[str, tuple[int, int]]:
    """(busy, steal) jiffies for "cpu" (all CPUs) and every "cpuN"."""
    result = {}
    with open("/proc/stat") as stat:
        for line in stat:
            if not line.startswith("cpu"):
                break
            name, *values = line.split()
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in values[:8])
            result[name] = (user + nice + system + irq + softirq, steal)
    return result


def _process_cpu(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


@dataclass
class CpuSnapshot:
    """CPU time of the machine and of the processes taking part in a measurement."""

    times: dict[str, tuple[int, int]]
    server: int  # jiffies
    redis: int  # jiffies
    children: float  # seconds, reaped children (wrk)
    own: float  # seconds, this script

    @classmethod
    def take(cls, server_pid: int, redis_pid: int | None) -> CpuSnapshot:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            times=_cpu_times(),
            server=_process_cpu(server_pid),
            redis=_process_cpu(redis_pid),
            children=children.ru_utime + children.ru_stime,
            own=own.ru_utime + own.ru_stime,
        )


@dataclass
class Disturbance:
    """CPU taken by processes outside the measurement, in percent of one core.

    With pinning, ``server_core`` is what the server's CPU spent on anything but
    the server (its share of the loopback traffic's softirq work included, a few
    percent), and ``client_core`` the same for wrk's CPU; without pinning both are
    the machine-wide figure.
    """

    server_core: float
    client_core: float
    steal: float
    server_cpu: float  # seconds of CPU the server used
    server_busy: float  # server_cpu in percent of the wall time


def disturbance(before: CpuSnapshot, after: CpuSnapshot, wall: float, pin: bool) -> Disturbance:
    def busy(cpu: str) -> float:
        return (after.times[cpu][0] - before.times[cpu][0]) / CLK_TCK

    server = (after.server - before.server) / CLK_TCK
    client = (
        (after.redis - before.redis) / CLK_TCK
        + (after.children - before.children)
        + (after.own - before.own)
    )
    steal = (after.times["cpu"][1] - before.times["cpu"][1]) / CLK_TCK / wall * 100
    if pin:
        server_core = max(0.0, busy(f"cpu{SERVER_CPU}") - server) / wall * 100
        client_core = max(0.0, busy(f"cpu{CLIENT_CPU}") - client) / wall * 100
        return Disturbance(server_core, client_core, steal, server, server / wall * 100)
    other = max(0.0, busy("cpu") - server - client) / wall * 100
    return Disturbance(other, other, steal, server, server / wall * 100)


# ---------------------------------------------------------------------------
# Settings and environments
# ---------------------------------------------------------------------------


@dataclass
class Settings:
    duration: float
    rounds: int
    warmup: float
    connections: int
    flips: int
    retries: int
    max_other: float
    pin: bool
    loop: str
    http: str
    seed: int
    output: Path
    command: str
    variants: list[Variant]
    propagation: bool


@dataclass
class Env:
    """A Python environment the servers run in."""

    label: str
    python: Path
    maintenance_version: str | None  # fastapi_maintenance.__version__ expected there
    versions: dict[str, str | None] = field(default_factory=dict)
    skip_reason: str = ""


def env_versions(python: Path) -> dict[str, str | None]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        f"names = {[*REPORTED_DISTS, 'uvloop', 'httptools', 'fastapi-maintenance']!r}\n"
        "d = {n: v(n) for n in names}\n"
        "d['python'] = sys.version.split()[0]\n"
        "print(json.dumps(d))\n"
    )
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def uv_binary() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise Skip("uv not found (run benchmarks/run, which installs it)")
    return uv


def ensure_old_env(settings: Settings) -> Env:
    """fastapi-maintenance 0.0.5 in its own venv, every shared dependency pinned to ours."""
    python = VENV_OLD / "bin" / "python"
    env = Env(
        f"fastapi-maintenance {OLD_VERSION} ({VENV_OLD.relative_to(ROOT)})", python, OLD_VERSION
    )
    constraints = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
        and dist.metadata["Name"].lower().replace("_", "-") not in WORKSPACE_DISTS
    )
    requirements = [f"fastapi-maintenance=={OLD_VERSION}"] + [
        f"{name}=={dist_version(name)}" for name in ("fastapi", "starlette", "uvicorn")
    ]
    if settings.loop == "uvloop":
        requirements.append(f"uvloop=={dist_version('uvloop')}")
    if settings.http == "httptools":
        requirements.append(f"httptools=={dist_version('httptools')}")
    stamp_text = hashlib.sha256(
        json.dumps([sys.version, requirements, constraints]).encode()
    ).hexdigest()
    stamp = VENV_OLD / ".bench-stamp"
    try:
        up_to_date = python.exists() and stamp.read_text() == stamp_text
    except OSError:
        up_to_date = False
    if not up_to_date:
        uv = uv_binary()
        log(f"==> creating {VENV_OLD.relative_to(ROOT)}: {' '.join(requirements)}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(constraints) + "\n")
            constraints_file = handle.name
        try:
            subprocess.run(
                [uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(VENV_OLD)],
                check=True,
            )
            subprocess.run(
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(python),
                    "-c",
                    constraints_file,
                    *requirements,
                ],
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            raise Skip(f"could not set up {VENV_OLD.name}: {exc}") from exc
        finally:
            os.unlink(constraints_file)
        stamp.write_text(stamp_text)
    env.versions = env_versions(python)
    return env


def check_same_versions(ours: Env, old: Env) -> list[str]:
    notes = []
    for name in (*REPORTED_DISTS, "uvloop", "httptools", "python"):
        if ours.versions.get(name) != old.versions.get(name):
            notes.append(
                f"{name} differs: ours {ours.versions.get(name)}, 0.0.5 venv "
                f"{old.versions.get(name)}"
            )
    return notes


# ---------------------------------------------------------------------------
# One server
# ---------------------------------------------------------------------------


@dataclass
class Context:
    settings: Settings
    procs: Processes
    tmp: Path
    envs: dict[str, Env]
    redis_url: str | None = None
    redis_pid: int | None = None
    redis_cls: Any = None
    redis_skip: str = ""
    notes: list[str] = field(default_factory=list)
    retry_budget: int = 0


def server_env(ctx: Context, variant: Variant, env: Env) -> dict[str, str]:
    result = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BENCH_", "FASTAPI_MAINTENANCE")) and key != "PYTHONPATH"
    }
    result["BENCH_BACKEND"] = variant.backend
    if variant.backend != "none" and env.maintenance_version:
        result["BENCH_EXPECT_VERSION"] = env.maintenance_version
    if variant.on:
        result["FASTAPI_MAINTENANCE_MODE"] = "1"
    if variant.backend == "file":
        result["BENCH_FILE_PATH"] = str(state_file(ctx, variant))
    if variant.backend == "redis":
        assert ctx.redis_url is not None
        result["BENCH_REDIS_URL"] = ctx.redis_url
    return result


def state_file(ctx: Context, variant: Variant) -> Path:
    return ctx.tmp / f"{variant.name}.state"


def uvicorn_argv(settings: Settings, python: Path, port: int) -> list[str]:
    argv = [
        str(python), "-m", "uvicorn", "app:app", "--app-dir", str(APPS_DIR),
        "--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--loop", settings.loop, "--http", settings.http,
    ]  # fmt: skip
    return pinned(argv, SERVER_CPU, settings.pin)


@dataclass
class Server:
    variant: Variant
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path


@contextlib.contextmanager
def running_server(ctx: Context, variant: Variant, tag: str) -> Iterator[Server]:
    env = ctx.envs[variant.lib]
    if env.skip_reason:
        raise Skip(env.skip_reason)
    if variant.backend == "redis" and ctx.redis_skip:
        raise Skip(ctx.redis_skip)
    if variant.backend == "file":
        write_state_file(state_file(ctx, variant), False)
    if variant.backend == "redis":
        asyncio.run(_redis_set(ctx.redis_cls, str(ctx.redis_url), False))
    port = free_port()
    log_path = ctx.tmp / f"{variant.name}-{tag}.log"
    with open(log_path, "wb") as log_file:
        proc = ctx.procs.start(
            uvicorn_argv(ctx.settings, env.python, port),
            env=server_env(ctx, variant, env),
            cwd=APPS_DIR,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(variant, port, proc, log_path)
    try:
        wait_ready(server)
        yield server
    finally:
        ctx.procs.stop(proc)


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise VariantError(
                f"uvicorn exited with code {server.proc.returncode}:\n{tail(server.log_path)}"
            )
        try:
            http_get(server.port, timeout=1.0)
            return
        except OSError:
            time.sleep(0.05)
    raise VariantError(f"uvicorn did not answer within {timeout:.0f}s:\n{tail(server.log_path)}")


def verify(ctx: Context, server: Server) -> None:
    """The server answers what the variant should, and a writable backend is really read."""
    try:
        _verify(ctx, server)
    except VariantError as exc:
        log_tail = tail(server.log_path)
        raise VariantError(f"{exc}\n{log_tail}" if log_tail else str(exc)) from None


def _verify(ctx: Context, server: Server) -> None:
    variant = server.variant
    check_answer(variant, *http_get(server.port))
    if variant.on or variant.backend not in ("file", "redis"):
        return
    # Switch the backend on and off again: proves the middleware reads this backend.
    set_state(ctx, variant, True)
    wait_for_status(server.port, 503, 10.0)
    set_state(ctx, variant, False)
    wait_for_status(server.port, 200, 10.0)
    check_answer(variant, *http_get(server.port))


def set_state(ctx: Context, variant: Variant, value: bool) -> None:
    if variant.backend == "file":
        write_state_file(state_file(ctx, variant), value)
    elif variant.backend == "redis":
        asyncio.run(_redis_set(ctx.redis_cls, str(ctx.redis_url), value))
    else:
        raise AssertionError(variant.backend)


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------


@dataclass
class Measurement:
    variant: Variant
    round: int
    position: int
    rate: float  # responses with the expected status per second
    total: int
    statuses: dict[int, int]
    errors: dict[str, int]
    wrk_non2xx: int
    latency_p50_ms: float
    latency_p99_ms: float
    disturbance: Disturbance
    disturbed: bool = False
    attempts: int = 1
    source: str = ""

    @property
    def disturbance_score(self) -> float:
        """Other processes' share of the server CPU plus the server's idle share."""
        return self.disturbance.server_core + max(0.0, 100 - self.disturbance.server_busy)

    @property
    def per_cpu_second(self) -> float:
        """Responses with the expected status per second of server CPU time."""
        count = self.statuses.get(self.variant.expected_status, 0)
        return count / self.disturbance.server_cpu if self.disturbance.server_cpu else 0.0

    @property
    def unexpected(self) -> int:
        return self.total - self.statuses.get(self.variant.expected_status, 0)

    @property
    def non2xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if not 200 <= code < 300)

    @property
    def socket_errors(self) -> int:
        return sum(n for key, n in self.errors.items() if key != "status")

    @property
    def valid(self) -> bool:
        # wrk's own "Non-2xx or 3xx responses" counts statuses above 399: cross-check it.
        wrk_agrees = self.wrk_non2xx == sum(n for code, n in self.statuses.items() if code > 399)
        return (
            self.total > 0
            and self.unexpected == 0
            and self.socket_errors == 0
            and sum(self.statuses.values()) == self.total
            and wrk_agrees
        )


def wrk_argv(settings: Settings, port: int, duration: float, script: bool) -> list[str]:
    argv = [
        "wrk", "-t1", f"-c{settings.connections}", f"-d{max(1, round(duration))}s",
        "--timeout", "5s",
    ]  # fmt: skip
    if script:
        argv += ["-s", str(LUA_SCRIPT)]
    argv.append(f"http://{HOST}:{port}/")
    return pinned(argv, CLIENT_CPU, settings.pin)


def run_wrk(ctx: Context, argv: list[str], duration: float) -> str:
    proc = ctx.procs.start(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    try:
        out, _ = proc.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise VariantError("wrk did not finish in time") from exc
    finally:
        ctx.procs.stop(proc)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise VariantError(f"wrk exited with code {proc.returncode}:\n{text}")
    return text


def measure(ctx: Context, server: Server, round_no: int, position: int) -> Measurement:
    """Warm up, then time; repeat a run disturbed by other processes (keep the calmest)."""
    settings = ctx.settings
    if settings.warmup > 0:
        run_wrk(ctx, wrk_argv(settings, server.port, settings.warmup, False), settings.warmup)
    attempts: list[Measurement] = []
    while True:
        result = timed_run(ctx, server, round_no, position)
        reason = disturbed_reason(result, settings)
        result.disturbed = bool(reason)
        attempts.append(result)
        if not reason or len(attempts) > settings.retries or ctx.retry_budget <= 0:
            break
        ctx.retry_budget -= 1
        log(f"    {server.variant.name:<12} {reason}: measuring again")
        time.sleep(2.0)  # let a burst of other work pass
    best = min(attempts, key=lambda m: m.disturbance_score)
    best.attempts = len(attempts)
    return best


def disturbed_reason(result: Measurement, settings: Settings) -> str:
    """Why a timed run does not show the server's own speed, or "" when it does."""
    load = result.disturbance
    if load.server_core > settings.max_other:
        return f"other processes took {load.server_core:.0f}% of the server's CPU"
    if load.server_busy < 100 - settings.max_other:
        return f"the server was busy only {load.server_busy:.0f}% of the time (client too slow)"
    return ""


def timed_run(ctx: Context, server: Server, round_no: int, position: int) -> Measurement:
    settings = ctx.settings
    before = CpuSnapshot.take(server.proc.pid, ctx.redis_pid)
    start = time.perf_counter()
    text = run_wrk(ctx, wrk_argv(settings, server.port, settings.duration, True), settings.duration)
    wall = time.perf_counter() - start
    after = CpuSnapshot.take(server.proc.pid, ctx.redis_pid)
    line = next((ln for ln in text.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise VariantError(f"no BENCH_RESULT line in wrk's output:\n{text}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    statuses = {int(code): int(n) for code, n in data["statuses"].items()}
    seconds = data["duration_us"] / 1e6
    return Measurement(
        variant=server.variant,
        round=round_no,
        position=position,
        rate=statuses.get(server.variant.expected_status, 0) / seconds,
        total=int(data["requests"]),
        statuses=statuses,
        errors={key: int(n) for key, n in data["errors"].items()},
        wrk_non2xx=int(match.group(1)) if match else 0,
        latency_p50_ms=data["latency_p50_us"] / 1000,
        latency_p99_ms=data["latency_p99_us"] / 1000,
        disturbance=disturbance(before, after, wall, settings.pin),
    )


# ---------------------------------------------------------------------------
# Propagation
# ---------------------------------------------------------------------------


class HttpConn:
    """A minimal keep-alive HTTP/1.1 client for GET / (uvicorn sends Content-Length)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def get_status(self) -> int:
        for attempt in (1, 2):
            if self.writer is None:
                await self._connect()
            assert self.reader is not None
            assert self.writer is not None
            try:
                self.writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("connection closed")
                length = 0
                while True:
                    header = await self.reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await self.reader.readexactly(length)
                return int(status_line.split()[1])
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def first_match(self, status: int, since: float, timeout: float) -> float | None:
        """Seconds from *since* to the first response with *status*, None on timeout."""
        while True:
            got = await self.get_status()
            now = time.perf_counter()
            if got == status:
                return now - since
            if got not in (200, 503):
                raise VariantError(f"instance on port {self.port} answered {got}")
            if now - since > timeout:
                return None


@dataclass
class PropagationResult:
    flips: int
    delays_ms: dict[str, list[float]]
    timeouts: dict[str, int]
    write_ms: list[float]


async def _propagation(ctx: Context, ports: list[int], rng: random.Random) -> PropagationResult:
    cls, url, flips = ctx.redis_cls, str(ctx.redis_url), ctx.settings.flips
    names = [f"instance {chr(ord('A') + i)}" for i in range(len(ports))]
    conns = [HttpConn(port) for port in ports]
    backend = cls(url=url)
    delays: dict[str, list[float]] = {name: [] for name in names}
    timeouts = dict.fromkeys(names, 0)
    write_ms: list[float] = []
    try:
        await backend.set_value(False)
        for conn in conns:
            if await conn.first_match(200, time.perf_counter(), 10.0) is None:
                raise VariantError(f"instance on port {conn.port} does not answer 200")
        state = False
        for _ in range(flips):
            await asyncio.sleep(rng.uniform(0.02, 0.2))  # do not line up with any cache period
            state = not state
            want = 503 if state else 200
            start = time.perf_counter()
            await backend.set_value(state)
            write_ms.append((time.perf_counter() - start) * 1000)
            results = await asyncio.gather(*(c.first_match(want, start, 10.0) for c in conns))
            for name, delay in zip(names, results, strict=True):
                if delay is None:
                    timeouts[name] += 1
                else:
                    delays[name].append(delay * 1000)
        await backend.set_value(False)
    finally:
        for conn in conns:
            await conn.close()
        await _close_backend(backend)
    return PropagationResult(flips, delays, timeouts, write_ms)


def run_propagation(ctx: Context, rng: random.Random) -> PropagationResult:
    variant = BY_NAME["ours-redis"]
    with (
        running_server(ctx, variant, "prop-a") as first,
        running_server(ctx, variant, "prop-b") as second,
    ):
        for server in (first, second):
            check_answer(variant, *http_get(server.port))
        return asyncio.run(_propagation(ctx, [first.port, second.port], rng))


def start_redis(ctx: Context) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        ctx.redis_skip = "redis-server not installed (benchmarks/run installs it)"
        return
    port = free_port()
    log_path = ctx.tmp / "redis.log"
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(log_path),
    ]
    proc = ctx.procs.start(
        pinned(argv, CLIENT_CPU, ctx.settings.pin),
        cwd=ctx.tmp,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not redis_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            ctx.redis_skip = f"redis-server did not start:\n{tail(log_path)}"
            return
        time.sleep(0.05)
    ctx.redis_url = f"redis://{HOST}:{port}/0"
    ctx.redis_pid = proc.pid
    log(f"==> redis-server on port {port}")


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


@dataclass
class Outcome:
    measurements: list[Measurement] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    orders: list[list[str]] = field(default_factory=list)
    propagation: PropagationResult | None = None
    propagation_note: str = ""


def run_rounds(ctx: Context, outcome: Outcome, rng: random.Random) -> None:
    settings = ctx.settings
    for round_no in range(1, settings.rounds + 1):
        order = [v for v in settings.variants if v.name not in outcome.skipped]
        rng.shuffle(order)
        outcome.orders.append([v.name for v in order])
        log(f"==> round {round_no}/{settings.rounds}: {', '.join(v.name for v in order)}")
        for position, variant in enumerate(order, 1):
            source = source_id()
            try:
                with running_server(ctx, variant, f"r{round_no}") as server:
                    verify(ctx, server)
                    result = measure(ctx, server, round_no, position)
            except Skip as exc:
                outcome.skipped[variant.name] = str(exc)
                log(f"    {variant.name:<12} skipped: {exc}")
                continue
            except VariantError as exc:
                outcome.failures.setdefault(variant.name, []).append(f"round {round_no}: {exc}")
                log(f"    {variant.name:<12} FAILED: {exc}")
                continue
            result.source = source
            outcome.measurements.append(result)
            flag = "" if result.valid else "  <-- INVALID: unexpected statuses or socket errors"
            log(
                f"    {variant.name:<12} {result.rate:9.0f}/s  ({result.total} responses, "
                f"{result.non2xx} non-2xx; other processes: {result.disturbance.server_core:.0f}% "
                f"of the server CPU){flag}"
            )


def retry_budget(settings: Settings) -> int:
    """How many disturbed runs one run of the script repeats at most (bounds its time)."""
    return max(2, len(settings.variants) * settings.rounds // 4)


def used_runs(outcome: Outcome, name: str) -> list[Measurement]:
    """The runs a variant's median is taken over: the undisturbed ones, if any."""
    runs = [m for m in outcome.measurements if m.variant.name == name]
    return [m for m in runs if not m.disturbed] or runs


def median_rate(outcome: Outcome, name: str) -> float | None:
    rates = [m.rate for m in used_runs(outcome, name)]
    return statistics.median(rates) if rates else None


def median_per_cpu(outcome: Outcome, name: str) -> float | None:
    rates = [m.per_cpu_second for m in used_runs(outcome, name)]
    return statistics.median(rates) if rates else None


def render(ctx: Context, outcome: Outcome, started: datetime.datetime, load: list[str]) -> str:
    settings = ctx.settings
    bare = median_rate(outcome, "bare")
    bare_per_cpu = median_per_cpu(outcome, "bare")
    bare_rates = [m.rate for m in used_runs(outcome, "bare")]
    bare_spread = (max(bare_rates) - min(bare_rates)) / bare * 100 if bare else 0.0
    lines: list[str] = []
    add = lines.append
    add(f"# Benchmark results ({started:%Y-%m-%d %H:%M} UTC)")
    add("")
    add("Throughput as a ratio to the bare app (same FastAPI app without middleware), and")
    add("Redis propagation delay. How to read this: `benchmarks/README.md`.")
    add("")
    sources = sorted({m.source for m in outcome.measurements if m.source})
    if len(sources) > 1:
        add(
            f"**Warning: the packages' sources changed during this run** ({len(sources)} "
            "versions, see the source column below): the rows mix versions of the code."
        )
        add("")
    add(
        "| variant | what | req/s (median) | ratio to bare | spread | runs used "
        "| per server CPU-second: ratio to bare | non-2xx / expected | socket errors "
        "| target | pass |"
    )
    add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for variant in settings.variants:
        ms = [m for m in outcome.measurements if m.variant.name == variant.name]
        target = "—"
        if variant.target is not None:
            target = (
                f"503 rate >= {variant.target:.1f}x bare"
                if variant.on
                else f">= {variant.target:.2f}"
            )
        if variant.name in outcome.skipped and not ms:
            verdict = "skipped" if variant.target is not None else "—"
            add(
                f"| {variant.name} | {variant.description} | skipped: "
                f"{outcome.skipped[variant.name]} | | | | | | | {target} | {verdict} |"
            )
            continue
        if not ms:
            reason = "; ".join(outcome.failures.get(variant.name, ["no measurement"]))
            reason = reason.replace("\n", " ")[:300]
            add(
                f"| {variant.name} | {variant.description} | FAILED: {reason} | | | | | | | "
                f"{target} | {'FAIL' if variant.target is not None else '—'} |"
            )
            continue
        used = used_runs(outcome, variant.name)
        rates = [m.rate for m in used]
        rate = statistics.median(rates)
        ratio = rate / bare if bare else float("nan")
        spread = (max(rates) - min(rates)) / rate * 100 if rate else float("nan")
        failed_rounds = len(outcome.failures.get(variant.name, []))
        per_cpu = statistics.median(m.per_cpu_second for m in used)
        per_cpu_ratio = per_cpu / bare_per_cpu if bare_per_cpu else float("nan")
        non2xx = sum(m.non2xx for m in ms)
        expected_non2xx = sum(m.total for m in ms) if variant.on else 0
        socket_errors = sum(m.socket_errors for m in ms)
        valid = all(m.valid for m in ms)
        ratio_text = f"{ratio:.3f}" if variant.name != "bare" else "1.000"
        if variant.on:
            ratio_text += "x (503/200)"
        problems = []
        if not valid:
            problems.append("invalid runs")
        if failed_rounds:
            problems.append(f"{failed_rounds} round(s) failed")
        if problems:
            verdict = ("FAIL" if variant.target is not None else "INVALID") + (
                f" ({', '.join(problems)})"
            )
        elif variant.target is None:
            verdict = "—"
        else:
            verdict = "PASS" if ratio >= variant.target else "FAIL"
            # Within the rounds' own scatter (this row's and the bare row's half-ranges)?
            noise = ratio * (spread / 2 + bare_spread / 2) / 100
            if len(used) < 2 or len(bare_rates) < 2:
                verdict += " (one run: no noise estimate)"
            elif abs(ratio - variant.target) <= noise:
                verdict += " (within noise)"
        add(
            f"| {variant.name} | {variant.description} | {rate:,.0f} | {ratio_text} | "
            f"±{spread / 2:.1f}% | {len(used)}/{len(ms) + failed_rounds} | "
            f"{per_cpu_ratio:.3f} | "
            f"{non2xx:,} / {expected_non2xx:,} | {socket_errors} | "
            f"{target} | {verdict} |"
        )
    add("")
    other = settings.max_other
    for note in (
        "req/s: responses with the expected status (200 when off, 503 when on) per second, "
        "median over the rounds; ratio to bare: that median / the bare app's median.",
        "spread: half the range (max - min) of the rounds in the median, relative to it.",
        "runs used: rounds in the median / rounds run. A disturbed run (other processes took "
        f"more than {other:g}% of the server's CPU, or the server was busy less than "
        f"{100 - other:g}% of the time) is left out when the variant has undisturbed ones.",
        "per server CPU-second: the same ratio from responses per second of the server's CPU "
        "time, which CPU taken by other processes does not lower. A cross-check: the targets "
        "use req/s.",
        "(within noise): the ratio is closer to the target than this row's and the bare "
        "row's spreads added up.",
    ):
        add(f"- {note}")
    add("")
    comparisons = []
    for ours_name, old_name in (
        ("ours-env", "v0.0.5-env"),
        ("ours-file", "v0.0.5-file"),
        ("ours-on", "v0.0.5-on"),
    ):
        a, b = median_rate(outcome, ours_name), median_rate(outcome, old_name)
        if a and b:
            comparisons.append(f"{ours_name} / {old_name} = {a / b:.2f}x")
    if comparisons:
        add("Ours against 0.0.5 (median rates): " + ", ".join(comparisons) + ".")
        add("")
    add(propagation_line(outcome))
    add("")
    for name, reasons in outcome.failures.items():
        for reason in reasons:
            add(f"- **{name} failed** {reason.splitlines()[0]}")
    if outcome.failures:
        add("")
    add("## Setup")
    add("")
    ours, old = ctx.envs["ours"], ctx.envs["old"]
    add(f"- command: `{settings.command}`")
    add(f"- date: {started:%Y-%m-%d %H:%M:%S} UTC; seed {settings.seed}")
    add(f"- machine: {machine()}")
    add(f"- load average (1/5/15 min): before {load[0]}, after {load[1]}")
    add(f"- checkout: {git_revision()}")
    add(
        f"- ours: fastapi-maintenance {ours.versions.get('fastapi-maintenance')}, "
        + versions_text(ours.versions)
    )
    if old.versions:
        add(
            f"- 0.0.5 venv: fastapi-maintenance {old.versions.get('fastapi-maintenance')}, "
            + versions_text(old.versions)
        )
    elif old.skip_reason:
        add(f"- 0.0.5 venv: not available ({old.skip_reason})")
    add(
        f"- server: `{shlex.join(uvicorn_argv(settings, Path('python'), 0))}` (port 0 = a free "
        "port), one process per variant and round, `app:app` from `benchmarks/apps/app.py`"
    )
    add(
        f"- load: `{shlex.join(wrk_argv(settings, 0, settings.duration, True))}` after a "
        f"{settings.warmup:g}s warm-up with the same settings; {settings.rounds} round(s), "
        "variants shuffled in every round"
    )
    if settings.pin:
        add(
            f"- CPUs: uvicorn on CPU {SERVER_CPU}; wrk, redis-server and this script on CPU "
            f"{CLIENT_CPU}"
        )
    else:
        add("- CPUs: not pinned")
    if ctx.redis_url:
        add(f"- Redis: redis-server {redis_version()} on {ctx.redis_url}, {REDIS_KEY_NOTE}")
    for note in ctx.notes:
        add(f"- note: {note}")
    add("")
    add("## Every measurement")
    add("")
    add(
        "| round | # | variant | req/s | ratio to round's bare | statuses | latency p50 / p99 "
        "| per server CPU-s | server busy | other load: server CPU / client CPU | steal "
        "| attempts | source |"
    )
    add("| ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    bare_by_round = {m.round: m.rate for m in outcome.measurements if m.variant.name == "bare"}
    for m in sorted(outcome.measurements, key=lambda m: (m.round, m.position)):
        round_bare = bare_by_round.get(m.round)
        round_ratio = f"{m.rate / round_bare:.3f}" if round_bare else "—"
        statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(m.statuses.items()))
        add(
            f"| {m.round} | {m.position} | {m.variant.name} | {m.rate:,.0f} | {round_ratio} | "
            f"{statuses} | {m.latency_p50_ms:.1f} / {m.latency_p99_ms:.1f} ms | "
            f"{m.per_cpu_second:,.0f} | {m.disturbance.server_busy:.0f}% | "
            f"{m.disturbance.server_core:.0f}% / {m.disturbance.client_core:.0f}% | "
            f"{m.disturbance.steal:.0f}% | {m.attempts}{' (disturbed)' if m.disturbed else ''} | "
            f"{m.source} |"
        )
    add("")
    if settings.pin:
        add(
            "server busy: the server's CPU time in percent of the run's wall time (below 100%, "
            "it waited for requests). other load: what the server's CPU spent on anything but "
            "the server, and the client CPU on anything but wrk, redis-server and this script, "
            "in percent of that CPU; a few percent on the server CPU is the kernel's share of "
            "the loopback traffic."
        )
    else:
        add(
            "server busy: the server's CPU time in percent of the run's wall time. other load: "
            "CPU time used by processes other than the server, wrk, redis-server and this "
            "script, in percent of one CPU."
        )
    add("")
    add(
        f"A run is disturbed when other load on the server's CPU exceeds {settings.max_other:g}% "
        f"or the server was busy less than {100 - settings.max_other:g}% of the time; it is "
        f"repeated (up to {settings.retries} time(s), at most {retry_budget(settings)} repeats "
        "per run of the script) and the calmest attempt is kept. source: a hash of "
        "`packages/*/src/**/*.py` taken when the server started."
    )
    add("")
    return "\n".join(lines)


def propagation_line(outcome: Outcome) -> str:
    result = outcome.propagation
    if result is None:
        return f"**Propagation:** {outcome.propagation_note or 'not run'}."
    parts = []
    all_delays: list[float] = []
    for name, delays in result.delays_ms.items():
        all_delays += delays
        if delays:
            parts.append(
                f"{name} p50 {nearest_rank(delays, 0.5):.1f} ms, p95 "
                f"{nearest_rank(delays, 0.95):.1f} ms, max {max(delays):.1f} ms"
                + (f", {result.timeouts[name]} timeouts (>10 s)" if result.timeouts[name] else "")
            )
        else:
            parts.append(f"{name}: no flip seen within 10 s ({result.timeouts[name]} timeouts)")
    overall = ""
    if all_delays:
        overall = (
            f" All: p50 {nearest_rank(all_delays, 0.5):.1f} ms, p95 "
            f"{nearest_rank(all_delays, 0.95):.1f} ms, max {max(all_delays):.1f} ms."
        )
    write = statistics.median(result.write_ms) if result.write_ms else float("nan")
    return (
        f"**Propagation** ({result.flips} flips written with `RedisBackend.set_value()` from "
        "this script, two ours-redis instances on one Redis, time from the write to the "
        "first matching answer of each instance): "
        + "; ".join(parts)
        + "."
        + overall
        + f" (The write itself: median {write:.2f} ms.)"
    )


def versions_text(versions: dict[str, str | None]) -> str:
    names = [*REPORTED_DISTS, "uvloop", "httptools"]
    return ", ".join(f"{name} {versions.get(name) or '—'}" for name in names) + (
        f", Python {versions.get('python')}"
    )


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"nproc {NPROC} ({os.cpu_count()} CPUs online), {model}, "
        f"{platform.system()} {platform.release()}"
    )


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev}" + (" with uncommitted changes" if dirty else "")


def redis_version() -> str:
    binary = shutil.which("redis-server")
    if not binary:
        return "?"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"v=(\S+)", out)
    return match.group(1) if match else "?"


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(
        description="Measure fastapi-maintenance's throughput against the bare app (wrk + "
        "uvicorn), next to fastapi-maintenance 0.0.5, and the Redis propagation delay.",
    )
    parser.add_argument(
        "--duration",
        type=float,
        help=f"seconds per timed run "
        f"(default {DEFAULTS['duration']:g}, --quick {QUICK['duration']:g})",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"rounds; each runs every variant once in "
        f"shuffled order (default {DEFAULTS['rounds']}, --quick {QUICK['rounds']})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help=f"seconds of wrk before each timed run "
        f"(default {DEFAULTS['warmup']:g}, --quick {QUICK['warmup']:g})",
    )
    parser.add_argument(
        "--connections", type=int, help=f"wrk connections (default {DEFAULTS['connections']})"
    )
    parser.add_argument(
        "--flips",
        type=int,
        help=f"state flips for the propagation test "
        f"(default {DEFAULTS['flips']}, --quick {QUICK['flips']})",
    )
    parser.add_argument(
        "--only",
        help="comma-separated variants to run (bare is always "
        "added); names: " + ", ".join([v.name for v in VARIANTS] + [PROPAGATION]),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run; writes benchmarks/results-quick.md"
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the server and wrk to separate CPUs with taskset",
    )
    parser.add_argument(
        "--max-other",
        type=float,
        default=10.0,
        help="repeat a timed run when other processes took more than this percentage of "
        "the server's CPU (default 10)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        help="how often a disturbed timed run is repeated; the calmest is kept (default 1)",
    )
    parser.add_argument("--seed", type=int, help="seed for the shuffled order")
    parser.add_argument(
        "--output",
        type=Path,
        help="Markdown file to write (default "
        "benchmarks/results.md, or benchmarks/results-quick.md with --quick)",
    )
    args = parser.parse_args(argv)

    def pick(name: str) -> Any:
        value = getattr(args, name)
        if value is not None:
            return value
        if args.quick and name in QUICK:
            return QUICK[name]
        return DEFAULTS[name]

    duration, rounds, warmup = pick("duration"), pick("rounds"), pick("warmup")
    connections, flips = pick("connections"), pick("flips")
    if duration < 1 or rounds < 1 or warmup < 0 or connections < 1 or flips < 1:
        parser.error(
            "--duration >= 1, --rounds >= 1, --warmup >= 0, --connections >= 1, --flips >= 1"
        )
    if args.retries < 0:
        parser.error("--retries >= 0")
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [n for n in names if n not in BY_NAME and n != PROPAGATION]
        if unknown:
            parser.error(
                f"unknown variant(s) {', '.join(unknown)}; choose from "
                + ", ".join([v.name for v in VARIANTS] + [PROPAGATION])
            )
        variants = [v for v in VARIANTS if v.name in names or v.name == "bare"]
        propagation = PROPAGATION in names
    else:
        variants = [v for v in VARIANTS if v.default]
        propagation = True

    pin = not args.no_pin and shutil.which("taskset") is not None and NPROC >= 2
    have_fast = all(importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools"))
    output = args.output or BENCH_DIR / ("results-quick.md" if args.quick else "results.md")
    command = os.environ.get("BENCH_COMMAND") or shlex.join(
        ["uv", "run", "python", "benchmarks/run.py", *argv]
    )
    return Settings(
        duration=float(duration),
        rounds=int(rounds),
        warmup=float(warmup),
        connections=int(connections),
        flips=int(flips),
        retries=args.retries,
        max_other=args.max_other,
        pin=pin,
        loop="uvloop" if have_fast else "asyncio",
        http="httptools" if have_fast else "h11",
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(2**31),
        output=output if output.is_absolute() else Path.cwd() / output,
        command=command,
        variants=variants,
        propagation=propagation,
    )


def prepare(ctx: Context, outcome: Outcome) -> None:
    settings = ctx.settings
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run benchmarks/run, which installs it")
    if not settings.pin:
        ctx.notes.append(
            "server and wrk are not pinned to separate CPUs (no taskset, "
            "fewer than 2 CPUs, or --no-pin)"
        )
    if settings.loop == "asyncio":
        ctx.notes.append(
            "uvloop and httptools are not in the locked environment, so every "
            "server runs --loop asyncio --http h11"
        )
    if any(v.lib == "old" for v in settings.variants):
        try:
            ctx.envs["old"] = ensure_old_env(settings)
        except Skip as exc:
            ctx.envs["old"].skip_reason = str(exc)
            log(f"==> 0.0.5 variants skipped: {exc}")
        else:
            ctx.notes += check_same_versions(ctx.envs["ours"], ctx.envs["old"])
    needs_redis = settings.propagation or any(v.backend == "redis" for v in settings.variants)
    if needs_redis:
        ctx.redis_cls, ctx.redis_skip = redis_backend_class()
        if ctx.redis_skip:
            log(f"==> {ctx.redis_skip}: skipping ours-redis and propagation")
        else:
            start_redis(ctx)
    if settings.propagation and ctx.redis_skip:
        outcome.propagation_note = f"skipped: {ctx.redis_skip}"


def main(argv: list[str]) -> int:
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    if settings.pin:
        # Keep this script (its polling, the propagation client) off the server's CPU.
        os.sched_setaffinity(0, {int(CLIENT_CPU)})
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    rng = random.Random(settings.seed)
    procs = Processes()
    outcome = Outcome()
    import fastapi_maintenance

    ours_env = Env("workspace", Path(sys.executable), fastapi_maintenance.__version__)
    ours_env.versions = env_versions(ours_env.python)
    old_env = Env("0.0.5", VENV_OLD / "bin" / "python", OLD_VERSION)
    with tempfile.TemporaryDirectory(prefix="fm-bench-") as tmp:
        ctx = Context(settings, procs, Path(tmp), {"ours": ours_env, "old": old_env})
        ctx.retry_budget = retry_budget(settings)
        try:
            prepare(ctx, outcome)
            estimate = (
                len(settings.variants)
                * settings.rounds
                * (settings.duration + settings.warmup + 1.5)
            )
            log(
                f"==> {len(settings.variants)} variants x {settings.rounds} rounds, "
                f"~{estimate / 60:.1f} min; seed {settings.seed}; uvicorn --loop "
                f"{settings.loop} --http {settings.http}; wrk -c{settings.connections}"
            )
            run_rounds(ctx, outcome, rng)
            if settings.propagation and not ctx.redis_skip:
                log(f"==> propagation: {settings.flips} flips")
                try:
                    outcome.propagation = run_propagation(ctx, rng)
                except (VariantError, Skip, OSError) as exc:
                    outcome.propagation_note = f"FAILED: {exc}"
                    log(f"    propagation FAILED: {exc}")
        except KeyboardInterrupt:
            log("==> interrupted: stopping every process this run started")
            return 130
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            procs.stop_all()
            signal.signal(signal.SIGINT, signal.default_int_handler)
        report = render(ctx, outcome, started, [load_before, loadavg()])
    print(report)
    settings.output.write_text(report + "\n")
    log(f"==> written to {settings.output}")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
