"""The registry behind litestar-maintenance's module-level functions."""

from __future__ import annotations

from maintenance_core import BackendRegistry

from .backends import EnvVarBackend

__all__ = ["registry"]

registry = BackendRegistry("litestar_maintenance", EnvVarBackend)
"""Chooses the backend used by ``get_maintenance_mode()`` and the other module functions."""
