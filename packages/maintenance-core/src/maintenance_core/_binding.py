"""What the running request (or lifespan, or module-level call) is bound to.

A middleware binds, for each request it serves, the adapter's name (the
loggers' namespace, see :mod:`._log`), its registry, its backend and the
request's scope; module-level functions and loggers look them up here. It is
one context variable, set once per request, because binding is on the path of
every request. Bindings nest: each keeps the one it replaced, so an adapter's
registry still finds its own binding under another adapter's (an app mounted
inside another) or under a namespace-only binding.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

__all__ = ["DEFAULT_NAMESPACE", "bind", "find", "namespace", "unbind"]

DEFAULT_NAMESPACE = "maintenance_core"

# (namespace, owner, backend, scope, the binding it replaced): a plain tuple, the
# cheapest thing to build once per request.
Binding = tuple[str, object, Any, Any, Any]

_bound: ContextVar[Binding | None] = ContextVar("maintenance_core_binding", default=None)


def bind(
    namespace: str, owner: object = None, backend: Any = None, scope: Any = None
) -> Token[Binding | None]:
    """Bind for this context; pass the token to :func:`unbind`.

    Args:
        namespace: the loggers' namespace (an adapter's package name).
        owner: the registry binding, or ``None`` to set the namespace only.
        backend: the backend its module-level functions use here.
        scope: the ASGI scope of the request being served, if any.
    """
    return _bound.set((namespace, owner, backend, scope, _bound.get()))


unbind: Callable[[Token[Binding | None]], None] = _bound.reset
"""Undo :func:`bind` (the context variable's own reset: no call in between)."""


def namespace() -> str:
    """The loggers' namespace in this context."""
    bound = _bound.get()
    return DEFAULT_NAMESPACE if bound is None else bound[0]


def find(owner: object) -> Binding | None:
    """The innermost binding made by *owner* in this context, if any."""
    bound = _bound.get()
    while bound is not None:
        if bound[1] is owner:
            return bound
        bound = bound[4]
    return None
