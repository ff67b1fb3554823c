"""Prometheus counters of maintenance mode, served at ``/metrics``.

Needs the ``metrics`` extra (``pip install 'maintenance-core[metrics]'``, which
installs ``prometheus_client``). Run it with::

    MAINTENANCE_FILE=maintenance_mode.txt uvicorn metrics_app:app --app-dir examples

switch maintenance on (``fastapi-maintenance on --backend file --file-path
maintenance_mode.txt``), send a few requests and read ``/metrics``::

    maintenance_refused_total{kind="http",reason="maintenance"} 3.0
    maintenance_bypassed_total{via="secret"} 1.0
    maintenance_state_changes_total{source="fleet",state="on"} 1.0
    maintenance_backend_errors_total{backend="LocalFileBackend",error="InvalidStateValueError"} 1.0

``/metrics`` is marked ``force_maintenance_mode_off``, so Prometheus keeps
scraping during maintenance and its scrapes are not counted as bypassed. With
several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` and serve a
``MultiProcessCollector`` (see prometheus_client's documentation); the counters
work the same.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Response
from fastapi_maintenance import (
    MaintenanceConfig,
    MaintenanceModeMiddleware,
    force_maintenance_mode_off,
)
from fastapi_maintenance.backends import LocalFileBackend
from maintenance_core.metrics import PrometheusMetrics
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

backend = LocalFileBackend(os.environ.get("MAINTENANCE_FILE", "maintenance_mode.txt"))

app = FastAPI()
app.add_middleware(
    MaintenanceModeMiddleware,
    config=MaintenanceConfig(
        backend=backend,
        bypass_secret=os.environ.get("MAINTENANCE_BYPASS_SECRET"),
        metrics=PrometheusMetrics(),  # in prometheus_client's default registry
    ),
)


@app.get("/metrics")
@force_maintenance_mode_off
def metrics() -> Response:
    """What Prometheus scrapes: every counter of the default registry, ours included."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello World"}
