"""Precedence (``decide``), the state reader and the per-handler markers."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from maintenance_core import (
    NO_ROUTE,
    PLAIN_ROUTE,
    BaseStateBackend,
    ForcedMode,
    LocalFileBackend,
    MaintenanceOverride,
    MemoryBackend,
    RouteInfo,
    StateReader,
    decide,
    force_maintenance_mode_off,
    force_maintenance_mode_on,
    forced_mode_of,
    overrides_of,
)
from maintenance_core.markers import MARKER_ATTRIBUTE

pytestmark = pytest.mark.anyio

FORCED = [ForcedMode.ON, ForcedMode.OFF, None]
HANDLER_ANSWERS = [True, False, None]  # None: no exempt handler at all


def expected_refusal(
    exists: bool,
    forced: ForcedMode | None,
    exempt: bool,
    handler_answer: bool | None,
    maintenance: bool,
) -> bool:
    """The documented precedence, written independently of the library."""
    if not exists:
        return False  # the framework answers 404/405
    if forced == ForcedMode.ON:
        return True
    if forced == ForcedMode.OFF:
        return False
    if exempt:
        return False
    if handler_answer is True:
        return False
    return maintenance


class Recorder:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        return self.answer


# --- decide --------------------------------------------------------------------------------


async def test_decide_exhaustive_table() -> None:
    checked = 0
    for exists, forced, exempt, handler_answer, maintenance in itertools.product(
        [False, True], FORCED, [False, True], HANDLER_ANSWERS, [False, True]
    ):
        context = f"{exists=} {forced=} {exempt=} {handler_answer=} {maintenance=}"
        route = RouteInfo(exists=exists, forced=forced, exempt=exempt)
        state = Recorder(maintenance)
        handler = Recorder(bool(handler_answer)) if handler_answer is not None else None

        result = await decide(route, state, handler)

        assert result is expected_refusal(exists, forced, exempt, handler_answer, maintenance), (
            context
        )
        undecided = exists and forced is None and not exempt
        assert state.calls == (1 if undecided else 0), context
        if handler is not None:
            # Only asked when its answer can change the outcome.
            assert handler.calls == (1 if undecided and maintenance else 0), context
        checked += 1
    assert checked == 2 * 3 * 2 * 3 * 2


@pytest.mark.parametrize("forced", FORCED)
@pytest.mark.parametrize("exempt", [False, True])
async def test_unknown_route_always_proceeds(forced: ForcedMode | None, exempt: bool) -> None:
    state, handler = Recorder(True), Recorder(False)
    route = RouteInfo(exists=False, forced=forced, exempt=exempt)
    assert await decide(route, state, handler) is False
    assert state.calls == 0
    assert handler.calls == 0


async def test_exempt_handler_not_called_when_maintenance_is_off() -> None:
    handler = Recorder(True)
    assert await decide(PLAIN_ROUTE, Recorder(False), handler) is False
    assert handler.calls == 0


@pytest.mark.parametrize("forced", [ForcedMode.ON, ForcedMode.OFF])
@pytest.mark.parametrize("maintenance", [False, True])
async def test_exempt_handler_not_called_when_a_marker_decides(
    forced: ForcedMode, maintenance: bool
) -> None:
    handler = Recorder(True)
    result = await decide(RouteInfo(exists=True, forced=forced), Recorder(maintenance), handler)
    assert result is (forced is ForcedMode.ON)
    assert handler.calls == 0


def test_route_info_constants() -> None:
    assert RouteInfo(exists=False) == NO_ROUTE
    assert NO_ROUTE.forced is None
    assert NO_ROUTE.exempt is False
    assert RouteInfo(exists=True, forced=None, exempt=False) == PLAIN_ROUTE
    with pytest.raises(AttributeError):
        PLAIN_ROUTE.exists = False  # type: ignore[misc]


# --- StateReader ---------------------------------------------------------------------------


class FixedReadOnlyBackend(BaseStateBackend):
    """A read-only store with a fixed value: overrides on it stay in memory."""

    writable = False

    def __init__(self, value: bool) -> None:
        self.value = value
        self.reads = 0

    async def get_value(self) -> bool:
        self.reads += 1
        return self.value

    async def set_value(self, value: bool) -> None:
        raise AssertionError("a read-only backend must not be written")


class FlakyBackend(BaseStateBackend):
    """A store that can be switched between answering and failing."""

    def __init__(self, value: bool = False) -> None:
        self.value = value
        self.error: Exception | None = None
        self.reads = 0

    async def get_value(self) -> bool:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.value

    async def set_value(self, value: bool) -> None:
        self.value = value

    def describe(self) -> str:
        return "flaky-store"


async def test_state_reader_precedence_table() -> None:
    for override, enable, backend_on in itertools.product(
        [None, True, False], [None, True, False], [False, True]
    ):
        context = f"{override=} {enable=} {backend_on=}"
        backend = FixedReadOnlyBackend(backend_on)
        reader = StateReader(backend, enable_maintenance=enable)
        assert reader.backend is backend
        assert reader.enable_maintenance is enable
        assert reader.overrides is overrides_of(backend)
        if override is None:
            expected = enable if enable is not None else backend_on
            assert await reader.is_on() is expected, context
        else:
            async with MaintenanceOverride(override, backend, lambda b=backend: b):
                assert await reader.is_on() is override, context
            # After the override the ordinary rule is back.
            expected = enable if enable is not None else backend_on
            assert await reader.is_on() is expected, context
        read_expected = enable is None
        assert (backend.reads > 0) is read_expected, context


async def test_full_precedence_table_through_state_reader() -> None:
    """Markers > exemptions > override context > enable_maintenance > backend state."""
    checked = 0
    for exists, forced, exempt, handler_answer, override, enable, backend_on in itertools.product(
        [False, True],
        FORCED,
        [False, True],
        HANDLER_ANSWERS,
        [None, True, False],
        [None, True, False],
        [False, True],
    ):
        context = (
            f"{exists=} {forced=} {exempt=} {handler_answer=} {override=} {enable=} {backend_on=}"
        )
        backend = FixedReadOnlyBackend(backend_on)
        reader = StateReader(backend, enable_maintenance=enable)
        handler = Recorder(bool(handler_answer)) if handler_answer is not None else None
        route = RouteInfo(exists=exists, forced=forced, exempt=exempt)
        if override is not None:
            async with MaintenanceOverride(override, backend, lambda b=backend: b):
                result = await decide(route, reader.is_on, handler)
        else:
            result = await decide(route, reader.is_on, handler)
        if override is not None:
            maintenance = override
        elif enable is not None:
            maintenance = enable
        else:
            maintenance = backend_on
        assert result is expected_refusal(exists, forced, exempt, handler_answer, maintenance), (
            context
        )
        checked += 1
    assert checked == 2 * 3 * 2 * 3 * 3 * 3 * 2


async def test_state_reader_follows_backend_changes() -> None:
    backend = MemoryBackend()
    reader = StateReader(backend)
    assert await reader.is_on() is False
    await backend.set_value(True)
    assert await reader.is_on() is True
    await backend.set_value(False)
    assert await reader.is_on() is False


async def test_state_reader_sees_override_on_writable_backend() -> None:
    backend = MemoryBackend(True)
    reader = StateReader(backend, enable_maintenance=True)
    async with MaintenanceOverride(False, backend, lambda: backend):
        assert await reader.is_on() is False
    assert await reader.is_on() is True


async def test_enable_maintenance_means_the_backend_is_never_read() -> None:
    backend = FlakyBackend()
    backend.error = RuntimeError("must not be read")
    for enable in (True, False):
        reader = StateReader(backend, enable_maintenance=enable)
        for _ in range(3):
            assert await reader.is_on() is enable
    assert backend.reads == 0


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name.startswith("maintenance_core") and r.levelno == level
    ]


async def test_failing_backend_without_history_is_off_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FlakyBackend()
    backend.error = ConnectionError("connection refused")
    reader = StateReader(backend)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        results = [await reader.is_on() for _ in range(25)]
    assert results == [False] * 25
    assert backend.reads == 25  # every request tries again
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert "flaky-store" in message
    assert "ConnectionError" in message
    assert "connection refused" in message
    assert "default" in message
    assert "maintenance is off" in message
    assert _records(caplog, logging.WARNING) == []


async def test_failing_backend_uses_last_known_state(caplog: pytest.LogCaptureFixture) -> None:
    backend = FlakyBackend(True)
    reader = StateReader(backend)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        assert await reader.is_on() is True
        backend.error = TimeoutError("read timed out")
        results = [await reader.is_on() for _ in range(10)]
    assert results == [True] * 10
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert "last known state" in message
    assert "maintenance is on" in message
    assert "read timed out" in message


async def test_recovery_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    backend = FlakyBackend(False)
    reader = StateReader(backend)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        assert await reader.is_on() is False
        backend.error = OSError("disk gone")
        for _ in range(5):
            assert await reader.is_on() is False
        backend.error = None
        backend.value = True
        for _ in range(5):
            assert await reader.is_on() is True
    assert len(_records(caplog, logging.ERROR)) == 1
    recoveries = _records(caplog, logging.WARNING)
    assert len(recoveries) == 1
    message = recoveries[0].getMessage()
    assert "flaky-store" in message
    assert "maintenance is on" in message


async def test_each_new_outage_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    backend = FlakyBackend(True)
    reader = StateReader(backend)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        assert await reader.is_on() is True
        for _ in range(2):
            backend.error = OSError("down")
            for _ in range(4):
                assert await reader.is_on() is True
            backend.error = None
            assert await reader.is_on() is True
    assert len(_records(caplog, logging.ERROR)) == 2
    assert len(_records(caplog, logging.WARNING)) == 2


async def test_invalid_stored_value_falls_back(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    path = tmp_path / "state.txt"
    path.write_text("maybe")
    reader = StateReader(LocalFileBackend(path))
    with caplog.at_level(logging.DEBUG):
        assert await reader.is_on() is False
        assert await reader.is_on() is False
    errors = _records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "InvalidStateValueError" in errors[0].getMessage()


async def test_override_hides_a_failing_backend(caplog: pytest.LogCaptureFixture) -> None:
    backend = FixedReadOnlyBackend(False)
    reader = StateReader(backend)
    with caplog.at_level(logging.DEBUG, logger="maintenance_core"):
        async with MaintenanceOverride(True, backend, lambda: backend):
            assert await reader.is_on() is True
    assert backend.reads == 0
    assert caplog.records == []


# --- markers -------------------------------------------------------------------------------


def test_markers_return_the_handler_unchanged() -> None:
    def sync_handler() -> str:
        return "ok"

    async def async_handler() -> str:
        return "ok"

    assert force_maintenance_mode_on(sync_handler) is sync_handler
    assert force_maintenance_mode_off(async_handler) is async_handler
    assert forced_mode_of(sync_handler) is ForcedMode.ON
    assert forced_mode_of(async_handler) is ForcedMode.OFF
    assert getattr(sync_handler, MARKER_ATTRIBUTE) is ForcedMode.ON
    assert sync_handler() == "ok"


def test_unmarked_and_foreign_attribute_give_none() -> None:
    def handler() -> None:
        return None

    assert forced_mode_of(handler) is None
    handler.__maintenance_mode__ = "on"  # type: ignore[attr-defined]
    assert forced_mode_of(handler) is None  # only the enum counts
    assert forced_mode_of(object()) is None


def test_last_marker_wins() -> None:
    def handler() -> None:
        return None

    force_maintenance_mode_on(handler)
    force_maintenance_mode_off(handler)
    assert forced_mode_of(handler) is ForcedMode.OFF


def test_marking_a_bound_method_marks_its_function() -> None:
    class Views:
        def page(self) -> str:
            return "page"

    views = Views()
    assert force_maintenance_mode_on(views.page) == views.page
    assert forced_mode_of(Views.page) is ForcedMode.ON
    assert forced_mode_of(Views().page) is ForcedMode.ON


def test_marking_classes_and_callable_objects() -> None:
    class Endpoint:
        pass

    class CallableHandler:
        def __call__(self) -> None:
            return None

    instance = CallableHandler()
    assert force_maintenance_mode_off(Endpoint) is Endpoint
    assert force_maintenance_mode_on(instance) is instance
    assert forced_mode_of(Endpoint) is ForcedMode.OFF
    assert forced_mode_of(instance) is ForcedMode.ON


@pytest.mark.parametrize("target", [len, print, 42, "text"])
def test_marking_something_without_attributes_is_a_type_error(target: Any) -> None:
    with pytest.raises(TypeError, match="Cannot mark"):
        force_maintenance_mode_on(target)


def test_forced_mode_values() -> None:
    assert ForcedMode.ON == "on"
    assert ForcedMode.OFF == "off"
