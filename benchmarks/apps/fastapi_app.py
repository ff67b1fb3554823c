"""A one-route FastAPI app: ``GET /`` returns ``{"message": "Hello World"}``.

Variants: ``bare``, ``off``, ``on``, ``bypass``, ``file``, ``redis`` (see
:mod:`benchmarks.apps`). The module only uses what fastapi-maintenance 0.0.5 has
too (``MaintenanceModeMiddleware``, ``EnvVarBackend``, ``LocalFileBackend``) for
``bare``, ``off`` and ``on``, so ``benchmarks/.venv-005`` imports it as well.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from benchmarks.apps import (
    BYPASS_SECRET,
    REDIS_URL_VAR,
    STATE_FILE_VAR,
    lazy_app,
    set_env_state,
    unknown,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Close the maintenance backend (connections, background tasks) when the app stops."""
    yield
    close = getattr(getattr(app.state, "maintenance_backend", None), "aclose", None)
    if close is not None:  # 0.0.5's backends have none
        await close()


def add_maintenance(app: FastAPI, variant: str) -> None:
    """Add the maintenance middleware to *app* as *variant* says (nothing for ``bare``);
    build *app* with :func:`lifespan` to close its backend."""
    if variant == "bare":
        return
    from fastapi_maintenance import MaintenanceModeMiddleware, backends

    options: dict[str, Any] = {}
    if variant in ("off", "on", "bypass"):
        set_env_state("FASTAPI_MAINTENANCE_MODE", variant)
        options["backend"] = backends.EnvVarBackend()
        if variant == "bypass":
            options["bypass_secret"] = BYPASS_SECRET
    elif variant == "file":
        options["backend"] = backends.LocalFileBackend(os.environ[STATE_FILE_VAR])
    elif variant == "redis":
        options["backend"] = backends.RedisBackend(os.environ[REDIS_URL_VAR])
    else:
        raise unknown(variant, __name__)
    app.state.maintenance_backend = options["backend"]
    app.add_middleware(MaintenanceModeMiddleware, **options)


def build(variant: str = "bare") -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    # response_model=None: serialised as an unannotated endpoint would be.
    @app.get("/", response_model=None)
    async def root() -> dict[str, str]:
        return {"message": "Hello World"}

    add_maintenance(app, variant)
    return app


__getattr__ = lazy_app(__name__, build)
