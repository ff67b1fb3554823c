"""The ``X-Maintenance-Bypass`` header, and the secrets the middleware refuses to be built with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import fastapi
import fastapi_maintenance
import litestar_maintenance
import pytest
from maintenance_core.errors import InvalidBypassSecretError
from starlette.testclient import TestClient

from tests.support.servers import ROOT, free_port

from .apps import build, client_for
from .conftest import OTHER_SECRET, SECRET

pytestmark = pytest.mark.anyio

HEADER = "X-Maintenance-Bypass"


async def status(app: Any, headers: Any = None, path: str = "/items") -> int:
    """The status of one request from a fresh client (no cookie carried over)."""
    async with client_for(app) as client:
        return (await client.get(path, headers=headers)).status_code


def altered(secret: str, index: int) -> str:
    """*secret* with the character at *index* replaced by another one."""
    replacement = "A" if secret[index] != "A" else "B"
    chars = list(secret)
    chars[index] = replacement
    return "".join(chars)


async def test_no_header_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app) == 503


async def test_the_secret_lets_the_request_through(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    async with client_for(app) as client:
        response = await client.get("/items", headers={HEADER: SECRET})
    assert response.status_code == 200
    assert response.json() == {"route": "items"}
    assert "set-cookie" not in response.headers  # the header path sets no cookie


async def test_header_name_is_case_insensitive(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {"x-maintenance-bypass": SECRET}) == 200
    assert await status(app, {"X-MAINTENANCE-BYPASS": SECRET}) == 200


async def test_wrong_secret_of_the_same_length_is_refused(framework: str) -> None:
    assert len(OTHER_SECRET) == len(SECRET)
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: OTHER_SECRET}) == 503


@pytest.mark.parametrize(
    "index", [0, len(SECRET) // 2, len(SECRET) - 1], ids=["start", "mid", "end"]
)
async def test_one_character_changed_is_refused(framework: str, index: int) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: altered(SECRET, index)}) == 503


@pytest.mark.parametrize(
    "value",
    [
        SECRET[:-1],  # a prefix
        SECRET + "x",  # an extension
        SECRET.lower(),
        SECRET.upper(),
        SECRET[::-1],
        SECRET * 2,
    ],
    ids=["prefix", "extended", "lower", "upper", "reversed", "doubled"],
)
async def test_near_misses_are_refused(framework: str, value: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: value}) == 503


async def test_empty_header_is_refused(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: ""}) == 503


async def test_surrounding_spaces_are_stripped(framework: str) -> None:
    # A secret can never start or end with whitespace (check_secret refuses it), so
    # stripping the header value only forgives a sloppy client; it accepts nothing new.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: f"  {SECRET}  "}) == 200
    assert await status(app, {HEADER: f"\t{SECRET}\t"}) == 200
    # Inner whitespace is not stripped.
    assert await status(app, {HEADER: f"{SECRET[:10]} {SECRET[10:]}"}) == 503


@pytest.mark.parametrize("order", ["wrong-first", "right-first"])
async def test_header_given_twice_passes_if_either_is_right(framework: str, order: str) -> None:
    # Every value of the header is checked; one right value is enough.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    values = [(HEADER, OTHER_SECRET), (HEADER, SECRET)]
    if order == "right-first":
        values.reverse()
    assert await status(app, values) == 200
    assert await status(app, [(HEADER, OTHER_SECRET), (HEADER, altered(SECRET, 0))]) == 503


async def test_comma_joined_values_are_one_wrong_value(framework: str) -> None:
    # A proxy that folds repeated headers into one comma-separated value makes the
    # bypass fail closed: the folded value is compared as a whole.
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {HEADER: f"{OTHER_SECRET}, {SECRET}"}) == 503


async def test_other_places_for_the_secret_are_not_accepted(framework: str) -> None:
    app = build(framework, enable_maintenance=True, bypass_secret=SECRET)
    assert await status(app, {"Authorization": f"Bearer {SECRET}"}) == 503
    assert await status(app, {"X-Maintenance-Bypass-Secret": SECRET}) == 503
    # The raw secret as the cookie value: the cookie must be a signed token.
    assert await status(app, {"Cookie": f"maintenance_bypass={SECRET}"}) == 503


@pytest.mark.parametrize("header", [None, SECRET, OTHER_SECRET, ""])
async def test_header_is_irrelevant_while_maintenance_is_off(
    framework: str, header: str | None
) -> None:
    app = build(framework, enable_maintenance=False, bypass_secret=SECRET)
    headers = None if header is None else {HEADER: header}
    assert await status(app, headers) == 200


async def test_no_secret_configured_accepts_no_header(framework: str) -> None:
    app = build(framework, enable_maintenance=True)
    assert await status(app, {HEADER: SECRET}) == 503
    assert await status(app, {HEADER: ""}) == 503


async def test_minimum_length_secret_works(framework: str) -> None:
    secret = SECRET[:16]
    app = build(framework, enable_maintenance=True, bypass_secret=secret)
    assert await status(app, {HEADER: secret}) == 200
    assert await status(app, {HEADER: SECRET}) == 503


# --- secrets refused at construction -------------------------------------------------------

WEAK_SECRETS: list[Any] = [
    "",
    "short",
    SECRET[:15],  # one character too short
    "é" * 20,  # non-ASCII
    "ﬀ" * 20,  # non-ASCII that NFKC would turn into ASCII
    f" {SECRET}",
    f"{SECRET} ",
    f"{SECRET}\n",
    f"{SECRET[:16]}\t{SECRET[16:]}",  # a control character inside
    f"{SECRET[:16]}\x00{SECRET[16:]}",
    SECRET.encode(),  # bytes
    12345678901234567890,
    [SECRET],
]
WEAK_IDS = [
    "empty",
    "short",
    "15-chars",
    "non-ascii",
    "ligature",
    "leading-space",
    "trailing-space",
    "trailing-newline",
    "inner-tab",
    "inner-nul",
    "bytes",
    "int",
    "list",
]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=WEAK_IDS)
def test_fastapi_weak_secret_fails_at_startup(secret: Any) -> None:
    # Starlette builds its middleware at the first ASGI call: with the lifespan, that is
    # startup, so the app fails to start instead of answering requests with a 500.
    app = build("fastapi", enable_maintenance=True, bypass_secret=secret)
    with pytest.raises(InvalidBypassSecretError) as raised, TestClient(app):
        pytest.fail("the app started with a weak bypass secret")  # pragma: no cover
    if isinstance(secret, str) and secret.strip():
        assert secret.strip() not in str(raised.value)


def test_fastapi_weak_secret_never_becomes_a_500_response() -> None:
    # Without a lifespan run, the first request raises the error out of the app: no
    # response at all rather than a 500 page the maintenance middleware did not send.
    app = build("fastapi", enable_maintenance=True, bypass_secret="short")
    client = TestClient(app, raise_server_exceptions=True)
    with pytest.raises(InvalidBypassSecretError):
        client.get("/items")


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=WEAK_IDS)
def test_litestar_weak_secret_fails_at_construction(secret: Any) -> None:
    with pytest.raises(InvalidBypassSecretError) as raised:
        litestar_maintenance.MaintenancePlugin(enable_maintenance=True, bypass_secret=secret)
    if isinstance(secret, str) and secret.strip():
        assert secret.strip() not in str(raised.value)
    with pytest.raises(InvalidBypassSecretError):
        litestar_maintenance.MaintenanceModeMiddleware(bypass_secret=secret)


def test_fastapi_middleware_constructor_raises_directly() -> None:
    inner = fastapi.FastAPI()
    with pytest.raises(InvalidBypassSecretError):
        fastapi_maintenance.MaintenanceModeMiddleware(inner, bypass_secret="short")


@pytest.mark.parametrize(
    ("max_age", "error"),
    [(0, ValueError), (-1, ValueError), (True, TypeError), (1.5, TypeError), ("60", TypeError)],
)
def test_bad_cookie_max_age_fails_at_construction(max_age: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        litestar_maintenance.MaintenancePlugin(bypass_secret=SECRET, bypass_cookie_max_age=max_age)
    app = build("fastapi", bypass_secret=SECRET, bypass_cookie_max_age=max_age)
    with pytest.raises(error), TestClient(app):
        pytest.fail("the app started with a bad bypass_cookie_max_age")  # pragma: no cover


WEAK_APP = """
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware, enable_maintenance=True, bypass_secret="short")


@app.get("/")
def index() -> dict[str, str]:
    return {"ok": "yes"}
"""


def test_uvicorn_with_lifespan_on_refuses_to_start_with_a_weak_secret(tmp_path: Path) -> None:
    # With uvicorn's default --lifespan auto an exception during the lifespan is taken
    # for "lifespan unsupported" and every request then gets uvicorn's 500 (see the
    # report); with --lifespan on the server refuses to start, as it should.
    (tmp_path / "weak_app.py").write_text(WEAK_APP)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "weak_app:app",
            "--app-dir",
            str(tmp_path),
            "--lifespan",
            "on",
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "InvalidBypassSecretError" in result.stderr
    assert "Application startup failed" in result.stderr


def test_a_weak_secret_error_is_a_value_error() -> None:
    # Code that validates its configuration with ``except ValueError`` catches it.
    assert issubclass(InvalidBypassSecretError, ValueError)
