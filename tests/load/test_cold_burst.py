"""A process that has not read the state yet, hit by a couple of hundred requests
at the same moment: each one gets the stored state's answer.

Right after a start or a deploy under traffic, every request of such a burst
arrives before the process's first state read has completed. With maintenance
on, every one of them must get the documented 503, and the server must not log
an outage that is not one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest

from tests.load.burst import Answer, burst
from tests.load.helpers import APP, StateStore, server_log_args, server_problems
from tests.support.servers import uvicorn_server

pytestmark = [pytest.mark.load, pytest.mark.anyio]

CONNECTIONS = 200


async def test_a_cold_burst_during_maintenance_gets_only_the_documented_503(
    store: StateStore, tmp_path: Path
) -> None:
    await store.set(True)
    log_args, log = server_log_args(tmp_path)
    # No request before the burst: uvicorn_server waits for the port with bare TCP connects.
    with (
        anyio.fail_after(60),
        uvicorn_server(APP, env=store.app_env, args=log_args) as url,
    ):
        results = await burst(url, "/fast?i=1", CONNECTIONS)
    problems = server_problems(log)

    seen = Counter(
        str(result.status) if isinstance(result, Answer) else type(result).__name__
        for result in results
    )
    documented = sum(1 for r in results if isinstance(r, Answer) and r.documented_503)
    report = (
        f"[{store.kind}] {CONNECTIONS} requests at once to a cold process, maintenance on: "
        f"documented 503 {documented}, answers {dict(seen)}, server log problems: {problems}"
    )
    print("\n" + report)
    assert documented == CONNECTIONS, report
    assert problems == [], report
