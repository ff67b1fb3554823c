"""A request already inside a handler when maintenance turns on completes normally,
on a real uvicorn, with the state changed by another writer (file or Redis)."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.load.apps import APP_NAME
from tests.load.driver import is_documented_503
from tests.load.helpers import APP, StateStore, server_log_args, server_problems
from tests.support.servers import uvicorn_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def test_a_request_inside_a_handler_when_maintenance_turns_on_completes_normally(
    store: StateStore, tmp_path: Path
) -> None:
    await store.set(False)
    log_args, log = server_log_args(tmp_path)
    with (
        anyio.fail_after(60),
        uvicorn_server(APP, env=store.app_env, args=log_args) as url,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=20) as http:
            before = await http.get("/fast", params={"i": 1})
            assert before.status_code == 200
            assert before.json() == {"app": APP_NAME, "i": 1}

            slow_answers: list[httpx.Response] = []

            async def slow() -> None:
                slow_answers.append(await http.get("/slow"))

            async def probe() -> dict[str, object]:
                answer = (await http.get("/probe")).json()
                assert isinstance(answer, dict)
                return answer

            async def fast() -> httpx.Response:
                return await http.get("/fast", params={"i": 2})

            async with anyio.create_task_group() as group:
                group.start_soon(slow)
                # /slow is inside its handler, which waits for maintenance to turn on.
                await eventually(probe, lambda answer: answer["inflight"] == 1, timeout=5.0)
                assert slow_answers == []
                await store.set(True)
                # New requests are refused (the file backend checks every 0.5 s)...
                refused = await eventually(fast, lambda r: r.status_code != 200, timeout=5.0)
                assert is_documented_503(refused.status_code, refused.headers, refused.content), (
                    refused.status_code,
                    refused.headers,
                    refused.content,
                )
            # ...and the one inside the handler got the handler's own answer.
            [answer] = slow_answers
            assert answer.status_code == 200, (answer.status_code, answer.text)
            body = answer.json()
            assert body["app"] == APP_NAME
            assert body["slow"] is True
            assert body["entered_while_off"] is True
            assert body["saw_maintenance"] is True
            assert (await probe())["inflight"] == 0
    assert server_problems(log) == []
