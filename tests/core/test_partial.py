"""Partial maintenance through the public API: read-only and groups, stored and held.

The route groups of real apps are tested with each adapter; here the bare core
guard (no groups) and the module-level functions.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi_maintenance import (
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    maintenance_mode_on,
    set_maintenance_mode,
)
from maintenance_core import (
    ConfigurationError,
    Coverage,
    LocalFileBackend,
    MemoryBackend,
    maintenance_group,
)
from maintenance_core.coverage import MAX_GROUP_LENGTH, MAX_GROUPS, normalize_groups
from maintenance_core.errors import StateNotSupportedError
from maintenance_core.responses import DEFAULT_DETAIL, READ_ONLY_DETAIL
from maintenance_core.state import MaintenanceState

pytestmark = pytest.mark.anyio


def build(backend: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    def list_items() -> str:
        return "items"

    @app.post("/items")
    def create_item() -> str:
        return "created"

    @app.post("/admin/migrate")
    @force_maintenance_mode_off
    def migrate() -> str:
        return "migrating"

    @app.get("/legacy")
    @force_maintenance_mode_on
    def legacy() -> str:
        return "legacy"

    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_read_only_state_refuses_writes_and_serves_reads(tmp_path: Any) -> None:
    backend = LocalFileBackend(tmp_path / "state")
    await set_maintenance_mode(True, backend, read_only=True)
    async with client(build(backend)) as c:
        read = await c.get("/items")
        options = await c.options("/items")
        write = await c.post("/items")
        forced_off = await c.post("/admin/migrate")
        forced_on = await c.get("/legacy")
    assert read.status_code == 200
    assert options.status_code == 405  # the router's own answer: reads are not refused
    assert write.status_code == 503
    assert write.json() == {"detail": READ_ONLY_DETAIL}
    assert write.headers["retry-after"] == "3600"
    assert write.headers["cache-control"] == "no-store"
    assert forced_off.text == '"migrating"'
    # A route forced on is closed, not read-only: the plain maintenance answer.
    assert forced_on.status_code == 503
    assert forced_on.json() == {"detail": DEFAULT_DETAIL}


async def test_the_file_keeps_read_only_and_groups_for_other_processes(tmp_path: Any) -> None:
    path = tmp_path / "state"
    await set_maintenance_mode(True, LocalFileBackend(path), read_only=True, groups=["a", "b"])
    state = await LocalFileBackend(path).get_state()  # a fresh reader, as another process
    assert state.coverage == Coverage(True, frozenset({"a", "b"}))
    await set_maintenance_mode(True, LocalFileBackend(path))
    assert (await LocalFileBackend(path).get_state()).coverage.whole_site
    assert path.read_text() == "1"  # whole-site on is still stored as 0.0.5 stored it


async def test_a_read_only_override_holds_then_restores_the_stored_state() -> None:
    backend = MemoryBackend()
    async with client(build(backend)) as c:
        async with maintenance_mode_on(backend, read_only=True):
            assert (await c.get("/items")).status_code == 200
            assert (await c.post("/items")).status_code == 503
            async with maintenance_mode_on(backend):  # a whole-site one joins: all closed
                assert (await c.get("/items")).status_code == 503
            assert (await c.get("/items")).status_code == 200
        assert (await c.post("/items")).status_code == 200
    assert (await backend.get_state()).coverage.whole_site


async def test_concurrent_overrides_cover_at_least_what_each_covers() -> None:
    backend = MemoryBackend()
    entered = anyio.Event()
    release = anyio.Event()

    async def hold(**coverage: Any) -> None:
        async with maintenance_mode_on(backend, **coverage):
            entered.set()
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: hold(groups=["payments"]))
        await entered.wait()
        async with maintenance_mode_on(backend, groups=["search"], read_only=True):
            stored = await backend.get_state()
            # Groups: both; read-only: only if both were (the payments one is not).
            assert stored.coverage == Coverage(False, frozenset({"payments", "search"}))
        stored = await backend.get_state()
        assert stored.coverage == Coverage(False, frozenset({"payments"}))
        release.set()
    assert await backend.get_state() == MaintenanceState(False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"groups": [""]}, "empty"),
        ({"groups": ["x" * (MAX_GROUP_LENGTH + 1)]}, "characters long"),
        ({"groups": [f"g{n}" for n in range(MAX_GROUPS + 1)]}, "More than"),
        ({"groups": ["ok", 3]}, "not a string"),
        ({"groups": ["tab\there"]}, "control characters"),
        ({"read_only": "yes"}, "True or False"),
    ],
)
async def test_bad_partial_options_are_refused_without_echoing_them(
    kwargs: dict[str, Any], message: str
) -> None:
    backend = MemoryBackend()
    with pytest.raises(ConfigurationError, match=message) as caught:
        await set_maintenance_mode(True, backend, **kwargs)
    for value in kwargs.get("groups", []):
        if isinstance(value, str) and value:
            assert value not in str(caught.value)
    with pytest.raises(ConfigurationError, match=message):
        maintenance_mode_on(backend, **kwargs)
    assert await backend.get_state() == MaintenanceState(False)


async def test_partial_options_do_not_apply_to_off() -> None:
    with pytest.raises(ConfigurationError, match="do not apply"):
        await set_maintenance_mode(False, MemoryBackend(), read_only=True)
    with pytest.raises(ConfigurationError, match="do not apply"):
        await set_maintenance_mode(False, MemoryBackend(), groups=["a"])


async def test_a_backend_that_stores_only_on_off_refuses_a_partial_state() -> None:
    from maintenance_core import BaseStateBackend

    class Flag(BaseStateBackend):
        value = False

        async def get_value(self) -> bool:
            return self.value

        async def set_value(self, value: bool) -> None:
            self.value = value

    backend = Flag()
    with pytest.raises(StateNotSupportedError, match="read-only"):
        await set_maintenance_mode(True, backend, read_only=True)
    assert backend.value is False


def test_group_names_are_checked_once_and_a_single_name_is_one_group() -> None:
    assert normalize_groups("payments") == frozenset({"payments"})
    assert normalize_groups(["a", "a", "b"]) == frozenset({"a", "b"})
    with pytest.raises(ValueError, match="at least one"):
        maintenance_group()
    with pytest.raises(ValueError, match="empty"):
        maintenance_group(" ")


@pytest.mark.parametrize("source", ["enable_maintenance", "stored", "environment"])
async def test_a_partial_block_never_narrows_maintenance_that_is_on(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maintenance on for the whole site, by any means: a read-only or grouped block
    held meanwhile adds to it, it does not reopen reads or other routes."""
    from fastapi_maintenance.backends import EnvVarBackend

    backend: Any
    if source == "environment":
        monkeypatch.setenv("FASTAPI_MAINTENANCE_MODE", "1")
        backend = EnvVarBackend()
    else:
        backend = MemoryBackend(source == "stored")
    app = FastAPI()

    @app.get("/items")
    def list_items() -> str:
        return "items"

    app.add_middleware(
        MaintenanceModeMiddleware,
        backend=backend,
        enable_maintenance=True if source == "enable_maintenance" else None,
    )
    async with client(app) as c:
        assert (await c.get("/items")).status_code == 503
        async with maintenance_mode_on(backend, read_only=True):
            assert (await c.get("/items")).status_code == 503
        async with maintenance_mode_on(backend, groups=["nothing"]):
            assert (await c.get("/items")).status_code == 503
        assert (await c.get("/items")).status_code == 503


async def test_switching_on_while_a_partial_block_is_held_takes_effect_at_once() -> None:
    backend = MemoryBackend()
    async with client(build(backend)) as c:
        async with maintenance_mode_on(backend, read_only=True):
            assert (await c.get("/items")).status_code == 200
            await set_maintenance_mode(True, backend)
            assert (await c.get("/items")).status_code == 503
        assert (await c.get("/items")).status_code == 503  # the state set meanwhile stays
    assert await backend.get_state() == MaintenanceState(True)


async def test_blocks_naming_more_groups_together_than_a_state_holds_cover_every_group() -> None:
    backend = MemoryBackend()
    async with (
        maintenance_mode_on(backend, groups=[f"a{n}" for n in range(40)]),
        maintenance_mode_on(backend, groups=[f"b{n}" for n in range(40)]),
    ):
        state = await backend.get_state()
        assert state.on
        assert state.coverage.whole_site
    assert await backend.get_state() == MaintenanceState(False)
