"""The partial-maintenance scenarios themselves: subjects opt in to them, and they catch an
adapter that does not report route groups."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from maintenance_core import GenericAdapter
from maintenance_core.decision import RouteInfo
from maintenance_core.testing import (
    GROUP_SCENARIOS,
    READ_ONLY_SCENARIOS,
    SCENARIOS,
    run_scenario,
    scenario_id,
    scenarios_for,
)

from .flavors import BARE, FLAVORS, build_bare

pytestmark = pytest.mark.anyio


def test_every_partial_scenario_is_a_scenario_with_a_description() -> None:
    assert set(READ_ONLY_SCENARIOS).isdisjoint(GROUP_SCENARIOS)
    for scenario in (*READ_ONLY_SCENARIOS, *GROUP_SCENARIOS):
        assert scenario in SCENARIOS, scenario_id(scenario)
        assert scenario.__doc__, scenario_id(scenario)


def test_a_subject_opts_in_to_the_partial_scenarios() -> None:
    plain = dataclasses.replace(BARE, read_only=False, groups=False)
    assert set(scenarios_for(plain)).isdisjoint({*READ_ONLY_SCENARIOS, *GROUP_SCENARIOS})
    reads = dataclasses.replace(BARE, groups=False)
    assert set(READ_ONLY_SCENARIOS) <= set(scenarios_for(reads))
    assert set(scenarios_for(reads)).isdisjoint(GROUP_SCENARIOS)
    for flavor in FLAVORS:
        assert set(READ_ONLY_SCENARIOS) | set(GROUP_SCENARIOS) <= set(scenarios_for(flavor))


class GroupBlindAdapter(GenericAdapter):
    """Finds the handler and its forced marker, but not its groups."""

    def resolve_route(self, scope: dict[str, object]) -> RouteInfo:
        route = super().resolve_route(scope)
        return dataclasses.replace(route, groups=frozenset())


async def test_the_group_scenarios_catch_an_adapter_that_ignores_groups() -> None:
    broken = dataclasses.replace(
        BARE, name="group-blind", build=functools.partial(build_bare, GroupBlindAdapter)
    )
    failed = []
    for scenario in scenarios_for(broken):
        try:
            await run_scenario(broken, scenario)
        except AssertionError:
            failed.append(scenario_id(scenario))
    assert sorted(failed) == sorted(scenario_id(scenario) for scenario in GROUP_SCENARIOS)
