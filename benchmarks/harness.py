"""Run every benchmark and write the results file (``benchmarks/run`` calls this).

1. ``benchmarks/.venv-005``: fastapi-maintenance 0.0.5 with everything else at
   the workspace's versions (created, or re-created when those change);
2. the in-process microbenchmarks (:mod:`benchmarks.micro`), ours, then the
   FastAPI cases 0.0.5 can run in its venv, compared with ``pyperf compare_to``;
3. the Redis propagation test (``tests/load/test_redis_propagation.py``), for
   the delays it prints;
4. the end-to-end run (:mod:`benchmarks.e2e`);
5. ``benchmarks/results.md`` (``results-quick.md`` with ``--quick``) with the
   machine, the versions, the command and every figure. The raw data stays in
   ``benchmarks/out/`` (pyperf and e2e JSON, not committed).

    python -m benchmarks.harness [--quick] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyperf  # type: ignore[import-untyped]

from benchmarks.micro import CASES, V005_CASES

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
OUT = BENCH / "out"
VENV_005 = BENCH / ".venv-005"
PROPAGATION_TEST = "tests/load/test_redis_propagation.py"


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    log(shlex.join(command))
    return subprocess.run(command, check=True, cwd=ROOT, text=True, **kwargs)


def ensure_venv_005() -> Path:
    """fastapi-maintenance 0.0.5 in its own venv, every other package at our version."""
    python = VENV_005 / "bin" / "python"
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    ours = run(
        [uv, "pip", "freeze", "--python", sys.executable, "--exclude-editable"],
        capture_output=True,
    ).stdout
    stamp = hashlib.sha256((sys.version + ours).encode()).hexdigest()
    stamp_file = VENV_005 / "stamp"
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return python
    run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(VENV_005)])
    constraints = VENV_005 / "constraints.txt"
    constraints.write_text(ours)
    install = [uv, "pip", "install", "--quiet", "--python", str(python), "-c", str(constraints)]
    run([*install, "fastapi-maintenance==0.0.5", "fastapi", "starlette", "uvicorn", "pyperf"])
    stamp_file.write_text(stamp)
    return python


def micro(python: Path, output: Path, quick: bool, suite: str = "ours") -> None:
    output.unlink(missing_ok=True)
    fast = ["--fast"] if quick else []
    run(
        [str(python), "-m", "benchmarks.micro", "--suite", suite, *fast, "-o", str(output)],
        stdout=sys.stderr,
    )


def compare_005(ours: Path, old: Path) -> tuple[str, str]:
    """``pyperf compare_to`` of our FastAPI cases with 0.0.5's: the command and its table."""
    files = [str(ours.relative_to(ROOT)), str(old.relative_to(ROOT))]
    command = ["-m", "pyperf", "compare_to", *files, "--table", "--table-format", "md"]
    for name in V005_CASES:
        command += ["-b", name]
    output = run([sys.executable, *command], capture_output=True).stdout
    return shlex.join(["python", *command]), output.strip()


def propagation() -> str:
    """Run the Redis propagation test; return the line it prints with the delays."""
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    output = run([*command, PROPAGATION_TEST], capture_output=True).stdout
    for line in output.splitlines():
        if line.startswith("redis propagation"):
            return line
    raise RuntimeError(f"no propagation line in the test's output:\n{output}")


def e2e(output: Path, quick: bool) -> dict[str, Any]:
    quick_flag = ["--quick"] if quick else []
    run(
        [sys.executable, "-m", "benchmarks.e2e", *quick_flag, "--output", str(output)],
        stdout=sys.stderr,
    )
    return dict(json.loads(output.read_text()))


# -- the results file ------------------------------------------------------------------


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).splitlines()[0].strip()


def machine() -> list[str]:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    with open("/proc/meminfo") as meminfo:
        kib = int(meminfo.readline().split()[1])  # MemTotal
    try:
        system = platform.freedesktop_os_release()["PRETTY_NAME"]
    except OSError:
        system = platform.system()
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical CPUs",
        f"memory: {kib / 1024**2:.1f} GiB",
        f"OS: {system}, kernel {platform.release()}",
    ]


def checkout() -> str:
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "packages"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return f"{revision} (packages/ with uncommitted changes)" if dirty else revision


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def micro_table(suite: pyperf.BenchmarkSuite) -> list[str]:
    """Per case: mean ± standard deviation and minimum, and the differences and ratios
    of both to its reference's."""
    names = set(suite.get_benchmark_names())
    rows = [
        "| case | what | mean ± std dev (µs) | min (µs) | reference | difference (µs): "
        "mean / min | ratio: mean / min |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for case in CASES:
        if case.name not in names:
            continue
        bench = suite.get_benchmark(case.name)
        mean, low = bench.mean(), min(bench.get_values())
        cells = [case.name, case.what, f"{us(mean)} ± {us(bench.stdev())}", us(low)]
        if case.reference is None or case.reference not in names:
            cells += ["—", "—", "—"]
        else:
            ref = suite.get_benchmark(case.reference)
            ref_mean, ref_low = ref.mean(), min(ref.get_values())
            cells += [
                case.reference,
                f"{(mean - ref_mean) * 1e6:+,.1f} / {(low - ref_low) * 1e6:+,.1f}",
                f"{mean / ref_mean:.3f} / {low / ref_low:.3f}",
            ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def e2e_table(data: dict[str, Any]) -> list[str]:
    rows = [
        "| server | variant | req/s (median) | rounds (req/s) | server busy | reference "
        "| ratio | rounds' ratios | ratio per server CPU-second |",
        "| --- | --- | ---: | --- | ---: | --- | ---: | --- | ---: |",
    ]
    for row in data["summary"]:
        rounds = " / ".join(f"{rate:,.0f}" for rate in row["rates"])
        if row["reference"] == row["variant"]:
            reference = ratio = ratios = cpu_ratio = "—"
        else:
            reference, ratio = row["reference"], f"{row['ratio']:.3f}"
            ratios = " / ".join(f"{r:.3f}" for r in row["ratios"])
            cpu_ratio = f"{row['cpu_ratio']:.3f}"
        rows.append(
            f"| {row['server']} | {row['variant']} | {row['median']:,.0f} | {rounds} | "
            f"{row['busy']:.0%} | {reference} | {ratio} | {ratios} | {cpu_ratio} |"
        )
    runs = data["runs"]
    errors = sum(run["socket_errors"] for run in runs)
    threshold = data["settings"]["busy_threshold"]
    repeated = sum(run["attempts"] > 1 for run in runs)
    still = sum(run["busy"] < threshold for run in runs)
    rows += [
        "",
        f"Runs repeated because the server was busy less than {threshold:.0%} of the time: "
        f"{repeated} of {len(runs)}; still below after that: {still}. "
        f"wrk socket errors over all runs: {errors}.",
    ]
    return rows


def render(
    *,
    command: str,
    started: datetime.datetime,
    seconds: float,
    load: tuple[str, str],
    ours: pyperf.BenchmarkSuite,
    old: pyperf.BenchmarkSuite,
    comparison: tuple[str, str],
    propagation_line: str,
    e2e_data: dict[str, Any],
    quick: bool,
) -> str:
    old_meta = old.get_metadata()
    settings = e2e_data["settings"]
    wrk_command = f"wrk -t1 -c{settings['connections']} -d{settings['duration']}s --timeout 5s URL"
    lines = [
        "# Benchmark results" + (" (quick run: not a result)" if quick else ""),
        "",
        "How to run and read them: [README.md](README.md).",
        "",
        "## Setup",
        "",
        f"- command: `{command}`",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; took {seconds / 60:.1f} min",
        f"- checkout: {checkout()}",
        *(f"- {line}" for line in machine()),
        f"- load average (1 min) at the start / end: {load[0]} / {load[1]}",
        f"- Python {platform.python_version()}; fastapi-maintenance "
        f"{version('fastapi-maintenance')}, litestar-maintenance "
        f"{version('litestar-maintenance')}, maintenance-core {version('maintenance-core')}",
        f"- FastAPI {version('fastapi')}, Starlette {version('starlette')}, Litestar "
        f"{version('litestar')}, uvicorn {version('uvicorn')}, h11 {version('h11')}, "
        f"httptools {version('httptools')}, uvloop {version('uvloop')}, redis-py "
        f"{version('redis')}",
        f"- pyperf {version('pyperf')}; {first_line(['wrk', '-v'])}; "
        f"{first_line(['redis-server', '--version'])}",
        f"- `benchmarks/.venv-005`: fastapi-maintenance "
        f"{old_meta.get('bench_fastapi_maintenance')}, FastAPI {old_meta.get('bench_fastapi')}, "
        f"Starlette {old_meta.get('bench_starlette')}, Python "
        f"{str(old_meta.get('python_version', '')).split()[0]}",
        "",
        "## In process (pyperf)",
        "",
        "Time per request, the app called directly on a canned scope "
        f"(`python -m benchmarks.micro{' --fast' if quick else ''}`): mean ± standard "
        "deviation over all values of all worker processes (pyperf's summary), and the "
        "smallest value (each value is itself the average of a calibrated loop of at "
        "least 0.1 s). Differences and ratios: to the reference's mean, and minimum.",
        "",
        *micro_table(ours),
        "",
        "### Against fastapi-maintenance 0.0.5",
        "",
        f"`{comparison[0]}` (the first file is the reference):",
        "",
        comparison[1],
        "",
        "## End to end (uvicorn + wrk)",
        "",
        f"One uvicorn process per run, FastAPI apps; `{wrk_command}` after a "
        f"{settings['warmup']} s warm-up, {settings['rounds']} round(s), each running every "
        "server and variant once, each variant next to its reference, in a rotated order"
        + (", uvicorn on CPU 0 and wrk on CPU 1" if settings["pinned"] else "")
        + ". Servers: "
        + "; ".join(f"{name}: `{flags}`" for name, flags in settings["servers"].items())
        + ". Ratio: the median of the rounds' ratios, each the variant's rate over the rate "
        "of its reference run next to it (same round, same server). Server busy: the "
        "server's CPU time over the run's wall time (median); well below 100%, other processes "
        "took its CPU or it waited for wrk. Ratio per server CPU-second: the same ratio "
        "from responses per second of the server's CPU time, which other processes do "
        "not lower: a cross-check.",
        "",
        *e2e_table(e2e_data),
        "",
        "## Redis propagation",
        "",
        f"From `{PROPAGATION_TEST}` (time from just before the write to each instance's "
        "first matching answer):",
        "",
        propagation_line,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pyperf --fast, 1 short e2e round")
    parser.add_argument("--output", type=Path, help="the results file")
    args = parser.parse_args(argv)
    output = args.output or BENCH / ("results-quick.md" if args.quick else "results.md")
    command = os.environ.get("BENCH_COMMAND") or shlex.join(
        ["python", "-m", "benchmarks.harness", *(argv if argv is not None else sys.argv[1:])]
    )
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.monotonic()
    load_start = f"{os.getloadavg()[0]:.2f}"
    OUT.mkdir(exist_ok=True)
    ours_json, old_json, e2e_json = OUT / "micro.json", OUT / "micro-005.json", OUT / "e2e.json"

    python_005 = ensure_venv_005()
    micro(Path(sys.executable), ours_json, args.quick)
    micro(python_005, old_json, args.quick, suite="v005")
    comparison = compare_005(ours_json, old_json)
    propagation_line = propagation()
    e2e_data = e2e(e2e_json, args.quick)

    text = render(
        command=command,
        started=started,
        seconds=time.monotonic() - clock,
        load=(load_start, f"{os.getloadavg()[0]:.2f}"),
        ours=pyperf.BenchmarkSuite.load(str(ours_json)),
        old=pyperf.BenchmarkSuite.load(str(old_json)),
        comparison=comparison,
        propagation_line=propagation_line,
        e2e_data=e2e_data,
        quick=args.quick,
    )
    output.write_text(text)
    print(text)
    log(f"wrote {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
