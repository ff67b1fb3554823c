"""The counters: what each one counts, with which labels, through the guard and both
adapters; the ``MetricsRecorder`` interface; the extra missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import fastapi_maintenance
import pytest
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from litestar import Litestar, get
from litestar_maintenance import MaintenanceModeMiddleware as LitestarMiddleware
from maintenance_core import (
    ConfigurationError,
    GenericAdapter,
    LocalFileBackend,
    MaintenanceConfig,
    MaintenanceGuard,
    MaintenanceMiddleware,
    MemoryBackend,
    StateBackend,
    force_maintenance_mode_on,
)
from maintenance_core.events import BackendProblem, StateChange
from maintenance_core.metrics import MetricsRecorder, PrometheusMetrics
from maintenance_core.state import OFF, ON
from prometheus_client import CollectorRegistry

from tests.windows._helpers import client, websocket_handshake

pytestmark = pytest.mark.anyio

SECRET = "metrics-test-secret-9fK2pQ7z"


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(f"maintenance_{name}_total", labels)
    return 0.0 if value is None else value


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@force_maintenance_mode_on
async def legacy(scope: Any, receive: Any, send: Any) -> None:
    await ok(scope, receive, send)


def bare(backend: StateBackend, metrics: MetricsRecorder, **options: Any) -> MaintenanceMiddleware:
    routes = {"/legacy": legacy}
    adapter = GenericAdapter(lambda scope: routes.get(scope["path"], ok))
    guard = MaintenanceGuard(adapter=adapter, backend=backend, metrics=metrics, **options)
    return MaintenanceMiddleware(ok, guard)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


async def test_refused_requests_by_kind_and_reason(registry: CollectorRegistry) -> None:
    app = bare(MemoryBackend(True), PrometheusMetrics(registry))
    async with client(app) as c:
        for _ in range(3):
            assert (await c.get("/")).status_code == 503
        assert (await c.head("/")).status_code == 503
        assert (await c.get("/legacy")).status_code == 503
    await websocket_handshake(app)
    await websocket_handshake(app, denial_extension=False)
    assert count(registry, "refused", kind="http", reason="maintenance") == 4
    assert count(registry, "refused", kind="http", reason="forced") == 1
    assert count(registry, "refused", kind="websocket", reason="maintenance") == 2
    assert count(registry, "bypassed", via="secret") == 0


async def test_nothing_is_counted_while_maintenance_is_off(registry: CollectorRegistry) -> None:
    app = bare(MemoryBackend(False), PrometheusMetrics(registry), bypass_secret=SECRET)
    async with client(app) as c:
        assert (await c.get("/", headers={"X-Maintenance-Bypass": SECRET})).status_code == 200
        assert (await c.get("/legacy")).status_code == 503  # forced on, whatever the state
    assert count(registry, "refused", kind="http", reason="forced") == 1
    assert count(registry, "refused", kind="http", reason="maintenance") == 0
    assert count(registry, "bypassed", via="secret") == 0


async def test_bypassed_requests_by_the_secret_and_the_exempt_handler(
    registry: CollectorRegistry,
) -> None:
    app = bare(
        MemoryBackend(True),
        PrometheusMetrics(registry),
        bypass_secret=SECRET,
        exempt_handler=lambda connection: connection.scope["path"] == "/health",
    )
    async with client(app) as c:
        assert (await c.get("/", headers={"X-Maintenance-Bypass": SECRET})).status_code == 200
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/", headers={"X-Maintenance-Bypass": "wrong" * 4})).status_code == 503
    async with client(app) as browser:
        link = await browser.get(f"/?maintenance_bypass={SECRET}")
        assert link.status_code == 302  # sets the cookie: neither refused nor bypassed
        assert (await browser.get("/")).status_code == 200  # the cookie: bypassed
    assert count(registry, "bypassed", via="secret") == 2
    assert count(registry, "bypassed", via="exempt_handler") == 2
    assert count(registry, "refused", kind="http", reason="maintenance") == 1


async def test_state_changes_by_source_and_state(registry: CollectorRegistry) -> None:
    backend = MemoryBackend()
    bare(backend, PrometheusMetrics(registry))
    await backend.set_state(ON)
    await backend.set_state(ON)
    await backend.set_state(OFF)
    await backend.set_state(ON)
    assert count(registry, "state_changes", source="local", state="on") == 2
    assert count(registry, "state_changes", source="local", state="off") == 1
    assert count(registry, "state_changes", source="fleet", state="on") == 0


async def test_backend_errors_once_per_fault(registry: CollectorRegistry, tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    app = bare(LocalFileBackend(path, check_interval=0), PrometheusMetrics(registry))
    async with client(app) as c:
        await c.get("/")
        path.write_text("garbage", encoding="utf-8")
        for _ in range(5):
            assert (await c.get("/")).status_code == 503
    labels = {"backend": "LocalFileBackend", "error": "InvalidStateValueError"}
    assert count(registry, "backend_errors", **labels) == 1


async def test_fastapi_and_litestar_count_with_a_config(registry: CollectorRegistry) -> None:
    metrics = PrometheusMetrics(registry)
    fastapi_app = FastAPI()
    fastapi_app.add_middleware(
        MaintenanceModeMiddleware,
        config=MaintenanceConfig(backend=MemoryBackend(True), metrics=metrics),
    )

    @fastapi_app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    @get("/")
    async def litestar_index() -> dict[str, bool]:
        return {"ok": True}

    litestar_app = Litestar(
        route_handlers=[litestar_index],
        middleware=[
            LitestarMiddleware(
                config=MaintenanceConfig(backend=MemoryBackend(True), metrics=metrics)
            )
        ],
    )
    for app in (fastapi_app, litestar_app):
        async with client(app) as c:
            assert (await c.get("/")).status_code == 503
    assert count(registry, "refused", kind="http", reason="maintenance") == 2


async def test_the_registrys_default_backend_is_watched_when_it_changes(
    registry: CollectorRegistry, tmp_path: Path
) -> None:
    app = FastAPI()
    app.add_middleware(
        MaintenanceModeMiddleware, config=MaintenanceConfig(metrics=PrometheusMetrics(registry))
    )

    @app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    async with client(app) as c:
        assert (await c.get("/")).status_code == 200  # the environment variable: off
        fastapi_maintenance.configure_backend("file", file_path=str(tmp_path / "state.txt"))
        assert (await c.get("/")).status_code == 200  # now the file, watched from here on
        await fastapi_maintenance.set_maintenance_mode(True)
        assert (await c.get("/")).status_code == 503
    assert count(registry, "state_changes", source="local", state="on") == 1
    assert count(registry, "refused", kind="http", reason="maintenance") == 1


def test_a_second_prometheus_metrics_shares_the_counters(registry: CollectorRegistry) -> None:
    first = PrometheusMetrics(registry)
    second = PrometheusMetrics(registry)
    assert second.refused is first.refused
    other = PrometheusMetrics(registry, namespace="shop_maintenance")
    other.record_refused("http", "maintenance")
    assert (
        registry.get_sample_value(
            "shop_maintenance_refused_total", {"kind": "http", "reason": "maintenance"}
        )
        == 1
    )


def test_metrics_must_be_a_recorder() -> None:
    with pytest.raises(ConfigurationError, match="metrics must be a MetricsRecorder"):
        MaintenanceConfig(metrics=CollectorRegistry())  # type: ignore[arg-type]


async def test_a_recorder_of_ones_own_gets_every_call() -> None:
    class Recorder(MetricsRecorder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[tuple[str, Any]] = []

        def record_refused(self, kind: str, reason: str) -> None:
            self.calls.append(("refused", (kind, reason)))

        def record_bypassed(self, via: str) -> None:
            self.calls.append(("bypassed", via))

        def record_state_change(self, change: StateChange, backend: StateBackend) -> None:
            self.calls.append(("change", change.new.on))

        def record_backend_problem(self, problem: BackendProblem, backend: StateBackend) -> None:
            self.calls.append(("problem", type(problem.error).__name__))

    recorder = Recorder()
    backend = MemoryBackend(True)
    app = bare(backend, recorder, bypass_secret=SECRET)
    async with client(app) as c:
        await c.get("/")
        await c.get("/", headers={"X-Maintenance-Bypass": SECRET})
    await backend.set_state(OFF)
    recorder.watch(backend)  # already watched: not counted twice
    await backend.set_state(ON)
    recorder.unwatch_all()
    await backend.set_state(OFF)
    assert recorder.calls == [
        ("refused", ("http", "maintenance")),
        ("bypassed", "secret"),
        ("change", False),
        ("change", True),
    ]


def test_without_the_extra_prometheus_metrics_names_it_and_nothing_else_needs_it() -> None:
    script = """
import sys
sys.modules["prometheus_client"] = None  # as if the extra were not installed
import fastapi_maintenance
from maintenance_core import GenericAdapter, MaintenanceGuard, MemoryBackend
from maintenance_core.metrics import PrometheusMetrics
MaintenanceGuard(adapter=GenericAdapter(), backend=MemoryBackend(True))
try:
    PrometheusMetrics()
except ImportError as exc:
    print(type(exc).__name__, exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == (
        "ExtraNotInstalledError PrometheusMetrics needs prometheus_client, which is not "
        "installed: pip install 'maintenance-core[metrics]' (or pip install prometheus-client)."
    )


def test_the_core_never_imports_prometheus_client_unless_asked() -> None:
    script = """
import sys
import fastapi_maintenance, litestar_maintenance
from maintenance_core import GenericAdapter, MaintenanceGuard, MemoryBackend
MaintenanceGuard(adapter=GenericAdapter(), backend=MemoryBackend(True))
print("prometheus_client" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
