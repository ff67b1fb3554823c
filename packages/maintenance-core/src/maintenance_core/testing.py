"""Testing helpers: a clean state between tests, and the conformance scenarios.

Reset between tests
-------------------

:func:`reset` forgets the backend chosen with ``configure_backend()`` and the
one given to the most recent middleware, so each test starts as a fresh
process would. Give it an adapter package or a registry::

    import fastapi_maintenance
    from maintenance_core.testing import reset


    @pytest.fixture(autouse=True)
    def clean_maintenance_state(monkeypatch):
        monkeypatch.delenv("FASTAPI_MAINTENANCE_MODE", raising=False)
        reset(fastapi_maintenance)
        yield
        reset(fastapi_maintenance)

Conformance scenarios
---------------------

The scenarios are the behaviour every adapter shares: the switch and its
precedence, markers, overrides, exemptions, the bypass, the response
protocol, ``HEAD`` and websockets. An adapter's own test suite runs them
against an app built with its framework, described by a :class:`Subject`::

    from maintenance_core.testing import Subject, run_scenario, scenarios_for

    SUBJECT = Subject(name="starlette", build=build_app, registry=registry, ...)


    @pytest.mark.anyio
    @pytest.mark.parametrize("scenario", scenarios_for(SUBJECT), ids=scenario_id)
    async def test_conformance(scenario):
        await run_scenario(SUBJECT, scenario)

``build(**options)`` returns the ASGI app serving the *standard routes*,
guarded with *options* (:class:`~maintenance_core.MaintenanceConfig`'s fields
as keyword arguments):

=========  ================  ===============================================
``GET``    ``/``             ``{"message": "ok"}``
``GET``    ``/open``         marked forced off: ``{"message": "open"}``, and
                             ``POST /open``
``GET``    ``/closed``       marked forced on: ``{"message": "closed"}``, and
                             ``POST /closed``
``GET``    ``/both``         ``{"message": "both"}``, and ``HEAD /both``
``*``      ``/items``        ``GET``, ``HEAD``, ``OPTIONS``, ``POST``, ``PUT``,
                             ``PATCH`` and ``DELETE``, each with ``200`` and
                             ``{"message": "items"}`` (``HEAD``: no body)
``GET``    ``/payments``     in the group ``payments`` through its OpenAPI
                             tags (``tags=["payments"]``; an app without tags
                             uses the ``maintenance_group`` marker):
                             ``{"message": "payments"}``, and ``POST /payments``
``GET``    ``/search``       in the group ``search`` through the
                             ``maintenance_group("search")`` marker:
                             ``{"message": "search"}``, and ``POST /search``
``WS``     ``/ws``           accepts, sends ``"hello"``, closes
``WS``     ``/ws-open``      marked forced off, same as ``/ws``
``WS``     ``/ws-payments``  in the group ``payments`` through the
                             ``maintenance_group`` marker, same as ``/ws``
=========  ================  ===============================================

Any other path answers ``404`` and ``DELETE /`` answers ``405``, as the
framework answers them.

The scenarios of partial maintenance (:mod:`maintenance_core.coverage`) use the
routes below ``/both``, the ``POST`` routes and ``/ws-payments``; a subject
opts in to them: ``Subject(read_only=True)`` for :data:`READ_ONLY_SCENARIOS`
(the guard reads the method: an app serving those routes passes them),
``Subject(groups=True)`` for :data:`GROUP_SCENARIOS` (the adapter reports each
route's groups in :attr:`~maintenance_core.decision.RouteInfo.groups`, from the
framework's tags and the ``maintenance_group`` marker). A subject written
before partial maintenance existed keeps its scenarios.

The scenarios drive the app with hand-made ASGI messages (no HTTP client, no
server, no test framework): a scenario is a coroutine function that raises
``AssertionError`` when the adapter does not conform.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import anyio.lowlevel

from ._adapter_base import ASGIApp, Message, Scope
from .backends.file import LocalFileBackend
from .backends.memory import MemoryBackend
from .coverage import Coverage
from .exemptions import exempt_paths
from .registry import BackendRegistry
from .responses import DEFAULT_DETAIL, READ_ONLY_DETAIL
from .state import NOTICE_SCOPE_KEY, MaintenanceNotice, MaintenanceState

__all__ = [
    "DEFAULT_BODY",
    "GROUP_SCENARIOS",
    "READ_ONLY_BODY",
    "READ_ONLY_SCENARIOS",
    "SCENARIOS",
    "Response",
    "Scenario",
    "Subject",
    "assert_default_503",
    "assert_read_only_503",
    "handshake",
    "request",
    "reset",
    "run_scenario",
    "scenario_id",
    "scenarios_for",
]

DEFAULT_BODY: dict[str, str] = {"detail": DEFAULT_DETAIL}
"""The body of the default maintenance response, decoded."""

READ_ONLY_BODY: dict[str, str] = {"detail": READ_ONLY_DETAIL}
"""The body of the maintenance response to a write during read-only maintenance, decoded."""

_TEAM_SECRET = "conformance-team-secret-0123456789"
_CALL_TIMEOUT = 10.0


# --- reset between tests ----------------------------------------------------------------------


def reset(*targets: BackendRegistry | ModuleType) -> None:
    """Forget every backend chosen at runtime, as in a fresh process.

    Args:
        targets: adapter packages (``fastapi_maintenance``,
            ``litestar_maintenance``: their ``registry`` attribute is used) or
            :class:`~maintenance_core.BackendRegistry` objects.

    Raises:
        TypeError: for something that is neither.
    """
    for target in targets:
        registry = target if isinstance(target, BackendRegistry) else None
        if registry is None and isinstance(target, ModuleType):
            found = getattr(target, "registry", None)
            registry = found if isinstance(found, BackendRegistry) else None
        if registry is None:
            raise TypeError(
                f"reset() takes adapter packages with a 'registry' attribute or "
                f"BackendRegistry objects, got {target!r}."
            )
        registry.reset()


# --- a tiny ASGI client -----------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """What an app answered to :func:`request`."""

    status: int
    headers: dict[str, str]
    """Header names in lower case; the last value wins when repeated."""
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


def _scope(scope_type: str, path: str, headers: Mapping[str, str] | None) -> Scope:
    raw_path, _, query = path.partition("?")
    header_list = [(b"host", b"testserver")]
    header_list += [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in (headers or {}).items()
    ]
    return {
        "type": scope_type,
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "http" if scope_type == "http" else "ws",
        "path": raw_path,
        "raw_path": raw_path.encode("latin-1"),
        "root_path": "",
        "query_string": query.encode("latin-1"),
        "headers": header_list,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }


async def request(
    app: ASGIApp, method: str, path: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Send one HTTP request through *app*, as a server would, and collect the answer.

    The request has no body. After it, ``receive`` waits until the response is
    complete before it reports a disconnect, as servers do.
    """
    scope = _scope("http", path, headers)
    scope["method"] = method.upper()
    done = anyio.Event()
    asked = False
    start: Message | None = None
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            assert start is None, "the response started twice"
            start = message
        elif message["type"] == "http.response.body":
            assert start is not None, "a body before the response started"
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                done.set()

    with anyio.fail_after(_CALL_TIMEOUT):
        await app(scope, receive, send)
    done.set()
    assert start is not None, f"{method} {path}: the app sent no response"
    response_headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in start.get("headers", ())
    }
    return Response(int(start["status"]), response_headers, b"".join(chunks))


async def handshake(app: ASGIApp, path: str, *, denial_extension: bool = True) -> list[Message]:
    """Drive a websocket handshake through *app*; return the messages it sent.

    Args:
        denial_extension: announce the ASGI ``websocket.http.response``
            extension, with which a handshake can be refused with an HTTP response.
    """
    scope = _scope("websocket", path, None)
    scope["subprotocols"] = []
    scope["extensions"] = {"websocket.http.response": {}} if denial_extension else {}
    incoming: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(_CALL_TIMEOUT):
        await app(scope, receive, send)
    return sent


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


# --- the subject and the scenarios ------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """An adapter under test, with what the scenarios need to know about it.

    Attributes:
        name: for test ids.
        build: ``build(**options) -> app``, the standard routes (see the module
            documentation) guarded with ``options``, ``MaintenanceConfig``'s
            fields as keyword arguments.
        registry: the adapter's registry, behind its module-level functions.
        env_var: the variable the adapter's default backend reads.
        request_type: the class of what ``exempt_handler`` and
            ``response_handler`` receive for an HTTP request.
        json_response: ``(content, status, headers) -> response``, a response
            object of the framework that a ``response_handler`` may return.
        schema_path: a path of the framework's own documentation that stays
            reachable during maintenance, if it serves one.
        read_only: the app serves the routes of the read-only scenarios
            (``/items`` with every method, ``POST /open`` and ``POST /closed``):
            :func:`scenarios_for` includes :data:`READ_ONLY_SCENARIOS`.
        groups: the adapter reports route groups and the app serves the routes
            of the group scenarios (``/payments``, ``/search``,
            ``/ws-payments``, and those of ``read_only``): :func:`scenarios_for`
            includes :data:`GROUP_SCENARIOS`.
    """

    name: str
    build: Callable[..., ASGIApp]
    registry: BackendRegistry
    env_var: str
    request_type: type
    json_response: Callable[[dict[str, Any], int, dict[str, str]], Any]
    schema_path: str | None = field(default=None)
    read_only: bool = field(default=False)
    groups: bool = field(default=False)


Scenario = Callable[[Subject], Awaitable[None]]
"""A conformance scenario: ``await scenario(subject)`` raises ``AssertionError`` on failure."""


@contextmanager
def _environ(name: str, value: str | None) -> Iterator[None]:
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def assert_default_503(response: Response) -> None:
    """The default maintenance response: 503, the JSON detail, ``Retry-After: 3600``."""
    assert response.status == 503, response
    assert response.json() == DEFAULT_BODY, response
    assert response.headers.get("retry-after") == "3600", response
    assert response.headers.get("content-type") == "application/json", response


def assert_read_only_503(response: Response, retry_after: str = "3600") -> None:
    """The read-only maintenance response: 503, the read-only JSON detail, ``Retry-After``."""
    assert response.status == 503, response
    assert response.json() == READ_ONLY_BODY, response
    assert response.headers.get("retry-after") == retry_after, response
    assert response.headers.get("content-type") == "application/json", response
    assert response.headers.get("cache-control") == "no-store", response


async def _eventually(
    probe: Callable[[], Awaitable[Response]], accept: Callable[[Response], bool]
) -> Response:
    # A file written by another writer is seen within the backend's check interval.
    deadline = time.monotonic() + 3.0
    while True:
        response = await probe()
        if accept(response) or time.monotonic() > deadline:
            return response
        await anyio.sleep(0.01)


# switching maintenance on


async def env_var_on_gives_the_default_503(subject: Subject) -> None:
    """The default backend reads the adapter's variable: ``1`` answers the default 503."""
    with _environ(subject.env_var, "1"):
        assert_default_503(await request(subject.build(), "GET", "/"))


async def env_var_off_lets_requests_through(subject: Subject) -> None:
    """``off`` in the variable: requests reach the app untouched."""
    with _environ(subject.env_var, "off"):
        response = await request(subject.build(), "GET", "/")
    _assert_served(response, "GET", "ok")


async def enable_flag_replaces_the_backend_state(subject: Subject) -> None:
    """``enable_maintenance`` wins over the backend, both ways."""
    assert_default_503(await request(subject.build(enable_maintenance=True), "GET", "/"))
    with _environ(subject.env_var, "1"):
        response = await request(subject.build(enable_maintenance=False), "GET", "/")
    assert response.status == 200, response


async def file_backend_written_by_another_writer(subject: Subject) -> None:
    """A file backend sees a change written by another process."""
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state.txt"
        app = subject.build(backend=LocalFileBackend(state, check_interval=0.05))
        assert (await request(app, "GET", "/")).status == 200
        state.write_text("1")
        on = await _eventually(lambda: request(app, "GET", "/"), lambda r: r.status != 200)
        assert_default_503(on)
        state.write_text("0")
        off = await _eventually(lambda: request(app, "GET", "/"), lambda r: r.status != 503)
        assert off.status == 200, off


# markers and built-in exemptions


async def forced_off_handler_stays_reachable(subject: Subject) -> None:
    """A handler marked forced off answers during maintenance."""
    response = await request(subject.build(enable_maintenance=True), "GET", "/open")
    _assert_served(response, "GET", "open")


async def forced_on_handler_answers_503_while_maintenance_is_off(subject: Subject) -> None:
    """A handler marked forced on answers 503 even while maintenance is off."""
    app = subject.build(enable_maintenance=False)
    assert_default_503(await request(app, "GET", "/closed"))
    assert (await request(app, "GET", "/")).status == 200


async def unknown_paths_and_methods_keep_404_and_405(subject: Subject) -> None:
    """A request that no route serves gets the framework's 404/405, not the 503."""
    app = subject.build(enable_maintenance=True)
    assert (await request(app, "GET", "/no/such/route")).status == 404
    assert (await request(app, "DELETE", "/")).status == 405


async def the_frameworks_schema_stays_reachable(subject: Subject) -> None:
    """The framework's own documentation stays reachable during maintenance."""
    assert subject.schema_path is not None
    response = await request(subject.build(enable_maintenance=True), "GET", subject.schema_path)
    assert response.status == 200, response


# precedence


async def on_override_beats_the_enable_flag(subject: Subject) -> None:
    """``maintenance_mode_on()`` wins over ``enable_maintenance=False``, not over markers."""
    backend = MemoryBackend(False)
    app = subject.build(enable_maintenance=False, backend=backend)
    async with subject.registry.maintenance_mode_on(backend=backend):
        assert_default_503(await request(app, "GET", "/"))
        assert (await request(app, "GET", "/open")).status == 200
    assert (await request(app, "GET", "/")).status == 200


async def off_override_beats_the_enable_flag(subject: Subject) -> None:
    """``maintenance_mode_off()`` wins over ``enable_maintenance=True``, not over markers."""
    backend = MemoryBackend(True)
    app = subject.build(enable_maintenance=True, backend=backend)
    async with subject.registry.maintenance_mode_off(backend=backend):
        assert (await request(app, "GET", "/")).status == 200
        assert_default_503(await request(app, "GET", "/closed"))
    assert_default_503(await request(app, "GET", "/"))


async def exempt_handler_beats_overrides_but_not_a_forced_on_marker(subject: Subject) -> None:
    """The exempt handler gets the framework's request, only while maintenance is on."""
    seen: list[object] = []

    def exempt(request_object: Any) -> bool:
        seen.append(request_object)
        return bool(request_object.headers.get("x-team") == "yes")

    backend = MemoryBackend(False)
    app = subject.build(backend=backend, exempt_handler=exempt)
    assert (await request(app, "GET", "/")).status == 200
    assert seen == [], "no exemption check while maintenance is off"
    async with subject.registry.maintenance_mode_on(backend=backend):
        assert (await request(app, "GET", "/", {"x-team": "yes"})).status == 200
        assert_default_503(await request(app, "GET", "/"))
        assert_default_503(await request(app, "GET", "/closed", {"x-team": "yes"}))
    assert len(seen) == 2, seen
    for request_object in seen:
        assert isinstance(request_object, subject.request_type), request_object


async def async_exempt_handler(subject: Subject) -> None:
    """An async exempt handler is awaited."""

    async def exempt(request_object: Any) -> bool:
        await anyio.lowlevel.checkpoint()
        return bool(request_object.headers.get("user-agent", "").startswith("Monitoring"))

    app = subject.build(enable_maintenance=True, exempt_handler=exempt)
    assert (await request(app, "GET", "/", {"user-agent": "Monitoring/2"})).status == 200
    assert_default_503(await request(app, "GET", "/", {"user-agent": "curl/8"}))


async def exempt_paths_match_the_path_the_app_routes_on(subject: Subject) -> None:
    """``exempt_paths`` exempts the routes under a prefix, and only those."""
    app = subject.build(enable_maintenance=True, exempt_handler=exempt_paths("/both"))
    _assert_served(await request(app, "GET", "/both"), "GET", "both")
    assert_default_503(await request(app, "GET", "/"))
    assert_default_503(await request(app, "GET", "/closed"))


async def bypass_secret_lets_the_team_through(subject: Subject) -> None:
    """The ``X-Maintenance-Bypass`` header with the secret lets a request through."""
    app = subject.build(enable_maintenance=True, bypass_secret=_TEAM_SECRET)
    assert (await request(app, "GET", "/", {"x-maintenance-bypass": _TEAM_SECRET})).status == 200
    assert_default_503(await request(app, "GET", "/", {"x-maintenance-bypass": "wrong"}))
    assert_default_503(await request(app, "GET", "/closed", {"x-maintenance-bypass": _TEAM_SECRET}))


# overrides and the module-level API


async def nested_overrides_on_the_default_env_backend(subject: Subject) -> None:
    """Overrides nest on the read-only default backend, and never touch the variable."""
    app = subject.build()
    registry = subject.registry
    with _environ(subject.env_var, None):
        assert await registry.get_maintenance_mode() is False
        async with registry.maintenance_mode_on():
            assert await registry.get_maintenance_mode() is True
            async with registry.maintenance_mode_on():
                assert_default_503(await request(app, "GET", "/"))
            assert await registry.get_maintenance_mode() is True
            assert_default_503(await request(app, "GET", "/"))
        assert await registry.get_maintenance_mode() is False
        assert (await request(app, "GET", "/")).status == 200
        assert subject.env_var not in os.environ


async def override_on_a_file_backend_is_written_and_restored(subject: Subject) -> None:
    """An override on a writable backend is written through, then restored."""
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state.txt"
        backend = LocalFileBackend(state)
        app = subject.build(backend=backend)
        async with subject.registry.maintenance_mode_on(backend=backend):
            assert state.read_text() == "1"
            assert_default_503(await request(app, "GET", "/"))
        assert state.read_text() == "0"
        assert (await request(app, "GET", "/")).status == 200


async def set_maintenance_mode_through_the_module_api(subject: Subject) -> None:
    """``set_maintenance_mode()`` without a backend writes the app's backend."""
    with tempfile.TemporaryDirectory() as directory:
        backend = LocalFileBackend(Path(directory) / "state.txt")
        app = subject.build(backend=backend)
        # Some frameworks build their middleware at the first call (lifespan or request).
        assert (await request(app, "GET", "/")).status == 200
        await subject.registry.set_maintenance_mode(True)
        assert_default_503(await request(app, "GET", "/"))
        await subject.registry.set_maintenance_mode(False)
        assert (await request(app, "GET", "/")).status == 200


# responses


async def _custom_response(subject: Subject, *, asynchronous: bool) -> None:
    def build_response(request_object: Any) -> Any:
        assert isinstance(request_object, subject.request_type), request_object
        return subject.json_response({"status": "maintenance"}, 503, {"Retry-After": "1800"})

    async def build_response_async(request_object: Any) -> Any:
        return build_response(request_object)

    handler = build_response_async if asynchronous else build_response
    app = subject.build(enable_maintenance=True, response_handler=handler)
    response = await request(app, "GET", "/")
    assert response.status == 503, response
    assert response.json() == {"status": "maintenance"}
    assert response.headers.get("retry-after") == "1800", response


async def custom_response_handler(subject: Subject) -> None:
    """A sync ``response_handler`` gets the framework's request; its response is sent."""
    await _custom_response(subject, asynchronous=False)


async def custom_async_response_handler(subject: Subject) -> None:
    """An async ``response_handler`` is awaited."""
    await _custom_response(subject, asynchronous=True)


async def response_handler_returning_junk_falls_back_to_the_default(subject: Subject) -> None:
    """A ``response_handler`` returning something that is not a response: the default 503."""
    app = subject.build(enable_maintenance=True, response_handler=lambda request_object: 42)
    assert_default_503(await request(app, "GET", "/"))


async def response_handler_raising_falls_back_to_the_default(subject: Subject) -> None:
    """A ``response_handler`` that raises: the default 503."""

    def broken(request_object: Any) -> Any:
        raise RuntimeError("template missing")

    app = subject.build(enable_maintenance=True, response_handler=broken)
    assert_default_503(await request(app, "GET", "/"))


async def head_gets_the_headers_without_a_body(subject: Subject) -> None:
    """``HEAD`` gets the 503's status and headers, without a body."""
    response = await request(subject.build(enable_maintenance=True), "HEAD", "/both")
    assert response.status == 503, response
    assert response.body == b""
    assert response.headers.get("retry-after") == "3600", response


# websockets


async def websocket_refused_with_a_503_denial_response(subject: Subject) -> None:
    """A websocket handshake is refused with the 503 where the server can send one."""
    sent = await handshake(subject.build(enable_maintenance=True), "/ws")
    assert [message["type"] for message in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ], sent
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in [tuple(header) for header in sent[0]["headers"]]


async def websocket_closed_with_1013_without_the_denial_extension(subject: Subject) -> None:
    """Without the denial extension, the handshake is closed with 1013 (try again later)."""
    sent = await handshake(subject.build(enable_maintenance=True), "/ws", denial_extension=False)
    assert sent == [{"type": "websocket.close", "code": 1013, "reason": ""}], sent


async def forced_off_websocket_is_accepted(subject: Subject) -> None:
    """A websocket handler marked forced off is accepted during maintenance."""
    sent = await handshake(subject.build(enable_maintenance=True), "/ws-open")
    assert sent[0]["type"] == "websocket.accept", sent
    assert {"type": "websocket.send", "text": "hello"}.items() <= sent[1].items(), sent


# partial maintenance: read-only

_SAFE = ("GET", "HEAD", "OPTIONS")
_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
_READ_ONLY = Coverage(read_only=True)
_PAYMENTS = frozenset({"payments"})


async def _state_backend(state: MaintenanceState) -> MemoryBackend:
    backend = MemoryBackend()
    await backend.set_state(state)
    return backend


def _assert_served(response: Response, method: str, message: str) -> None:
    """The app's own answer to a request that maintenance let through (the body of a
    ``HEAD`` answer is the server's to drop)."""
    assert response.status in ((200, 204) if method == "OPTIONS" else (200,)), (method, response)
    if method not in ("HEAD", "OPTIONS"):
        assert response.json() == {"message": message}, (method, response)


async def _assert_reads_served_writes_refused(
    app: ASGIApp, path: str, message: str, retry_after: str = "3600"
) -> None:
    for method in _SAFE:
        _assert_served(await request(app, method, path), method, message)
    for method in _UNSAFE:
        assert_read_only_503(await request(app, method, path), retry_after)


async def read_only_serves_reads_and_refuses_writes(subject: Subject) -> None:
    """Read-only maintenance: ``GET``, ``HEAD`` and ``OPTIONS`` reach the app; ``POST``,
    ``PUT``, ``PATCH`` and ``DELETE`` get the 503 with the read-only detail."""
    full = subject.build(enable_maintenance=True)
    for method in (*_SAFE, *_UNSAFE):  # every method is routed: whole-site maintenance refuses it
        refused = await request(full, method, "/items")
        assert refused.status == 503, (method, refused)
    app = subject.build(backend=await _state_backend(MaintenanceState(True, read_only=True)))
    await _assert_reads_served_writes_refused(app, "/items", "items")
    response = await request(app, "HEAD", "/both")
    assert response.status == 200, response
    assert (await request(app, "GET", "/")).status == 200
    # A request no route serves keeps the framework's answer.
    assert (await request(app, "POST", "/no/such/route")).status == 404
    assert (await request(app, "DELETE", "/")).status == 405


async def read_only_keeps_the_markers(subject: Subject) -> None:
    """Read-only maintenance: a route forced off accepts writes; a route forced on refuses
    reads too, with the default (closed, not read-only) response."""
    app = subject.build(backend=await _state_backend(MaintenanceState(True, read_only=True)))
    _assert_served(await request(app, "POST", "/open"), "POST", "open")
    assert_default_503(await request(app, "GET", "/closed"))
    assert_default_503(await request(app, "POST", "/closed"))


async def read_only_refuses_websocket_handshakes(subject: Subject) -> None:
    """A websocket can write: read-only maintenance refuses its handshake (503 with the
    read-only detail, or close code 1013); one forced off is accepted."""
    backend = await _state_backend(MaintenanceState(True, read_only=True))
    app = subject.build(backend=backend)
    sent = await handshake(app, "/ws")
    assert [message["type"] for message in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ], sent
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"3600") in [tuple(header) for header in sent[0]["headers"]]
    assert json.loads(sent[1]["body"]) == READ_ONLY_BODY
    closed = await handshake(app, "/ws", denial_extension=False)
    assert closed == [{"type": "websocket.close", "code": 1013, "reason": ""}], closed
    accepted = await handshake(app, "/ws-open")
    assert accepted[0]["type"] == "websocket.accept", accepted


async def read_only_stored_with_set_maintenance_mode(subject: Subject) -> None:
    """``set_maintenance_mode(True, read_only=True)`` stores read-only maintenance in the
    app's backend (a file here); a ``Retry-After`` stored with it is sent."""
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state.txt"
        backend = LocalFileBackend(state)
        app = subject.build(backend=backend)
        assert (await request(app, "POST", "/items")).status == 200
        await subject.registry.set_maintenance_mode(True, read_only=True)
        assert json.loads(state.read_text()) == {"on": True, "read_only": True}
        await _assert_reads_served_writes_refused(app, "/items", "items")
        await subject.registry.set_maintenance_state(
            MaintenanceState(True, retry_after=600, read_only=True)
        )
        assert_read_only_503(await request(app, "PATCH", "/items"), "600")
        await subject.registry.set_maintenance_mode(False)
        assert (await request(app, "POST", "/items")).status == 200


async def read_only_override_and_its_union_with_a_full_one(subject: Subject) -> None:
    """``maintenance_mode_on(read_only=True)`` holds read-only maintenance; a whole-site
    block held inside it closes reads too, until it leaves."""
    backend = MemoryBackend(False)
    app = subject.build(backend=backend)
    async with subject.registry.maintenance_mode_on(backend=backend, read_only=True):
        await _assert_reads_served_writes_refused(app, "/items", "items")
        async with subject.registry.maintenance_mode_on(backend=backend):
            assert_default_503(await request(app, "GET", "/items"))
            assert_default_503(await request(app, "POST", "/items"))
        assert (await request(app, "GET", "/items")).status == 200
        assert_read_only_503(await request(app, "POST", "/items"))
    assert (await request(app, "POST", "/items")).status == 200


async def read_only_asks_exemptions_only_about_writes(subject: Subject) -> None:
    """The exempt handler and the bypass secret count for writes; a read is served without
    asking the exempt handler."""
    seen: list[str] = []

    def exempt(request_object: Any) -> bool:
        seen.append(request_object.scope["method"])
        return bool(request_object.headers.get("x-team") == "yes")

    backend = await _state_backend(MaintenanceState(True, read_only=True))
    app = subject.build(backend=backend, exempt_handler=exempt, bypass_secret=_TEAM_SECRET)
    assert (await request(app, "GET", "/items")).status == 200
    assert seen == [], "the exempt handler is not asked about a read"
    assert (await request(app, "POST", "/items", {"x-team": "yes"})).status == 200
    assert_read_only_503(await request(app, "POST", "/items"))
    secret = {"x-maintenance-bypass": _TEAM_SECRET}
    assert (await request(app, "DELETE", "/items", secret)).status == 200
    assert seen == ["POST", "POST"], seen


async def read_only_response_handler_gets_the_coverage(subject: Subject) -> None:
    """A ``response_handler`` finds the read-only coverage in the notice in the scope
    (and the whole site for a route forced on)."""
    notices: list[MaintenanceNotice] = []

    def build_response(request_object: Any) -> Any:
        notice = request_object.scope[NOTICE_SCOPE_KEY]
        notices.append(notice)
        body = {"read_only": "yes" if notice.coverage.read_only else "no"}
        return subject.json_response(body, 503, {"Retry-After": str(notice.retry_after)})

    state = MaintenanceState(True, retry_after=120, read_only=True)
    app = subject.build(backend=await _state_backend(state), response_handler=build_response)
    assert (await request(app, "GET", "/items")).status == 200
    response = await request(app, "PUT", "/items")
    assert response.status == 503, response
    assert response.json() == {"read_only": "yes"}
    assert response.headers.get("retry-after") == "120", response
    closed = await request(app, "GET", "/closed")
    assert closed.json() == {"read_only": "no"}, closed
    assert [notice.coverage for notice in notices] == [_READ_ONLY, Coverage()], notices


# partial maintenance: route groups


async def groups_refuse_only_their_routes(subject: Subject) -> None:
    """Maintenance limited to groups refuses the routes in them (tags or marker), every
    method; the other routes are served, and a route forced on stays closed."""
    backend = await _state_backend(MaintenanceState(True, groups=_PAYMENTS))
    app = subject.build(backend=backend)
    assert_default_503(await request(app, "GET", "/payments"))
    assert_default_503(await request(app, "POST", "/payments"))
    for method, path, message in (
        ("GET", "/", "ok"),
        ("GET", "/search", "search"),
        ("POST", "/search", "search"),
        ("POST", "/items", "items"),
    ):
        _assert_served(await request(app, method, path), method, message)
    assert_default_503(await request(app, "GET", "/closed"))

    await backend.set_state(MaintenanceState(True, groups=frozenset({"search"})))
    assert_default_503(await request(app, "GET", "/search"))
    _assert_served(await request(app, "GET", "/payments"), "GET", "payments")

    await backend.set_state(MaintenanceState(True, groups=frozenset({"search", "payments"})))
    assert_default_503(await request(app, "POST", "/search"))
    assert_default_503(await request(app, "POST", "/payments"))
    _assert_served(await request(app, "POST", "/items"), "POST", "items")

    await backend.set_state(MaintenanceState(True, groups=frozenset({"nobody"})))
    _assert_served(await request(app, "POST", "/payments"), "POST", "payments")


async def read_only_for_a_group(subject: Subject) -> None:
    """Read-only and groups combine: writes to the group's routes are refused, reads to
    them and every request elsewhere are served."""
    state = MaintenanceState(True, read_only=True, groups=_PAYMENTS)
    app = subject.build(backend=await _state_backend(state))
    assert_read_only_503(await request(app, "POST", "/payments"))
    _assert_served(await request(app, "GET", "/payments"), "GET", "payments")
    _assert_served(await request(app, "POST", "/items"), "POST", "items")
    _assert_served(await request(app, "POST", "/search"), "POST", "search")
    assert_default_503(await request(app, "GET", "/closed"))


async def groups_cover_websockets_in_the_group(subject: Subject) -> None:
    """A websocket handler in a group is refused by that group's maintenance (read-only
    too: a handshake is unsafe); the others are accepted."""
    backend = await _state_backend(MaintenanceState(True, groups=_PAYMENTS))
    app = subject.build(backend=backend)
    refused = await handshake(app, "/ws-payments")
    assert refused[0]["type"] == "websocket.http.response.start", refused
    assert refused[0]["status"] == 503
    assert json.loads(refused[1]["body"]) == DEFAULT_BODY
    accepted = await handshake(app, "/ws")
    assert accepted[0]["type"] == "websocket.accept", accepted

    await backend.set_state(MaintenanceState(True, read_only=True, groups=_PAYMENTS))
    refused = await handshake(app, "/ws-payments")
    assert refused[0]["status"] == 503, refused
    assert json.loads(refused[1]["body"]) == READ_ONLY_BODY
    assert (await handshake(app, "/ws"))[0]["type"] == "websocket.accept"


async def groups_through_an_override_with_the_bypass(subject: Subject) -> None:
    """``maintenance_mode_on(groups=[...])`` limits the held maintenance to the groups;
    the bypass secret lets the team through as for whole-site maintenance."""
    backend = MemoryBackend(False)
    app = subject.build(backend=backend, bypass_secret=_TEAM_SECRET)
    async with subject.registry.maintenance_mode_on(backend=backend, groups=["payments"]):
        assert_default_503(await request(app, "POST", "/payments"))
        secret = {"x-maintenance-bypass": _TEAM_SECRET}
        assert (await request(app, "POST", "/payments", secret)).status == 200
        assert (await request(app, "GET", "/")).status == 200
    assert (await request(app, "POST", "/payments")).status == 200


async def a_window_limited_to_a_group_counts_down(subject: Subject) -> None:
    """A window limited to a group: its routes get ``Retry-After`` counting down to the
    end, the others are served."""
    end = time.time() + 3600
    window = MaintenanceState.scheduled(end=_utc(end)).with_coverage(Coverage(groups=_PAYMENTS))
    app = subject.build(backend=await _state_backend(window))
    response = await request(app, "GET", "/payments")
    assert response.status == 503, response
    assert response.json() == DEFAULT_BODY
    assert 3590 <= int(response.headers["retry-after"]) <= 3600, response
    assert (await request(app, "GET", "/")).status == 200


SCENARIOS: tuple[Scenario, ...] = (
    env_var_on_gives_the_default_503,
    env_var_off_lets_requests_through,
    enable_flag_replaces_the_backend_state,
    file_backend_written_by_another_writer,
    forced_off_handler_stays_reachable,
    forced_on_handler_answers_503_while_maintenance_is_off,
    unknown_paths_and_methods_keep_404_and_405,
    the_frameworks_schema_stays_reachable,
    on_override_beats_the_enable_flag,
    off_override_beats_the_enable_flag,
    exempt_handler_beats_overrides_but_not_a_forced_on_marker,
    async_exempt_handler,
    exempt_paths_match_the_path_the_app_routes_on,
    bypass_secret_lets_the_team_through,
    nested_overrides_on_the_default_env_backend,
    override_on_a_file_backend_is_written_and_restored,
    set_maintenance_mode_through_the_module_api,
    custom_response_handler,
    custom_async_response_handler,
    response_handler_returning_junk_falls_back_to_the_default,
    response_handler_raising_falls_back_to_the_default,
    head_gets_the_headers_without_a_body,
    websocket_refused_with_a_503_denial_response,
    websocket_closed_with_1013_without_the_denial_extension,
    forced_off_websocket_is_accepted,
    read_only_serves_reads_and_refuses_writes,
    read_only_keeps_the_markers,
    read_only_refuses_websocket_handshakes,
    read_only_stored_with_set_maintenance_mode,
    read_only_override_and_its_union_with_a_full_one,
    read_only_asks_exemptions_only_about_writes,
    read_only_response_handler_gets_the_coverage,
    groups_refuse_only_their_routes,
    read_only_for_a_group,
    groups_cover_websockets_in_the_group,
    groups_through_an_override_with_the_bypass,
    a_window_limited_to_a_group_counts_down,
)
"""Every conformance scenario, in a stable order."""

READ_ONLY_SCENARIOS: tuple[Scenario, ...] = (
    read_only_serves_reads_and_refuses_writes,
    read_only_keeps_the_markers,
    read_only_refuses_websocket_handshakes,
    read_only_stored_with_set_maintenance_mode,
    read_only_override_and_its_union_with_a_full_one,
    read_only_asks_exemptions_only_about_writes,
    read_only_response_handler_gets_the_coverage,
)
"""The scenarios of read-only maintenance (whole site): the adapter reports the method."""

GROUP_SCENARIOS: tuple[Scenario, ...] = (
    groups_refuse_only_their_routes,
    read_only_for_a_group,
    groups_cover_websockets_in_the_group,
    groups_through_an_override_with_the_bypass,
    a_window_limited_to_a_group_counts_down,
)
"""The scenarios of maintenance limited to route groups: the adapter reports the groups
of a route (its tags and the ``maintenance_group`` marker)."""


def scenarios_for(subject: Subject) -> tuple[Scenario, ...]:
    """The scenarios that apply to *subject*: the schema one only if it serves a schema,
    those of partial maintenance only if it opts in (``read_only``, ``groups``)."""
    left_out: set[Scenario] = set()
    if not subject.schema_path:
        left_out.add(the_frameworks_schema_stays_reachable)
    if not subject.read_only:
        left_out.update(READ_ONLY_SCENARIOS)
    if not subject.groups:
        left_out.update(GROUP_SCENARIOS)
    return tuple(scenario for scenario in SCENARIOS if scenario not in left_out)


def scenario_id(scenario: Scenario) -> str:
    """A scenario's name, for test ids."""
    return scenario.__name__


async def run_scenario(subject: Subject, scenario: Scenario) -> None:
    """Run one scenario from a clean state: the registry reset, the variable unset.

    Raises:
        AssertionError: where the adapter does not conform.
    """
    with _environ(subject.env_var, None):
        reset(subject.registry)
        try:
            await scenario(subject)
        finally:
            reset(subject.registry)
