"""Maintenance limited to route groups, in Litestar apps.

A handler's groups are its OpenAPI tags on any layer (as ``resolve_tags()`` adds
them up), ``opt={"maintenance_group": ...}`` on any layer (added up too, where
Litestar's merged ``opt`` keeps the closest layer's value) and the
``maintenance_group`` decorator. These tests turn maintenance on for the
``payments`` group with a ``MemoryBackend`` and check which handlers answer
``503``; most run with ``MaintenancePlugin`` and with ``MaintenanceModeMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

import pytest
from litestar import Controller, Litestar, Router, WebSocket, asgi, delete, get, post, websocket
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send
from litestar_maintenance import _adapter as adapter
from litestar_maintenance import (
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    maintenance_group,
    set_maintenance_mode,
)
from litestar_maintenance.backends import MemoryBackend
from litestar_maintenance.decorators import GROUP_OPT_KEY

from .helpers import MAINTENANCE_BODY, AppFactory, echo_socket, websocket_result

PAYMENTS = ["payments"]


def turn_on(client: TestClient[Litestar], backend: MemoryBackend, **coverage: Any) -> None:
    """``await set_maintenance_mode(True, backend, **coverage)`` in the client's loop."""
    client.blocking_portal.call(partial(set_maintenance_mode, True, backend, **coverage))


def turn_off(client: TestClient[Litestar], backend: MemoryBackend) -> None:
    client.blocking_portal.call(partial(set_maintenance_mode, False, backend))


def statuses(client: TestClient[Litestar], *requests: str) -> dict[str, int]:
    """``{"METHOD /path": status}`` for each ``"METHOD /path"`` (``GET`` when no method)."""
    found: dict[str, int] = {}
    for line in requests:
        method, _, path = line.rpartition(" ")
        response = client.request(method or "GET", path)
        if response.status_code == 503:
            # The maintenance answer: the default one, or its read-only form.
            detail = response.json()["detail"]
            assert response.json() == MAINTENANCE_BODY or "read-only" in detail, detail
            assert response.headers["retry-after"] == "3600"
        found[line] = response.status_code
    return found


def expect(refused: Iterable[str], served: Iterable[str]) -> dict[str, int]:
    return {**dict.fromkeys(refused, 503), **dict.fromkeys(served, 200)}


# -- tags ------------------------------------------------------------------------------


@get("/pay", tags=["payments"])
async def pay() -> str:
    return "pay"


@get("/pay-and-search", tags=["search", "payments"])
async def pay_and_search() -> str:
    return "both"


@get("/search", tags=["search"])
async def search() -> str:
    return "search"


@get("/untagged")
async def untagged() -> str:
    return "untagged"


def test_the_handler_s_own_tags_put_it_in_a_group(make_app: AppFactory) -> None:
    backend = MemoryBackend()
    app = make_app([pay, pay_and_search, search, untagged], backend=backend)
    paths = ["/pay", "/pay-and-search", "/search", "/untagged"]
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, *paths) == expect(
            ["/pay", "/pay-and-search"], ["/search", "/untagged"]
        )
        turn_on(client, backend, groups=["search", "other"])
        assert statuses(client, *paths) == expect(
            ["/pay-and-search", "/search"], ["/pay", "/untagged"]
        )


class PaymentsController(Controller):
    path = "/controller"
    tags = ["payments"]  # noqa: RUF012 - Litestar's layer attribute

    @get("/a")
    async def a(self) -> str:
        return "a"


class PlainController(Controller):
    path = "/plain-controller"

    @get("/a")
    async def a(self) -> str:
        return "a"


@get("/a")
async def in_router() -> str:
    return "in router"


@get("/b")
async def in_plain_router() -> str:
    return "in plain router"


def test_tags_of_every_layer_count(make_app: AppFactory) -> None:
    backend = MemoryBackend()
    tagged_router = Router("/router", route_handlers=[in_router], tags=["payments"])
    plain_router = Router("/plain-router", route_handlers=[in_plain_router, PlainController])
    app = make_app(
        [PaymentsController, tagged_router, Router("/outer", route_handlers=[plain_router])],
        backend=backend,
    )
    tagged_app = make_app([untagged, search], backend=backend, tags=["payments"])
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(
            client,
            "/controller/a",
            "/router/a",
            "/outer/plain-router/b",
            "/outer/plain-router/plain-controller/a",
        ) == expect(
            ["/controller/a", "/router/a"],
            ["/outer/plain-router/b", "/outer/plain-router/plain-controller/a"],
        )
    with TestClient(tagged_app) as client:
        assert statuses(client, "/untagged", "/search") == expect(["/untagged", "/search"], [])


def test_group_names_are_case_sensitive(make_app: AppFactory) -> None:
    @get("/capital", tags=["Payments"])
    async def capital() -> str:
        return "capital"

    @get("/opt", opt={GROUP_OPT_KEY: "PAYMENTS"})
    async def opt_upper() -> str:
        return "opt"

    @get("/marked")
    @maintenance_group("Payments")
    async def marked() -> str:
        return "marked"

    backend = MemoryBackend()
    app = make_app([capital, opt_upper, marked, pay], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, "/capital", "/opt", "/marked", "/pay") == expect(
            ["/pay"], ["/capital", "/opt", "/marked"]
        )


# -- the opt key -------------------------------------------------------------------------


def test_the_opt_key_on_any_layer_adds_up(make_app: AppFactory) -> None:
    @get("/own", opt={GROUP_OPT_KEY: "payments"})
    async def own() -> str:
        return "own"

    @get("/listed", opt={GROUP_OPT_KEY: ["search", "payments"]})
    async def listed() -> str:
        return "listed"

    @get("/elsewhere", opt={GROUP_OPT_KEY: ["search"]})
    async def elsewhere() -> str:
        return "elsewhere"

    class Billing(Controller):
        path = "/controller"
        opt = {GROUP_OPT_KEY: "payments"}  # noqa: RUF012 - Litestar's layer attribute

        @get("/a")
        async def a(self) -> str:
            return "a"

        # Litestar's merged opt keeps only this value: the controller's still counts.
        @get("/closer", opt={GROUP_OPT_KEY: "search"})
        async def closer(self) -> str:
            return "closer"

    @get("/x")
    async def in_router() -> str:
        return "x"

    @get("/y", opt={GROUP_OPT_KEY: ["search"]})
    async def closer_in_router() -> str:
        return "y"

    router = Router(
        "/router", route_handlers=[in_router, closer_in_router], opt={GROUP_OPT_KEY: "payments"}
    )
    backend = MemoryBackend()
    app = make_app([own, listed, elsewhere, Billing, router, untagged], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(
            client,
            "/own",
            "/listed",
            "/elsewhere",
            "/controller/a",
            "/controller/closer",
            "/router/x",
            "/router/y",
            "/untagged",
        ) == expect(
            ["/own", "/listed", "/controller/a", "/controller/closer", "/router/x", "/router/y"],
            ["/elsewhere", "/untagged"],
        )
        turn_on(client, backend, groups=["search"])
        assert statuses(client, "/controller/a", "/controller/closer", "/router/y") == expect(
            ["/controller/closer", "/router/y"], ["/controller/a"]
        )


def test_the_opt_key_on_the_app(make_app: AppFactory) -> None:
    backend = MemoryBackend()
    app = make_app([untagged, search], backend=backend, opt={GROUP_OPT_KEY: ["payments"]})
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, "/untagged", "/search") == expect(["/untagged", "/search"], [])
        turn_on(client, backend, groups=["other"])
        assert statuses(client, "/untagged", "/search") == expect([], ["/untagged", "/search"])


def test_an_invalid_opt_value_is_logged_once_and_ignored(
    make_app: AppFactory, log_records: list[logging.LogRecord]
) -> None:
    @get("/a")
    async def a() -> str:
        return "a"

    @get("/b", tags=["payments"])
    async def b() -> str:
        return "b"

    @get("/c", opt={GROUP_OPT_KEY: ""})
    async def c() -> str:
        return "c"

    router = Router("/bad", route_handlers=[a, b], opt={GROUP_OPT_KEY: {"payments": True}})
    backend = MemoryBackend()
    app = make_app([router, c], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        for _ in range(3):
            assert statuses(client, "/bad/a", "/bad/b", "/c") == expect(
                ["/bad/b"], ["/bad/a", "/c"]
            )
    errors = [r.getMessage() for r in log_records if r.levelno >= logging.ERROR]
    assert len(errors) == 2, errors
    assert any("Invalid maintenance_group option: a dict" in e and "'/bad'" in e for e in errors)
    assert any("Group 1 is empty" in e and "/c" in e for e in errors)


# -- the decorator ---------------------------------------------------------------------------


def test_the_decorator_on_functions_handlers_controllers_and_routers(
    make_app: AppFactory,
) -> None:
    @get("/below")
    @maintenance_group("payments")
    async def below() -> str:
        return "below"

    @maintenance_group("payments")
    @get("/above")
    async def above() -> str:
        return "above"

    @maintenance_group("billing")
    @get("/above-opt", opt={GROUP_OPT_KEY: "payments"})
    async def above_opt() -> str:
        return "above-opt"

    @maintenance_group("payments")
    class Marked(Controller):
        path = "/controller"

        @get("/a")
        async def a(self) -> str:
            return "a"

    @get("/x")
    async def in_router() -> str:
        return "x"

    router = maintenance_group("payments")(Router("/router", route_handlers=[in_router]))
    backend = MemoryBackend()
    app = make_app([below, above, above_opt, Marked, router, untagged], backend=backend)
    requests = ["/below", "/above", "/above-opt", "/controller/a", "/router/x", "/untagged"]
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, *requests) == expect(requests[:-1], ["/untagged"])
        turn_on(client, backend, groups=["billing"])
        assert statuses(client, *requests) == expect(["/above-opt"], requests[:2] + requests[3:])
    assert above_opt.opt[GROUP_OPT_KEY] == ["billing", "payments"]


def test_tags_opt_and_marker_add_up(make_app: AppFactory) -> None:
    @get("/all", tags=["search"], opt={GROUP_OPT_KEY: "billing"})
    @maintenance_group("payments")
    async def everything() -> str:
        return "all"

    backend = MemoryBackend()
    app = make_app([everything, search, untagged], backend=backend)
    with TestClient(app) as client:
        for group, refused in (("payments", ["/all"]), ("billing", ["/all"])):
            turn_on(client, backend, groups=[group])
            assert statuses(client, "/all", "/search", "/untagged") == expect(
                refused, ["/search", "/untagged"]
            )
        turn_on(client, backend, groups=["search"])
        assert statuses(client, "/all", "/search", "/untagged") == expect(
            ["/all", "/search"], ["/untagged"]
        )


def test_the_decorator_refuses_an_invalid_name() -> None:
    with pytest.raises(ValueError, match="needs at least one group name"):
        maintenance_group()
    with pytest.raises(ValueError, match="empty"):
        maintenance_group(" ")


# -- markers and read-only keep their meaning -------------------------------------------------


def test_a_handler_forced_off_in_the_group_stays_reachable(make_app: AppFactory) -> None:
    @force_maintenance_mode_off
    @post("/pay/webhook", tags=["payments"])
    async def webhook() -> str:
        return "webhook"

    @get("/pay/status", tags=["payments"], opt={"maintenance_mode": "off"})
    async def pay_status() -> str:
        return "status"

    backend = MemoryBackend()
    app = make_app([webhook, pay_status, pay], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, "POST /pay/webhook", "/pay/status", "/pay") == {
            "POST /pay/webhook": 201,
            "/pay/status": 200,
            "/pay": 503,
        }


def test_a_handler_forced_on_outside_the_group_is_still_refused(make_app: AppFactory) -> None:
    @force_maintenance_mode_on
    @get("/retired", tags=["search"])
    async def retired() -> str:
        return "retired"

    backend = MemoryBackend()
    app = make_app([retired, search], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, "/retired", "/search") == expect(["/retired"], ["/search"])
        turn_off(client, backend)
        assert statuses(client, "/retired", "/search") == expect(["/retired"], ["/search"])


def test_read_only_and_groups_combine(make_app: AppFactory) -> None:
    @post("/pay", tags=["payments"])
    async def pay_post() -> str:
        return "posted"

    @delete("/pay", tags=["payments"])
    async def pay_delete() -> None:
        return None

    @post("/search", tags=["search"])
    async def search_post() -> str:
        return "posted"

    @post("/untagged")
    async def untagged_post() -> str:
        return "posted"

    backend = MemoryBackend()
    app = make_app([pay, pay_post, pay_delete, search, search_post, untagged_post], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, read_only=True, groups=PAYMENTS)
        assert statuses(
            client,
            "GET /pay",
            "POST /pay",
            "DELETE /pay",
            "GET /search",
            "POST /search",
            "POST /untagged",
        ) == {
            "GET /pay": 200,
            "POST /pay": 503,
            "DELETE /pay": 503,
            "GET /search": 200,
            "POST /search": 201,
            "POST /untagged": 201,
        }


# -- mounts and websockets --------------------------------------------------------------------


async def _answer(scope: Scope, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"mounted"})


@asgi("/legacy", is_mount=True, copy_scope=True)
@maintenance_group("payments")
async def legacy(scope: Scope, receive: Receive, send: Send) -> None:
    await _answer(scope, send)


@asgi("/files", is_mount=True, copy_scope=True, opt={GROUP_OPT_KEY: "payments"})
async def files(scope: Scope, receive: Receive, send: Send) -> None:
    await _answer(scope, send)


@asgi("/other", is_mount=True, copy_scope=True)
async def other(scope: Scope, receive: Receive, send: Send) -> None:
    await _answer(scope, send)


def test_mounted_apps_join_groups_by_marker_or_opt(make_app: AppFactory) -> None:
    backend = MemoryBackend()
    mounts = Router("/api", route_handlers=[files], tags=["search"])
    app = make_app([legacy, mounts, other], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert statuses(client, "/legacy/a/b", "/api/files/x", "/other/x") == expect(
            ["/legacy/a/b", "/api/files/x"], ["/other/x"]
        )
        # ASGI handlers are not in the OpenAPI schema: their router's tags do not count.
        turn_on(client, backend, groups=["search"])
        assert statuses(client, "/legacy/a/b", "/api/files/x", "/other/x") == expect(
            [], ["/legacy/a/b", "/api/files/x", "/other/x"]
        )


def test_websockets_join_groups_by_marker_or_opt_only(make_app: AppFactory) -> None:
    @websocket("/marked")
    @maintenance_group("payments")
    async def marked(socket: WebSocket[Any, Any, Any]) -> None:
        await echo_socket(socket)

    @websocket("/opt", opt={GROUP_OPT_KEY: ["payments"]})
    async def with_opt(socket: WebSocket[Any, Any, Any]) -> None:
        await echo_socket(socket)

    @websocket("/tagged")
    async def tagged(socket: WebSocket[Any, Any, Any]) -> None:
        await echo_socket(socket)

    backend = MemoryBackend()
    router = Router("/ws", route_handlers=[marked, with_opt, tagged], tags=["payments"])
    app = make_app([router], backend=backend)
    with TestClient(app) as client:
        turn_on(client, backend, groups=PAYMENTS)
        assert websocket_result(client, "/ws/marked") != "echo:ping"
        assert websocket_result(client, "/ws/opt") != "echo:ping"
        assert websocket_result(client, "/ws/tagged") == "echo:ping"
        turn_on(client, backend, groups=["other"])
        assert websocket_result(client, "/ws/marked") == "echo:ping"


# -- when the groups are found -------------------------------------------------------------


def test_groups_are_worked_out_once_per_handler(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real = adapter._tags_of

    def counting(handler: Any) -> frozenset[str]:
        calls.append(handler)
        return real(handler)

    monkeypatch.setattr(adapter, "_tags_of", counting)
    backend = MemoryBackend()
    app = make_app([pay, search], backend=backend, openapi_config=None)
    with TestClient(app) as client:
        # Off: every handler answers; its route info (groups included) is worked out
        # the first time it is seen, and only then.
        for _ in range(3):
            assert statuses(client, "/pay", "/search") == expect([], ["/pay", "/search"])
        assert len(calls) == 2
        turn_on(client, backend, groups=PAYMENTS)
        for _ in range(3):
            assert statuses(client, "/pay", "/search") == expect(["/pay"], ["/search"])
        turn_off(client, backend)
        assert statuses(client, "/pay", "/search") == expect([], ["/pay", "/search"])
        assert len(calls) == 2
