"""``exempt_client_ips`` behind a real nginx in front of a real uvicorn.

The client connects from 127.0.0.2 (another loopback address), nginx listens on
127.0.0.1 and reaches uvicorn from 127.0.0.1, so the client, the proxy and the
claimed address are three different addresses, as in a real deployment. The
attacker claims an exempt office address with its own ``X-Forwarded-For``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port, uvicorn_server, wait_for_port

CLIENT = "127.0.0.2"
PROXY = "127.0.0.1"
OFFICE = "10.0.0.5"  # an exempt address the attacker claims

# The documented recipe: nginx appends the address it saw.
APPENDS = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
# The recipe the docs used to show: nginx passes the client's own header on.
PASSES_ON = ""


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )
    if found is None:
        pytest.fail("nginx not found: ./scripts/test installs it (scripts/lib.sh)", pytrace=False)
    return found


@contextmanager
def nginx_proxy(upstream: str, tmp_path: Path, forwarded_for: str) -> Iterator[str]:
    """Run nginx on a free loopback port in front of *upstream*; yield its URL."""
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen {PROXY}:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $host;
            {forwarded_for}
        }}
    }}
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [_nginx(), "-c", str(conf), "-p", str(tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)  # type: ignore[arg-type]
        yield f"http://{PROXY}:{port}"
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(url: str, claimed: str | None) -> httpx.Response:
    headers = {"X-Forwarded-For": claimed} if claimed else {}
    transport = httpx.HTTPTransport(local_address=CLIENT)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"{url}/whoami", headers=headers)


@contextmanager
def proxied(
    tmp_path: Path, *, exempt: str, trusted: str, uvicorn_args: tuple[str, ...], forwarded: str
) -> Iterator[str]:
    env = {"EXEMPT_NETWORKS": exempt, "TRUSTED_PROXIES": trusted}
    with (
        uvicorn_server("tests.exemptions.apps.proxied_app:app", env=env, args=uvicorn_args) as app,
        nginx_proxy(app, tmp_path, forwarded) as url,
    ):
        yield url


# Recipe 1: uvicorn decides (its default --forwarded-allow-ips is 127.0.0.1, the proxy).
UVICORN_DECIDES = {"trusted": "", "uvicorn_args": ("--forwarded-allow-ips", PROXY)}
# Recipe 2: the exemption decides; uvicorn leaves the client address alone.
EXEMPTION_DECIDES = {"trusted": PROXY, "uvicorn_args": ("--no-proxy-headers",)}
RECIPES = [
    pytest.param(UVICORN_DECIDES, id="uvicorn-decides"),
    pytest.param(EXEMPTION_DECIDES, id="exemption-decides"),
]


@pytest.mark.parametrize("recipe", RECIPES)
def test_a_claimed_office_address_is_not_exempt_with_the_documented_recipes(
    recipe: dict[str, object], tmp_path: Path
) -> None:
    with proxied(tmp_path, exempt="10.0.0.0/8", forwarded=APPENDS, **recipe) as url:  # type: ignore[arg-type]
        for claimed in (OFFICE, f"{OFFICE}, {OFFICE}", "10.1.2.3, 10.0.0.9", None):
            response = _get(url, claimed)
            assert response.status_code == 503, (claimed, response.text)


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_real_client_is_exempt_through_the_proxy(
    recipe: dict[str, object], tmp_path: Path
) -> None:
    # The same setups let the real client's own address through: the checks above
    # refuse the attacker, not everybody.
    with proxied(tmp_path, exempt=CLIENT, forwarded=APPENDS, **recipe) as url:  # type: ignore[arg-type]
        response = _get(url, OFFICE)
        assert response.status_code == 200, response.text
        if recipe is UVICORN_DECIDES:
            assert response.json() == {"client": CLIENT}


def test_a_proxy_passing_on_the_clients_header_lets_anybody_claim_an_address(
    tmp_path: Path,
) -> None:
    # Why the docs insist on appending: with the header passed on, uvicorn believes
    # the attacker's claim. (This is the setup the docs no longer show.)
    with proxied(tmp_path, exempt="10.0.0.0/8", forwarded=PASSES_ON, **UVICORN_DECIDES) as url:  # type: ignore[arg-type]
        response = _get(url, OFFICE)
    assert response.status_code == 200
    assert response.json() == {"client": OFFICE}
