"""The backend contract: where the maintenance state is stored.

There is one contract, :class:`StateBackend`: a backend stores and returns a
:class:`~maintenance_core.state.MaintenanceState` (on or off, an optional
window, an optional bypass secret hash) and can be closed. Precedence,
overrides and requests are none of its business.

:class:`BaseStateBackend` is fastapi-maintenance 0.0.5's boolean contract,
kept for the backends users already wrote: subclass it and implement
``get_value()``/``set_value()``; it translates them to the state contract.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, ClassVar

from ..errors import BackendReadOnlyError, StateNotSupportedError
from ..overrides import OverrideState, OverrideStore
from ..state import OFF, ON, MaintenanceState, parse_flag

__all__ = ["BaseStateBackend", "StateBackend", "parse_state"]


def parse_state(raw: str) -> bool:
    """Turn a stored text value into a maintenance state.

    Accepts, case-insensitively and ignoring surrounding whitespace,
    ``1 yes y true t on`` for on and ``0 no n false f off`` (or an empty value)
    for off.

    Raises:
        InvalidStateValueError: for anything else.
    """
    return parse_flag(raw)


class StateBackend(ABC):
    """Stores the maintenance state.

    Implement :meth:`get_state` and :meth:`set_state`. Everything else has a
    default that suits a simple store:

    - :meth:`read_state_now` reads past any cache (the CLI uses it); by default
      it is :meth:`get_state`.
    - :attr:`writable` is ``False`` for a store that cannot change at runtime;
      overrides on it are then held in this process's memory.
    - :attr:`stores_windows` is ``False`` for a store that keeps only on/off.
    - :meth:`create_override_store` says where overrides are kept (this
      process by default; Redis keeps them fleet-wide).
    - :meth:`aclose` releases connections and tasks; a backend is also an
      async context manager that closes itself.

    :meth:`get_value` and :meth:`set_value` are conveniences for callers (and
    fastapi-maintenance 0.0.5's names); a backend does not override them.
    """

    writable: ClassVar[bool] = True
    """Whether :meth:`set_state` really stores the state."""

    stores_windows: ClassVar[bool] = True
    """Whether :meth:`set_state` stores windows and bypass secrets, not only on/off."""

    _boolean_contract: ClassVar[bool] = False  # get_value/set_value are what subclasses implement

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._boolean_contract:
            return
        own = vars(cls)
        for name, instead in (("get_value", "get_state"), ("set_value", "set_state")):
            if name in own and instead not in own:
                warnings.warn(
                    f"{cls.__qualname__} overrides {name}(), which the middleware never "
                    f"calls on a {cls.__mro__[1].__name__}: override {instead}() instead, "
                    "or subclass BaseStateBackend to implement get_value()/set_value().",
                    UserWarning,
                    stacklevel=2,
                )

    @abstractmethod
    async def get_state(self) -> MaintenanceState:
        """Return the stored state; may answer from memory.

        Raises:
            Exception: when the state cannot be read; the middleware then
                serves what its ``on_state_error`` policy says.
        """

    @abstractmethod
    async def set_state(self, state: MaintenanceState) -> None:
        """Store *state*.

        Raises:
            StateNotSupportedError: for a window or a secret a store of only
                on/off cannot keep (see :meth:`check_storable`).
            StateWriteError: when the store refuses the write.
        """

    async def read_state_now(self) -> MaintenanceState:
        """Read the state from its source, past any cache, raising on errors."""
        return await self.get_state()

    @property
    def problem(self) -> Exception | None:
        """Why :meth:`get_state` is answering with a stand-in state, else ``None``.

        A backend that keeps answering while its store is unreachable (Redis
        serves its last known state) reports the problem here, so the
        middleware's ``on_state_error`` still decides: ``"last_known"`` takes the
        backend's stand-in, ``"on"`` and ``"off"`` override it.
        """
        return None

    def describe(self) -> str:
        """A short human-readable description, used in logs and by the CLI."""
        return type(self).__name__

    def create_override_store(self) -> OverrideStore:
        """Where ``maintenance_mode_on()``/``off()`` overrides on this backend are kept.

        Called once per backend instance. The default counts them in this
        process and writes the effective state to writable backends.
        """
        return OverrideState()

    def check_storable(self, state: MaintenanceState) -> None:
        """Raise :class:`StateNotSupportedError` if this backend cannot store *state*."""
        if not state.is_plain and self.writable and not self.stores_windows:
            raise StateNotSupportedError(self.describe())

    def check_writable(self) -> None:
        """Raise :class:`BackendReadOnlyError` if this backend cannot store a state."""
        if not self.writable:
            raise BackendReadOnlyError(self.describe())

    async def aclose(self) -> None:  # noqa: B027 - a backend holding nothing has nothing to close
        """Release what the backend holds (connections, background tasks)."""

    async def __aenter__(self) -> StateBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def get_value(self) -> bool:
        """Whether maintenance is on now, from :meth:`get_state`."""
        return (await self.get_state()).is_on_now()

    async def set_value(self, value: bool) -> None:
        """Store plain on or off, clearing any window, with :meth:`set_state`."""
        await self.set_state(ON if value else OFF)

    @staticmethod
    def _str_to_bool(value: str) -> bool:
        """Parse a stored text value (see :func:`parse_state`)."""
        return parse_flag(value)

    @staticmethod
    def _bool_to_str(value: bool) -> str:
        """Serialise a state as ``"1"`` or ``"0"``."""
        return "1" if value else "0"


class BaseStateBackend(StateBackend):
    """A backend written against fastapi-maintenance 0.0.5's boolean contract.

    Implement :meth:`get_value` and :meth:`set_value`; the helpers
    :meth:`_str_to_bool` and :meth:`_bool_to_str` parse and write the stored
    text. Such a backend stores on/off only: asking it to store a window or a
    bypass secret raises :class:`~maintenance_core.errors.StateNotSupportedError`
    before anything is written. To store those too, subclass
    :class:`StateBackend` and implement ``get_state()``/``set_state()``.
    """

    stores_windows: ClassVar[bool] = False
    _boolean_contract: ClassVar[bool] = True

    @abstractmethod
    async def get_value(self) -> bool:
        """Return the stored maintenance state."""

    @abstractmethod
    async def set_value(self, value: bool) -> None:
        """Store a maintenance state."""

    async def get_state(self) -> MaintenanceState:
        return ON if await self.get_value() else OFF

    async def set_state(self, state: MaintenanceState) -> None:
        self.check_storable(state)
        await self.set_value(state.on)
