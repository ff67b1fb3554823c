"""The demo app (examples/demo_app.py), served by a real uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
STARTUP_TIMEOUT = 30.0


@dataclass
class DemoServer:
    client: httpx.Client
    state_file: Path
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log_file: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            log = log_file.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the demo app exited with code {process.returncode}:\n{log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                log = log_file.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"the demo app did not listen within {STARTUP_TIMEOUT}s:\n{log}")
            time.sleep(0.05)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    port = _free_port()
    state_file = tmp_path / "demo_state.txt"
    log_file = tmp_path / "uvicorn.log"
    env = {**os.environ, "DEMO_MAINTENANCE_FILE": str(state_file)}
    env.pop("FASTAPI_MAINTENANCE_MODE", None)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "demo_app:app",
        "--app-dir",
        str(EXAMPLES_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_serving(process, port, log_file)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield DemoServer(client=client, state_file=state_file, log_file=log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_demo_app_maintenance_cycle(demo: DemoServer) -> None:
    client = demo.client

    # Off at start: no state file yet.
    assert client.get("/").status_code == 200, demo.log()
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is False

    # On through the admin endpoint, which writes the state file.
    response = client.post("/admin/maintenance/on")
    assert response.status_code == 200, demo.log()
    assert response.json()["maintenance_mode"] is True
    assert demo.state_file.read_text(encoding="utf-8").strip() == "1"

    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json() == {"detail": "Service temporarily unavailable due to maintenance"}
    assert client.get("/items/3").status_code == 503

    # Forced off, docs and unknown paths.
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is True
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/no-such-page").status_code == 404

    # Another process (the CLI) writes the file: every request sees it.
    demo.state_file.write_text("0", encoding="utf-8")
    assert client.get("/").status_code == 200
    assert client.get("/admin/maintenance").json()["maintenance_mode"] is False

    # And the admin pair round-trips.
    assert client.post("/admin/maintenance/on").status_code == 200
    assert client.get("/").status_code == 503
    response = client.post("/admin/maintenance/off")
    assert response.status_code == 200
    assert response.json()["maintenance_mode"] is False
    assert demo.state_file.read_text(encoding="utf-8").strip() == "0"
    assert client.get("/").status_code == 200


def test_demo_app_forced_on_route(demo: DemoServer) -> None:
    response = demo.client.get("/legacy")
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert demo.client.get("/").status_code == 200
