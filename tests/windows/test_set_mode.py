"""``set_maintenance_mode(True, start=..., end=...)`` on every backend, through each API."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fastapi_maintenance
import litestar_maintenance
import pytest
from maintenance_core import (
    BackendRegistry,
    BaseStateBackend,
    EnvVarBackend,
    LocalFileBackend,
    MemoryBackend,
)
from maintenance_core.errors import InvalidWindowError, StateNotSupportedError
from maintenance_core.state import MaintenanceState

from ._helpers import ENV_VARS, Flavor, build_app, client, utc_now, window_json

pytestmark = pytest.mark.anyio

SetMode = Callable[..., Awaitable[None]]
GetMode = Callable[..., Awaitable[bool]]


def module_of(flavor: Flavor) -> Any:
    return fastapi_maintenance if flavor == "fastapi" else litestar_maintenance


def registry_of(flavor: Flavor) -> BackendRegistry:
    return fastapi_maintenance.registry if flavor == "fastapi" else litestar_maintenance.registry


def open_window() -> tuple[datetime, datetime]:
    now = utc_now()
    return now - timedelta(minutes=5), now + timedelta(hours=2)


def future_window() -> tuple[datetime, datetime]:
    now = utc_now()
    return now + timedelta(hours=1), now + timedelta(hours=2)


def stored_in(path: Path) -> MaintenanceState:
    return MaintenanceState.from_text(path.read_text(encoding="utf-8"))


# --- through the adapters' module functions ---------------------------------------------


async def test_module_functions_store_a_window_in_the_configured_file(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    module.configure_backend("file", file_path=path)
    start, end = open_window()

    await module.set_maintenance_mode(True, start=start, end=end)

    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"on": True, "start": start.isoformat(), "end": end.isoformat()}
    assert await module.get_maintenance_mode() is True
    assert await registry_of(flavor).get_maintenance_state() == MaintenanceState(True, start, end)


async def test_module_functions_accept_iso_strings_with_offsets(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    module.configure_backend("file", file_path=path)
    start = (utc_now() + timedelta(days=1)).replace(microsecond=0)
    end = start + timedelta(minutes=90)
    tokyo = timezone(timedelta(hours=9))

    await module.set_maintenance_mode(
        True,
        start=start.astimezone(tokyo).isoformat(),
        end=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )

    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {"on": True, "start": start.isoformat(), "end": end.isoformat()}
    assert data["start"].endswith("+00:00")
    assert await module.get_maintenance_mode() is False  # not started yet


async def test_module_function_window_future_then_plain_values_clear_it(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    module.configure_backend("file", file_path=path)
    start, end = future_window()

    await module.set_maintenance_mode(True, start=start, end=end)
    assert stored_in(path) == MaintenanceState(True, start, end)
    assert await module.get_maintenance_mode() is False

    await module.set_maintenance_mode(True)
    assert path.read_text(encoding="utf-8") == "1"
    assert await module.get_maintenance_mode() is True

    await module.set_maintenance_mode(True, end=end)
    assert stored_in(path) == MaintenanceState(True, None, end)
    await module.set_maintenance_mode(False)
    assert path.read_text(encoding="utf-8") == "0"
    assert await module.get_maintenance_mode() is False


@pytest.mark.parametrize(
    "window",
    [
        {"start": "2031-11-21T22:00:00+00:00"},
        {"end": "2031-11-21T22:00:00+00:00"},
        {"start": "2031-11-21T22:00:00+00:00", "end": "2031-11-21T23:00:00+00:00"},
    ],
    ids=["start", "end", "both"],
)
async def test_off_with_a_window_is_an_invalid_window(
    flavor: Flavor, tmp_path: Path, window: dict[str, str]
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    module.configure_backend("file", file_path=path)

    with pytest.raises(InvalidWindowError) as caught:
        await module.set_maintenance_mode(False, **window)

    message = str(caught.value)
    assert "set_maintenance_mode(True, start=..., end=...)" in message
    assert "False without a window" in message
    assert path.read_text(encoding="utf-8") == "1"  # untouched


@pytest.mark.parametrize(
    ("window", "fragment"),
    [
        ({"start": datetime(2031, 1, 1, 12, 0)}, "has no time zone"),
        ({"end": "2031-01-01T12:00:00"}, "has no time zone"),
        ({"end": "soon"}, "not an ISO 8601 date"),
        ({"start": "2031-01-01T12:00Z", "end": "2031-01-01T11:00Z"}, "before it starts"),
        ({"end": "2001-01-01T00:00:00Z"}, "already past"),
    ],
    ids=["naive-datetime", "naive-string", "not-iso", "end-before-start", "end-past"],
)
async def test_bad_windows_raise_and_write_nothing(
    flavor: Flavor, tmp_path: Path, window: dict[str, Any], fragment: str
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    module.configure_backend("file", file_path=path)

    with pytest.raises(InvalidWindowError, match=fragment):
        await module.set_maintenance_mode(True, **window)
    assert not path.exists()


# --- through the core registry, on each built-in backend ---------------------------------


async def test_core_registry_on_memory_backend() -> None:
    registry = BackendRegistry("windows_core", EnvVarBackend)
    backend = MemoryBackend()
    start, end = open_window()

    await registry.set_maintenance_mode(True, backend, start=start, end=end)

    state = await registry.get_maintenance_state(backend)
    assert state == MaintenanceState(True, start, end)
    assert await registry.get_maintenance_mode(backend) is True
    assert await backend.get_value() is True

    start, end = future_window()
    await registry.set_maintenance_mode(True, backend, start=start, end=end)
    assert await registry.get_maintenance_mode(backend) is False
    assert await backend.get_value() is False
    assert (await backend.get_state()).start == start


async def test_core_registry_uses_the_configured_backend(tmp_path: Path) -> None:
    registry = BackendRegistry("windows_core_configured", EnvVarBackend)
    path = tmp_path / "state.txt"
    registry.configure_backend("file", file_path=path)
    start, end = open_window()

    await registry.set_maintenance_mode(True, start=start, end=end)

    assert stored_in(path) == MaintenanceState(True, start, end)
    assert await registry.get_maintenance_mode() is True


async def test_file_backend_stores_the_json_form_and_another_instance_reads_it(
    tmp_path: Path,
) -> None:
    registry = BackendRegistry("windows_file", EnvVarBackend)
    path = tmp_path / "state.txt"
    writer = LocalFileBackend(path)
    start, end = open_window()

    await registry.set_maintenance_mode(True, writer, start=start, end=end)

    text = path.read_text(encoding="utf-8")
    assert text == MaintenanceState(True, start, end).to_text()
    assert text.startswith("{")
    assert json.loads(text)["end"] == end.isoformat()
    reader = LocalFileBackend(path, check_interval=0)
    assert await reader.get_state() == MaintenanceState(True, start, end)
    assert await reader.get_value() is True
    assert await reader.read_state_now() == MaintenanceState(True, start, end)
    assert (await reader.read_state_now()).is_on_now() is True


async def test_file_backend_reads_a_window_written_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    now = utc_now()
    path.write_text(window_json(True, now + timedelta(hours=1), None), encoding="utf-8")
    backend = LocalFileBackend(path, check_interval=0)
    assert await backend.get_value() is False
    path.write_text(
        window_json(True, now - timedelta(hours=1), now + timedelta(hours=1)), encoding="utf-8"
    )
    assert (await backend.read_state_now()).is_on_now() is True
    path.write_text(
        window_json(True, now - timedelta(hours=2), now - timedelta(hours=1)), encoding="utf-8"
    )
    assert (await backend.read_state_now()).is_on_now() is False


# --- the read-only environment backend ---------------------------------------------------


async def test_env_backend_warns_and_changes_nothing(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    module = module_of(flavor)
    var = ENV_VARS[flavor]
    monkeypatch.setenv(var, "0")
    start, end = open_window()

    with caplog.at_level(logging.WARNING, logger="maintenance_core"):
        await module.set_maintenance_mode(True, start=start, end=end)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert var in warnings[0].getMessage()
    assert "read-only" in warnings[0].getMessage()
    assert await module.get_maintenance_mode() is False
    assert await registry_of(flavor).get_maintenance_state() == MaintenanceState(False)
    assert os.environ[var] == "0"


async def test_env_backend_still_validates_the_window(flavor: Flavor) -> None:
    module = module_of(flavor)
    with pytest.raises(InvalidWindowError, match="already past"):
        await module.set_maintenance_mode(True, end="2001-01-01T00:00Z")


async def test_env_backend_honours_a_json_window(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = module_of(flavor)
    start, end = open_window()
    monkeypatch.setenv(ENV_VARS[flavor], window_json(True, start, end))

    assert await module.get_maintenance_mode() is True
    state = await registry_of(flavor).get_maintenance_state()
    assert state == MaintenanceState(True, start, end)


async def test_env_backend_json_window_in_the_future_is_off(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = module_of(flavor)
    start, end = future_window()
    monkeypatch.setenv(ENV_VARS[flavor], window_json(True, start, end))
    assert await module.get_maintenance_mode() is False

    app = build_app(flavor)  # no backend: the adapter's environment variable
    async with client(app) as c:
        assert (await c.get("/")).status_code == 200


async def test_env_backend_json_window_counts_retry_after_down(
    flavor: Flavor, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utc_now()
    end = now + timedelta(hours=2)
    monkeypatch.setenv(ENV_VARS[flavor], window_json(True, now - timedelta(minutes=1), end))

    async with client(build_app(flavor)) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert abs(int(response.headers["retry-after"]) - 7200) <= 2


# --- a custom backend that stores only on/off --------------------------------------------


class OnOffOnly(BaseStateBackend):
    """A third-party backend written before windows existed."""

    def __init__(self) -> None:
        self.value = False
        self.writes: list[bool] = []

    async def get_value(self) -> bool:
        return self.value

    async def set_value(self, value: bool) -> None:
        self.writes.append(value)
        self.value = value

    def describe(self) -> str:
        return "on-off-only"


async def test_custom_backend_plain_on_off_still_works() -> None:
    registry = BackendRegistry("windows_custom", EnvVarBackend)
    backend = OnOffOnly()

    await registry.set_maintenance_mode(True, backend)
    assert backend.writes == [True]
    assert await registry.get_maintenance_mode(backend) is True
    assert await registry.get_maintenance_state(backend) == MaintenanceState(True)

    await registry.set_maintenance_mode(False, backend)
    assert backend.writes == [True, False]
    assert await registry.get_maintenance_mode(backend) is False
    assert await backend.read_state_now() == MaintenanceState(False)


@pytest.mark.parametrize("which", ["start", "end", "both"])
async def test_custom_backend_refuses_a_window_and_writes_nothing(which: str) -> None:
    registry = BackendRegistry("windows_custom_refuse", EnvVarBackend)
    backend = OnOffOnly()
    start, end = open_window()
    window = {
        "start": {"start": start},
        "end": {"end": end},
        "both": {"start": start, "end": end},
    }[which]

    with pytest.raises(StateNotSupportedError) as caught:
        await registry.set_maintenance_mode(True, backend, **window)

    message = str(caught.value)
    assert "on-off-only" in message
    assert "cannot store a maintenance window" in message
    assert "implement get_state() and set_state()" in message
    assert "file, redis, memory" in message
    assert backend.writes == []
    assert backend.value is False


async def test_custom_backend_serves_plain_on_through_the_middleware(flavor: Flavor) -> None:
    backend = OnOffOnly()
    backend.value = True
    async with client(build_app(flavor, backend)) as c:
        response = await c.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3600"


async def test_custom_backend_refuses_a_window_while_an_override_is_held() -> None:
    """The docs promise StateNotSupportedError "if the backend cannot store a window";
    an override being held must not turn that into a failure when the block ends."""
    registry = BackendRegistry("windows_custom_override", EnvVarBackend)
    backend = OnOffOnly()
    start, end = open_window()
    raised_inside: BaseException | None = None

    async with registry.maintenance_mode_on(backend):
        try:
            await registry.set_maintenance_mode(True, backend, start=start, end=end)
        except StateNotSupportedError as exc:
            raised_inside = exc

    assert isinstance(raised_inside, StateNotSupportedError)
    # The state from before the override (off) is back.
    assert backend.value is False
    assert await registry.get_maintenance_mode(backend) is False


# --- subclasses of built-in backends -------------------------------------------------------


class CountingFileBackend(LocalFileBackend):
    """Customises a built-in backend through the state contract, calling super()."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, check_interval=0)
        self.reads = 0
        self.writes: list[MaintenanceState] = []

    async def get_state(self) -> MaintenanceState:
        self.reads += 1
        return await super().get_state()

    async def set_state(self, state: MaintenanceState) -> None:
        self.writes.append(state)
        await super().set_state(state)


async def test_file_backend_subclass_calling_super_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    path.write_text("1", encoding="utf-8")
    backend = CountingFileBackend(path)
    registry = BackendRegistry("windows_subclass_read", EnvVarBackend)

    assert await registry.get_maintenance_mode(backend) is True
    assert await backend.get_value() is True  # the convenience goes through get_state
    assert backend.reads == 2


async def test_file_backend_subclass_calling_super_still_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = CountingFileBackend(path)
    registry = BackendRegistry("windows_subclass_write", EnvVarBackend)

    await registry.set_maintenance_mode(True, backend)
    await registry.set_maintenance_mode(True, backend, end="2999-01-01T00:00:00Z")

    assert [state.on for state in backend.writes] == [True, True]
    assert backend.writes[1].end is not None
    assert path.read_text(encoding="utf-8").startswith("{")


def test_overriding_the_boolean_methods_of_a_built_in_backend_warns() -> None:
    # The middleware reads get_state(): a get_value() override on a built-in backend
    # would be silently ignored, so defining one says so.
    with pytest.warns(UserWarning, match=r"overrides get_value\(\).*override get_state\(\)"):

        class OldStyle(LocalFileBackend):
            async def get_value(self) -> bool:
                return True

    with pytest.warns(UserWarning, match=r"overrides set_value\(\).*override set_state\(\)"):

        class OldStyleWriter(LocalFileBackend):
            async def set_value(self, value: bool) -> None:
                pass
