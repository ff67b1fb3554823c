"""The secret never shows up in a log record or in a response.

Every log record of every logger is captured, whatever the logger's level
(``Logger.isEnabledFor`` is forced true and ``Logger.handle`` recorded), with
the root logger at ``DEBUG`` as well. Records of the test client's own loggers
(``httpx``, ``httpcore``) are left out: they log the request URL, which is the
user's own request; they also serve as the positive control that the capture
works.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.exceptions import WebSocketDisconnect as LitestarDisconnect
from litestar.testing import TestClient as LitestarTestClient
from maintenance_core.backends import BaseStateBackend, LocalFileBackend
from maintenance_core.bypass import hash_secret
from maintenance_core.errors import InvalidStateValueError
from maintenance_core.state import MaintenanceState
from starlette.testclient import TestClient as StarletteTestClient
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from tests.support.starlette_compat import WebSocketDenialResponse

from .apps import build
from .conftest import OTHER_SECRET, SECRET, cookie_for, stored_cookie

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"
PARAM = "maintenance_bypass"
CLIENT_LOGGERS = ("httpx", "httpcore")
_PLAIN_RECORD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)))


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every log record created while the test runs, from any logger at any level."""
    caplog.set_level(logging.DEBUG)  # the root logger
    seen: list[logging.LogRecord] = []
    original = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        seen.append(record)
        original(self, record)

    monkeypatch.setattr(logging.Logger, "handle", handle)
    monkeypatch.setattr(logging.Logger, "isEnabledFor", lambda self, level: True)
    return seen


def record_text(record: logging.LogRecord) -> str:
    parts = [repr(record.msg), repr(record.args)]
    with contextlib.suppress(Exception):  # a malformed record: msg and args are above
        parts.append(record.getMessage())
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts += [record.exc_text or "", record.stack_info or ""]
    parts += [repr(value) for key, value in vars(record).items() if key not in _PLAIN_RECORD]
    return "\n".join(parts)


def assert_no_secret_logged(records: list[logging.LogRecord], *secrets: str) -> None:
    own = [r for r in records if not r.name.startswith(CLIENT_LOGGERS)]
    for record in own:
        text = record_text(record)
        for secret in secrets:
            assert secret not in text, f"{record.name} logged a secret: {text[:500]}"
    # Positive control: the capture saw the client logging the URL with the secret.
    client_text = "\n".join(record_text(r) for r in records if r.name.startswith(CLIENT_LOGGERS))
    assert any(secret in client_text for secret in secrets), "the capture saw nothing"


class Recorder:
    """An httpx client on *app* that keeps every response, to look for the secret in them."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.app = app
        self.base_url = base_url
        self.responses: list[httpx.Response] = []

    async def get(
        self, url: str, headers: Any = None, *, keep_cookies: bool = False
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
            response = await client.get(url, headers=headers)
            self.responses.append(response)
            if keep_cookies and response.status_code == 302:
                followed = await client.get(response.url.join(response.headers["location"]))
                self.responses.append(followed)
                return followed
        return response

    def assert_no_secret_sent(self, *secrets: str) -> None:
        assert self.responses
        for response in self.responses:
            blob = response.content + b"\n".join(
                name + b": " + value for name, value in response.headers.raw
            )
            for secret in secrets:
                assert secret.encode() not in blob, (response.url, response.headers)
                assert secret.encode().lower() not in blob.lower()


async def run_http_flows(recorder: Recorder, secret: str, wrong: str) -> None:
    valid_cookie = cookie_for(secret)
    flows: list[tuple[str, Any]] = [
        ("/items", None),
        ("/items", {HEADER: secret}),
        ("/items", {HEADER: f"  {secret} "}),
        ("/items", {HEADER: wrong}),
        ("/items", {HEADER: secret[:-1] + "!"}),
        ("/items", [(HEADER, wrong), (HEADER, secret)]),
        ("/items", {HEADER: ""}),
        (f"/items?{PARAM}={wrong}&x=1", None),
        (f"/items?{PARAM}={secret}&x=1", None),
        (f"/a/b/c?x=1&{PARAM}={secret}", None),
        (f"/dir/?{PARAM}={secret}", None),
        (f"/items?{PARAM}={secret}", {HEADER: secret}),
        ("/items", {"Cookie": f"maintenance_bypass={valid_cookie}"}),
        ("/items", {"Cookie": "maintenance_bypass=1.forged.cookie"}),
        ("/items", {"Cookie": f"maintenance_bypass={cookie_for(secret, age=10**8)}"}),
        ("/items", {"Cookie": f"maintenance_bypass={secret}"}),
        ("/closed", {HEADER: secret}),
        (f"/closed?{PARAM}={secret}", None),
        (f"/open?{PARAM}={secret}", None),
        (f"/nope?{PARAM}={secret}", {HEADER: secret}),
        (f"/submit?{PARAM}={secret}", None),
    ]
    for url, headers in flows:
        await recorder.get(url, headers)
    await recorder.get(f"/items?{PARAM}={secret}&x=1", keep_cookies=True)


WS_REFUSALS = (StarletteDisconnect, WebSocketDenialResponse, LitestarDisconnect)


def refusal_text(refused: BaseException) -> bytes:
    """What a refused handshake shows the client: a denial response (status, headers,
    body; Starlette's client offers the extension) or a close (code and reason)."""
    if isinstance(refused, WebSocketDenialResponse):
        # Not an httpx.Response of *this* httpx: Starlette's client has its own.
        assert refused.status_code == 503
        assert refused.json() == {"detail": "Service temporarily unavailable due to maintenance"}
        headers = b"\n".join(name + b": " + value for name, value in refused.headers.raw)
        return refused.content + b"\n" + headers
    assert getattr(refused, "code", None) == 1013, repr(refused)
    parts = [
        str(getattr(refused, "reason", "")),
        str(getattr(refused, "detail", "")),
        repr(refused.args),
        str(refused),
    ]
    return "\n".join(parts).encode()


def run_websocket_flows(framework: str, app: Any, secret: str, cookie: str) -> list[bytes]:
    """Handshakes with and without the secret; each must end as expected, and what every
    refusal shows the client is returned, to look for the secret in it."""
    client_class: Any = StarletteTestClient if framework == "fastapi" else LitestarTestClient
    bypass_cookie = {"Cookie": f"maintenance_bypass={cookie}"}
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/ws", {HEADER: secret}, "hello"),
        ("/ws", bypass_cookie, "hello"),
        ("/ws", {}, "refused"),
        ("/ws", {HEADER: secret[:-1] + "!"}, "refused"),
        ("/ws", {HEADER: f"  {secret}x"}, "refused"),
        ("/ws", {"Cookie": f"maintenance_bypass={secret}"}, "refused"),
        (f"/ws?{PARAM}={secret}", {}, "refused"),
        ("/ws-closed", {HEADER: secret}, "refused"),
        ("/ws-closed", bypass_cookie, "refused"),
    ]
    shown: list[bytes] = []
    with client_class(app) as client:
        for path, headers, expected in cases:
            try:
                with client.websocket_connect(path, headers=dict(headers)) as ws:
                    outcome = str(ws.receive_text())
            except WS_REFUSALS as refused:
                outcome = "refused"
                shown.append(refusal_text(refused))
            assert outcome == expected, (path, sorted(headers))
    assert len(shown) == sum(expected == "refused" for _, _, expected in cases)
    return shown


def assert_not_in_refusals(shown: list[bytes], *secrets: str) -> None:
    assert shown
    for text in shown:
        for secret in secrets:
            assert secret.encode() not in text, text[:300]
            assert secret.encode().lower() not in text.lower()


async def test_middleware_secret_is_never_logged_or_sent(
    framework: str, records: list[logging.LogRecord]
) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    recorder = Recorder(app)
    secure = Recorder(app, "https://testserver")
    await run_http_flows(recorder, SECRET, OTHER_SECRET)
    await run_http_flows(secure, SECRET, OTHER_SECRET)
    shown = run_websocket_flows(framework, app, SECRET, cookie_for(SECRET))
    recorder.assert_no_secret_sent(SECRET)
    secure.assert_no_secret_sent(SECRET)
    # The https flows were answered (a redirect with a Secure cookie among them).
    assert any("Secure" in r.headers.get("set-cookie", "") for r in secure.responses), (
        "the https flows set no Secure cookie"
    )
    assert_not_in_refusals(shown, SECRET)
    assert_no_secret_logged(records, SECRET)


async def test_stored_secret_and_its_hash_are_never_logged_or_sent(
    framework: str, records: list[logging.LogRecord], tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    stored = hash_secret(OTHER_SECRET)
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=stored))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    recorder = Recorder(app)
    secure = Recorder(app, "https://testserver")
    await run_http_flows(recorder, OTHER_SECRET, "not-the-stored-secret-at-all")
    await run_http_flows(recorder, SECRET, "not-the-stored-secret-at-all")
    await run_http_flows(secure, OTHER_SECRET, "not-the-stored-secret-at-all")
    shown = run_websocket_flows(framework, app, OTHER_SECRET, stored_cookie(stored, OTHER_SECRET))
    shown += run_websocket_flows(framework, app, SECRET, cookie_for(SECRET))
    parts = stored.split("$")[4:]  # salt, verifier, token digest, cookie key
    hidden = (SECRET, OTHER_SECRET, stored, *parts)
    recorder.assert_no_secret_sent(*hidden)
    secure.assert_no_secret_sent(*hidden)
    assert_not_in_refusals(shown, *hidden)
    assert_no_secret_logged(records, SECRET, OTHER_SECRET)
    for record in records:
        for part in parts:
            assert part not in record_text(record)


class FailingBackend(BaseStateBackend):
    """A backend whose reads always fail."""

    async def get_value(self) -> bool:
        raise RuntimeError("the state store is unreachable")

    async def set_value(self, value: bool) -> None:
        raise RuntimeError("the state store is unreachable")


def exploding_exempt_handler(request: Any) -> bool:
    raise ValueError(f"exempt handler exploded on {request.url.path}")


def exploding_response_handler(request: Any) -> Any:
    raise RuntimeError("response handler exploded")


async def test_failures_while_sending_the_secret_log_no_secret(
    framework: str, records: list[logging.LogRecord]
) -> None:
    app = build(
        framework,
        backend=FailingBackend(),
        on_state_error="on",
        bypass_secret=SECRET,
        exempt_handler=exploding_exempt_handler,
        response_handler=exploding_response_handler,
    )
    recorder = Recorder(app)
    assert (await recorder.get("/items", {HEADER: SECRET})).status_code == 200
    assert (await recorder.get("/items", {HEADER: OTHER_SECRET})).status_code == 503
    redirect = await recorder.get(f"/items?{PARAM}={SECRET}&x=1")
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "./items?x=1"
    assert (
        await recorder.get(f"/items?{PARAM}={SECRET}&x=1", keep_cookies=True)
    ).status_code == 200
    await run_http_flows(recorder, SECRET, OTHER_SECRET)
    shown = run_websocket_flows(framework, app, SECRET, cookie_for(SECRET))
    recorder.assert_no_secret_sent(SECRET)
    assert_not_in_refusals(shown, SECRET)
    assert_no_secret_logged(records, SECRET)
    # The failures were logged (so the check above looked at real failure logs).
    messages = [
        r.getMessage()
        for r in records
        if r.name.split(".")[0] in ("fastapi_maintenance", "litestar_maintenance")
    ]
    assert any("Cannot read the maintenance state" in m for m in messages), messages
    assert any("exempt_handler raised" in m for m in messages), messages
    assert any("response_handler raised" in m for m in messages), messages
    # Nor the cookie's token, which opens the app like the secret, for a browser.
    token = cookie_for(SECRET).split(".")[1]
    for record in records:
        if not record.name.startswith(CLIENT_LOGGERS):
            assert token not in record_text(record)


def test_construction_errors_do_not_echo_the_secret(records: list[logging.LogRecord]) -> None:
    import litestar_maintenance
    from maintenance_core.errors import InvalidBypassSecretError

    for bad in (f" {SECRET}", f"{SECRET}\n", f"{SECRET}é", f"{SECRET[:8]}\t{SECRET[8:]}"):
        with pytest.raises(InvalidBypassSecretError) as raised:
            litestar_maintenance.MaintenancePlugin(bypass_secret=bad)
        assert SECRET[:8] not in str(raised.value)
        assert SECRET[8:] not in str(raised.value)
        assert SECRET[:8] not in repr(raised.value)
    for record in records:
        assert SECRET[:8] not in record_text(record)


# --- a corrupt stored state holding a bypass hash ------------------------------------------

STORED = hash_secret(SECRET)
SCHEME, N, R, P, SALT, DIGEST, TOKEN_DIGEST, COOKIE_KEY = STORED.split("$")
COST = f"{SCHEME}${N}${R}${P}"
CORRUPT_STATES = {
    "truncated": f'{{"on":true,"bypass":"{STORED}"',
    "on-not-a-boolean": f'{{"on":"yes","bypass":"{STORED}"}}',
    "trailing-comma-and-spaces": f'\n  {{"on": true, "bypass": "{STORED}",}}\n',
    "hash-without-its-cookie-key": (
        f'{{"on":true,"bypass":"{COST}${SALT}${DIGEST}${TOKEN_DIGEST}"}}'
    ),
    "hash-digest-cut-short": (
        f'{{"on":true,"bypass":"{COST}${SALT}${DIGEST[:-4]}${TOKEN_DIGEST}${COOKIE_KEY}"}}'
    ),
    "hash-digest-not-base64": (f'{{"on":true,"bypass":"{COST}${SALT}${DIGEST}${TOKEN_DIGEST}$A"}}'),
    "hash-cost-out-of-range": (
        f'{{"on":true,"bypass":"{SCHEME}$1073741824${R}${P}${SALT}${DIGEST}${TOKEN_DIGEST}'
        f'${COOKIE_KEY}"}}'
    ),
    "bypass-not-a-string": f'{{"on":true,"bypass":["{STORED}"]}}',
    "bad-window-end": f'{{"on":true,"end":"tomorrow","bypass":"{STORED}"}}',
    # An editor's UTF-8 byte order mark in front of a broken object.
    "utf8-bom": f'\ufeff{{"on":true,"bypass":"{STORED}"',
}


def test_a_byte_order_mark_before_a_valid_state_is_tolerated() -> None:
    # Windows Notepad writes one; the state stays readable, with its secret.
    state = MaintenanceState.from_text(f'\ufeff{{"on":true,"bypass":"{STORED}"}}')
    assert state.on is True
    assert state.bypass == STORED


def assert_no_hash_in(text: str) -> None:
    for part in (SALT, DIGEST, TOKEN_DIGEST, COOKIE_KEY, DIGEST[:16], COOKIE_KEY[:16]):
        assert part not in text, f"a part of the stored hash is shown: {text[:300]}"


@pytest.mark.parametrize("raw", CORRUPT_STATES.values(), ids=CORRUPT_STATES.keys())
async def test_a_corrupt_json_state_holding_a_hash_is_not_echoed(
    framework: str, records: list[logging.LogRecord], tmp_path: Path, raw: str
) -> None:
    # The error (its message and repr), the log, and what the app sends show neither
    # the hash nor any of its parts: the JSON object is shown as its length only.
    with pytest.raises(InvalidStateValueError) as raised:
        MaintenanceState.from_text(raw)
    assert_no_hash_in(str(raised.value))
    assert_no_hash_in(repr(raised.value))
    assert f"Invalid maintenance state value ({len(raw)} characters)" in str(raised.value)

    path = tmp_path / "state.json"
    path.write_text(raw, encoding="utf-8")
    app = build(framework, backend=LocalFileBackend(path, check_interval=0), bypass_secret=SECRET)
    recorder = Recorder(app)
    await recorder.get("/items")
    await recorder.get("/items", {HEADER: OTHER_SECRET})
    await recorder.get("/items", {"Cookie": f"maintenance_bypass={cookie_for(SECRET)}"})
    await recorder.get(f"/items?{PARAM}={SECRET}")
    recorder.assert_no_secret_sent(STORED, SALT, DIGEST, TOKEN_DIGEST, COOKIE_KEY)
    own = [r for r in records if not r.name.startswith(CLIENT_LOGGERS)]
    for record in own:
        assert_no_hash_in(record_text(record))
    # The failure was logged, naming the problem without the content.
    messages = [r.getMessage() for r in own]
    [logged] = [m for m in messages if "Cannot read the maintenance state" in m]
    assert f"Invalid maintenance state value ({len(raw)} characters)" in logged


@pytest.mark.parametrize("case", ["truncated", "utf8-bom"])
def test_cli_status_on_a_corrupt_state_does_not_echo_the_hash(tmp_path: Path, case: str) -> None:
    path = tmp_path / "state.json"
    raw = CORRUPT_STATES[case]
    path.write_text(raw, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "1000"}
    script = Path(sys.executable).parent / "fastapi-maintenance"
    done = subprocess.run(
        [script, "status", "--backend", "file", "--file-path", path],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Invalid maintenance state value" in output
    assert_no_hash_in(output)
    assert f"Invalid maintenance state value ({len(raw)} characters)" in output
