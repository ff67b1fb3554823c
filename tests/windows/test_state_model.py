"""The stored state: its text form, ``scheduled()``, and the window arithmetic."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest
from maintenance_core.bypass import hash_secret
from maintenance_core.errors import InvalidStateValueError, InvalidWindowError
from maintenance_core.state import MaintenanceState

from ._helpers import utc_now

START = datetime(2031, 11, 21, 22, 0, tzinfo=timezone.utc)
END = datetime(2031, 11, 21, 23, 30, tzinfo=timezone.utc)
HASH = hash_secret("a-long-enough-team-secret")


# --- to_text / from_text ----------------------------------------------------------------


@pytest.mark.parametrize(("on", "text"), [(True, "1"), (False, "0")])
def test_plain_states_are_stored_as_one_and_zero(on: bool, text: str) -> None:
    state = MaintenanceState(on)
    assert state.is_plain
    assert state.to_text() == text
    assert MaintenanceState.from_text(text) == state


@pytest.mark.parametrize(
    "state",
    [
        MaintenanceState(True, START, END),
        MaintenanceState(True, START, None),
        MaintenanceState(True, None, END),
        MaintenanceState(False, START, END),
        MaintenanceState(True, None, None, HASH),
        MaintenanceState(True, START, END, HASH),
    ],
    ids=["start-end", "start-only", "end-only", "off-with-window", "secret", "window-secret"],
)
def test_window_and_secret_round_trip_through_json(state: MaintenanceState) -> None:
    assert not state.is_plain
    text = state.to_text()
    data = json.loads(text)
    assert data["on"] is state.on
    assert ("start" in data) is (state.start is not None)
    assert ("end" in data) is (state.end is not None)
    assert ("bypass" in data) is (state.bypass is not None)
    back = MaintenanceState.from_text(text)
    assert back == state
    assert (back.start, back.end, back.bypass) == (state.start, state.end, state.bypass)
    assert back.to_text() == text


def test_json_form_uses_utc_iso_dates() -> None:
    paris = timezone(timedelta(hours=1))
    state = MaintenanceState.scheduled(
        datetime(2031, 11, 21, 23, 0, tzinfo=paris), "2031-11-22T01:30:00+02:00", now=0
    )
    data = json.loads(state.to_text())
    assert data == {
        "on": True,
        "start": "2031-11-21T22:00:00+00:00",
        "end": "2031-11-21T23:30:00+00:00",
    }


@pytest.mark.parametrize(
    ("raw", "on"),
    [
        ("1", True),
        ("0", False),
        ("yes", True),
        (" ON \n", True),
        ("false", False),
        ("", False),
        ("1\n", True),
    ],
)
def test_old_plain_values_still_parse(raw: str, on: bool) -> None:
    state = MaintenanceState.from_text(raw)
    assert state.on is on
    assert state.is_plain


def test_json_with_surrounding_whitespace_parses() -> None:
    text = "\n  " + MaintenanceState(True, START, END).to_text() + "\n"
    assert MaintenanceState.from_text(text) == MaintenanceState(True, START, END)


def test_json_dates_with_an_offset_are_normalised_to_utc() -> None:
    state = MaintenanceState.from_text(
        '{"on": true, "start": "2031-11-21T23:00:00+01:00", "end": "2031-11-21T23:30:00Z"}'
    )
    assert state.start == START
    assert state.end == END
    assert state.start is not None
    assert state.start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"on": true', "not a valid maintenance state object"),
        ("{}", "no boolean 'on'"),
        ('{"start": "2031-11-21T22:00:00+00:00"}', "no boolean 'on'"),
        ('{"on": 1}', "no boolean 'on'"),
        ('{"on": "true"}', "no boolean 'on'"),
        ('{"on": null}', "no boolean 'on'"),
        ('{"on": true, "start": "tomorrow"}', "not an ISO 8601 date"),
        ('{"on": true, "end": "2031-13-45T99:00:00+00:00"}', "not an ISO 8601 date"),
        ('{"on": true, "end": 1700000000}', "end must be a datetime or an ISO 8601 string"),
        ('{"on": true, "start": "2031-11-21T22:00:00"}', "has no time zone"),
        ('{"on": true, "end": "2031-11-21"}', "has no time zone"),
        ('{"on": true, "bypass": 5}', "'bypass' is not a string"),
    ],
    ids=[
        "malformed",
        "empty-object",
        "missing-on",
        "on-int",
        "on-string",
        "on-null",
        "start-words",
        "end-impossible",
        "end-number",
        "start-naive",
        "end-date-only",
        "bypass-number",
    ],
)
def test_bad_json_is_an_invalid_state_value(raw: str, reason: str) -> None:
    with pytest.raises(InvalidStateValueError) as caught:
        MaintenanceState.from_text(raw)
    message = str(caught.value)
    assert caught.value.raw == raw
    assert "Invalid maintenance state value" in message
    assert reason in message
    # It says what would have been accepted.
    assert "the JSON object written by set_maintenance_mode()" in message


@pytest.mark.parametrize("raw", ["[true]", '"1"', "maybe", "2"])
def test_other_values_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidStateValueError, match="Invalid maintenance state value"):
        MaintenanceState.from_text(raw)


@pytest.mark.parametrize(
    "raw",
    [
        '{"on": true, "end": "9999-12-31T23:59:59-05:00"}',
        '{"on": true, "start": "0001-01-01T00:00:00+05:00"}',
    ],
    ids=["end-beyond-year-9999-in-utc", "start-before-year-1-in-utc"],
)
def test_dates_out_of_range_in_utc_are_an_invalid_state_value(raw: str) -> None:
    # Converting these to UTC leaves datetime's range: the stored value is bad, and
    # from_text promises InvalidStateValueError for anything it cannot parse.
    with pytest.raises(InvalidStateValueError):
        MaintenanceState.from_text(raw)


# --- scheduled() ------------------------------------------------------------------------


def test_scheduled_accepts_aware_datetimes_and_iso_strings() -> None:
    state = MaintenanceState.scheduled(START, "2031-11-21T23:30:00+00:00", now=0)
    assert state == MaintenanceState(True, START, END)
    assert state.on is True
    assert state.bypass is None


@pytest.mark.parametrize(
    "text",
    ["2031-11-21T23:30:00Z", "2031-11-21T23:30Z", "2031-11-21T23:30:00z", " 2031-11-21T23:30Z "],
)
def test_scheduled_accepts_a_z_suffix(text: str) -> None:
    assert MaintenanceState.scheduled(None, text, now=0).end == END


def test_scheduled_without_bounds_is_plain_on() -> None:
    state = MaintenanceState.scheduled()
    assert state.is_plain
    assert state.to_text() == "1"


def test_scheduled_start_only_and_end_only() -> None:
    assert MaintenanceState.scheduled(START, now=0) == MaintenanceState(True, START, None)
    assert MaintenanceState.scheduled(end=END, now=0) == MaintenanceState(True, None, END)


@pytest.mark.parametrize("name", ["start", "end"])
def test_scheduled_rejects_a_naive_datetime(name: str) -> None:
    naive = datetime(2031, 11, 21, 22, 0)
    with pytest.raises(InvalidWindowError) as caught:
        MaintenanceState.scheduled(**{name: naive}, now=0)
    message = str(caught.value)
    assert message.startswith(f"{name}=")
    assert "has no time zone" in message
    assert "datetime.now(timezone.utc)" in message  # how to fix it
    assert "'Z'" in message


@pytest.mark.parametrize("name", ["start", "end"])
def test_scheduled_rejects_a_string_without_offset(name: str) -> None:
    with pytest.raises(InvalidWindowError) as caught:
        MaintenanceState.scheduled(**{name: "2031-11-21T22:00:00"}, now=0)
    message = str(caught.value)
    assert f"{name}='2031-11-21T22:00:00' has no time zone" in message
    assert "offset" in message


@pytest.mark.parametrize("text", ["tomorrow 10pm", "", "21/11/2031 22:00", "2031-11-21T25:00Z"])
def test_scheduled_rejects_a_non_iso_string(text: str) -> None:
    with pytest.raises(InvalidWindowError) as caught:
        MaintenanceState.scheduled(None, text, now=0)
    message = str(caught.value)
    assert f"end={text!r} is not an ISO 8601 date and time" in message
    assert "'2026-11-21T22:00:00+00:00'" in message  # an example of the right form


def test_scheduled_rejects_other_types() -> None:
    with pytest.raises(InvalidWindowError, match="start must be a datetime or an ISO 8601 string"):
        MaintenanceState.scheduled(1700000000, now=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("end", [START, START - timedelta(seconds=1)], ids=["equal", "before"])
def test_scheduled_rejects_an_end_not_after_the_start(end: datetime) -> None:
    with pytest.raises(InvalidWindowError) as caught:
        MaintenanceState.scheduled(START, end, now=0)
    message = str(caught.value)
    assert "before it starts" in message
    assert "give an end after the start" in message
    assert START.isoformat() in message


def test_scheduled_rejects_an_end_already_past() -> None:
    with pytest.raises(InvalidWindowError) as caught:
        MaintenanceState.scheduled(None, END, now=END.timestamp())
    message = str(caught.value)
    assert "already past" in message
    assert "Give an end in the future" in message


def test_scheduled_rejects_a_past_end_against_the_real_clock() -> None:
    past = utc_now() - timedelta(minutes=1)
    with pytest.raises(InvalidWindowError, match="already past"):
        MaintenanceState.scheduled(past - timedelta(hours=1), past)


def test_scheduled_accepts_a_start_in_the_past() -> None:
    start = utc_now() - timedelta(hours=1)
    end = utc_now() + timedelta(hours=1)
    state = MaintenanceState.scheduled(start, end)
    assert state.is_on_now()


def test_scheduled_end_one_second_ahead_is_accepted() -> None:
    state = MaintenanceState.scheduled(None, END, now=END.timestamp() - 1)
    assert state.end == END


def test_scheduled_bound_out_of_range_in_utc_is_an_invalid_window() -> None:
    # 9999-12-31T23:59:59-05:00 is in year 10000 in UTC.
    with pytest.raises(InvalidWindowError):
        MaintenanceState.scheduled(None, "9999-12-31T23:59:59-05:00")


# --- is_on_at / is_on_now / seconds_left --------------------------------------------------


def test_is_on_at_start_inclusive_end_exclusive() -> None:
    state = MaintenanceState(True, START, END)
    start, end = START.timestamp(), END.timestamp()
    assert state.is_on_at(start - 0.001) is False
    assert state.is_on_at(start) is True
    assert state.is_on_at(start + 1) is True
    assert state.is_on_at(end - 0.001) is True
    assert state.is_on_at(end) is False
    assert state.is_on_at(end + 3600) is False


def test_is_on_at_open_ended_windows() -> None:
    from_start = MaintenanceState(True, START, None)
    assert from_start.is_on_at(START.timestamp() - 1) is False
    assert from_start.is_on_at(START.timestamp() + 10**9) is True
    until_end = MaintenanceState(True, None, END)
    assert until_end.is_on_at(0) is True
    assert until_end.is_on_at(END.timestamp()) is False


def test_is_on_at_of_off_and_plain_states() -> None:
    assert MaintenanceState(False, START, END).is_on_at(START.timestamp() + 1) is False
    assert MaintenanceState(True).is_on_at(0) is True
    assert MaintenanceState(False).is_on_at(0) is False


def test_is_on_now_follows_the_clock() -> None:
    now = utc_now()
    assert MaintenanceState(True, now - timedelta(hours=1), now + timedelta(hours=1)).is_on_now()
    assert not MaintenanceState(True, now + timedelta(hours=1), None).is_on_now()
    assert not MaintenanceState(
        True, now - timedelta(hours=2), now - timedelta(hours=1)
    ).is_on_now()
    assert MaintenanceState(True).is_on_now()
    assert not MaintenanceState(False).is_on_now()


@pytest.mark.parametrize(
    ("before_end", "expected"),
    [
        (3600.0, 3600),
        (3599.2, 3600),
        (10.001, 11),
        (10.0, 10),
        (1.5, 2),
        (1.0, 1),
        (0.2, 1),
        (0.0, 1),
        (-30.0, 1),
    ],
)
def test_seconds_left_rounds_up_and_is_at_least_one(before_end: float, expected: int) -> None:
    state = MaintenanceState(True, START, END)
    assert state.seconds_left(END.timestamp() - before_end) == expected


def test_seconds_left_without_end_is_none() -> None:
    assert MaintenanceState(True, START, None).seconds_left(START.timestamp()) is None
    assert MaintenanceState(True).seconds_left(0) is None


def test_seconds_left_is_math_ceil() -> None:
    state = MaintenanceState(True, None, END)
    for tenths in range(1, 50):
        now = END.timestamp() - tenths / 10
        assert state.seconds_left(now) == max(1, math.ceil(END.timestamp() - now))


def test_overridden_drops_the_window_and_keeps_the_secret() -> None:
    state = MaintenanceState(True, START, END, HASH)
    off = state.overridden(False)
    assert (off.on, off.start, off.end, off.bypass) == (False, None, None, HASH)
    on = state.overridden(True)
    assert (on.on, on.start, on.end, on.bypass) == (True, None, None, HASH)
    assert MaintenanceState(True, START, END).overridden(False).to_text() == "0"
