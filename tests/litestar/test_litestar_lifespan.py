"""Two Litestar apps in one process, each with its own backend: code running in an app's
lifespan (``on_startup``, ``on_shutdown``, ``lifespan=`` managers) uses that app's backend,
as FastAPI's does."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import litestar_maintenance
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from maintenance_core import MaintenanceConfig, MemoryBackend, StateBackend

EVENTS = ("lifespan enter", "startup", "sync startup", "lifespan exit", "shutdown")


@get("/mode", opt={"maintenance_mode": "off"})
async def mode() -> dict[str, bool]:
    return {"maintenance": await litestar_maintenance.get_maintenance_mode()}


def app_recording(seen: dict[str, StateBackend], **options: Any) -> Litestar:
    """An app whose lifespan code records the backend the module-level functions use."""

    async def record(event: str) -> None:
        await litestar_maintenance.get_maintenance_mode()  # reads without raising
        seen[event] = litestar_maintenance.registry.current_backend()

    async def startup() -> None:
        await record("startup")

    async def shutdown() -> None:
        await record("shutdown")

    def sync_startup(app: Litestar) -> None:
        seen["sync startup"] = litestar_maintenance.registry.current_backend()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await record("lifespan enter")
        yield
        await record("lifespan exit")

    return Litestar(
        [mode],
        plugins=[litestar_maintenance.MaintenancePlugin(**options)],
        on_startup=[startup, sync_startup],
        on_shutdown=[shutdown],
        lifespan=[lifespan],
    )


def run(app: Litestar) -> bool:
    """Start the app, ask it for the mode, stop it."""
    with TestClient(app) as client:
        maintenance: bool = client.get("/mode").json()["maintenance"]
    return maintenance


def test_each_apps_lifespan_uses_its_own_backend() -> None:
    on, off = MemoryBackend(True), MemoryBackend(False)
    seen_on: dict[str, StateBackend] = {}
    seen_off: dict[str, StateBackend] = {}
    app_on = app_recording(seen_on, backend=on)
    app_off = app_recording(seen_off, backend=off)  # built last: the registry's guess

    assert run(app_on) is True
    assert run(app_off) is False
    assert seen_on == dict.fromkeys(EVENTS, on)
    assert seen_off == dict.fromkeys(EVENTS, off)


def test_an_app_without_a_backend_uses_the_default_in_its_lifespan() -> None:
    seen: dict[str, StateBackend] = {}
    app = app_recording(seen)
    app_recording({}, backend=MemoryBackend(False))  # built later, never started
    litestar_maintenance.configure_backend("env")
    default = litestar_maintenance.registry.default_backend()

    run(app)
    assert seen == dict.fromkeys(EVENTS, default)


def test_a_config_object_binds_the_lifespan_too() -> None:
    backend = MemoryBackend(True)
    seen: dict[str, StateBackend] = {}
    app = app_recording(seen, config=MaintenanceConfig(backend=backend))
    app_recording({}, backend=MemoryBackend(False))
    run(app)
    assert seen == dict.fromkeys(EVENTS, backend)


def test_the_binding_ends_with_the_lifespan() -> None:
    app = app_recording({}, backend=MemoryBackend(True))
    later = MemoryBackend(False)
    app_recording({}, backend=later)
    run(app)
    # Outside any request or lifespan: the most recently built middleware's backend.
    assert litestar_maintenance.registry.current_backend() is later


@pytest.mark.anyio
async def test_a_failing_startup_hook_still_unbinds() -> None:
    backend = MemoryBackend(True)
    seen: dict[str, StateBackend] = {}

    def broken() -> None:
        raise RuntimeError("startup failed")

    app = app_recording(seen, backend=backend)
    app.on_startup.append(broken)
    later = MemoryBackend(False)
    app_recording({}, backend=later)
    incoming = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    # Litestar raises it again, in an exception group on newer versions.
    with pytest.raises(Exception) as raised:  # noqa: PT011
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)  # type: ignore[arg-type]
    assert "RuntimeError: startup failed" in "".join(traceback.format_exception(raised.value))
    assert [message["type"] for message in sent] == ["lifespan.startup.failed"]
    assert seen["shutdown"] is backend
    assert litestar_maintenance.registry.current_backend() is later
