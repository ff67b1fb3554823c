"""``maintenance_core.testing``: the public reset between tests, and conformance scenarios
that a third-party adapter's suite can run and that catch an adapter that does not conform."""

from __future__ import annotations

import functools
from typing import Any

import fastapi_maintenance
import litestar_maintenance
import pytest
from maintenance_core import (
    BackendRegistry,
    EnvVarBackend,
    GenericAdapter,
    MaintenanceGuard,
    MemoryBackend,
)
from maintenance_core.adapter import PLAIN_ROUTE, RouteInfo, Scope
from maintenance_core.testing import (
    SCENARIOS,
    Subject,
    request,
    reset,
    run_scenario,
    scenario_id,
    scenarios_for,
)

from tests.conformance.flavors import BARE, bare_registry, build_bare

pytestmark = pytest.mark.anyio


# --- reset -----------------------------------------------------------------------------------


@pytest.mark.parametrize("package", [fastapi_maintenance, litestar_maintenance])
async def test_reset_forgets_the_configured_backend_of_an_adapter_package(package: Any) -> None:
    package.configure_backend("file", file_path="unused-state.txt")
    assert package.registry.default_backend().describe().startswith("file")
    reset(package)
    assert isinstance(package.registry.default_backend(), EnvVarBackend)


async def test_reset_forgets_the_backend_of_the_last_middleware() -> None:
    registry = BackendRegistry("reset_test", EnvVarBackend)
    backend = MemoryBackend(True)
    MaintenanceGuard(adapter=GenericAdapter(), registry=registry, backend=backend)
    assert registry.current_backend() is backend
    reset(registry)
    assert registry.current_backend() is not backend


def test_reset_refuses_what_has_no_registry() -> None:
    with pytest.raises(TypeError, match="BackendRegistry"):
        reset(pytest)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="BackendRegistry"):
        reset("fastapi_maintenance")  # type: ignore[arg-type]


def test_the_adapter_packages_expose_their_registry() -> None:
    assert isinstance(fastapi_maintenance.registry, BackendRegistry)
    assert isinstance(litestar_maintenance.registry, BackendRegistry)
    assert (
        fastapi_maintenance.get_maintenance_mode
        == fastapi_maintenance.registry.get_maintenance_mode
    )


# --- the scenarios -----------------------------------------------------------------------------


def test_every_scenario_has_a_unique_name_and_a_description() -> None:
    names = [scenario_id(scenario) for scenario in SCENARIOS]
    assert len(set(names)) == len(names)
    for scenario in SCENARIOS:
        assert scenario.__doc__, scenario_id(scenario)


def test_the_schema_scenario_only_applies_to_a_framework_with_a_schema() -> None:
    assert len(scenarios_for(BARE)) == len(SCENARIOS) - 1


class MarkerBlindAdapter(GenericAdapter):
    """Ignores the markers on handlers: a forced-off route is closed during maintenance."""

    def resolve_route(self, scope: Scope) -> RouteInfo:
        route = super().resolve_route(scope)
        return PLAIN_ROUTE if route.exists else route


async def test_the_scenarios_catch_an_adapter_that_ignores_markers() -> None:
    broken = Subject(
        name="marker-blind",
        build=functools.partial(build_bare, MarkerBlindAdapter),
        registry=bare_registry,
        env_var=BARE.env_var,
        request_type=BARE.request_type,
        json_response=BARE.json_response,
    )
    failed = []
    for scenario in scenarios_for(broken):
        try:
            await run_scenario(broken, scenario)
        except AssertionError:
            failed.append(scenario_id(scenario))
    assert "forced_off_handler_stays_reachable" in failed
    assert "forced_on_handler_answers_503_while_maintenance_is_off" in failed
    assert "forced_off_websocket_is_accepted" in failed
    assert "env_var_on_gives_the_default_503" not in failed


async def test_the_client_waits_for_the_end_of_a_streamed_response() -> None:
    async def streamed(scope: Scope, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        for chunk in (b"one,", b"two"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        assert (await receive())["type"] == "http.disconnect"

    response = await request(streamed, "GET", "/")
    assert (response.status, response.headers, response.body) == (200, {"x-a": "1"}, b"one,two")
