"""The registry behind fastapi-maintenance's module-level functions."""

from __future__ import annotations

from maintenance_core import BackendRegistry

from .backends import EnvVarBackend

__all__ = ["registry"]

registry = BackendRegistry("fastapi_maintenance", EnvVarBackend)
"""Chooses the backend used by ``get_maintenance_mode()`` and the other module functions."""
