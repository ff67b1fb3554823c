"""The benchmark app: one async route, ``GET /``, returning a small JSON dict.

One module serves every variant; environment variables choose what wraps it.
The same file is imported by our package (the workspace venv) and by
fastapi-maintenance 0.0.5 (its own venv): both expose ``MaintenanceModeMiddleware``
and ``fastapi_maintenance.backends.EnvVarBackend``/``LocalFileBackend``.

``BENCH_BACKEND``
    ``none`` (no middleware: the bare app), ``env``, ``file`` or ``redis``.
``BENCH_FILE_PATH``
    the state file for ``file``.
``BENCH_REDIS_URL``
    the Redis URL for ``redis`` (``fastapi_maintenance.backends.RedisBackend``).
``BENCH_EXPECT_VERSION``
    if set, the import fails unless ``fastapi_maintenance.__version__`` equals it,
    so a variant can never run against the wrong package.

Maintenance is switched on for the ``on`` variants through the backend itself
(``FASTAPI_MAINTENANCE_MODE=1`` for ``env``), never with ``enable_maintenance``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

BACKEND = os.environ.get("BENCH_BACKEND", "none")

app = FastAPI()


# response_model=None: serialised as for an unannotated endpoint (the README's example),
# without a pydantic response model built from the return annotation.
@app.get("/", response_model=None)
async def root() -> dict[str, str]:
    return {"message": "Hello World"}


if BACKEND != "none":
    import fastapi_maintenance
    from fastapi_maintenance import MaintenanceModeMiddleware

    expected = os.environ.get("BENCH_EXPECT_VERSION")
    if expected and fastapi_maintenance.__version__ != expected:
        raise RuntimeError(
            f"expected fastapi_maintenance {expected}, imported "
            f"{fastapi_maintenance.__version__} from {fastapi_maintenance.__file__}"
        )

    backend: Any  # the backend classes of two different packages
    if BACKEND == "env":
        from fastapi_maintenance.backends import EnvVarBackend

        backend = EnvVarBackend()
    elif BACKEND == "file":
        from fastapi_maintenance.backends import LocalFileBackend

        backend = LocalFileBackend(file_path=os.environ["BENCH_FILE_PATH"])
    elif BACKEND == "redis":
        from fastapi_maintenance.backends import RedisBackend

        backend = RedisBackend(url=os.environ["BENCH_REDIS_URL"])
    else:
        raise RuntimeError(f"unknown BENCH_BACKEND={BACKEND!r}")

    app.add_middleware(MaintenanceModeMiddleware, backend=backend)
elif os.environ.get("BENCH_EXPECT_VERSION"):
    raise RuntimeError("BENCH_EXPECT_VERSION is set but BENCH_BACKEND is none")
