"""Overrides on top of a stored window: they win while held, and the window comes back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import fastapi_maintenance
import litestar_maintenance
import pytest
from maintenance_core import LocalFileBackend
from maintenance_core.state import MaintenanceState

from tests.support.waiting import eventually

from ._helpers import Flavor, assert_retry_after_counts_down_to, build_app, client, utc_now

pytestmark = pytest.mark.anyio


def module_of(flavor: Flavor) -> Any:
    return fastapi_maintenance if flavor == "fastapi" else litestar_maintenance


async def test_off_override_during_an_open_window(flavor: Flavor, tmp_path: Path) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    end = utc_now() + timedelta(hours=2)
    start = utc_now() - timedelta(minutes=10)
    await module.set_maintenance_mode(True, backend, start=start, end=end)
    window_text = path.read_text(encoding="utf-8")
    window = MaintenanceState(True, start, end)

    async with client(build_app(flavor, backend)) as c:
        assert (await c.get("/")).status_code == 503

        async with module.maintenance_mode_off(backend):
            inside = await c.get("/")
            assert inside.status_code == 200
            assert inside.json() == {"ok": True}
            assert await module.get_maintenance_mode(backend) is False
            # Other processes see the override: the file says off while it is held.
            assert path.read_text(encoding="utf-8") == "0"

        after = await c.get("/")

    assert path.read_text(encoding="utf-8") == window_text
    assert json.loads(window_text) == {
        "on": True,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    assert await LocalFileBackend(path).get_state() == window
    assert await module.get_maintenance_mode(backend) is True
    assert after.status_code == 503
    assert_retry_after_counts_down_to(after.headers, end)


async def test_on_override_while_the_window_is_in_the_future(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    start = utc_now() + timedelta(hours=1)
    end = start + timedelta(hours=1)
    await module.set_maintenance_mode(True, backend, start=start, end=end)
    window_text = path.read_text(encoding="utf-8")

    async with client(build_app(flavor, backend)) as c:
        assert (await c.get("/")).status_code == 200

        async with module.maintenance_mode_on(backend):
            inside = await c.get("/")
            assert inside.status_code == 503
            # The override has no end: the default Retry-After, not the future window's.
            assert inside.headers["retry-after"] == "3600"
            assert await module.get_maintenance_mode(backend) is True
            assert path.read_text(encoding="utf-8") == "1"

        after = await c.get("/")

    assert after.status_code == 200
    assert path.read_text(encoding="utf-8") == window_text
    assert await LocalFileBackend(path).get_state() == MaintenanceState(True, start, end)
    assert await module.get_maintenance_mode(backend) is False


async def test_nested_overrides_restore_the_window(flavor: Flavor, tmp_path: Path) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    end = utc_now() + timedelta(hours=3)
    await module.set_maintenance_mode(True, backend, end=end)
    window_text = path.read_text(encoding="utf-8")

    async with module.maintenance_mode_off(backend):
        assert path.read_text(encoding="utf-8") == "0"
        async with module.maintenance_mode_on(backend):
            assert path.read_text(encoding="utf-8") == "1"
            assert await module.get_maintenance_mode(backend) is True
        assert path.read_text(encoding="utf-8") == "0"
        assert await module.get_maintenance_mode(backend) is False

    assert path.read_text(encoding="utf-8") == window_text
    assert await module.get_maintenance_mode(backend) is True


async def test_override_restores_the_window_after_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    end = utc_now() + timedelta(hours=1)
    await fastapi_maintenance.set_maintenance_mode(True, backend, end=end)
    window_text = path.read_text(encoding="utf-8")

    with pytest.raises(RuntimeError, match="migration failed"):
        async with fastapi_maintenance.maintenance_mode_off(backend):
            raise RuntimeError("migration failed")

    assert path.read_text(encoding="utf-8") == window_text


async def test_override_restores_the_window_after_a_cancellation(tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    end = utc_now() + timedelta(hours=1)
    await litestar_maintenance.set_maintenance_mode(True, backend, end=end)
    window_text = path.read_text(encoding="utf-8")
    inside = anyio.Event()

    async def hold() -> None:
        async with litestar_maintenance.maintenance_mode_off(backend):
            inside.set()
            await anyio.Event().wait()  # until cancelled

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold)
        await inside.wait()
        assert path.read_text(encoding="utf-8") == "0"
        tg.cancel_scope.cancel()

    assert path.read_text(encoding="utf-8") == window_text


async def test_window_set_while_an_override_is_held_applies_after_it(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = module_of(flavor)
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    await module.set_maintenance_mode(False, backend)
    end = utc_now() + timedelta(hours=1)

    async with module.maintenance_mode_off(backend):
        await module.set_maintenance_mode(True, backend, end=end)
        # The override still holds: the new window waits for it to end.
        assert path.read_text(encoding="utf-8") == "0"
        assert await module.get_maintenance_mode(backend) is False

    assert await LocalFileBackend(path).get_state() == MaintenanceState(True, None, end)
    assert await module.get_maintenance_mode(backend) is True


async def test_override_keeps_a_window_that_ends_while_it_is_held(tmp_path: Path) -> None:
    """The baseline is restored as stored; an ended window means off, without a write."""
    path = tmp_path / "state.txt"
    backend = LocalFileBackend(path)
    end = utc_now() + timedelta(seconds=0.5)
    await backend.set_state(MaintenanceState.scheduled(None, end))
    window_text = path.read_text(encoding="utf-8")

    async def clock() -> datetime:
        return utc_now()

    async with fastapi_maintenance.maintenance_mode_on(backend):
        await eventually(clock, lambda now: now >= end, timeout=3)
        assert await fastapi_maintenance.get_maintenance_mode(backend) is True

    assert path.read_text(encoding="utf-8") == window_text
    assert await fastapi_maintenance.get_maintenance_mode(backend) is False
