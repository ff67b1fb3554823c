"""A stored secret's scrypt runs in a worker thread, never on the event loop: one
request presenting a new value must not stall the other requests of the process."""

from __future__ import annotations

import threading

import anyio
import anyio.to_thread
import pytest
from maintenance_core import MemoryBackend
from maintenance_core.bypass import _StoredKey, hash_secret
from maintenance_core.state import MaintenanceState

from .apps import build, client_for
from .conftest import SECRET

pytestmark = pytest.mark.anyio

GUESS = "a-plausible-guess-Zx0cV9bN8mA7sD6"  # a value scrypt must check: never seen before


@pytest.mark.parametrize("where", ["header", "query"])
async def test_a_first_check_of_a_stored_secret_does_not_stall_other_requests(
    framework: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered = threading.Event()
    release = threading.Event()
    timed_out: list[bool] = []
    derive = _StoredKey._derive

    def held_derive(self: _StoredKey, presented: bytes) -> bytes:
        entered.set()
        timed_out.append(not release.wait(timeout=5))  # on the loop, this would block it
        return derive(self, presented)

    monkeypatch.setattr(_StoredKey, "_derive", held_derive)
    backend = MemoryBackend()
    await backend.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    app = build(framework, backend=backend)
    statuses: dict[str, int] = {}

    async with client_for(app) as client:

        async def guess() -> None:
            if where == "header":
                response = await client.get("/items", headers={"X-Maintenance-Bypass": GUESS})
            else:
                response = await client.get(f"/items?maintenance_bypass={GUESS}")
            statuses["guess"] = response.status_code

        async with anyio.create_task_group() as tg:
            tg.start_soon(guess)
            assert await anyio.to_thread.run_sync(entered.wait, 5), "scrypt never started"
            # scrypt is running for the guess: another request is answered meanwhile.
            statuses["other"] = (await client.get("/open")).status_code
            release.set()

    assert statuses == {"guess": 503, "other": 200}
    assert timed_out == [False], "the event loop waited for scrypt"
