"""A Litestar app with 1,000 routes in 20 ``Router`` of 50, one of them forced on.

Every route is a plain ``GET /r<NN>/e<NN>`` returning a small JSON dict; the
last one, ``GET /r19/e49``, is marked ``force_maintenance_mode_on`` (in ``bare``
it is there without the marker). The benchmarks request ``LARGE_PATH``, a plain
route in the middle. Variants: ``bare`` and ``off``.
"""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.handlers import HTTPRouteHandler

from benchmarks.apps import (
    LARGE_ROUTERS,
    LARGE_ROUTES_PER_ROUTER,
    lazy_app,
    unknown,
)
from benchmarks.apps.litestar_app import app_with, hello


def build(variant: str = "bare") -> Litestar:
    if variant not in ("bare", "off"):
        raise unknown(variant, __name__)
    routers = []
    for r in range(LARGE_ROUTERS):
        handlers: list[HTTPRouteHandler] = [
            hello(f"/e{e:02d}") for e in range(LARGE_ROUTES_PER_ROUTER)
        ]
        if r == LARGE_ROUTERS - 1 and variant != "bare":
            from litestar_maintenance import force_maintenance_mode_on

            handlers[-1] = force_maintenance_mode_on(handlers[-1])
        routers.append(Router(f"/r{r:02d}", route_handlers=handlers))
    return app_with(routers, variant)


__getattr__ = lazy_app(__name__, build)
