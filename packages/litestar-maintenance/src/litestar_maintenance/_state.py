"""The registry behind litestar-maintenance's module-level functions."""

from __future__ import annotations

from maintenance_core import BackendRegistry
from maintenance_core._extras import redis_factory

from .backends import EnvVarBackend

__all__ = ["registry"]

registry = BackendRegistry(
    "litestar_maintenance", EnvVarBackend, {"redis": redis_factory("litestar-maintenance")}
)
"""Chooses the backend used by ``get_maintenance_mode()`` and the other module functions."""
