"""The registry behind fastapi-maintenance's module-level functions."""

from __future__ import annotations

from maintenance_core import BackendRegistry
from maintenance_core._extras import redis_factory

from .backends import EnvVarBackend

__all__ = ["registry"]

registry = BackendRegistry(
    "fastapi_maintenance", EnvVarBackend, {"redis": redis_factory("fastapi-maintenance")}
)
"""Chooses the backend used by ``get_maintenance_mode()`` and the other module functions."""
