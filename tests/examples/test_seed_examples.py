"""The documented results of every example in ``examples/seed_*.py``.

Each test loads its example freshly (a new module object, from a temporary
current directory, so relative ``maintenance_mode.txt`` paths land in
``tmp_path``). Concurrent scenarios are driven with anyio events: the example's
``perform_*`` helper is wrapped so it holds until the test releases it.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import fastapi_maintenance
import httpx
import pytest
import uvicorn
from fastapi import HTTPException
from fastapi.testclient import TestClient
from fastapi_maintenance import (
    configure_backend,
    get_maintenance_mode,
    maintenance_mode_on,
    set_maintenance_mode,
)
from fastapi_maintenance.backends import EnvVarBackend
from maintenance_core.testing import reset
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.waiting import eventually

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
ENV_VAR = "FASTAPI_MAINTENANCE_MODE"
MAINTENANCE_BODY = {"detail": "Service temporarily unavailable due to maintenance"}
# The response body exactly as the docs print it.
DOCUMENTED_MAINTENANCE_TEXT = '{"detail":"Service temporarily unavailable due to maintenance"}'
HELLO = {"message": "Hello World"}
STATE_FILE = "maintenance_mode.txt"
TIMEOUT = 10  # seconds; only a guard against hangs, never used to synchronise

_module_ids = itertools.count()

Loader = Callable[[str], ModuleType]


@pytest.fixture
def load_example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Loader:
    """Import ``examples/<name>.py`` as a new module, with ``tmp_path`` as current directory."""
    monkeypatch.chdir(tmp_path)

    def load(name: str) -> ModuleType:
        module_name = f"seed_example_{name}_{next(_module_ids)}"
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        return module

    return load


def load_with_env(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch, name: str, value: str | None
) -> ModuleType:
    """Load *name* as a fresh app that starts with ``FASTAPI_MAINTENANCE_MODE`` = *value*.

    The environment backend reads its variable once, at its first read, so a running
    app does not see a later change: each environment gets its own app, and a fresh
    default backend (as a restarted process would).
    """
    reset(fastapi_maintenance)
    if value is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, value)
    return load_example(name)


def client_for(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


class Gate:
    """Wraps an example's ``perform_*`` helper: runs it, then holds until released."""

    def __init__(self, helper: Callable[[], Awaitable[None]]) -> None:
        self.helper = helper
        self.entered = anyio.Event()
        self.release = anyio.Event()

    async def __call__(self) -> None:
        await self.helper()
        self.entered.set()
        await self.release.wait()


async def while_held(
    gate: Gate,
    operation: Callable[[], Awaitable[httpx.Response | None]],
    during: Callable[[], Awaitable[None]],
) -> httpx.Response | None:
    """Start *operation*, run *during* while it is held in *gate*, then let it finish."""
    result: list[httpx.Response | None] = []

    async def run_operation() -> None:
        result.append(await operation())

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_operation)
            await gate.entered.wait()
            try:
                await during()
            finally:
                gate.release.set()
    return result[0]


def run_example_script(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>`` as a script in *cwd*, without the maintenance env var."""
    env = {key: value for key, value in os.environ.items() if key != ENV_VAR}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_state_file(name: str = STATE_FILE) -> str:
    return Path(name).read_text(encoding="utf-8")


def write_state_file(text: str, name: str = STATE_FILE) -> None:
    Path(name).write_text(text, encoding="utf-8")


# --- 001 Project description: Quick Start ------------------------------------------------------


@pytest.mark.anyio
async def test_quick_start_serves_endpoints_when_maintenance_is_off(load_example: Loader) -> None:
    module = load_example("seed_001_quick_start")
    async with client_for(module.app) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.json() == HELLO


@pytest.mark.anyio
async def test_quick_start_env_var_gives_documented_maintenance_response(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_001_quick_start")
    monkeypatch.setenv(ENV_VAR, "1")
    async with client_for(module.app) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.text == DOCUMENTED_MAINTENANCE_TEXT
    assert response.headers["content-type"] == "application/json"


def test_quick_start_documented_uvicorn_command_with_env_var(tmp_path: Path) -> None:
    """``export FASTAPI_MAINTENANCE_MODE=1; uvicorn examples.seed_001_quick_start:app``."""
    with socket.socket() as sock:
        # Listening before uvicorn starts: the request waits in the backlog, no polling needed.
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        port = sock.getsockname()[1]
        env = {**os.environ, ENV_VAR: "1"}
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "examples.seed_001_quick_start:app",
            "--fd",
            str(sock.fileno()),
        ]
        with subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            pass_fds=[sock.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as server:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=60)
            finally:
                server.terminate()
                server.wait(timeout=30)
    assert response.status_code == 503
    assert response.text == DOCUMENTED_MAINTENANCE_TEXT


# --- 001 Enabling Maintenance Mode: 1. Direct Configuration -----------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("env_value", [None, "0"])
async def test_enable_maintenance_true_gives_503_whatever_the_env_var_says(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch, env_value: str | None
) -> None:
    if env_value is not None:
        monkeypatch.setenv(ENV_VAR, env_value)
    module = load_example("seed_001_enable_maintenance")
    async with client_for(module.app) as client:
        response = await client.get("/")
    assert response.status_code == 503
    assert response.json() == MAINTENANCE_BODY


# --- 001 Decorators ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("maintenance", [False, True], ids=["maintenance-off", "maintenance-on"])
async def test_decorators_status_forced_off_and_deprecated_forced_on(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch, maintenance: bool
) -> None:
    if maintenance:
        monkeypatch.setenv(ENV_VAR, "1")
    module = load_example("seed_001_decorators")
    async with client_for(module.app) as client:
        status = await client.get("/status")
        deprecated = await client.get("/deprecated")
    assert status.status_code == 200
    assert status.json() == {"status": "operational"}
    assert deprecated.status_code == 503
    assert deprecated.json() == MAINTENANCE_BODY


# --- 001 Context Manager ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_deploy_holds_maintenance_on_during_the_deployment_only(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_001_context_manager")
    gate = Gate(module.perform_deployment)
    monkeypatch.setattr(module, "perform_deployment", gate)
    during: dict[str, httpx.Response] = {}

    async with client_for(module.app) as client:
        before = await client.get("/health")

        async def probe() -> None:
            during["health"] = await client.get("/health")
            during["deploy"] = await client.post("/deploy")

        deployed = await while_held(gate, lambda: client.post("/deploy"), probe)
        after = await client.get("/health")

    assert before.status_code == 200
    assert during["health"].status_code == 503
    assert during["health"].json() == MAINTENANCE_BODY
    assert during["deploy"].status_code == 503
    assert deployed is not None
    assert deployed.status_code == 200
    assert deployed.json() == {"status": "deployed"}
    assert after.status_code == 200
    assert after.json() == {"status": "healthy"}
    assert module.maintenance_states_during_deployment == [True]
    assert await get_maintenance_mode() is False


# --- 002 Context Manager: Basic Usage ---------------------------------------------------------


@pytest.mark.anyio
async def test_sync_blocks_other_requests_while_it_runs(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_002_basic_usage")
    gate = Gate(module.perform_sync)
    monkeypatch.setattr(module, "perform_sync", gate)
    during: list[httpx.Response] = []

    async with client_for(module.app) as client:

        async def probe() -> None:
            during.append(await client.post("/admin/sync"))

        synced = await while_held(gate, lambda: client.post("/admin/sync"), probe)
        # The gate is open now: a new sync runs straight through.
        again = await client.post("/admin/sync")

    assert during[0].status_code == 503
    assert during[0].json() == MAINTENANCE_BODY
    assert synced is not None
    assert synced.status_code == 200
    assert synced.json() == {"status": "completed"}
    assert again.status_code == 200
    assert again.json() == {"status": "completed"}
    assert module.maintenance_states_during_sync == [True, True]
    assert await get_maintenance_mode() is False


# --- 002 Context Manager: Local File Backend --------------------------------------------------


@pytest.mark.anyio
async def test_file_backend_context_manager_writes_on_and_restores_the_file(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_002_local_file_backend")
    write_state_file("0")
    gate = Gate(module.perform_database_migration)
    monkeypatch.setattr(module, "perform_database_migration", gate)
    during: dict[str, Any] = {}

    async with client_for(module.app) as client:

        async def probe() -> None:
            during["file"] = read_state_file()
            during["request"] = await client.post("/admin/run-migration")

        migrated = await while_held(gate, lambda: client.post("/admin/run-migration"), probe)

    assert module.state_file_during_migration == ["1"]
    assert during["file"] == "1"
    assert during["request"].status_code == 503
    assert during["request"].json() == MAINTENANCE_BODY
    assert migrated is not None
    assert migrated.status_code == 200
    assert migrated.json() == {"migration": "completed"}
    assert read_state_file() == "0"


# --- 002 Context Manager: Environment Variable Backend ----------------------------------------


@pytest.mark.anyio
async def test_env_backend_context_manager_uses_an_in_memory_override(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_002_env_backend")
    environ_before = dict(os.environ)
    gate = Gate(module.perform_update)
    monkeypatch.setattr(module, "perform_update", gate)
    during: dict[str, Any] = {}

    async with client_for(module.app) as client:

        async def probe() -> None:
            during["environ"] = dict(os.environ)
            during["request"] = await client.post("/admin/update")

        updated = await while_held(gate, lambda: client.post("/admin/update"), probe)
        again = await client.post("/admin/update")

    assert module.observed_during_update == [(True, None), (True, None)]
    assert during["environ"] == environ_before
    assert during["request"].status_code == 503
    assert during["request"].json() == MAINTENANCE_BODY
    assert updated is not None
    assert updated.status_code == 200
    assert updated.json() == {"update": "completed"}
    assert again.status_code == 200
    assert dict(os.environ) == environ_before
    assert ENV_VAR not in os.environ
    assert isinstance(fastapi_maintenance.registry.current_backend(), EnvVarBackend)
    assert await get_maintenance_mode() is False


# --- 002 Context Manager: Using With Custom Backend -------------------------------------------


@pytest.mark.anyio
async def test_custom_backend_override_leaves_the_app_backend_alone(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_002_custom_backend")
    app_module = load_example("seed_001_quick_start")  # an app on the default env backend
    gate = Gate(module.perform_maintenance_tasks)
    monkeypatch.setattr(module, "perform_maintenance_tasks", gate)
    during: dict[str, Any] = {}

    async with client_for(app_module.app) as client:

        async def probe() -> None:
            during["custom_file"] = read_state_file("custom_file.txt")
            during["custom"] = await get_maintenance_mode(module.custom_backend)
            during["global"] = await get_maintenance_mode()
            during["request"] = await client.get("/")

        async def operation() -> None:
            await module.custom_maintenance_operation()

        await while_held(gate, operation, probe)

    assert module.states_during_tasks == [(True, False)]
    assert during["custom_file"] == "1"
    assert during["custom"] is True
    assert during["global"] is False
    assert during["request"].status_code == 200
    assert during["request"].json() == HELLO
    assert read_state_file("custom_file.txt") == "0"
    assert await get_maintenance_mode(module.custom_backend) is False


@pytest.mark.anyio
async def test_custom_backend_override_leaves_a_configured_file_backend_alone(
    load_example: Loader, tmp_path: Path
) -> None:
    module = load_example("seed_002_custom_backend")
    configure_backend("file", file_path="global.txt")

    await module.custom_maintenance_operation()

    assert module.states_during_tasks == [(True, False)]
    assert read_state_file("custom_file.txt") == "0"
    assert not (tmp_path / "global.txt").exists()


def test_custom_backend_script_runs(tmp_path: Path) -> None:
    result = run_example_script("seed_002_custom_backend.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[(True, False)]" in result.stdout
    assert (tmp_path / "custom_file.txt").read_text(encoding="utf-8") == "0"


# --- 002 Context Manager: Nesting -------------------------------------------------------------


@pytest.mark.anyio
async def test_nesting_asserts_pass_with_the_default_env_backend(load_example: Loader) -> None:
    module = load_example("seed_002_nesting")
    environ_before = dict(os.environ)
    assert isinstance(fastapi_maintenance.registry.current_backend(), EnvVarBackend)

    await module.complex_operation()  # raises AssertionError if nesting misbehaves

    assert module.states_during_nested_task == [True]
    assert await get_maintenance_mode() is False
    assert dict(os.environ) == environ_before


@pytest.mark.anyio
async def test_nesting_asserts_detect_maintenance_left_on(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's own asserts are real: with maintenance already on, the first one fails."""
    module = load_example("seed_002_nesting")
    monkeypatch.setenv(ENV_VAR, "1")
    with pytest.raises(AssertionError):
        await module.complex_operation()
    assert module.states_during_nested_task == []


def test_nesting_script_runs(tmp_path: Path) -> None:
    result = run_example_script("seed_002_nesting.py", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nesting works" in result.stdout
    assert "[True]" in result.stdout


# --- 000 Advanced Usage: Combining Multiple Features ------------------------------------------

CUSTOM_BODY = {
    "status": "maintenance",
    "message": "We're upgrading our systems. Please try again later.",
    "estimated_completion": "30 minutes",
}


def assert_custom_maintenance_response(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.json() == CUSTOM_BODY
    assert response.headers["retry-after"] == "1800"


@pytest.mark.anyio
async def test_combining_features_custom_response_and_exempt_handler(
    load_example: Loader,
) -> None:
    module = load_example("seed_000_combining_features")
    async with client_for(module.app) as client:
        off = await client.get("/")
        write_state_file("1")  # as the CLI or another worker would
        # The file backend sees it at its next check (every 0.5 s by default).
        blocked = await eventually(
            lambda: client.get("/", headers={"User-Agent": "curl/8.0"}),
            lambda response: response.status_code != 200,
            timeout=2.0,
        )
        monitoring = await client.get("/", headers={"User-Agent": "MonitoringBot/2.1"})
        not_prefix = await client.get("/", headers={"User-Agent": "My-Monitoring/1.0"})
        admin_get = await client.get("/admin/maintenance/update")

    assert off.status_code == 200
    assert off.json() == HELLO
    assert_custom_maintenance_response(blocked)
    assert monitoring.status_code == 200
    assert monitoring.json() == HELLO
    assert_custom_maintenance_response(not_prefix)
    # No GET route there: the framework's 405 goes through untouched.
    assert admin_get.status_code == 405


@pytest.mark.anyio
async def test_combining_features_admin_update_holds_maintenance_on(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("seed_000_combining_features")
    gate = Gate(module.perform_update)
    monkeypatch.setattr(module, "perform_update", gate)
    during: dict[str, Any] = {}

    async with client_for(module.app) as client:

        async def probe() -> None:
            during["file"] = read_state_file()
            during["request"] = await client.get("/")
            during["monitoring"] = await client.get("/", headers={"User-Agent": "Monitoring"})

        updated = await while_held(gate, lambda: client.post("/admin/maintenance/update"), probe)
        after = await client.get("/")

    assert module.maintenance_states_during_update == [True]
    assert during["file"] == "1"
    assert_custom_maintenance_response(during["request"])
    assert during["monitoring"].status_code == 200
    assert updated is not None
    assert updated.status_code == 200
    assert updated.json() == {"status": "updated"}
    assert after.status_code == 200
    assert after.json() == HELLO
    assert read_state_file() == "0"


@pytest.mark.anyio
async def test_combining_features_admin_update_reachable_during_maintenance(
    load_example: Loader,
) -> None:
    """The admin endpoint is forced off: it works while maintenance is on, and keeps it on."""
    module = load_example("seed_000_combining_features")
    write_state_file("1")
    async with client_for(module.app) as client:
        updated = await client.post("/admin/maintenance/update")
        after = await client.get("/")
    assert updated.status_code == 200
    assert updated.json() == {"status": "updated"}
    assert module.maintenance_states_during_update == [True]
    assert_custom_maintenance_response(after)
    assert read_state_file() == "1"


# --- 000 Advanced Usage: Application Startup and Shutdown -------------------------------------


@pytest.mark.filterwarnings(r"ignore:\s*on_event is deprecated:DeprecationWarning")
def test_startup_clears_and_shutdown_sets_the_state_file(load_example: Loader) -> None:
    module = load_example("seed_000_startup_shutdown")
    write_state_file("1")  # left on by a crash

    with TestClient(module.app) as client:
        during_file = read_state_file()
        response = client.get("/")

    assert during_file == "0"
    assert response.status_code == 200
    assert response.json() == HELLO
    assert read_state_file() == "1"

    # A restart clears it again.
    with TestClient(module.app) as client:
        assert read_state_file() == "0"
        assert client.get("/").status_code == 200
    assert read_state_file() == "1"


# --- 000 Advanced Usage: Integration with Other Middleware (CORS) -----------------------------

ORIGIN = "https://frontend.example"


@pytest.mark.anyio
async def test_cors_documented_order_503_lacks_cors_headers(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = load_with_env(load_example, monkeypatch, "seed_000_cors_order_as_documented", None)
    async with client_for(off.app) as client:
        normal = await client.get("/", headers={"Origin": ORIGIN})
    on = load_with_env(load_example, monkeypatch, "seed_000_cors_order_as_documented", "1")
    async with client_for(on.app) as client:
        maintenance = await client.get("/", headers={"Origin": ORIGIN})

    assert normal.status_code == 200
    assert normal.headers["access-control-allow-origin"] == "*"
    # The docs claim the maintenance response keeps its CORS headers; it does not.
    assert maintenance.status_code == 503
    assert maintenance.json() == MAINTENANCE_BODY
    assert "access-control-allow-origin" not in maintenance.headers


@pytest.mark.anyio
async def test_cors_fixed_order_503_has_cors_headers_and_preflight_works(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = load_with_env(load_example, monkeypatch, "seed_000_cors_order_fixed", None)
    async with client_for(off.app) as client:
        normal = await client.get("/", headers={"Origin": ORIGIN})
    on = load_with_env(load_example, monkeypatch, "seed_000_cors_order_fixed", "1")
    async with client_for(on.app) as client:
        maintenance = await client.get("/", headers={"Origin": ORIGIN})
        preflight = await client.options(
            "/",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-Custom",
            },
        )

    assert normal.status_code == 200
    assert normal.headers["access-control-allow-origin"] == "*"
    assert maintenance.status_code == 503
    assert maintenance.json() == MAINTENANCE_BODY
    assert maintenance.headers["access-control-allow-origin"] == "*"
    assert maintenance.headers["retry-after"] == "3600"
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"].lower() == "x-custom"


# --- 000 Advanced Usage: Dependency Injection with Maintenance Status -------------------------


@pytest.mark.anyio
async def test_dependency_injection_when_maintenance_is_off(load_example: Loader) -> None:
    module = load_example("seed_000_dependency_injection")
    async with client_for(module.app) as client:
        status = await client.get("/status")
        important = await client.post("/api/important")
    assert status.status_code == 200
    assert status.json() == {"maintenance_mode": False}
    assert important.status_code == 200
    assert important.json() == {"message": "Important action completed"}


@pytest.mark.anyio
async def test_dependency_injection_when_maintenance_is_on_the_middleware_answers(
    load_example: Loader,
) -> None:
    """The middleware refuses first: neither dependency gets to answer over HTTP."""
    module = load_example("seed_000_dependency_injection")
    write_state_file("1")
    async with client_for(module.app) as client:
        status = await client.get("/status")
        important = await client.post("/api/important")
    assert status.status_code == 503
    assert status.json() == MAINTENANCE_BODY  # not {"maintenance_mode": true}
    assert important.status_code == 503
    assert important.json() == MAINTENANCE_BODY  # not "Service is in maintenance mode"


@pytest.mark.anyio
async def test_dependency_injection_dependencies_read_the_file_backend(
    load_example: Loader,
) -> None:
    module = load_example("seed_000_dependency_injection")
    assert await module.maintenance_status() is False
    assert await module.require_maintenance_off() is False

    await set_maintenance_mode(True)  # the configured file backend

    assert read_state_file() == "1"
    assert await module.maintenance_status() is True
    with pytest.raises(HTTPException) as raised:
        await module.require_maintenance_off()
    assert raised.value.status_code == 503
    assert raised.value.detail == "Service is in maintenance mode"


# --- 000 Advanced Usage: Monitoring Maintenance Status ----------------------------------------


@pytest.mark.anyio
async def test_monitoring_status_reports_operational_and_maintenance(
    load_example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_with_env(load_example, monkeypatch, "seed_000_monitoring_status", None)
    async with client_for(module.app) as client:
        operational = await client.get("/api/status")
        async with maintenance_mode_on():
            override_on = await client.get("/api/status")
        back = await client.get("/api/status")
    # Started with FASTAPI_MAINTENANCE_MODE=1, as the example's docstring runs it.
    env_module = load_with_env(load_example, monkeypatch, "seed_000_monitoring_status", "1")
    async with client_for(env_module.app) as client:
        env_on = await client.get("/api/status")

    maintenance = {"status": "maintenance", "message": "System is undergoing maintenance"}
    assert operational.status_code == 200
    assert operational.json() == {"status": "operational", "message": "All systems operational"}
    assert env_on.status_code == 200
    assert env_on.json() == maintenance
    assert override_on.status_code == 200
    assert override_on.json() == maintenance
    assert back.json() == operational.json()


# --- 000 Advanced Usage: Custom Backends with External Services (aiohttp) ---------------------


@dataclass
class FakeMaintenanceAPI:
    """The external service APIBackend talks to: ``GET``/``POST /maintenance``."""

    active: bool = False
    get_status: int = 200
    url: str = ""
    posts: list[Any] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> Starlette:
        async def maintenance(request: Request) -> Response:
            self.authorizations.append(request.headers.get("authorization"))
            if request.method == "POST":
                payload = await request.json()
                self.posts.append(payload)
                self.active = payload["active"]
                return JSONResponse({"active": self.active})
            if self.get_status != 200:
                return JSONResponse({"error": "unavailable"}, status_code=self.get_status)
            return JSONResponse({"active": self.active})

        return Starlette(routes=[Route("/maintenance", maintenance, methods=["GET", "POST"])])


@pytest.fixture
def external_api() -> Iterator[FakeMaintenanceAPI]:
    """A real HTTP server on 127.0.0.1, run by uvicorn in a thread."""
    api = FakeMaintenanceAPI()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue here until uvicorn accepts them
    host, port = sock.getsockname()
    api.url = f"http://{host}:{port}"
    server = uvicorn.Server(uvicorn.Config(api.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.should_exit = True
        thread.join(timeout=TIMEOUT)
        sock.close()
    assert not thread.is_alive()


@pytest.fixture
def api_example(
    load_example: Loader, external_api: FakeMaintenanceAPI, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    try:
        import aiohttp  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        pytest.fail(
            "aiohttp is needed by examples/seed_000_custom_backend_api.py: add it to the dev "
            "dependency group (meanwhile: uv run --with aiohttp pytest tests/examples)"
        )
    monkeypatch.setenv("MAINTENANCE_API_URL", external_api.url)
    monkeypatch.setenv("MAINTENANCE_API_KEY", "s3cret")
    return load_example("seed_000_custom_backend_api")


@pytest.mark.anyio
async def test_api_backend_reads_and_writes_the_external_service(
    api_example: ModuleType, external_api: FakeMaintenanceAPI
) -> None:
    backend = api_example.APIBackend(external_api.url, api_key="s3cret")
    with anyio.fail_after(TIMEOUT):
        assert await backend.get_value() is False
        await backend.set_value(True)
        assert external_api.active is True
        assert await backend.get_value() is True
        await backend.set_value(False)
        assert await backend.get_value() is False
    assert external_api.posts == [{"active": True}, {"active": False}]
    assert external_api.authorizations == ["Bearer s3cret"] * 5


@pytest.mark.anyio
async def test_api_backend_without_key_and_on_error_status(
    api_example: ModuleType, external_api: FakeMaintenanceAPI
) -> None:
    backend = api_example.APIBackend(external_api.url)
    external_api.active = True
    with anyio.fail_after(TIMEOUT):
        assert await backend.get_value() is True
        external_api.get_status = 500
        assert await backend.get_value() is False  # a non-200 answer counts as off
    assert external_api.authorizations == [None, None]


@pytest.mark.anyio
async def test_api_backend_drives_the_middleware_and_the_context_manager(
    api_example: ModuleType, external_api: FakeMaintenanceAPI
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with client_for(api_example.app) as client:
            off = await client.get("/")
            external_api.active = True
            on = await client.get("/")
            external_api.active = False
            async with maintenance_mode_on(backend=api_example.backend):
                active_during = external_api.active
                during = await client.get("/")
            after = await client.get("/")

    assert off.status_code == 200
    assert off.json() == HELLO
    assert on.status_code == 503
    assert on.json() == MAINTENANCE_BODY
    assert active_during is True
    assert during.status_code == 503
    assert after.status_code == 200
    # The override wrote "on" to the service and restored "off" afterwards.
    assert external_api.posts == [{"active": True}, {"active": False}]
    assert external_api.active is False
    assert set(external_api.authorizations) == {"Bearer s3cret"}
