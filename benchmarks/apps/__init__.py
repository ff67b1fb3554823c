"""The apps the benchmarks measure, one module per app shape.

Each module has ``build(variant)`` returning the ASGI app, and a module-level
``app`` built from ``$BENCH_VARIANT`` (``bare`` by default) for uvicorn
(``benchmarks.apps.fastapi_app:app``), on first use rather than on import.

Variants (not every shape has every one):

``bare``
    no maintenance middleware: the reference.
``off``
    the middleware on the environment-variable backend, variable unset.
``on``
    the same with the variable set to ``1``: every request gets the 503.
``bypass``
    as ``on``, with a bypass secret configured; requests carrying it in the
    ``X-Maintenance-Bypass`` header get through.
``file``
    ``LocalFileBackend`` on the file named by ``$BENCH_STATE_FILE`` (holding ``0``).
``redis``
    ``RedisBackend`` on ``$BENCH_REDIS_URL``, the key unset (off).

The environment-variable variants set or clear the framework's variable
(``FASTAPI_MAINTENANCE_MODE``, ``LITESTAR_MAINTENANCE_MODE``) in the current
process when the app is built, as an operator would in its environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable

VARIANT_VAR = "BENCH_VARIANT"
STATE_FILE_VAR = "BENCH_STATE_FILE"
REDIS_URL_VAR = "BENCH_REDIS_URL"

HELLO = b'{"message":"Hello World"}'
"""The body of every route that answers 200 (plain routes of every app shape)."""

BYPASS_SECRET = "bench-bypass-Qx7rT2mW9kLp4Zs8"
"""The secret of the ``bypass`` variant (at least 16 characters, enough entropy)."""
BYPASS_HEADER = (b"x-maintenance-bypass", BYPASS_SECRET.encode())

LARGE_ROUTERS = 20
LARGE_ROUTES_PER_ROUTER = 50
LARGE_PATH = "/r10/e25"
"""The plain route requested in a large app: in the middle of the 1,000."""


def variant_from_env() -> str:
    return os.environ.get(VARIANT_VAR, "bare")


def set_env_state(var: str, variant: str) -> None:
    """Turn the environment-variable backend on for ``on``/``bypass``, else clear it."""
    if variant in ("on", "bypass"):
        os.environ[var] = "1"
    else:
        os.environ.pop(var, None)


def unknown(variant: str, shape: str) -> ValueError:
    return ValueError(f"{shape} has no variant {variant!r}")


def lazy_app(module: str, build: Callable[[str], object]) -> Callable[[str], object]:
    """A module ``__getattr__`` that builds ``app`` for ``$BENCH_VARIANT`` when asked."""

    def __getattr__(name: str) -> object:
        if name == "app":
            return build(variant_from_env())
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
