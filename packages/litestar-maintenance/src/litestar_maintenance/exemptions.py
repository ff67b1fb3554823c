"""Ready-made ``exempt_handler`` functions, re-exported from :mod:`maintenance_core.exemptions`.

``exempt_paths(*patterns)`` exempts path prefixes and compiled regular expressions
(matched with ``fullmatch`` against the normalised path the app routes on),
``exempt_client_ips(*networks, trusted_proxies=())`` exempts client addresses
(``X-Forwarded-For`` is believed only from trusted proxies) and ``any_of(*handlers)``
combines handlers. See :mod:`maintenance_core.exemptions` for the details.
"""

from maintenance_core.exemptions import HasScope, any_of, exempt_client_ips, exempt_paths

__all__ = ["HasScope", "any_of", "exempt_client_ips", "exempt_paths"]
