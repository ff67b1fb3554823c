"""A secret stored with the state by ``on --secret``: file backend, then a real Redis.

The command line runs in a subprocess, as an operator would run it; the apps
(FastAPI and Litestar, no ``bypass_secret``) read the same file or Redis key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import fastapi_maintenance
import pytest
import redis
import redis.asyncio as aioredis
from maintenance_core.backends import LocalFileBackend
from maintenance_core.backends.redis import RedisBackend
from maintenance_core.bypass import DEFAULT_COOKIE_MAX_AGE, BypassKey, hash_secret
from maintenance_core.state import MaintenanceState

from tests.support.redis_server import RedisServer, RedisServerMissingError, find_redis_server

from .apps import FRAMEWORKS, build, client_for
from .conftest import OTHER_SECRET, SECRET, stored_cookie

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent
HEADER = "X-Maintenance-Bypass"
CONTEXT = b"maintenance-bypass-v2"
MAC_CONTEXT = b"maintenance-bypass-v2 cookie\x00"
sha256 = hashlib.sha256
_STYLE_VARS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLUMNS")


async def cli(*args: str | os.PathLike[str], script: str = "fastapi-maintenance") -> str:
    """Run the installed command; return its output, which must never show the secrets."""
    env = {k: v for k, v in os.environ.items() if k not in _STYLE_VARS}
    env["NO_COLOR"] = "1"
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [os.fspath(BIN / script), *map(os.fspath, args)], env=env, check=False
        )
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, output
    for secret in (SECRET, OTHER_SECRET):
        assert secret not in output
    assert "scrypt$" not in output  # nor the stored hash
    return output


async def status(app: Any, headers: Any = None) -> int:
    async with client_for(app) as client:
        return (await client.get("/items", headers=headers)).status_code


async def with_secret(app: Any, secret: str) -> int:
    return await status(app, {HEADER: secret})


async def with_cookie(app: Any, cookie: str) -> int:
    return await status(app, {"Cookie": f"maintenance_bypass={cookie}"})


async def mint_cookie(app: Any, secret: str) -> str:
    """Open ``?maintenance_bypass=<secret>``; return the cookie the redirect sets."""
    async with client_for(app) as browser:
        response = await browser.get(f"/items?maintenance_bypass={secret}&x=1")
        assert response.status_code == 302, response.text
        assert response.headers["location"] == "./items?x=1"
        cookie = response.cookies["maintenance_bypass"]
        followed = await browser.get(response.url.join(response.headers["location"]))
        assert followed.status_code == 200
    return str(cookie)


def stored_hash(path: Path) -> str:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return str(data["bypass"])


def file_apps(path: Path, **options: Any) -> dict[str, Any]:
    """One app per framework on the state file, seeing every change at once."""
    return {
        framework: build(framework, backend=LocalFileBackend(path, check_interval=0), **options)
        for framework in FRAMEWORKS
    }


# --- file backend ------------------------------------------------------------------------


async def test_cli_secret_lets_the_team_through_and_off_on_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    output = await cli("on", "--backend", "file", "--file-path", path, "--secret", SECRET)
    assert "Bypass secret: set" in output
    text = path.read_text()
    assert SECRET not in text
    stored = stored_hash(path)
    scheme, n, r, p, salt, verifier, token_check, cookie_key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert verifier != b64(hashlib.sha256(SECRET.encode()).digest())  # not a bare digest
    token = real_token(SECRET, stored)
    assert token_check == b64(hashlib.sha256(token).digest())
    assert b64(token) not in stored  # the token itself is not stored
    assert len(unb64(salt)) == 16
    assert len(unb64(cookie_key)) == 32

    apps = file_apps(path)  # no bypass_secret: only the stored one
    cookies: dict[str, str] = {}
    for framework, app in apps.items():
        assert await status(app) == 503, framework
        assert await with_secret(app, SECRET) == 200, framework
        assert await with_secret(app, OTHER_SECRET) == 503, framework
        cookies[framework] = await mint_cookie(app, SECRET)
        assert await with_cookie(app, cookies[framework]) == 200, framework
    # The apps share the stored cookie key: each app takes the other's cookie.
    fastapi_app, litestar_app = apps["fastapi"], apps["litestar"]
    assert await with_cookie(litestar_app, cookies["fastapi"]) == 200
    assert await with_cookie(fastapi_app, cookies["litestar"]) == 200

    status_output = await cli("status", "--backend", "file", "--file-path", path)
    assert "Bypass secret: set" in status_output

    await cli("off", "--backend", "file", "--file-path", path)
    assert "bypass" not in path.read_text()
    for app in apps.values():
        assert await status(app) == 200  # off: everybody passes

    await cli("on", "--backend", "file", "--file-path", path, script="litestar-maintenance")
    assert "bypass" not in path.read_text()
    for framework, app in apps.items():
        assert await status(app) == 503, framework
        assert await with_secret(app, SECRET) == 503, framework
        assert await with_cookie(app, cookies[framework]) == 503, framework
        async with client_for(app) as client:
            response = await client.get(f"/items?maintenance_bypass={SECRET}")
        assert response.status_code == 503
        assert "set-cookie" not in response.headers


async def test_storing_a_secret_again_invalidates_older_cookies(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    await cli("on", "--backend", "file", "--file-path", path, "--secret", SECRET)
    first_hash = stored_hash(path)
    apps = file_apps(path)
    first = {fw: await mint_cookie(app, SECRET) for fw, app in apps.items()}

    # The same secret again: a new salt and a new cookie key, so a new stored hash:
    # the secret still works, cookies issued before do not.
    await cli("on", "--backend", "file", "--file-path", path, "--secret", SECRET)
    assert stored_hash(path) != first_hash
    second = {}
    for framework, app in apps.items():
        assert await with_cookie(app, first[framework]) == 503, framework
        assert await with_secret(app, SECRET) == 200, framework
        second[framework] = await mint_cookie(app, SECRET)
        assert await with_cookie(app, second[framework]) == 200, framework

    # A new secret: the old one and every cookie made for it are refused.
    await cli("on", "--backend", "file", "--file-path", path, "--secret", OTHER_SECRET)
    for framework, app in apps.items():
        assert await with_cookie(app, first[framework]) == 503, framework
        assert await with_cookie(app, second[framework]) == 503, framework
        assert await with_secret(app, SECRET) == 503, framework
        assert await with_secret(app, OTHER_SECRET) == 200, framework
        assert await with_cookie(app, await mint_cookie(app, OTHER_SECRET)) == 200, framework


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_middleware_and_stored_secret_are_both_accepted(
    framework: str, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    app = build(
        framework,
        backend=LocalFileBackend(path, check_interval=0),
        bypass_secret=OTHER_SECRET,
    )
    assert await status(app) == 503
    assert await with_secret(app, SECRET) == 200  # the stored one
    assert await with_secret(app, OTHER_SECRET) == 200  # the middleware's
    for secret in (SECRET, OTHER_SECRET):
        assert await with_cookie(app, await mint_cookie(app, secret)) == 200
    # Without the stored secret, the middleware's still works.
    await LocalFileBackend(path).set_state(MaintenanceState(True))
    assert await with_secret(app, SECRET) == 503
    assert await with_secret(app, OTHER_SECRET) == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_while_the_state_is_off_a_stored_secret_in_the_url_is_dropped(
    framework: str, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(False, bypass=hash_secret(SECRET)))
    app = build(framework, backend=LocalFileBackend(path, check_interval=0))
    async with client_for(app) as client:
        response = await client.get(f"/items?maintenance_bypass={SECRET}")
        assert response.status_code == 302  # the app never sees the secret
        assert response.headers["location"] == "./items"
        assert (await client.get("/items")).status_code == 200


def real_token(secret: str, stored: str) -> bytes:
    """The documented cookie token of a stored secret: HMAC-SHA256(root, b"cookie token\\x01"),
    root = scrypt(secret, salt, n, r, p, 32)."""
    _, n, r, p, salt, _, _, _ = stored.split("$")
    root = hashlib.scrypt(
        secret.encode(), salt=unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32, maxmem=2**26
    )
    return hmac.new(root, b"cookie token\x01", sha256).digest()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(key: bytes, token: bytes, issued: int) -> str:
    """The documented cookie recipe, run by hand: <issued>.<token>.<mac>."""
    token_text = b64(token)
    message = MAC_CONTEXT + str(issued).encode() + b"." + token_text.encode()
    return f"{issued}.{token_text}.{b64(hmac.new(key, message, sha256).digest())}"


def mint_attempts(stored: str, issued: int) -> list[str]:
    """Every plausible cookie made from the stored hash alone.

    The material: the salt, the verifier, the token's digest and the cookie key
    (raw, as stored text, joined), the whole stored string. Each piece, and what
    one HMAC or SHA-256 step makes of it, is tried as the token, with the MAC made
    with the stored cookie key (the right key: only the token is missing) and with
    each piece as the key; then in the earlier 3-part recipe (the token as its
    own key).
    """
    _, _, _, _, salt_text, verifier_text, check_text, key_text = stored.split("$")
    salt, verifier, check, cookie_key = (
        unb64(t) for t in (salt_text, verifier_text, check_text, key_text)
    )
    material = [
        salt,
        verifier,
        check,
        cookie_key,
        salt + verifier,
        verifier + check,
        stored.encode(),
        salt_text.encode(),
        verifier_text.encode(),
        check_text.encode(),
        key_text.encode(),
    ]
    derived = [
        *material,
        *(hmac.new(piece, b"cookie token\x01", sha256).digest() for piece in material),
        *(hmac.new(piece, CONTEXT, sha256).digest() for piece in material),
        *(hmac.new(CONTEXT, piece, sha256).digest() for piece in material),
        *(sha256(piece).digest() for piece in material),
    ]
    attempts = []
    for token in derived:
        for key in (cookie_key, *material):
            attempts.append(signed(key, token, issued))
        earlier = hmac.new(token, str(issued).encode(), sha256).digest()
        attempts.append(f"{issued}.{b64(token)}.{b64(earlier)}")
    return attempts


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_stored_hash_alone_cannot_mint_a_cookie(framework: str, tmp_path: Path) -> None:
    """Whoever can read the stored state (the file; the Redis key) must not get in
    without knowing the secret or holding a cookie: the state holds a salt, scrypt's
    verifier, the token's digest and the cookie key, and a cookie needs the token
    itself, which only the secret (or a cookie) gives."""
    path = tmp_path / "state.json"
    await LocalFileBackend(path).set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    stored = stored_hash(path)  # what a reader of the file or of Redis sees
    app = build(framework, backend=LocalFileBackend(path, check_interval=0))
    assert await with_secret(app, stored) == 503  # the hash is no header secret
    for part in stored.split("$"):
        assert await with_secret(app, part) == 503

    # Well within the max age, so a refusal is not for the expiry.
    issued = int(time.time()) - 5
    attempts = mint_attempts(stored, issued)
    assert len(attempts) > 500
    # Control: the same recipe with the real token is accepted, by the key and the app.
    cookie_key = unb64(stored.split("$")[-1])
    real = signed(cookie_key, real_token(SECRET, stored), issued)
    key = BypassKey.from_hash(stored)
    assert key.accepts_cookie(real.encode(), time.time(), DEFAULT_COOKIE_MAX_AGE)
    assert await with_cookie(app, real) == 200

    now = time.time()
    minted = [a for a in attempts if key.accepts_cookie(a.encode(), now, DEFAULT_COOKIE_MAX_AGE)]
    assert not minted, f"cookies made from the stored hash alone are accepted: {minted[:3]}"
    # Through the app as well, many cookies of that name per request.
    for start in range(0, len(attempts), 200):
        header = "; ".join(f"maintenance_bypass={a}" for a in attempts[start : start + 200])
        assert await status(app, {"Cookie": header}) == 503, start
    # Control: one real cookie among them is found.
    header = "; ".join(f"maintenance_bypass={a}" for a in [*attempts[:199], real])
    assert await status(app, {"Cookie": header}) == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_revoking_the_stored_secret_applies_while_an_override_is_held(
    framework: str, tmp_path: Path
) -> None:
    """An operator revokes the stored secret (``on`` without ``--secret``, or with a
    new one) while the app holds ``maintenance_mode_on()`` (a migration, say): the
    override decides that maintenance is on, but the bypass secret is still read from
    the backend (``StateReader.stored_state``), so the revocation applies at once."""
    path = tmp_path / "state.json"
    writer = LocalFileBackend(path)
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    backend = LocalFileBackend(path, check_interval=0)
    app = build(framework, backend=backend)
    assert await with_secret(app, SECRET) == 200  # the app has read the state once
    cookie = stored_cookie(stored_hash(path), SECRET)
    registry = fastapi_maintenance if framework == "fastapi" else _litestar()
    async with registry.maintenance_mode_on(backend):
        assert await with_secret(app, SECRET) == 200
        await writer.set_state(MaintenanceState(True))  # revoked
        assert await status(app) == 503
        assert await with_secret(app, SECRET) == 503, "the revoked secret still works"
        assert await with_cookie(app, cookie) == 503, "the revoked secret's cookie works"
        async with client_for(app) as client:
            response = await client.get(f"/items?maintenance_bypass={SECRET}")
        assert response.status_code == 503
        assert "set-cookie" not in response.headers
        # Rotated to another secret, still under the override: only the new one counts.
        await writer.set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
        assert await with_secret(app, OTHER_SECRET) == 200
        assert await with_secret(app, SECRET) == 503
        # Even with the state off behind the override: on is the override's to decide.
        await writer.set_state(MaintenanceState(False))
        assert await status(app) == 503
        assert await with_secret(app, OTHER_SECRET) == 503


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_fresh_app_under_an_override_accepts_the_stored_secret(
    framework: str, tmp_path: Path
) -> None:
    """The mirror case: the app has not read the state before the override is taken
    (it starts under it, or the secret is stored after), yet the stored secret counts."""
    path = tmp_path / "state.json"
    writer = LocalFileBackend(path)
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    backend = LocalFileBackend(path, check_interval=0)
    app = build(framework, backend=backend)
    registry = fastapi_maintenance if framework == "fastapi" else _litestar()
    async with registry.maintenance_mode_on(backend):
        # The first requests this app ever sees.
        assert await status(app) == 503
        assert await with_secret(app, SECRET) == 200
        assert await with_secret(app, OTHER_SECRET) == 503
        cookie = await mint_cookie(app, SECRET)
        assert await with_cookie(app, cookie) == 200

    # Stored while the override is held, in an app that had read a state without one.
    await writer.set_state(MaintenanceState(True))
    second_backend = LocalFileBackend(path, check_interval=0)
    second = build(framework, backend=second_backend)
    assert await with_secret(second, OTHER_SECRET) == 503  # read: no secret stored
    async with registry.maintenance_mode_on(second_backend):
        assert await with_secret(second, OTHER_SECRET) == 503
        await writer.set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
        assert await with_secret(second, OTHER_SECRET) == 200
        other_cookie = stored_cookie(stored_hash(path), OTHER_SECRET)
        assert await with_cookie(second, other_cookie) == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_stored_secret_counts_when_enable_maintenance_decides(
    framework: str, tmp_path: Path
) -> None:
    # enable_maintenance=True decides without reading the backend, like an override:
    # the stored secret is read all the same, and its changes apply at once.
    path = tmp_path / "state.json"
    writer = LocalFileBackend(path)
    await writer.set_state(MaintenanceState(False, bypass=hash_secret(SECRET)))
    app = build(
        framework, backend=LocalFileBackend(path, check_interval=0), enable_maintenance=True
    )
    assert await status(app) == 503
    assert await with_secret(app, SECRET) == 200
    cookie = stored_cookie(stored_hash(path), SECRET)
    assert await with_cookie(app, cookie) == 200
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    assert await with_secret(app, SECRET) == 503
    assert await with_cookie(app, cookie) == 503
    assert await with_secret(app, OTHER_SECRET) == 200
    await writer.set_state(MaintenanceState(True))
    assert await with_secret(app, OTHER_SECRET) == 503


def _litestar() -> Any:
    import litestar_maintenance

    return litestar_maintenance


# --- redis backend -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        executable = find_redis_server()
    except RedisServerMissingError as exc:
        pytest.fail(str(exc), pytrace=False)  # not a skip: CI installs redis-server
    server = RedisServer(executable, directory=tmp_path_factory.mktemp("bypass-redis"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    assert redis_server.running, redis_server.log()
    with redis.Redis(host="127.0.0.1", port=redis_server.port) as client:
        client.flushall()
    return redis_server.url


@pytest.fixture
async def redis_backends(redis_url: str) -> AsyncIterator[Callable[[], RedisBackend]]:
    created: list[RedisBackend] = []

    def factory() -> RedisBackend:
        backend = RedisBackend(redis_url, resync_interval=0.2)
        created.append(backend)
        return backend

    yield factory
    for backend in created:
        await backend.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within}s: {what}")
        await anyio.sleep(0.02)


async def test_redis_stored_secret_is_shared_by_every_app(
    redis_url: str, redis_backends: Callable[[], RedisBackend]
) -> None:
    await cli("on", "--backend", "redis", "--redis-url", redis_url, "--secret", SECRET)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        value = (await raw.get("maintenance_mode")).decode()
    finally:
        await raw.aclose()
    assert SECRET not in value
    assert json.loads(value)["bypass"].startswith("scrypt$16384$8$1$")

    # Two FastAPI instances and a Litestar one, each with its own backend on the key.
    apps = [
        build("fastapi", backend=redis_backends()),
        build("fastapi", backend=redis_backends()),
        build("litestar", backend=redis_backends()),
    ]
    for app in apps:
        assert await status(app) == 503
        assert await with_secret(app, SECRET) == 200
        assert await with_secret(app, OTHER_SECRET) == 503
    # A cookie minted by one instance opens the others.
    cookie = await mint_cookie(apps[0], SECRET)
    for app in apps:
        assert await with_cookie(app, cookie) == 200
    litestar_cookie = await mint_cookie(apps[2], SECRET)
    assert await with_cookie(apps[1], litestar_cookie) == 200

    await cli("off", "--backend", "redis", "--redis-url", redis_url)
    await cli("on", "--backend", "redis", "--redis-url", redis_url)
    for index, app in enumerate(apps):

        async def revoked(app: Any = app) -> bool:
            return await with_secret(app, SECRET) == 503

        await eventually(revoked, f"app {index} refuses the removed secret")
        assert await status(app) == 503
        assert await with_cookie(app, cookie) == 503
        assert await with_cookie(app, litestar_cookie) == 503


async def test_redis_rotation_reaches_every_app(
    redis_url: str, redis_backends: Callable[[], RedisBackend]
) -> None:
    writer = redis_backends()
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(SECRET)))
    apps = [build(framework, backend=redis_backends()) for framework in FRAMEWORKS]
    cookie = await mint_cookie(apps[0], SECRET)
    for app in apps:
        assert await with_cookie(app, cookie) == 200
    await writer.set_state(MaintenanceState(True, bypass=hash_secret(OTHER_SECRET)))
    for index, app in enumerate(apps):

        async def rotated(app: Any = app) -> bool:
            return await with_secret(app, OTHER_SECRET) == 200

        await eventually(rotated, f"app {index} accepts the new secret")
        assert await with_secret(app, SECRET) == 503
        assert await with_cookie(app, cookie) == 503
