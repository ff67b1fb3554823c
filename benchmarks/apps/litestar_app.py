"""A one-route Litestar app: ``GET /`` returns ``{"message": "Hello World"}``.

Variants: ``bare``, ``off``, ``on``, ``bypass``, ``file``, ``redis`` (see
:mod:`benchmarks.apps`); the middleware comes with ``MaintenancePlugin``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.plugins import PluginProtocol
from litestar.types import ControllerRouterHandler

from benchmarks.apps import (
    BYPASS_SECRET,
    REDIS_URL_VAR,
    STATE_FILE_VAR,
    lazy_app,
    set_env_state,
    unknown,
)


def maintenance_plugins(variant: str) -> list[PluginProtocol]:
    """The app's plugins for *variant*: ``MaintenancePlugin``, or none for ``bare``."""
    if variant == "bare":
        return []
    from litestar_maintenance import MaintenancePlugin, backends

    options: dict[str, Any] = {}
    if variant in ("off", "on", "bypass"):
        set_env_state("LITESTAR_MAINTENANCE_MODE", variant)
        options["backend"] = backends.EnvVarBackend()
        if variant == "bypass":
            options["bypass_secret"] = BYPASS_SECRET
    elif variant == "file":
        options["backend"] = backends.LocalFileBackend(os.environ[STATE_FILE_VAR])
    elif variant == "redis":
        options["backend"] = backends.RedisBackend(os.environ[REDIS_URL_VAR])
    else:
        raise unknown(variant, __name__)
    return [MaintenancePlugin(**options)]


def hello(path: str) -> HTTPRouteHandler:
    """A new ``GET`` handler at *path* returning a small JSON dict."""

    async def handler() -> dict[str, str]:
        return {"message": "Hello World"}

    return get(path)(handler)


def app_with(handlers: Sequence[ControllerRouterHandler], variant: str) -> Litestar:
    # No OpenAPI schema routes: the app serves only what is measured.
    return Litestar(handlers, plugins=maintenance_plugins(variant), openapi_config=None)


def build(variant: str = "bare") -> Litestar:
    return app_with([hello("/")], variant)


__getattr__ = lazy_app(__name__, build)
