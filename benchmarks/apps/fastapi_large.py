"""A FastAPI app with 1,000 routes in 20 ``APIRouter`` of 50, one of them forced on.

Every route is a plain ``GET /r<NN>/e<NN>`` returning a small JSON dict; the
last one, ``GET /r19/e49``, is marked ``force_maintenance_mode_on`` (in ``bare``
it is there without the marker). The benchmarks request ``LARGE_PATH``, a plain
route in the middle. Variants: ``bare`` and ``off``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from benchmarks.apps import (
    LARGE_ROUTERS,
    LARGE_ROUTES_PER_ROUTER,
    lazy_app,
    unknown,
)
from benchmarks.apps.fastapi_app import add_maintenance, lifespan


async def item() -> dict[str, str]:
    return {"message": "Hello World"}


def build(variant: str = "bare") -> FastAPI:
    if variant not in ("bare", "off"):
        raise unknown(variant, __name__)

    async def forced() -> dict[str, str]:
        return {"message": "forced on"}

    if variant != "bare":
        from fastapi_maintenance import force_maintenance_mode_on

        forced = force_maintenance_mode_on(forced)

    app = FastAPI(lifespan=lifespan)
    for r in range(LARGE_ROUTERS):
        router = APIRouter(prefix=f"/r{r:02d}")
        for e in range(LARGE_ROUTES_PER_ROUTER):
            last = (r, e) == (LARGE_ROUTERS - 1, LARGE_ROUTES_PER_ROUTER - 1)
            router.add_api_route(f"/e{e:02d}", forced if last else item, response_model=None)
        app.include_router(router)
    add_maintenance(app, variant)
    return app


__getattr__ = lazy_app(__name__, build)
