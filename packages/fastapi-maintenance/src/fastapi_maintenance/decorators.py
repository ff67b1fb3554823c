"""Decorators that force maintenance mode on or off for one endpoint.

They mark the endpoint function itself, so they work above or below the route
decorator, on sync and async HTTP and websocket endpoints, and the marker
follows the endpoint wherever it is routed (included routers, prefixes, mounts).
"""

from maintenance_core.markers import force_maintenance_mode_off, force_maintenance_mode_on

__all__ = ["force_maintenance_mode_off", "force_maintenance_mode_on"]
