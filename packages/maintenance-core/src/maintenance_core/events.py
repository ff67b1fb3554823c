"""Be told when the maintenance state changes, and when a backend cannot read it.

Subscribe a listener to a backend; it is called with a :class:`StateChange`
each time the state that backend knows changes::

    from maintenance_core.events import StateChange, on_state_change

    async def tell_the_team(change: StateChange) -> None:
        ...  # post to a chat webhook

    unsubscribe = on_state_change(backend, tell_the_team)

Who announces what:

- every backend, when this process stores a different state through it
  (``set_state``: the command line run in-process, ``set_maintenance_mode()``,
  an override written to the file): ``source="local"``;
- :class:`~maintenance_core.backends.LocalFileBackend`, when a read finds a
  different state in the file (another process or a person wrote it):
  ``source="fleet"``;
- :class:`~maintenance_core.backends.redis.RedisBackend`, when a change message
  on its pub/sub channel, or its periodic resync, brings a different state
  (another process or host wrote it): ``source="fleet"``;
- :class:`~maintenance_core.backends.EnvVarBackend`, when the variable's value
  changes in this process: ``source="local"``.

A backend announces only a change of what it knows: the first state it reads
after starting is not a change, a write of the state it already holds is not
one either, and a window opening or closing by the clock changes no stored
state (``new.start``/``new.end`` tell when it will). Overrides on Redis
(``maintenance_mode_on()``) are leases beside the stored state and are not
announced. Nothing is announced per request: reading a state that did not
change costs nothing here.

A listener may be sync or async. A sync listener is called where the change is
seen (a request, a write, the Redis sync task), so it must be quick; an async
listener runs in a task of its own. A listener that raises is logged with its
traceback (logger ``maintenance_core.events``, or the adapter's, such as
``fastapi_maintenance.events``) and never breaks a request or a write.

Errors work the same way with :func:`on_backend_problem`: a
:class:`BackendProblem` is announced once each time reading the state starts
failing (the moment the error is logged), not for every request served
meanwhile.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._log import get_logger
from .state import MaintenanceState

if TYPE_CHECKING:
    from .backends.base import StateBackend

__all__ = [
    "BackendProblem",
    "ChangeSource",
    "ProblemListener",
    "StateChange",
    "StateListener",
    "announce_change",
    "announce_problem",
    "on_backend_problem",
    "on_state_change",
]

ChangeSource = Literal["local", "fleet"]
"""``"local"``: the change was made in this process (a write through the backend,
or this process's environment variable); ``"fleet"``: it was found in the shared
store, written by another process or host (the file, Redis)."""


@dataclass(frozen=True, slots=True)
class StateChange:
    """The state a backend knows changed.

    Attributes:
        old: the state known before, or ``None`` when this process had read none
            before it wrote one.
        new: the state known now.
        source: ``"local"`` or ``"fleet"``, see :data:`ChangeSource`.
        backend: the backend's description (``"redis: redis://host:6379/0 key
            maintenance_mode"``; a password in a URL is masked).
    """

    old: MaintenanceState | None
    new: MaintenanceState
    source: ChangeSource
    backend: str

    @property
    def switched(self) -> bool:
        """Whether the switch itself moved (on to off, off to on, or first known on)."""
        return self.old is None or self.old.on != self.new.on


@dataclass(frozen=True, slots=True)
class BackendProblem:
    """Reading the state from a backend started failing.

    Attributes:
        error: what went wrong (a Redis connection error, an unreadable file, a
            stored value that is not a state). Its message never repeats a
            stored value.
        backend: the backend's description.
    """

    error: Exception
    backend: str


StateListener = Callable[[StateChange], "Awaitable[Any] | None"]
"""``(change) -> None``, sync or async."""

ProblemListener = Callable[[BackendProblem], "Awaitable[Any] | None"]
"""``(problem) -> None``, sync or async."""

# The listeners live on the backend instance, as immutable tuples replaced on each
# (un)subscription: announcing iterates a snapshot, and a backend without listeners
# costs one attribute lookup per change, never per request.
_CHANGE_LISTENERS = "_maintenance_change_listeners"
_PROBLEM_LISTENERS = "_maintenance_problem_listeners"

# Strong references to running async listeners, so that none is collected mid-flight.
_running: set[asyncio.Task[Any]] = set()


def _subscribe(backend: StateBackend, attribute: str, listener: Callable[..., Any]) -> Any:
    if not callable(listener):
        raise TypeError(f"A listener must be a function (sync or async), got {listener!r}.")
    entry = _Entry(listener)
    setattr(backend, attribute, (*getattr(backend, attribute, ()), entry))

    def unsubscribe() -> None:
        current = getattr(backend, attribute, ())
        setattr(backend, attribute, tuple(e for e in current if e is not entry))

    return unsubscribe


def on_state_change(backend: StateBackend, listener: StateListener) -> Callable[[], None]:
    """Call *listener* with a :class:`StateChange` each time *backend*'s state changes.

    Returns:
        A function that unsubscribes *listener* (calling it twice is harmless).

    Raises:
        TypeError: *listener* is not callable.
    """
    unsubscribe: Callable[[], None] = _subscribe(backend, _CHANGE_LISTENERS, listener)
    return unsubscribe


def on_backend_problem(backend: StateBackend, listener: ProblemListener) -> Callable[[], None]:
    """Call *listener* with a :class:`BackendProblem` each time reading *backend* starts failing.

    Returns:
        A function that unsubscribes *listener*.

    Raises:
        TypeError: *listener* is not callable.
    """
    unsubscribe: Callable[[], None] = _subscribe(backend, _PROBLEM_LISTENERS, listener)
    return unsubscribe


def announce_change(
    backend: StateBackend,
    old: MaintenanceState | None,
    new: MaintenanceState,
    source: ChangeSource,
) -> None:
    """Tell *backend*'s listeners that its state went from *old* to *new*.

    For backend authors: call it where your backend learns of a different state.
    Nothing happens when *old* equals *new* or nobody listens. Never raises.
    """
    listeners: tuple[_Entry, ...] = getattr(backend, _CHANGE_LISTENERS, ())
    if not listeners or old == new:
        return
    change = StateChange(old, new, source, _describe(backend))
    for entry in listeners:
        entry.call(change)


def announce_problem(backend: StateBackend, error: BaseException) -> None:
    """Tell *backend*'s listeners that reading its state started failing with *error*.

    For backend authors and readers: call it once when a fault starts, not per
    request. Never raises.
    """
    listeners: tuple[_Entry, ...] = getattr(backend, _PROBLEM_LISTENERS, ())
    if not listeners or not isinstance(error, Exception):
        return
    problem = BackendProblem(error, _describe(backend))
    for entry in listeners:
        entry.call(problem)


def _describe(backend: StateBackend) -> str:
    try:
        return backend.describe()
    except Exception:
        return type(backend).__name__


class _Entry:
    """One subscribed listener; calls it without ever letting an error out."""

    __slots__ = ("listener",)

    def __init__(self, listener: Callable[[Any], Any]) -> None:
        self.listener = listener

    def call(self, event: StateChange | BackendProblem) -> None:
        try:
            result = self.listener(event)
        except Exception:
            _log_failure(self.listener, event)
            return
        if not inspect.isawaitable(result):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no running event loop: nothing can await it
            if inspect.iscoroutine(result):
                result.close()
            get_logger("events").error(
                "The async listener %s was called outside an event loop: it did not run.",
                _name(self.listener),
            )
            return
        task = asyncio.ensure_future(result, loop=loop)
        _running.add(task)
        task.add_done_callback(self._done(event))

    def _done(self, event: StateChange | BackendProblem) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            _running.discard(task)
            if task.cancelled():
                return
            error = task.exception()
            if error is not None:
                _log_failure(self.listener, event, error)

        return done


def _name(listener: object) -> str:
    return getattr(listener, "__qualname__", None) or repr(listener)


def _log_failure(
    listener: object, event: StateChange | BackendProblem, error: BaseException | None = None
) -> None:
    what = "state change" if isinstance(event, StateChange) else "backend problem"
    get_logger("events").error(
        "The %s listener %s raised; the change is not affected.",
        what,
        _name(listener),
        exc_info=error if error is not None else True,
    )
