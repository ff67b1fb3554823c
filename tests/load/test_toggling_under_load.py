"""Maintenance flipped every 100 ms by another process while a real uvicorn serves
a couple of hundred keep-alive connections: every answer is the app's own or the
documented 503, nothing else, no connection is dropped, and requests already
inside a handler when maintenance turns on complete normally.

Each run flips for ``$MAINTENANCE_LOAD_SECONDS`` seconds (20 by default), once on
the file backend and once on the Redis backend. Select these runs alone with
``pytest -m load``; ``pytest -s`` prints the counts.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.load.driver import drive_while
from tests.load.helpers import (
    APP,
    StateStore,
    load_seconds,
    server_log_args,
    server_problems,
    started_flipper,
)
from tests.support.servers import uvicorn_server

SECONDS = load_seconds()
# Startup, the drain of the last requests and the server's shutdown come on top.
OVERHEAD = 60

pytestmark = [pytest.mark.load, pytest.mark.anyio, pytest.mark.timeout(SECONDS + OVERHEAD + 30)]

CONNECTIONS = 200
SLOW_CONNECTIONS = 10  # of the CONNECTIONS, these ask /slow, which waits for maintenance
FLIP_INTERVAL = 0.1
# The flipper shares two cores with the server and the clients: it may fall behind
# its schedule, but not by half.
MIN_FLIP_SHARE = 0.5
# Maintenance is on about half of the time: each kind of answer must have its share.
MIN_STATUS_SHARE = 0.05
# Every connection carried many requests, one after the other (keep-alive).
MIN_REQUESTS = 5 * CONNECTIONS


async def test_every_answer_is_the_apps_or_the_documented_503_while_maintenance_flips(
    store: StateStore, tmp_path: Path
) -> None:
    log_args, log = server_log_args(tmp_path)
    await store.set(False)
    with (
        anyio.fail_after(SECONDS + OVERHEAD),
        uvicorn_server(APP, env=store.app_env, args=log_args) as url,
    ):
        # One request first: how a cold process answers a burst is test_cold_burst's concern.
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/probe")).status_code == 200
        async with started_flipper(store, seconds=SECONDS, interval=FLIP_INTERVAL) as flipper:
            # The load runs from before the first flip until the flipper has exited.
            tally, flips = await drive_while(
                url, flipper.run, connections=CONNECTIONS, slow_connections=SLOW_CONNECTIONS
            )
    problems = server_problems(log)

    report = f"[{store.kind}] {tally.summary()}; flipper: {flips}; server log problems: {problems}"
    print("\n" + report)

    assert flips.flips >= MIN_FLIP_SHARE * SECONDS / FLIP_INTERVAL, report
    assert flips.last is True, report  # so no /slow handler is left waiting
    assert tally.server_errors == 0, report
    assert tally.other_statuses == {}, report
    assert tally.unexpected == 0, report
    assert tally.connection_errors == 0, report
    assert tally.connections_opened == CONNECTIONS, report  # none closed, none replaced
    assert problems == [], report
    # Every request was answered, and the toggling was seen from both sides.
    answered = tally.app_answers + tally.slow_answers + tally.documented_503
    assert answered == tally.requests, report
    assert tally.requests >= MIN_REQUESTS, report
    assert tally.app_answers >= MIN_STATUS_SHARE * tally.requests, report
    assert tally.documented_503 >= MIN_STATUS_SHARE * tally.requests, report
    # Requests that were inside /slow when maintenance turned on completed normally
    # (unexpected == 0 covers the ones that did not).
    assert tally.slow_waited_for_maintenance > 0, report
