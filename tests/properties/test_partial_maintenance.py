"""Partial maintenance (read-only, route groups) for every combination.

The rules, from docs/precedence.md and :mod:`maintenance_core.coverage`:

- read-only maintenance that covers a route refuses every unsafe request to it
  (anything but ``GET``, ``HEAD`` and ``OPTIONS``, and a websocket handshake),
  unless the route is forced off or the request is exempt; it never refuses a
  safe request, unless the route is forced on;
- maintenance limited to groups refuses every request to a route in one of its
  groups (only the unsafe ones when it is also read-only), unless forced off or
  exempt; it never refuses a route outside them, unless forced on;
- ``Coverage.union`` answers at least every request either side answers.

They are checked on ``decide()`` alone, on the state reader over a stored state,
and end to end through the guard of a bare ASGI app. The stored form of a
limited state reads back as it was written, and hostile JSON in the ``groups``
(or ``read_only``) of a stored state is an ``InvalidStateValueError`` whose
message never repeats what it read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from maintenance_core import GenericAdapter, MaintenanceGuard, MaintenanceMiddleware
from maintenance_core.backends.memory import MemoryBackend
from maintenance_core.coverage import MAX_GROUP_LENGTH, MAX_GROUPS, SAFE_METHODS, Coverage
from maintenance_core.decision import RouteInfo, StateReader, decide
from maintenance_core.errors import InvalidStateValueError
from maintenance_core.markers import ForcedMode, maintenance_group, mark
from maintenance_core.state import MaintenanceState
from maintenance_core.testing import DEFAULT_BODY, READ_ONLY_BODY, handshake, request

# --- strategies ----------------------------------------------------------------------------

GROUP_NAMES = ("payments", "search", "admin")
"""Few names, so that a route's groups and maintenance's groups often meet."""

group_sets = st.frozensets(st.sampled_from(GROUP_NAMES))

HTTP_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT")
methods: st.SearchStrategy[str | None] = st.one_of(
    st.sampled_from(HTTP_METHODS),
    st.none(),  # a websocket handshake
    st.sampled_from(("get", "Head", "PROPFIND", "")),  # not the safe spellings: unsafe
)

coverages = st.builds(Coverage, read_only=st.booleans(), groups=group_sets)

# What the state reader answers: off (None or False), True for the whole site, or a coverage.
maintenance_answers: st.SearchStrategy[Coverage | bool | None] = st.one_of(
    st.none(), st.just(False), st.just(True), coverages
)


@dataclass(frozen=True)
class Case:
    exists: bool
    forced: ForcedMode | None
    builtin_exempt: bool  # the framework's own docs pages
    route_groups: frozenset[str]
    maintenance: Coverage | bool | None
    method: str | None
    exempt_answer: bool | None  # None: no exemption handler; else its answer

    @property
    def coverage(self) -> Coverage | None:
        """What maintenance covers, ``None`` while it is off."""
        if self.maintenance is None or self.maintenance is False:
            return None
        return Coverage() if self.maintenance is True else self.maintenance

    @property
    def unsafe(self) -> bool:
        return self.method not in SAFE_METHODS

    @property
    def let_through(self) -> bool:
        """Forced off, or exempt (the framework's, or the exemption handler's yes)."""
        return self.forced is ForcedMode.OFF or self.builtin_exempt or self.exempt_answer is True


cases = st.builds(
    Case,
    exists=st.booleans() | st.just(True),
    forced=st.sampled_from([None, ForcedMode.ON, ForcedMode.OFF]),
    builtin_exempt=st.booleans(),
    route_groups=group_sets,
    maintenance=maintenance_answers,
    method=methods,
    exempt_answer=st.sampled_from([None, True, False]),
)


class Spy:
    """An async callable with a fixed answer, counting its calls."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        return self.answer


def check_the_rules(case: Case, refused: bool) -> None:
    """The rules of the module docstring, each as it is stated."""
    coverage = case.coverage
    if not case.exists:
        assert not refused, "a request no route serves proceeds (404/405)"
        return
    if case.forced is ForcedMode.ON:
        assert refused, "a route forced on refuses everything"
        return
    if coverage is None:
        assert not refused, "maintenance is off"
        return
    shared = coverage.groups & case.route_groups
    in_scope = not coverage.groups or bool(shared)
    if coverage.read_only and case.unsafe and in_scope and not case.let_through:
        assert refused, "an unsafe request went through read-only maintenance of its route"
    if shared and (case.unsafe or not coverage.read_only) and not case.let_through:
        assert refused, "a grouped route went through its group's maintenance"
    if coverage.read_only and not case.unsafe:
        assert not refused, "read-only maintenance refused a safe request"
    if coverage.groups and not shared:
        assert not refused, "maintenance limited to groups refused a route outside them"
    if coverage.whole_site and not case.let_through:
        assert refused, "whole-site maintenance let a request through"


# --- decide() ------------------------------------------------------------------------------


@settings(max_examples=2000, deadline=None, database=None)
@given(case=cases)
def test_decide_applies_partial_maintenance(case: Case) -> None:
    maintenance = Spy(case.maintenance)
    handler = None if case.exempt_answer is None else Spy(case.exempt_answer)
    route = RouteInfo(
        exists=case.exists,
        forced=case.forced,
        exempt=case.builtin_exempt,
        groups=case.route_groups,
    )
    refused = anyio.run(decide, route, maintenance, handler, case.method)
    event(f"refused: {refused}")
    check_the_rules(case, refused)

    # Asked only when the answer can change the outcome.
    decided_by_route = not case.exists or case.forced is not None or case.builtin_exempt
    assert maintenance.calls == (0 if decided_by_route else 1)
    coverage = case.coverage
    covered = (
        not decided_by_route
        and coverage is not None
        and coverage.covers(case.method, case.route_groups)
    )
    if handler is not None:
        assert handler.calls == int(covered), "the exemption handler is asked only when covered"


@settings(max_examples=300, deadline=None, database=None)
@given(
    case=cases.filter(lambda c: not isinstance(c.maintenance, bool)),
    windowed=st.booleans(),
)
def test_a_stored_state_decides_the_same(case: Case, windowed: bool) -> None:
    """The state reader turns a stored limited state into the coverage ``decide()`` uses."""
    coverage = case.coverage
    if coverage is None:
        state = MaintenanceState(False)
    elif windowed:
        end = datetime.now(timezone.utc) + timedelta(hours=1)
        state = MaintenanceState.scheduled(end=end).with_coverage(coverage)
    else:
        state = MaintenanceState(True).with_coverage(coverage)
    backend = MemoryBackend()
    anyio.run(backend.set_state, state)
    reader = StateReader(backend)
    handler = None if case.exempt_answer is None else Spy(case.exempt_answer)
    route = RouteInfo(case.exists, case.forced, case.builtin_exempt, case.route_groups)
    refused = anyio.run(decide, route, reader.read, handler, case.method)
    check_the_rules(case, refused)


# --- Coverage.union ------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None, database=None)
@given(
    first=coverages,
    second=coverages,
    method=methods,
    route_groups=group_sets,
)
def test_a_union_answers_every_request_either_side_answers(
    first: Coverage, second: Coverage, method: str | None, route_groups: frozenset[str]
) -> None:
    union = first.union(second)
    assert union == second.union(first)
    assert first.union(first) == first
    either = first.covers(method, route_groups) or second.covers(method, route_groups)
    event(f"either side answers: {either}")
    if either:
        assert union.covers(method, route_groups)
    # The union is no wider than needed where it has an exact form.
    if first.read_only == second.read_only and bool(first.groups) == bool(second.groups):
        assert union.covers(method, route_groups) is either
    if first.whole_site or second.whole_site:
        assert union.whole_site


# --- end to end through the guard of a bare ASGI app ---------------------------------------


async def _endpoint(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"served"})


def _handler(forced: ForcedMode | None, groups: frozenset[str]) -> Any:
    async def handler(scope: Any, receive: Any, send: Any) -> None:
        await _endpoint(scope, receive, send)

    if forced is not None:
        mark(handler, forced)
    if groups:
        maintenance_group(*groups)(handler)
    return handler


# Weighted towards the cases that matter (maintenance on, no marker, handshakes), so that
# a few hundred examples through a whole guard meet each of them often.
guard_cases = st.builds(
    Case,
    exists=st.just(True),
    forced=st.sampled_from([None, None, None, ForcedMode.ON, ForcedMode.OFF]),
    builtin_exempt=st.just(False),
    route_groups=group_sets,
    maintenance=st.one_of(st.none(), coverages, coverages, coverages),
    method=st.one_of(st.none(), st.sampled_from((*HTTP_METHODS, "PROPFIND"))),
    exempt_answer=st.sampled_from([None, None, False, True]),
)


@settings(max_examples=300, deadline=None, database=None)
@given(case=guard_cases)
def test_the_guard_of_a_bare_app_applies_partial_maintenance(case: Case) -> None:
    coverage = case.coverage
    state = MaintenanceState(False) if coverage is None else MaintenanceState(True)
    if coverage is not None:
        state = state.with_coverage(coverage)
    handler = _handler(case.forced, case.route_groups)
    backend = MemoryBackend()
    anyio.run(backend.set_state, state)
    options: dict[str, Any] = {"backend": backend}
    if case.exempt_answer is not None:
        answer = case.exempt_answer
        options["exempt_handler"] = lambda connection: answer
    guard = MaintenanceGuard(adapter=GenericAdapter(lambda scope: handler), **options)
    app = MaintenanceMiddleware(_endpoint, guard)

    async def call() -> tuple[bool, Any]:
        if case.method is None:
            sent = await handshake(app, "/socket")
            if sent[0]["type"] == "websocket.accept":
                return False, None
            assert sent[0]["status"] == 503, sent
            return True, json.loads(sent[1]["body"])
        response = await request(app, case.method, "/route")
        if response.status == 200:
            return False, None
        assert response.status == 503, response
        assert response.headers["retry-after"] == "3600", response
        return True, None if case.method == "HEAD" else response.json()

    refused, body = anyio.run(call)
    event(f"refused: {refused}")
    check_the_rules(case, refused)
    if refused and body is not None:
        read_only = coverage is not None and coverage.read_only and case.forced is None
        assert body == (READ_ONLY_BODY if read_only else DEFAULT_BODY)


# --- the stored form -----------------------------------------------------------------------

group_names = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
    min_size=1,
    max_size=MAX_GROUP_LENGTH,
).filter(lambda name: bool(name.strip()) and name.isprintable())

moments = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(timezone.utc),
)

states = st.builds(
    MaintenanceState,
    on=st.booleans(),
    start=st.none() | moments,
    end=st.none() | moments,
    retry_after=st.none() | st.integers(1, 10**12),
    read_only=st.booleans(),
    groups=st.frozensets(st.sampled_from(GROUP_NAMES) | group_names, max_size=MAX_GROUPS),
)


@settings(max_examples=500, deadline=None, database=None)
@given(state=states)
def test_a_limited_state_reads_back_as_it_was_stored(state: MaintenanceState) -> None:
    text = state.to_text()
    event(f"plain: {state.is_plain}")
    if state.is_plain:
        assert text in ("1", "0")
    else:
        data = json.loads(text)
        assert data.get("read_only", False) is state.read_only
        assert sorted(data.get("groups", [])) == sorted(state.groups)
    again = MaintenanceState.from_text(text)
    assert again == state
    assert again.coverage == state.coverage
    assert again.to_text() == text


# --- hostile JSON --------------------------------------------------------------------------

CANARY = "s3cr3t-canary"
"""Every string of a hostile value carries it: an error message must never show it."""

canary_texts = st.text(max_size=12).map(lambda text: f"{CANARY}{text}")
canary_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | canary_texts,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(canary_texts, children, max_size=4)
    ),
    max_leaves=20,
)

invalid_names = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(canary_json, max_size=3),
    st.dictionaries(canary_texts, canary_json, max_size=3),
    st.just(""),
    st.text(alphabet=" \t\n", min_size=1, max_size=4),
    st.integers(MAX_GROUP_LENGTH + 1, 2000).map(lambda n: (CANARY * n)[:n]),
    st.sampled_from("\x00\x07\x1b\x7f\u2028").map(lambda ch: f"{CANARY}{ch}"),
)


@st.composite
def hostile_group_lists(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["bad name", "too many", "not a list"]))
    event(f"hostile groups: {kind}")
    if kind == "too many":
        count = draw(st.integers(MAX_GROUPS + 1, 3000))
        return [f"{CANARY}-{n}" for n in range(count)]
    if kind == "not a list":
        return draw(
            canary_texts | st.dictionaries(canary_texts, canary_json, min_size=1) | st.integers()
        )
    valid = draw(st.lists(canary_texts, max_size=5))
    bad = draw(invalid_names)
    position = draw(st.integers(0, len(valid)))
    return [*valid[:position], bad, *valid[position:]]


@st.composite
def hostile_states(draw: st.DrawFn) -> str:
    data: dict[str, Any] = {"on": draw(st.booleans())}
    target = draw(st.sampled_from(["groups", "read_only", "both"]))
    if target in ("groups", "both"):
        data["groups"] = draw(hostile_group_lists())
    else:
        data["groups"] = draw(st.lists(st.sampled_from(GROUP_NAMES), max_size=2))
    if target in ("read_only", "both"):
        data["read_only"] = draw(st.sampled_from(["true", 1, 0, [], {}]) | canary_texts | st.none())
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    return draw(st.sampled_from(["", "\ufeff", "  \n"])) + text + draw(st.sampled_from(["", "\n"]))


def check_refused_without_echo(raw: str) -> InvalidStateValueError:
    with pytest.raises(InvalidStateValueError) as caught:
        MaintenanceState.from_text(raw)
    error = caught.value
    assert "not a valid maintenance state object" in str(error), error  # the JSON form's error
    assert CANARY not in str(error)
    assert CANARY not in repr(error.args)
    assert error.__cause__ is None
    return error


@settings(max_examples=500, deadline=None, database=None)
@given(raw=hostile_states())
def test_hostile_groups_are_refused_without_echo(raw: str) -> None:
    check_refused_without_echo(raw)


@pytest.mark.parametrize("depth", [50, 1_000, 100_000])
def test_deeply_nested_groups_are_refused_without_echo(depth: int) -> None:
    raw = '{"on": true, "groups": ' + "[" * depth + f'"{CANARY}"' + "]" * depth + "}"
    check_refused_without_echo(raw)


def test_a_huge_list_of_distinct_groups_is_refused_without_echo() -> None:
    groups = [f"{CANARY}-{n}" for n in range(20_000)]
    error = check_refused_without_echo(json.dumps({"on": True, "groups": groups}))
    assert f"More than {MAX_GROUPS} groups" in str(error)


def test_a_byte_order_mark_before_blank_lines_still_reads_the_json_form() -> None:
    state = MaintenanceState(True, read_only=True, groups=frozenset({"payments"}))
    assert MaintenanceState.from_text("\ufeff\n" + state.to_text() + "\n") == state
