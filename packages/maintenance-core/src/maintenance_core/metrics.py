"""Counters for refused and bypassed requests, state changes and backend errors.

With the ``metrics`` extra (``pip install 'maintenance-core[metrics]'``, which
installs ``prometheus_client``), give the middleware a :class:`PrometheusMetrics`::

    from maintenance_core import MaintenanceConfig
    from maintenance_core.metrics import PrometheusMetrics

    config = MaintenanceConfig(backend=backend, metrics=PrometheusMetrics())

and serve ``prometheus_client``'s registry at ``/metrics``. The counters, with
their labels (every label has a handful of values):

- ``maintenance_refused_total{kind="http"|"websocket", reason="maintenance"|"forced"}``:
  requests answered with the maintenance response (``forced``: a route marked
  ``force_maintenance_mode_on``);
- ``maintenance_bypassed_total{via="secret"|"exempt_handler"}``: requests let
  through while maintenance was on, by the bypass secret (header or cookie) or
  the ``exempt_handler``;
- ``maintenance_state_changes_total{source="local"|"fleet", state="on"|"off"}``:
  the changes announced by the backend (see :mod:`maintenance_core.events`);
- ``maintenance_backend_errors_total{backend="<class name>", error="<class name>"}``:
  each time reading the state starts failing (the moment it is logged).

Without metrics (the default) nothing is imported, and a request pays nothing
while maintenance is off and one attribute check when it is refused or
bypassed. :class:`MetricsRecorder` is the interface: subclass it to count with
another library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ._extras import ExtraNotInstalledError
from .events import BackendProblem, StateChange, on_backend_problem, on_state_change

if TYPE_CHECKING:
    from .backends.base import StateBackend

__all__ = [
    "BypassVia",
    "MetricsRecorder",
    "PrometheusMetrics",
    "RefusalReason",
    "RequestKind",
]

RequestKind = Literal["http", "websocket"]
RefusalReason = Literal["maintenance", "forced"]
BypassVia = Literal["secret", "exempt_handler"]

_KINDS: tuple[RequestKind, ...] = ("http", "websocket")
_REASONS: tuple[RefusalReason, ...] = ("maintenance", "forced")
_VIAS: tuple[BypassVia, ...] = ("secret", "exempt_handler")


class MetricsRecorder:
    """What the middleware tells a metrics library; every method does nothing here.

    Subclass it and override the four ``record_*`` methods to count with the
    library of your choice; :class:`PrometheusMetrics` is the one provided.
    A recorder is called on the request path only for refused and bypassed
    requests, so its methods must be quick and must not raise.
    """

    def __init__(self) -> None:
        self._watched: dict[int, tuple[StateBackend, tuple[Any, ...]]] = {}

    def record_refused(self, kind: RequestKind, reason: RefusalReason) -> None:
        """A request got the maintenance response."""

    def record_bypassed(self, via: BypassVia) -> None:
        """A request was let through while maintenance was on."""

    def record_state_change(self, change: StateChange, backend: StateBackend) -> None:
        """*backend* announced a change of its state."""

    def record_backend_problem(self, problem: BackendProblem, backend: StateBackend) -> None:
        """Reading *backend*'s state started failing."""

    def watch(self, backend: StateBackend) -> None:
        """Count *backend*'s state changes and problems (once, however often it is asked)."""
        if id(backend) in self._watched and self._watched[id(backend)][0] is backend:
            return

        def changed(change: StateChange) -> None:
            self.record_state_change(change, backend)

        def failed(problem: BackendProblem) -> None:
            self.record_backend_problem(problem, backend)

        self._watched[id(backend)] = (
            backend,
            (on_state_change(backend, changed), on_backend_problem(backend, failed)),
        )

    def unwatch_all(self) -> None:
        """Stop counting the changes and problems of every backend watched."""
        watched, self._watched = self._watched, {}
        for _, unsubscribers in watched.values():
            for unsubscribe in unsubscribers:
                unsubscribe()


class PrometheusMetrics(MetricsRecorder):
    """The four counters in a ``prometheus_client`` registry.

    Args:
        registry: where the counters are registered; ``prometheus_client``'s
            default ``REGISTRY`` when ``None`` (what ``make_asgi_app()`` serves,
            and what Litestar's ``PrometheusController`` serves).
        namespace: the prefix of the counter names.

    Attributes:
        refused, bypassed, state_changes, backend_errors: the
            ``prometheus_client.Counter`` objects.

    Building a second ``PrometheusMetrics`` for the same registry and namespace
    (another app in the process, a test) shares the counters of the first
    instead of failing on duplicate names.

    Raises:
        ExtraNotInstalledError: ``prometheus_client`` is not installed (an
            ``ImportError`` naming the extra to install).
    """

    _shared: ClassVar[dict[tuple[int, str], tuple[Any, tuple[Any, Any, Any, Any]]]] = {}

    def __init__(self, registry: Any = None, *, namespace: str = "maintenance") -> None:
        super().__init__()
        try:
            import prometheus_client
        except ImportError as exc:
            raise ExtraNotInstalledError(
                "PrometheusMetrics needs prometheus_client, which is not installed: "
                "pip install 'maintenance-core[metrics]' (or pip install prometheus-client)."
            ) from exc
        if registry is None:
            registry = prometheus_client.REGISTRY
        self.registry = registry
        self.namespace = namespace
        key = (id(registry), namespace)
        shared = self._shared.get(key)
        if shared is None or shared[0] is not registry:
            Counter = prometheus_client.Counter
            created = (
                Counter(
                    "refused",
                    "Requests answered with the maintenance response.",
                    ("kind", "reason"),
                    namespace=namespace,
                    registry=registry,
                ),
                Counter(
                    "bypassed",
                    "Requests let through while maintenance was on.",
                    ("via",),
                    namespace=namespace,
                    registry=registry,
                ),
                Counter(
                    "state_changes",
                    "Changes of the maintenance state announced by the backend.",
                    ("source", "state"),
                    namespace=namespace,
                    registry=registry,
                ),
                Counter(
                    "backend_errors",
                    "Times reading the maintenance state started failing.",
                    ("backend", "error"),
                    namespace=namespace,
                    registry=registry,
                ),
            )
            shared = self._shared[key] = (registry, created)
        counters = shared[1]
        self.refused: Any = counters[0]
        self.bypassed: Any = counters[1]
        self.state_changes: Any = counters[2]
        self.backend_errors: Any = counters[3]
        # Every series exists from the start (at 0), so rate() and alerts see it at once;
        # the request path only looks up a prepared child.
        self._refused = {(k, r): self.refused.labels(k, r) for k in _KINDS for r in _REASONS}
        self._bypassed = {via: self.bypassed.labels(via) for via in _VIAS}
        self._changes = {
            (source, state): self.state_changes.labels(source, state)
            for source in ("local", "fleet")
            for state in ("on", "off")
        }

    def record_refused(self, kind: RequestKind, reason: RefusalReason) -> None:
        self._refused[kind, reason].inc()

    def record_bypassed(self, via: BypassVia) -> None:
        self._bypassed[via].inc()

    def record_state_change(self, change: StateChange, backend: StateBackend) -> None:
        self._changes[change.source, "on" if change.new.on else "off"].inc()

    def record_backend_problem(self, problem: BackendProblem, backend: StateBackend) -> None:
        self.backend_errors.labels(type(backend).__name__, type(problem.error).__name__).inc()
