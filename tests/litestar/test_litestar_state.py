"""Where a Litestar app reads its state: the environment variable, configured and
per-app backends, the module-level functions called from handlers, and the
override contexts held by a request while other requests run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar import get, post
from litestar.testing import AsyncTestClient, TestClient
from litestar_maintenance import (
    configure_backend,
    force_maintenance_mode_off,
    get_maintenance_mode,
    maintenance_mode_off,
    maintenance_mode_on,
    set_maintenance_mode,
)
from litestar_maintenance.backends import (
    BaseStateBackend,
    EnvVarBackend,
    LocalFileBackend,
    MemoryBackend,
)
from maintenance_core import MaintenanceOverride

from tests.support.waiting import eventually

from .helpers import ENV_VAR, AppFactory, Gate, assert_maintenance, request_in_thread

try:  # the path marker of newer Litestar; older releases infer path parameters by name
    from litestar.params import FromPath

    PathValue: Any = FromPath[str]
except ImportError:  # pragma: no cover - Litestar < 2.19
    PathValue = str


@get("/")
async def index() -> dict[str, str]:
    return {"page": "index"}


@get("/health")
@force_maintenance_mode_off
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/admin/state")
@force_maintenance_mode_off
async def read_state() -> dict[str, bool]:
    return {"maintenance": await get_maintenance_mode()}


@post("/admin/state/{value:str}", status_code=200)
@force_maintenance_mode_off
async def write_state(value: PathValue) -> dict[str, bool]:
    await set_maintenance_mode(value == "on")
    return {"maintenance": await get_maintenance_mode()}


HANDLERS = [index, health, read_state, write_state]


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({ENV_VAR: "1"}, 503),
        ({ENV_VAR: "on"}, 503),
        ({ENV_VAR: "0"}, 200),
        ({}, 200),
        # The FastAPI adapter's variable does not concern Litestar apps.
        ({"FASTAPI_MAINTENANCE_MODE": "1"}, 200),
    ],
)
def test_environment_variable_is_the_default_backend(
    make_app: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    expected: int,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with TestClient(make_app(HANDLERS)) as client:
        assert client.get("/").status_code == expected
        assert client.get("/admin/state").json() == {"maintenance": expected == 503}


def test_environment_backend_is_read_at_every_request(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(make_app(HANDLERS)) as client:
        assert client.get("/").status_code == 200
        # As fastapi-maintenance 0.0.5 did: a test flipping the variable is seen at once.
        monkeypatch.setenv(ENV_VAR, "true")
        assert_maintenance(client.get("/"))
        assert client.get("/admin/state").json() == {"maintenance": True}
        monkeypatch.setenv(ENV_VAR, "false")
        assert client.get("/").status_code == 200


def test_set_maintenance_mode_on_the_env_backend_changes_nothing(
    make_app: AppFactory, log_records: list[logging.LogRecord]
) -> None:
    with TestClient(make_app(HANDLERS)) as client:
        assert client.post("/admin/state/on").json() == {"maintenance": False}
        assert client.get("/").status_code == 200
    assert ENV_VAR not in os.environ
    assert any(r.levelno == logging.WARNING and ENV_VAR in r.getMessage() for r in log_records), (
        "a read-only backend must say so"
    )


def test_env_var_backend_class_defaults_to_the_litestar_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "yes")
    monkeypatch.setenv("OTHER_VAR", "no")
    assert anyio.run(EnvVarBackend().get_value) is True
    assert anyio.run(EnvVarBackend(var_name="OTHER_VAR").get_value) is False


# --------------------------------------------------------------------------- backends


def test_configure_backend_before_building_the_app(make_app: AppFactory, tmp_path: Path) -> None:
    state_file = tmp_path / "configured.txt"
    configure_backend("file", file_path=state_file)
    with TestClient(make_app(HANDLERS)) as client:
        assert client.get("/").status_code == 200
        assert client.post("/admin/state/on").json() == {"maintenance": True}
        assert state_file.read_text(encoding="utf-8") == "1"
        assert_maintenance(client.get("/"))


@pytest.mark.anyio
async def test_local_file_written_from_outside_changes_the_state_within_the_check_interval(
    make_app: AppFactory, tmp_path: Path, log_records: list[logging.LogRecord]
) -> None:
    # The backend checks the file every 0.5 s (its default check_interval): a change
    # written from outside shows within that, not necessarily on the next request.
    state_file = tmp_path / "state.txt"
    app = make_app(HANDLERS, backend=LocalFileBackend(state_file))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).status_code == 200  # no file yet: off

        state_file.write_text("1\n", encoding="utf-8")
        on = await eventually(lambda: client.get("/"), lambda r: r.status_code != 200, timeout=2.0)
        assert_maintenance(on)

        state_file.write_text("off", encoding="utf-8")
        off = await eventually(lambda: client.get("/"), lambda r: r.status_code != 503, timeout=2.0)
        assert off.status_code == 200

        # An unreadable value: the last known state (off) is kept, no 500, logged once.
        state_file.write_text("perhaps", encoding="utf-8")
        statuses: list[int] = []

        async def errors_logged() -> list[logging.LogRecord]:
            statuses.append((await client.get("/")).status_code)
            return [r for r in log_records if r.levelno == logging.ERROR]

        await eventually(errors_logged, lambda found: len(found) > 0, timeout=2.0)
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/")).status_code == 200
        assert set(statuses) == {200}
        errors = [r for r in log_records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert "(7 characters)" in errors[0].getMessage()  # described, never repeated
        assert "perhaps" not in errors[0].getMessage()

        state_file.write_text("yes", encoding="utf-8")
        fixed = await eventually(
            lambda: client.get("/"), lambda r: r.status_code != 200, timeout=2.0
        )
        assert_maintenance(fixed)
        assert any("readable again" in r.getMessage() for r in log_records)


def test_two_apps_in_one_process_each_use_their_backend(make_app: AppFactory) -> None:
    backend_a, backend_b = MemoryBackend(False), MemoryBackend(True)
    app_a = make_app(HANDLERS, backend=backend_a)
    app_b = make_app(HANDLERS, backend=backend_b)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        assert a.get("/admin/state").json() == {"maintenance": False}
        assert b.get("/admin/state").json() == {"maintenance": True}
        assert a.get("/").status_code == 200
        assert_maintenance(b.get("/"))

        # set_maintenance_mode() in a handler writes the backend of that handler's app.
        assert a.post("/admin/state/on").json() == {"maintenance": True}
        assert b.post("/admin/state/off").json() == {"maintenance": False}
        assert_maintenance(a.get("/"))
        assert b.get("/").status_code == 200

    assert anyio.run(backend_a.get_value) is True
    assert anyio.run(backend_b.get_value) is False


def test_outside_a_request_the_latest_middleware_backend_is_used(make_app: AppFactory) -> None:
    backend = MemoryBackend(True)
    app = make_app(HANDLERS, backend=backend)
    assert anyio.run(get_maintenance_mode) is True
    anyio.run(set_maintenance_mode, False)
    assert anyio.run(backend.get_value) is False
    with TestClient(app) as client:
        assert client.get("/").status_code == 200


# --------------------------------------------------------------------------- overrides


def _make_backend(kind: str, tmp_path: Path, initial: bool) -> BaseStateBackend | None:
    if kind == "env":
        return None  # the default: LITESTAR_MAINTENANCE_MODE, read-only
    if kind == "memory":
        return MemoryBackend(initial)
    backend = LocalFileBackend(tmp_path / "state.txt")
    anyio.run(backend.set_value, initial)
    return backend


@pytest.mark.parametrize("kind", ["env", "memory", "file"])
@pytest.mark.parametrize(
    ("override", "initial"),
    [(maintenance_mode_on, False), (maintenance_mode_off, True)],
    ids=["on-block", "off-block"],
)
def test_override_in_an_admin_handler_holds_while_it_runs(
    make_app: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
    override: Callable[[], MaintenanceOverride],
    initial: bool,
) -> None:
    """A forced-off handler holds ``maintenance_mode_on()`` (or ``_off()``): other
    requests get the held state until the block exits, then the earlier state."""
    if kind == "env" and initial:
        monkeypatch.setenv(ENV_VAR, "1")
    backend = _make_backend(kind, tmp_path, initial)
    gate = Gate()

    @post("/admin/hold", status_code=200)
    @force_maintenance_mode_off
    async def hold() -> dict[str, bool]:
        async with override():
            inside = await get_maintenance_mode()
            gate.entered.set()
            await gate.released.wait()
        return {"inside": inside, "after": await get_maintenance_mode()}

    held = not initial
    with TestClient(make_app([*HANDLERS, hold], backend=backend)) as client:
        gate.bind(client)
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert client.get("/").status_code == (503 if initial else 200)
            future = request_in_thread(pool, client, "POST", "/admin/hold")
            try:
                gate.wait_entered()
                assert client.get("/").status_code == (503 if held else 200)
                assert client.get("/health").status_code == 200
                assert client.get("/admin/state").json() == {"maintenance": held}
                if kind == "env":
                    # Held in memory: the environment is not touched.
                    assert os.environ.get(ENV_VAR) == ("1" if initial else None)
                if kind == "file":
                    state = (tmp_path / "state.txt").read_text(encoding="utf-8")
                    assert state == ("1" if held else "0")
            finally:
                gate.release()
            response = future.result(timeout=30)
        assert response.status_code == 200
        assert response.json() == {"inside": held, "after": initial}
        assert client.get("/").status_code == (503 if initial else 200)
        assert client.get("/admin/state").json() == {"maintenance": initial}
    if kind == "file":
        assert (tmp_path / "state.txt").read_text(encoding="utf-8") == ("1" if initial else "0")


@pytest.mark.anyio
async def test_nested_overrides_on_the_env_backend_stay_in_memory(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, "0")

    @get("/admin/nest")
    @force_maintenance_mode_off
    async def nest() -> dict[str, Any]:
        seen: list[bool] = [await get_maintenance_mode()]
        async with maintenance_mode_on():
            seen.append(await get_maintenance_mode())
            async with maintenance_mode_on():
                seen.append(await get_maintenance_mode())
                async with maintenance_mode_off():  # an "on" block held meanwhile wins
                    seen.append(await get_maintenance_mode())
                env_inside = os.environ.get(ENV_VAR)
            seen.append(await get_maintenance_mode())
        seen.append(await get_maintenance_mode())
        return {"seen": seen, "env_inside": env_inside}

    async with AsyncTestClient(make_app([*HANDLERS, nest])) as client:
        response = await client.get("/admin/nest")
        assert response.status_code == 200
        assert response.json() == {
            "seen": [False, True, True, True, True, False],
            "env_inside": "0",
        }
        assert (await client.get("/")).status_code == 200
    assert os.environ[ENV_VAR] == "0"


@pytest.mark.anyio
async def test_override_is_released_when_the_handler_raises(make_app: AppFactory) -> None:
    backend = MemoryBackend(False)

    @post("/admin/fail")
    @force_maintenance_mode_off
    async def fail() -> None:
        async with maintenance_mode_on():
            raise RuntimeError("migration failed")

    async with AsyncTestClient(make_app([*HANDLERS, fail], backend=backend)) as client:
        assert (await client.post("/admin/fail")).status_code == 500
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/admin/state")).json() == {"maintenance": False}
    assert await backend.get_value() is False
