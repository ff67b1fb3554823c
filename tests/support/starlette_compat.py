"""What the installed Starlette's test client offers, for suites that also run on the
oldest supported Starlette (0.35), whose TestClient predates the websocket denial
response extension (0.37)."""

from __future__ import annotations

try:
    from starlette.testclient import WebSocketDenialResponse

    HAS_DENIAL_RESPONSE = True
except ImportError:  # Starlette < 0.37

    class WebSocketDenialResponse(Exception):  # type: ignore[no-redef]
        """Stands in for the missing class: never raised, so never matched."""

    HAS_DENIAL_RESPONSE = False

__all__ = ["HAS_DENIAL_RESPONSE", "WebSocketDenialResponse"]
