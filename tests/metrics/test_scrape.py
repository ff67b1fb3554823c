"""``examples/metrics_app.py`` in a real uvicorn, scraped over HTTP as Prometheus would:
refused and bypassed requests, a state change made by another process, a backend error."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import uvicorn_server

SECRET = "scrape-test-secret-Hq7x2Lw9"
DEADLINE = 10.0  # seconds; the file backend looks at the file every 0.5 s

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name.startswith("maintenance_") and sample.name.endswith("_total"):
                samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((f"maintenance_{name}_total", tuple(sorted(labels.items()))), 0.0)


def test_prometheus_scrapes_the_counters_of_a_real_server(tmp_path: Path) -> None:
    state_file = tmp_path / "maintenance_mode.txt"
    state_file.write_text("0", encoding="utf-8")
    env = {"MAINTENANCE_FILE": str(state_file), "MAINTENANCE_BYPASS_SECRET": SECRET}
    refused = 0
    with uvicorn_server("metrics_app:app", env=env, args=("--app-dir", "examples")) as base:
        assert httpx.get(f"{base}/").status_code == 200
        before = scrape(base)
        # Every series of the fixed labels is there from the start, at zero.
        for kind in ("http", "websocket"):
            for reason in ("maintenance", "forced"):
                assert value(before, "refused", kind=kind, reason=reason) == 0
                assert ("maintenance_refused_total", (("kind", kind), ("reason", reason))) in before
        assert ("maintenance_bypassed_total", (("via", "secret"),)) in before
        assert ("maintenance_state_changes_total", (("source", "fleet"), ("state", "on"))) in before

        # Another process switches maintenance on; the server sees it within 0.5 s.
        subprocess.run(
            [sys.executable, "-m", "fastapi_maintenance", "on", "--backend", "file",
             "--file-path", str(state_file)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + DEADLINE
        while httpx.get(f"{base}/").status_code != 503:
            assert time.monotonic() < deadline, "the server never saw maintenance switched on"
        refused += 1
        for _ in range(2):
            assert httpx.get(f"{base}/").status_code == 503
            refused += 1
        bypassed = httpx.get(f"{base}/", headers={"X-Maintenance-Bypass": SECRET})
        assert bypassed.status_code == 200
        assert httpx.get(f"{base}/metrics").status_code == 200  # forced off: not counted

        # A garbage state: one error, however many requests meet it.
        state_file.write_text("garbage", encoding="utf-8")
        deadline = time.monotonic() + DEADLINE
        while True:
            assert httpx.get(f"{base}/").status_code == 503  # the last known state
            refused += 1
            errors = value(
                scrape(base), "backend_errors", backend="LocalFileBackend",
                error="InvalidStateValueError",
            )  # fmt: skip
            if errors:
                break
            assert time.monotonic() < deadline, "the garbage state was never counted"
        for _ in range(3):
            assert httpx.get(f"{base}/").status_code == 503
            refused += 1
        after = scrape(base)

    assert refused >= 6
    assert value(after, "refused", kind="http", reason="maintenance") == refused
    assert value(after, "refused", kind="http", reason="forced") == 0
    assert value(after, "bypassed", via="secret") == 1
    assert value(after, "bypassed", via="exempt_handler") == 0
    assert value(after, "state_changes", source="fleet", state="on") == 1
    assert value(after, "state_changes", source="local", state="on") == 0
    errors = value(
        after, "backend_errors", backend="LocalFileBackend", error="InvalidStateValueError"
    )
    assert errors == 1
