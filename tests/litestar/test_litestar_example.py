"""``examples/litestar_app.py``: in Litestar's test client, and served by uvicorn
as the README says (``uvicorn examples.litestar_app:app``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx
import litestar_maintenance
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from maintenance_core.testing import reset

from tests.support.servers import uvicorn_server
from tests.support.waiting import eventually_sync

from .helpers import MAINTENANCE_BODY, assert_maintenance

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "litestar_app.py"
FILE_VAR = "LITESTAR_MAINTENANCE_FILE"


def load_example(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    """A fresh module object of the example, reading the environment as it is now.

    It goes into ``sys.modules`` (until the test ends): Litestar resolves the
    handlers' postponed annotations through the module named by the function.
    """
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_example_app_maintenance_cycle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    state_file = tmp_path / "example_state.txt"
    monkeypatch.setenv(FILE_VAR, str(state_file))
    example = load_example(monkeypatch, "litestar_app_under_test")
    assert example.state_file == str(state_file)

    with TestClient(example.app) as client:
        assert client.get("/").json() == {"message": "Hello from Litestar"}
        assert client.get("/admin/maintenance").json() == {"maintenance_mode": False}

        turned_on = client.post("/admin/maintenance/on")
        assert turned_on.status_code == 200
        assert turned_on.json() == {"maintenance_mode": True}
        assert state_file.read_text(encoding="utf-8") == "1"

        assert_maintenance(client.get("/"))
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/admin/maintenance").json() == {"maintenance_mode": True}
        assert client.get("/schema/openapi.json").status_code == 200
        assert client.get("/no-such-page").status_code == 404

        turned_off = client.post("/admin/maintenance/off")
        assert turned_off.json() == {"maintenance_mode": False}
        assert state_file.read_text(encoding="utf-8") == "0"
        assert client.get("/").status_code == 200

        # Written from outside, as the CLI or `echo 1 > file` would: seen at the
        # backend's next file check (every 0.5 s by default).
        state_file.write_text("1", encoding="utf-8")
        assert_maintenance(
            eventually_sync(lambda: client.get("/"), lambda r: r.status_code != 200, timeout=2.0)
        )


def test_example_default_state_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(FILE_VAR, raising=False)
    example = load_example(monkeypatch, "litestar_app_default")
    assert example.state_file == "litestar_maintenance_mode.txt"
    with TestClient(example.app) as client:
        client.post("/admin/maintenance/on")
    assert (tmp_path / "litestar_maintenance_mode.txt").read_text(encoding="utf-8") == "1"


def test_example_runs_under_uvicorn(tmp_path: Path) -> None:
    state_file = tmp_path / "served_state.txt"
    with (
        uvicorn_server("examples.litestar_app:app", env={FILE_VAR: str(state_file)}) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        assert client.get("/").status_code == 200
        assert client.post("/admin/maintenance/on").json() == {"maintenance_mode": True}
        response = client.get("/")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "3600"
        assert response.json() == MAINTENANCE_BODY
        assert client.get("/health").status_code == 200
        assert client.post("/admin/maintenance/off").json() == {"maintenance_mode": False}
        assert client.get("/").status_code == 200


def readme_litestar_snippet() -> str:
    """The first Python block of the README's Litestar section."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Litestar\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def readme_litestar_app(monkeypatch: pytest.MonkeyPatch, maintenance_mode: str) -> Litestar:
    """A fresh app from the README snippet, started with ``LITESTAR_MAINTENANCE_MODE`` set.

    The environment backend reads the variable once, at its first read, so each
    value gets its own app and default backend, as a restarted process would.
    """
    reset(litestar_maintenance)
    monkeypatch.setenv("LITESTAR_MAINTENANCE_MODE", maintenance_mode)
    module = ModuleType("readme_litestar_snippet")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(readme_litestar_snippet(), "README.md", "exec"), module.__dict__)
    app = module.app
    assert isinstance(app, Litestar)
    return app


def test_readme_litestar_snippet(monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(readme_litestar_app(monkeypatch, "1")) as client:
        assert_maintenance(client.get("/"))
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/admin/maintenance").json() == {"maintenance_mode": True}
    with TestClient(readme_litestar_app(monkeypatch, "0")) as client:
        assert client.get("/").json() == {"message": "Hello World"}
        assert client.get("/admin/maintenance").json() == {"maintenance_mode": False}
