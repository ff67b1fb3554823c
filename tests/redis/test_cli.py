"""The installed ``fastapi-maintenance`` command with ``--backend redis --redis-url``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis

from tests.support.servers import free_port

from .conftest import BackendFactory
from .helpers import eventually, wait_subscribed

pytestmark = pytest.mark.anyio

SCRIPT = Path(sys.executable).parent / "fastapi-maintenance"

# Variables that would make rich colour or resize its output.
_STYLE_VARS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLUMNS")


async def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    env = {k: v for k, v in os.environ.items() if k not in _STYLE_VARS}
    env["NO_COLOR"] = "1"
    with anyio.fail_after(60):
        done = await anyio.run_process([os.fspath(SCRIPT), *args], env=env, check=False)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


async def test_on_status_off_change_what_a_backend_reads(
    make_backend: BackendFactory, raw: aioredis.Redis, redis_url: str
) -> None:
    reader = make_backend(url=redis_url, resync_interval=30)
    assert await reader.get_value() is False
    await wait_subscribed(raw, "maintenance_mode:changed")
    where = f"(redis: {redis_url} key maintenance_mode)"

    turned_on = await run_cli("on", "--backend", "redis", "--redis-url", redis_url)
    assert (turned_on.returncode, turned_on.stderr) == (0, "")
    assert turned_on.stdout == f"Maintenance mode is ON {where}\n"
    assert await raw.get("maintenance_mode") == b"1"
    # The command announces the change: a running instance follows by message.
    await eventually(reader.get_value, within=1.0, what="the running reader sees on")

    status = await run_cli("status", "--backend", "redis", "--redis-url", redis_url)
    assert (status.returncode, status.stdout) == (0, f"Maintenance mode is ON {where}\n")

    turned_off = await run_cli("off", "--backend", "redis", "--redis-url", redis_url)
    assert (turned_off.returncode, turned_off.stdout) == (0, f"Maintenance mode is OFF {where}\n")
    assert await raw.get("maintenance_mode") == b"0"

    async def reads_off() -> bool:
        return not await reader.get_value()

    await eventually(reads_off, within=1.0, what="the running reader sees off")
    status = await run_cli("status", "--backend", "redis", "--redis-url", redis_url)
    assert (status.returncode, status.stdout) == (0, f"Maintenance mode is OFF {where}\n")


@pytest.mark.parametrize("command", ["status", "on", "off"])
async def test_an_unreachable_redis_is_one_error_line(command: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = await run_cli(command, "--backend", "redis", "--redis-url", url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: Cannot ")
    assert url in lines[0]


async def test_the_status_line_redacts_the_password(redis_url: str) -> None:
    url = redis_url.replace("redis://", "redis://default:s3cret@")
    result = await run_cli("status", "--backend", "redis", "--redis-url", url)
    output = result.stdout + result.stderr
    assert "s3cret" not in output
    assert "default:***@" in output


async def test_status_shows_the_overrides_held_fleet_wide(
    make_backend: BackendFactory, redis_url: str
) -> None:
    import fastapi_maintenance as fm

    holder = make_backend(url=redis_url)
    where = f"(redis: {redis_url} key maintenance_mode)"
    async with fm.maintenance_mode_on(backend=holder), fm.maintenance_mode_off(backend=holder):
        held = await run_cli("status", "--backend", "redis", "--redis-url", redis_url)
    assert (held.returncode, held.stderr) == (0, "")
    assert held.stdout.splitlines() == [
        f"Maintenance mode is OFF {where}",  # the stored state; the leases decide in the apps
        "Overrides held fleet-wide: 1 on, 1 off",
    ]
    released = await run_cli("status", "--backend", "redis", "--redis-url", redis_url)
    assert released.stdout == f"Maintenance mode is OFF {where}\n"
