"""The command line's window helpers in process, at fixed times: ``details_lines``,
``parse_duration`` and ``requested_state``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from maintenance_core import MemoryBackend
from maintenance_core.bypass import hash_secret
from maintenance_core.cli import CliError, details_lines, parse_duration, requested_state
from maintenance_core.errors import InvalidWindowError
from maintenance_core.state import MaintenanceState

from ._helpers import utc_now

START = datetime(2031, 11, 21, 22, 0, tzinfo=timezone.utc)
END = datetime(2031, 11, 21, 23, 30, tzinfo=timezone.utc)
BACKEND = MemoryBackend()


def lines_at(state: MaintenanceState, now: datetime) -> list[str]:
    return details_lines(state, BACKEND, now=now.timestamp())


def test_details_before_the_start() -> None:
    assert lines_at(MaintenanceState(True, START, END), START - timedelta(hours=2, minutes=5)) == [
        "Window: starts 2031-11-21 22:00:00 UTC (in 2h05m) until 2031-11-21 23:30:00 UTC"
    ]
    assert lines_at(MaintenanceState(True, START, None), START - timedelta(seconds=42)) == [
        "Window: starts 2031-11-21 22:00:00 UTC (in 42s) until switched off"
    ]


def test_details_inside_the_window() -> None:
    assert lines_at(MaintenanceState(True, START, END), START) == [
        "Window: open until 2031-11-21 23:30:00 UTC (1h30m left)"
    ]
    assert lines_at(MaintenanceState(True, None, END), END - timedelta(minutes=29, seconds=5)) == [
        "Window: open until 2031-11-21 23:30:00 UTC (29m05s left)"
    ]
    assert lines_at(MaintenanceState(True, START, None), START + timedelta(days=3)) == [
        "Window: open since 2031-11-21 22:00:00 UTC until switched off"
    ]


def test_details_after_the_end() -> None:
    assert lines_at(MaintenanceState(True, START, END), END) == [
        "Window: ended 2031-11-21 23:30:00 UTC; maintenance switched itself off"
    ]


def test_details_of_plain_and_off_states_have_no_window_line() -> None:
    assert lines_at(MaintenanceState(True), START) == []
    assert lines_at(MaintenanceState(False), START) == []
    assert lines_at(MaintenanceState(False, START, END), START) == []


def test_details_mention_a_secret_but_never_show_it() -> None:
    stored = hash_secret("a-long-enough-team-secret")
    lines = lines_at(MaintenanceState(True, None, END, stored), START)
    assert lines[0].startswith("Window: open until")
    assert lines[1] == "Bypass secret: set (stored as a hash with the state)"
    assert stored not in "".join(lines)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("2h", 7200),
        ("1h30m", 5400),
        ("90s", 90),
        ("1d", 86400),
        ("1H 30M", 5400),
        (" 45m ", 2700),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3x", "is not a duration: use e.g. 30m, 2h, 1h30m or 90s."),
        ("", "is not a duration"),
        ("   ", "is not a duration"),
        ("30", "is not a duration"),
        ("m", "is not a duration"),
        ("-5m", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("0m", "--for must be longer than zero."),
        ("0h0m0s", "--for must be longer than zero."),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(CliError) as caught:
        parse_duration(text)
    assert message in str(caught.value)


def test_requested_state_for_a_duration_starts_now() -> None:
    before = utc_now().replace(microsecond=0)
    state = requested_state(duration="30m")
    after = utc_now()
    assert state.on is True
    assert state.start is None
    assert state.end is not None
    assert before + timedelta(minutes=30) <= state.end <= after + timedelta(minutes=30)


def test_requested_state_duration_counts_from_the_start() -> None:
    start = (utc_now() + timedelta(days=1)).replace(microsecond=0)
    state = requested_state(start=start.isoformat(), duration="2h")
    assert state == MaintenanceState(True, start, start + timedelta(hours=2))


def test_requested_state_rejects_end_and_for_together() -> None:
    with pytest.raises(CliError, match=r"Give either --end or --for, not both\."):
        requested_state(end="2099-01-01T00:00Z", duration="1h")


def test_requested_state_rejects_a_window_already_over() -> None:
    with pytest.raises(InvalidWindowError, match="already past"):
        requested_state(start="2001-01-01T00:00Z", duration="1h")


def test_requested_state_keeps_the_window_with_a_secret() -> None:
    state = requested_state(end="2099-01-01T00:00Z", secret="a-long-enough-team-secret")
    assert state.end == datetime(2099, 1, 1, tzinfo=timezone.utc)
    assert state.bypass is not None
    assert state.bypass.startswith("scrypt$")
