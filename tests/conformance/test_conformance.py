"""One behaviour, three apps: every conformance scenario of ``maintenance_core.testing``
runs on FastAPI, Litestar and a bare ASGI app."""

from __future__ import annotations

import pytest
from maintenance_core.testing import Scenario, Subject, run_scenario, scenario_id, scenarios_for

from .flavors import FLAVORS

pytestmark = pytest.mark.anyio

CASES = [
    pytest.param(subject, scenario, id=f"{subject.name}-{scenario_id(scenario)}")
    for subject in FLAVORS
    for scenario in scenarios_for(subject)
]


@pytest.mark.parametrize(("subject", "scenario"), CASES)
async def test_conformance(subject: Subject, scenario: Scenario) -> None:
    await run_scenario(subject, scenario)
