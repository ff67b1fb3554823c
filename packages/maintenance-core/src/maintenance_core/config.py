"""``MaintenanceConfig``: every option of the maintenance middleware, validated once.

The guard (:class:`~maintenance_core.middleware.MaintenanceGuard`), the
Litestar plugin and middleware take a ``MaintenanceConfig``; the FastAPI
middleware keeps its keyword arguments for ``add_middleware`` and builds one.
Adding an option means adding a field here: every entry point accepts it.

::

    from maintenance_core import MaintenanceConfig
    from maintenance_core.exemptions import exempt_paths

    config = MaintenanceConfig(
        backend=LocalFileBackend("maintenance_mode.txt"),
        exempt_handler=exempt_paths("/health"),
        bypass_secret=os.environ["MAINTENANCE_BYPASS_SECRET"],
    )

A bad option raises :class:`~maintenance_core.errors.ConfigurationError` when
the config is built, never at the first request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from .backends.base import StateBackend
from .bypass import DEFAULT_COOKIE_MAX_AGE, check_secret
from .decision import StateErrorPolicy
from .errors import ConfigurationError, InvalidBypassSecretError
from .metrics import MetricsRecorder
from .responses import MaintenanceResponse
from .state import check_retry_after

__all__ = [
    "DEFAULT_RESPONSE",
    "BypassSecretConfigurationError",
    "ExemptHandler",
    "MaintenanceConfig",
    "ResponseHandler",
]

ExemptHandler = Callable[[Any], bool | Awaitable[bool]]
"""``(request) -> bool``, sync or async: ``True`` lets the request through during maintenance."""

ResponseHandler = Callable[[Any], Any]
"""``(request) -> response``, sync or async: the framework's response to send instead of the 503."""

DEFAULT_RESPONSE = MaintenanceResponse()
"""The default maintenance response: ``503``, the JSON detail and ``Retry-After: 3600``."""

_POLICIES: tuple[StateErrorPolicy, ...] = ("last_known", "on", "off")


class BypassSecretConfigurationError(ConfigurationError, InvalidBypassSecretError):
    """``bypass_secret`` is too weak or malformed.

    Both a :class:`~maintenance_core.errors.ConfigurationError` and an
    :class:`~maintenance_core.errors.InvalidBypassSecretError`, so ``except``
    clauses written for either catch it. The message never repeats the secret.
    """


def check_handler(name: str, handler: object) -> None:
    """Check that *handler* is ``None`` or a function taking one argument, the request.

    Raises:
        ConfigurationError: naming the option and the signature found.
    """
    if handler is None:
        return
    if not callable(handler):
        raise ConfigurationError(
            f"{name} must be a function (sync or async) taking the request, got {handler!r}."
        )
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return  # some builtins and C callables have no signature: trust them
    try:
        signature.bind(object())
    except TypeError:
        raise ConfigurationError(
            f"{name} must take exactly one argument, the request, but "
            f"{getattr(handler, '__qualname__', handler)!r} has the signature {signature}."
        ) from None


@dataclass(frozen=True)
class MaintenanceConfig:
    """What the maintenance middleware does: one frozen, validated object.

    Attributes:
        enable_maintenance: ``True``/``False`` replaces the backend's state;
            ``None`` (default) reads the backend.
        backend: where the state is stored. ``None`` (default) follows the
            adapter's configured default at each request: the backend set with
            ``configure_backend()``, else its environment variable.
        exempt_handler: ``(request) -> bool``, sync or async; ``True`` lets the
            request through while maintenance is on. It receives the
            framework's request object (a websocket object for a handshake).
        response_handler: ``(request) -> response``, sync or async, returning a
            response of the framework to send instead of the default ``503``.
        bypass_secret: a secret (16+ printable ASCII characters) that lets the
            team through: header ``X-Maintenance-Bypass`` or the cookie set by
            ``?maintenance_bypass=``; see :mod:`maintenance_core.bypass`. It is
            left out of the ``repr``.
        bypass_cookie_max_age: seconds a bypass cookie stays valid (12 hours).
        on_state_error: what to serve while the state cannot be read:
            ``"last_known"`` (default: the last state read, else off), ``"on"``
            or ``"off"``.
        response: the default response, sent when no ``response_handler`` is
            given or when it fails.
        retry_after: seconds for ``Retry-After`` (``None``: the response's own,
            ``3600`` by default). A ``Retry-After`` stored with the state
            (``on --retry``) wins over it, and a window's countdown to its end
            wins over both; the maintenance page and a websocket denial get
            the same value.
        metrics: a :class:`~maintenance_core.metrics.MetricsRecorder` to count
            refused and bypassed requests, state changes and backend errors
            (:class:`~maintenance_core.metrics.PrometheusMetrics` with the
            ``metrics`` extra), or ``None`` (default): nothing is counted.

    Raises:
        ConfigurationError: for an option of the wrong type or value (a
            ``ValueError`` and ``TypeError`` too). A bad ``bypass_secret``
            raises :class:`BypassSecretConfigurationError`.
    """

    enable_maintenance: bool | None = None
    backend: StateBackend | None = None
    exempt_handler: ExemptHandler | None = None
    response_handler: ResponseHandler | None = None
    bypass_secret: str | None = field(default=None, repr=False)
    bypass_cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE
    on_state_error: StateErrorPolicy = "last_known"
    response: MaintenanceResponse = DEFAULT_RESPONSE
    retry_after: int | None = None
    metrics: MetricsRecorder | None = None

    def __post_init__(self) -> None:
        enable = self.enable_maintenance
        if type(enable) is int and enable in (0, 1):
            # fastapi-maintenance 0.0.5 took 1 and 0 by their truth value.
            object.__setattr__(self, "enable_maintenance", bool(enable))
        elif enable is not None and not isinstance(enable, bool):
            raise ConfigurationError(
                f"enable_maintenance must be True, False or None, got {enable!r}."
            )
        if self.backend is not None and not isinstance(self.backend, StateBackend):
            raise ConfigurationError(
                f"backend must be a StateBackend instance, got {self.backend!r}. "
                "Pass e.g. LocalFileBackend(file_path='maintenance_mode.txt')."
            )
        check_handler("exempt_handler", self.exempt_handler)
        check_handler("response_handler", self.response_handler)
        if self.bypass_secret is not None:
            try:
                check_secret(self.bypass_secret)
            except InvalidBypassSecretError as exc:
                raise BypassSecretConfigurationError(str(exc)) from exc
        max_age = self.bypass_cookie_max_age
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            raise ConfigurationError(
                f"bypass_cookie_max_age must be a whole number of seconds, got {max_age!r}."
            )
        if max_age <= 0:
            raise ConfigurationError(f"bypass_cookie_max_age must be positive, got {max_age}.")
        if self.on_state_error not in _POLICIES:
            raise ConfigurationError(
                f"on_state_error must be one of {', '.join(map(repr, _POLICIES))}, "
                f"got {self.on_state_error!r}."
            )
        if not isinstance(self.response, MaintenanceResponse):
            raise ConfigurationError(
                f"response must be a MaintenanceResponse, got {self.response!r}."
            )
        self._check_retry_after()
        if self.metrics is not None and not isinstance(self.metrics, MetricsRecorder):
            raise ConfigurationError(
                f"metrics must be a MetricsRecorder such as PrometheusMetrics(), got "
                f"{self.metrics!r}."
            )

    def _check_retry_after(self) -> None:
        try:
            check_retry_after(self.retry_after)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        own = self.response.retry_after
        if self.retry_after is None or own == self.retry_after or self.response is DEFAULT_RESPONSE:
            return
        if own is None:
            raise ConfigurationError(
                f"retry_after={self.retry_after} was given with a response that sends no "
                "Retry-After (MaintenanceResponse(retry_after=None)): give one or the other."
            )
        raise ConfigurationError(
            f"retry_after={self.retry_after} was given with a response whose own retry_after "
            f"is {own}: give it once."
        )

    @property
    def configured_retry_after(self) -> int | None:
        """The ``Retry-After`` seconds configured in code: :attr:`retry_after`, else the
        response's own (``None`` when the response sends none)."""
        return self.response.retry_after if self.retry_after is None else self.retry_after

    @classmethod
    def from_options(
        cls, config: MaintenanceConfig | None = None, /, **options: Any
    ) -> MaintenanceConfig:
        """The config given, or one built from keyword options: never both.

        For entry points that take ``config=`` as well as the options as
        keyword arguments. An option given with its default value does not
        count as given, so a wrapper may pass all of its keywords on.

        Raises:
            ConfigurationError: for both a config and options, for a *config*
                that is not a ``MaintenanceConfig``, for an unknown option, or
                for a bad option.
        """
        unknown = sorted(set(options) - _FIELD_NAMES)
        if unknown:
            raise ConfigurationError(
                f"Unknown maintenance option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; the options are "
                f"{', '.join(sorted(_FIELD_NAMES))}."
            )
        if config is None:
            return cls(**options)
        if not isinstance(config, MaintenanceConfig):
            raise ConfigurationError(f"config must be a MaintenanceConfig, got {config!r}.")
        given = sorted(name for name, value in options.items() if not _is_default(name, value))
        if given:
            raise ConfigurationError(
                "Give either config= or the options as keyword arguments, not both "
                f"(got config= and {', '.join(given)}): put them in the MaintenanceConfig."
            )
        return config


_DEFAULTS: dict[str, object] = {f.name: f.default for f in fields(MaintenanceConfig)}
_FIELD_NAMES = frozenset(_DEFAULTS)


def _is_default(name: str, value: object) -> bool:
    default = _DEFAULTS[name]
    if value is default:
        return True
    if default is None or isinstance(value, bool) or isinstance(default, bool):
        return False
    return type(value) is type(default) and value == default
