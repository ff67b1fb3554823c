"""One configuration object: ``MaintenanceConfig`` validates every option once, and every
bad option raises ``ConfigurationError`` (a ``MaintenanceError``, ``ValueError`` and
``TypeError``), whichever of the four entry points it was given to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import fastapi
import fastapi_maintenance
import litestar_maintenance
import pytest
from fastapi.testclient import TestClient
from litestar import Litestar, get
from litestar.testing import TestClient as LitestarTestClient
from maintenance_core import (
    ConfigurationError,
    GenericAdapter,
    MaintenanceConfig,
    MaintenanceError,
    MaintenanceGuard,
    MaintenanceResponse,
    MemoryBackend,
)
from maintenance_core.errors import InvalidBypassSecretError
from maintenance_core.exemptions import any_of, exempt_client_ips, exempt_paths
from maintenance_core.page import MaintenancePage

SECRET = "a-long-enough-team-secret"


def two_arguments(request: object, extra: object) -> bool:
    return True


BAD_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("enable_maintenance", {"enable_maintenance": "on"}, "enable_maintenance must be True"),
    ("backend", {"backend": "file"}, "backend must be a StateBackend"),
    ("exempt_handler", {"exempt_handler": "yes"}, "exempt_handler must be a function"),
    ("exempt_handler-arity", {"exempt_handler": two_arguments}, "must take exactly one"),
    ("response_handler", {"response_handler": 42}, "response_handler must be a function"),
    ("bypass_secret", {"bypass_secret": "short"}, "bypass secret"),
    ("bypass_secret-type", {"bypass_secret": 123}, "bypass secret"),
    ("cookie-max-age-zero", {"bypass_cookie_max_age": 0}, "must be positive"),
    ("cookie-max-age-bool", {"bypass_cookie_max_age": True}, "whole number of seconds"),
    ("on_state_error", {"on_state_error": "ON"}, "on_state_error must be one of"),
    ("response", {"response": {"detail": "x"}}, "response must be a MaintenanceResponse"),
]
BAD_IDS = [name for name, _, _ in BAD_OPTIONS]


def build_guard(**options: Any) -> MaintenanceGuard:
    options.setdefault("backend", MemoryBackend())
    return MaintenanceGuard(adapter=GenericAdapter(), **options)


def build_fastapi(**options: Any) -> None:
    fastapi_maintenance.MaintenanceModeMiddleware(fastapi.FastAPI(), **options)


ENTRY_POINTS: dict[str, Callable[..., object]] = {
    "config": MaintenanceConfig,
    "guard": build_guard,
    "fastapi-middleware": build_fastapi,
    "litestar-middleware": litestar_maintenance.MaintenanceModeMiddleware,
    "litestar-plugin": litestar_maintenance.MaintenancePlugin,
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "options", "message"), BAD_OPTIONS, ids=BAD_IDS)
def test_every_bad_option_is_a_configuration_error(
    entry: str, name: str, options: dict[str, Any], message: str
) -> None:
    if entry != "config" and entry != "guard" and name == "response":
        pytest.skip("the adapters do not take the default response as a keyword")
    with pytest.raises(ConfigurationError, match=message) as raised:
        ENTRY_POINTS[entry](**options)
    # One ``except`` catches every configuration error, and the built-in types still do.
    assert isinstance(raised.value, MaintenanceError)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, TypeError)


def test_a_weak_secret_is_still_an_invalid_bypass_secret_error() -> None:
    with pytest.raises(InvalidBypassSecretError) as raised:
        MaintenanceConfig(bypass_secret="short")
    assert isinstance(raised.value, ConfigurationError)


def test_an_unknown_option_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="enable_maintnance"):
        build_guard(enable_maintnance=True)


def test_the_config_is_frozen_and_typed() -> None:
    config = MaintenanceConfig(enable_maintenance=True, bypass_cookie_max_age=60)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.enable_maintenance = False  # type: ignore[misc]
    assert dataclasses.replace(config, enable_maintenance=False).enable_maintenance is False
    with pytest.raises(ConfigurationError):
        dataclasses.replace(config, on_state_error="never")  # type: ignore[arg-type]
    defaults = MaintenanceConfig()
    assert defaults.enable_maintenance is None
    assert defaults.backend is None
    assert defaults.bypass_cookie_max_age == 12 * 3600
    assert defaults.on_state_error == "last_known"
    assert isinstance(defaults.response, MaintenanceResponse)


def test_the_secret_is_not_in_the_repr() -> None:
    assert SECRET not in repr(MaintenanceConfig(bypass_secret=SECRET))
    assert SECRET not in str(MaintenanceConfig(bypass_secret=SECRET))


def test_each_adapter_re_exports_the_config() -> None:
    assert fastapi_maintenance.MaintenanceConfig is MaintenanceConfig
    assert litestar_maintenance.MaintenanceConfig is MaintenanceConfig
    assert "MaintenanceConfig" in fastapi_maintenance.__all__
    assert "MaintenanceConfig" in litestar_maintenance.__all__


# --- the guard takes the config ------------------------------------------------------------


def test_the_guard_takes_a_config() -> None:
    backend = MemoryBackend(True)
    config = MaintenanceConfig(backend=backend, bypass_secret=SECRET)
    guard = MaintenanceGuard(config, adapter=GenericAdapter())
    assert guard.config is config
    assert guard.backend is backend
    assert guard.bypass.key is not None


def test_the_guard_refuses_a_config_and_keywords_together() -> None:
    with pytest.raises(ConfigurationError, match="either"):
        MaintenanceGuard(
            MaintenanceConfig(backend=MemoryBackend()),
            adapter=GenericAdapter(),
            enable_maintenance=True,
        )


def test_the_guard_refuses_something_else_as_config() -> None:
    with pytest.raises(ConfigurationError, match="config must be a MaintenanceConfig"):
        MaintenanceGuard({"enable_maintenance": True}, adapter=GenericAdapter())  # type: ignore[arg-type]


# --- Litestar: config= or the keyword arguments ---------------------------------------------


@get("/")
async def index() -> dict[str, str]:
    return {"app": "answer"}


@pytest.mark.parametrize("kind", ["plugin", "middleware"])
def test_litestar_takes_a_config(kind: str) -> None:
    config = MaintenanceConfig(enable_maintenance=True)
    if kind == "plugin":
        app = Litestar([index], plugins=[litestar_maintenance.MaintenancePlugin(config=config)])
    else:
        app = Litestar(
            [index], middleware=[litestar_maintenance.MaintenanceModeMiddleware(config=config)]
        )
    with LitestarTestClient(app) as client:
        assert client.get("/").status_code == 503
    plugin = litestar_maintenance.MaintenancePlugin(config=config)
    assert plugin.config is config
    assert plugin.middleware.guard.config is config


@pytest.mark.parametrize(
    "factory",
    [litestar_maintenance.MaintenancePlugin, litestar_maintenance.MaintenanceModeMiddleware],
)
def test_litestar_refuses_a_config_and_keywords_together(factory: Callable[..., object]) -> None:
    config = MaintenanceConfig(enable_maintenance=True)
    with pytest.raises(ConfigurationError, match="either config= or"):
        factory(config=config, bypass_secret=SECRET)
    with pytest.raises(ConfigurationError, match="either config= or"):
        factory(False, config=config)


def test_litestar_keywords_still_work_and_build_the_config() -> None:
    plugin = litestar_maintenance.MaintenancePlugin(
        True, on_state_error="on", bypass_cookie_max_age=60
    )
    assert plugin.config == MaintenanceConfig(
        enable_maintenance=True, on_state_error="on", bypass_cookie_max_age=60
    )


# --- FastAPI keeps its keywords for add_middleware, and builds the config -------------------


def test_fastapi_keywords_build_the_config() -> None:
    app = fastapi.FastAPI()
    middleware = fastapi_maintenance.MaintenanceModeMiddleware(
        app, enable_maintenance=True, on_state_error="off"
    )
    assert middleware.guard.config == MaintenanceConfig(
        enable_maintenance=True, on_state_error="off"
    )


def test_fastapi_add_middleware_with_a_config() -> None:
    app = fastapi.FastAPI()

    @app.get("/")
    def root() -> dict[str, str]:
        return {"app": "answer"}

    config = MaintenanceConfig(enable_maintenance=True)
    app.add_middleware(fastapi_maintenance.MaintenanceModeMiddleware, config=config)
    with TestClient(app) as client:
        assert client.get("/").status_code == 503


def test_fastapi_refuses_a_config_and_keywords_together() -> None:
    with pytest.raises(ConfigurationError, match="either config= or"):
        fastapi_maintenance.MaintenanceModeMiddleware(
            fastapi.FastAPI(), enable_maintenance=True, config=MaintenanceConfig()
        )


# --- the ready-made handlers' options are configuration too ----------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: exempt_paths(), "at least one"),
        (lambda: exempt_paths("admin"), "must start with '/'"),
        (lambda: exempt_paths(42), "compiled"),
        (lambda: exempt_client_ips("10.0.0.300"), "not an IP address"),
        (lambda: exempt_client_ips("10.0.0.0/8", trusted_proxies="10.0.0.1"), "list of networks"),
        (lambda: any_of(), "at least one"),
        (lambda: any_of("yes"), "callable"),
        (lambda: MaintenancePage(title=3), "must be a string"),
        (lambda: MaintenancePage(refresh=0), "positive whole number"),
    ],
    ids=[
        "paths-none",
        "paths-relative",
        "paths-type",
        "ips-bad",
        "ips-proxies-string",
        "any-none",
        "any-type",
        "page-title",
        "page-refresh",
    ],
)
def test_the_ready_made_handlers_raise_configuration_errors(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()
