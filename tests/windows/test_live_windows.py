"""A window opens and closes by itself: nothing runs a timer, every read checks the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import fastapi_maintenance
import litestar_maintenance
import pytest
from maintenance_core import MemoryBackend, StateReader
from maintenance_core.state import MaintenanceState

from tests.support.waiting import eventually

from ._helpers import Flavor, build_app, client, utc_now

pytestmark = pytest.mark.anyio


async def test_module_functions_follow_a_window_from_before_start_to_after_end(
    flavor: Flavor, tmp_path: Path
) -> None:
    module = fastapi_maintenance if flavor == "fastapi" else litestar_maintenance
    module.configure_backend("file", file_path=tmp_path / "state.txt")
    start = utc_now() + timedelta(seconds=1.5)
    end = start + timedelta(seconds=1)
    await module.set_maintenance_mode(True, start=start, end=end)
    app = build_app(flavor)  # the configured backend

    async with client(app) as c:
        before = await module.get_maintenance_mode()
        served_before = (await c.get("/")).status_code
        assert utc_now() < start, "the machine was too slow to look before the start"
        assert before is False
        assert served_before == 200

        await eventually(module.get_maintenance_mode, lambda on: on, timeout=4)
        assert utc_now() >= start
        assert (await c.get("/")).status_code == 503

        await eventually(module.get_maintenance_mode, lambda on: not on, timeout=4)
        assert utc_now() >= end
        response = await c.get("/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


async def test_state_reader_evaluates_the_window_on_every_read() -> None:
    end = utc_now() + timedelta(seconds=1)
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState.scheduled(None, end))
    reader = StateReader(backend)

    assert await reader.is_on() is True
    assert reader.window_end() == end
    await eventually(reader.is_on, lambda on: not on, timeout=4)
    assert utc_now() >= end
    # The state itself is unchanged: only the clock moved.
    assert await backend.get_state() == MaintenanceState(True, None, end)


async def test_window_end_is_only_reported_while_the_stored_state_decides() -> None:
    end = utc_now() + timedelta(hours=1)
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState.scheduled(None, end))

    reader = StateReader(backend)
    assert reader.window_end() is None  # nothing read yet
    assert await reader.is_on() is True
    assert reader.window_end() == end

    forced = StateReader(backend, enable_maintenance=True)
    assert await forced.is_on() is True
    assert forced.window_end() is None

    await backend.set_state(MaintenanceState(True))
    assert await reader.is_on() is True
    assert reader.window_end() is None


def _state(start: datetime | None, end: datetime | None) -> MaintenanceState:
    return MaintenanceState(True, start, end)


async def test_memory_backend_get_value_follows_the_clock() -> None:
    now = utc_now()
    backend = MemoryBackend()
    await backend.set_state(_state(now + timedelta(hours=1), None))
    assert await backend.get_value() is False
    await backend.set_state(_state(now - timedelta(hours=1), now + timedelta(hours=1)))
    assert await backend.get_value() is True
    await backend.set_state(_state(now - timedelta(hours=2), now - timedelta(hours=1)))
    assert await backend.get_value() is False
    await backend.set_state(_state(now - timedelta(hours=2), None))
    assert await backend.get_value() is True
