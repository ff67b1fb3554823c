"""The worked example of docs/adapters.md, ``examples/starlette_adapter.py``: a plain
Starlette adapter that passes every conformance scenario of ``maintenance_core.testing``.

docs/adapters.md includes both the example and this test file, so what the page shows
is what runs here.
"""

from __future__ import annotations

import re
from pathlib import Path

# --8<-- [start:conformance]
from typing import Any

import pytest
from maintenance_core import (
    MaintenanceConfig,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
)
from maintenance_core.testing import (
    Scenario,
    Subject,
    request,
    run_scenario,
    scenario_id,
    scenarios_for,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from examples.starlette_adapter import registry, with_maintenance

pytestmark = pytest.mark.anyio


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "ok"})


@force_maintenance_mode_off
async def open_(request: Request) -> JSONResponse:
    return JSONResponse({"message": "open"})


@force_maintenance_mode_on
async def closed(request: Request) -> JSONResponse:
    return JSONResponse({"message": "closed"})


async def both(request: Request) -> JSONResponse:
    return JSONResponse({"message": "both"})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


@force_maintenance_mode_off
async def ws_open(websocket: WebSocket) -> None:
    await ws(websocket)


def build(**options: Any) -> Any:
    """The standard routes of the conformance scenarios, guarded with *options*."""
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/open", open_),
            Route("/closed", closed),
            Route("/both", both, methods=["GET", "HEAD"]),
            WebSocketRoute("/ws", ws),
            WebSocketRoute("/ws-open", ws_open),
        ]
    )
    return with_maintenance(app, **options)


SUBJECT = Subject(
    name="starlette",
    build=build,
    registry=registry,
    env_var="STARLETTE_MAINTENANCE_MODE",
    request_type=Request,
    json_response=lambda content, status, headers: JSONResponse(content, status, headers),
)


@pytest.mark.parametrize("scenario", scenarios_for(SUBJECT), ids=scenario_id)
async def test_conformance(scenario: Scenario) -> None:
    await run_scenario(SUBJECT, scenario)


# --8<-- [end:conformance]


async def test_a_config_object_guards_the_app() -> None:
    app = build(config=MaintenanceConfig(enable_maintenance=True))
    response = await request(app, "GET", "/")
    assert response.status == 503


async def test_a_handler_gets_a_starlette_request_and_returns_a_starlette_response() -> None:
    def page(request: Request) -> Response:
        return Response(f"back soon: {request.url.path}", 503, media_type="text/plain")

    response = await request(build(enable_maintenance=True, response_handler=page), "GET", "/")
    assert (response.status, response.body) == (503, b"back soon: /")


def test_the_example_stays_about_forty_lines() -> None:
    import examples.starlette_adapter as example

    source = Path(example.__file__).read_text(encoding="utf-8")
    body = source.split('"""', 2)[2]  # without the module docstring
    code = [
        line
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith(("#", '"""'))
    ]
    assert len(code) <= 50, len(code)


# --- the docs page shows the code tested here ------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_the_docs_page_includes_the_example_and_this_test() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    assert '--8<-- "examples/starlette_adapter.py"' in page
    assert '--8<-- "tests/examples/test_starlette_adapter.py:conformance"' in page


async def test_the_docs_usage_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    (usage,) = [block for block in python_blocks(page) if "app = with_maintenance(" in block]
    namespace: dict[str, Any] = {}
    exec(compile(usage, str(DOCS_PAGE), "exec"), namespace)
    app = namespace["app"]
    monkeypatch.setenv("STARLETTE_MAINTENANCE_MODE", "1")
    assert (await request(app, "GET", "/")).status == 503
    assert (await request(app, "GET", "/health")).json() == {"status": "ok"}
    assert (await request(app, "GET", "/metrics")).status == 404  # no such route: Starlette's 404
    monkeypatch.setenv("STARLETTE_MAINTENANCE_MODE", "0")
    assert (await request(app, "GET", "/")).json() == {"message": "Hello World"}
