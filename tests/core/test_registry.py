"""``BackendRegistry``: which backend the module-level functions use."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import ClassVar

import anyio
import pytest
from maintenance_core import (
    BackendRegistry,
    BaseStateBackend,
    EnvVarBackend,
    LocalFileBackend,
    MaintenanceError,
    MemoryBackend,
    UnknownBackendError,
    overrides_of,
)
from maintenance_core._log import get_logger
from maintenance_core.state import MaintenanceState

pytestmark = pytest.mark.anyio


class AppEnvBackend(EnvVarBackend):
    """An adapter's environment backend, with its own default variable."""

    default_var_name: ClassVar[str] = "CORE_TEST_APP_MAINTENANCE"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> BackendRegistry:
    monkeypatch.delenv(AppEnvBackend.default_var_name, raising=False)
    return BackendRegistry("core_test", AppEnvBackend)


# --- configure_backend / create_backend ----------------------------------------------------


def test_builtin_backend_names(registry: BackendRegistry) -> None:
    assert registry.backend_names == ("env", "file", "redis")


def test_extra_factories_are_added(registry: BackendRegistry) -> None:
    extended = BackendRegistry("ext", EnvVarBackend, {"memory": MemoryBackend})
    assert extended.backend_names == ("env", "file", "redis", "memory")
    extended.configure_backend("memory", value=True)
    backend = extended.current_backend()
    assert isinstance(backend, MemoryBackend)
    assert anyio.run(backend.get_state) == MaintenanceState(True)


def test_configure_env_backend(registry: BackendRegistry) -> None:
    registry.configure_backend("env")
    backend = registry.current_backend()
    assert type(backend) is AppEnvBackend
    assert backend.var_name == "CORE_TEST_APP_MAINTENANCE"

    registry.configure_backend("env", var_name="OTHER_VAR")
    backend = registry.current_backend()
    assert isinstance(backend, EnvVarBackend)
    assert backend.var_name == "OTHER_VAR"


def test_configure_file_backend(registry: BackendRegistry, tmp_path: Path) -> None:
    path = tmp_path / "state.txt"
    registry.configure_backend("file", file_path=str(path))
    backend = registry.current_backend()
    assert isinstance(backend, LocalFileBackend)
    assert backend.file_path == str(path)
    assert registry.default_backend() is backend
    assert not path.exists()  # configuring does not create the file


def test_configure_file_backend_without_path_is_an_error(registry: BackendRegistry) -> None:
    with pytest.raises(TypeError):
        registry.configure_backend("file")
    with pytest.raises(ValueError, match="file_path"):
        registry.configure_backend("file", file_path="")


def test_configure_with_unexpected_argument_is_type_error(registry: BackendRegistry) -> None:
    with pytest.raises(TypeError):
        registry.configure_backend("env", file_path="x.txt")


@pytest.mark.parametrize("name", ["consul", "", "ENV", "File", "memory"])
def test_unknown_backend_name_raises_naming_the_choices(
    registry: BackendRegistry, name: str
) -> None:
    before = registry.current_backend()
    with pytest.raises(UnknownBackendError) as excinfo:
        registry.configure_backend(name)
    error = excinfo.value
    assert isinstance(error, ValueError)
    assert isinstance(error, MaintenanceError)
    assert error.name == name
    assert error.choices == ("env", "file", "redis")
    message = str(error)
    assert repr(name) in message
    assert "'env'" in message
    assert "'file'" in message
    assert registry.current_backend() is before  # nothing changed


def test_unhashable_backend_name_raises_unknown_backend_error(registry: BackendRegistry) -> None:
    with pytest.raises(UnknownBackendError):
        registry.configure_backend(["file"])  # type: ignore[arg-type]


def test_create_backend_does_not_configure(registry: BackendRegistry, tmp_path: Path) -> None:
    default = registry.current_backend()
    created = registry.create_backend("file", file_path=tmp_path / "x.txt")
    assert isinstance(created, LocalFileBackend)
    assert registry.current_backend() is default
    assert registry.create_backend("env") is not registry.create_backend("env")


# --- current_backend precedence ------------------------------------------------------------


def test_env_default_when_nothing_is_set(registry: BackendRegistry) -> None:
    backend = registry.current_backend()
    assert type(backend) is AppEnvBackend
    assert backend.var_name == "CORE_TEST_APP_MAINTENANCE"
    # The default is created once: overrides held on it must stay attached.
    assert registry.current_backend() is backend
    assert registry.default_backend() is backend


def test_precedence_bound_over_middleware_over_configured_over_env(
    registry: BackendRegistry, tmp_path: Path
) -> None:
    env_default = registry.current_backend()
    assert isinstance(env_default, AppEnvBackend)

    registry.configure_backend("file", file_path=tmp_path / "state.txt")
    configured = registry.current_backend()
    assert isinstance(configured, LocalFileBackend)
    assert configured is not env_default

    first_mw, last_mw = MemoryBackend(), MemoryBackend()
    registry.register_middleware(first_mw)
    assert registry.current_backend() is first_mw
    registry.register_middleware(last_mw)
    assert registry.current_backend() is last_mw  # the last middleware registered wins

    bound = MemoryBackend()
    token = registry.bind(bound)
    assert registry.current_backend() is bound
    registry.configure_backend("env")  # configuring again does not beat a binding
    assert registry.current_backend() is bound
    registry.unbind(token)

    assert registry.current_backend() is last_mw
    assert registry.default_backend() is not configured  # reconfigured to env above


def test_configured_backend_does_not_beat_middleware(
    registry: BackendRegistry, tmp_path: Path
) -> None:
    middleware_backend = MemoryBackend()
    registry.register_middleware(middleware_backend)
    registry.configure_backend("file", file_path=tmp_path / "state.txt")
    assert registry.current_backend() is middleware_backend


def test_collected_middleware_backend_falls_back_to_configured(
    registry: BackendRegistry, tmp_path: Path
) -> None:
    registry.configure_backend("file", file_path=tmp_path / "state.txt")
    configured = registry.default_backend()
    middleware_backend = MemoryBackend()
    registry.register_middleware(middleware_backend)
    assert registry.current_backend() is middleware_backend
    del middleware_backend
    gc.collect()
    assert registry.current_backend() is configured


def test_reset_forgets_configured_and_middleware(registry: BackendRegistry, tmp_path: Path) -> None:
    registry.configure_backend("file", file_path=tmp_path / "state.txt")
    middleware_backend = MemoryBackend()
    registry.register_middleware(middleware_backend)
    registry.reset()
    backend = registry.current_backend()
    assert backend is not middleware_backend
    assert type(backend) is AppEnvBackend


def test_bind_nests_and_unbind_restores_previous(registry: BackendRegistry) -> None:
    a, b = MemoryBackend(), MemoryBackend()
    token_a = registry.bind(a)
    token_b = registry.bind(b)
    assert registry.current_backend() is b
    registry.unbind(token_b)
    assert registry.current_backend() is a
    registry.unbind(token_a)
    assert registry.current_backend() is registry.default_backend()


def test_registries_are_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    one = BackendRegistry("one", EnvVarBackend)
    two = BackendRegistry("two", EnvVarBackend)
    backend = MemoryBackend()
    token = one.bind(backend)
    try:
        assert one.current_backend() is backend
        assert two.current_backend() is not backend
        one.register_middleware(backend)
        assert two.current_backend() is two.default_backend()
    finally:
        one.unbind(token)


def test_a_registry_finds_its_binding_under_another_registrys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An app of one adapter mounted inside an app of another: each registry still
    sees its own backend and scope; records go to the innermost adapter's loggers."""
    outer = BackendRegistry("outer_adapter", EnvVarBackend)
    inner = BackendRegistry("inner_adapter", EnvVarBackend)
    outer_backend, inner_backend = MemoryBackend(), MemoryBackend()
    outer_scope: dict[str, object] = {"type": "http"}
    outer_token = outer.bind(outer_backend, outer_scope)
    inner_token = inner.bind(inner_backend, {"type": "http"})
    try:
        with inner._logging():  # a namespace-only binding on top, as module-level calls make
            assert outer.current_backend() is outer_backend
            assert outer.current_scope() is outer_scope
            assert inner.current_backend() is inner_backend
        with caplog.at_level(logging.WARNING):
            get_logger("middleware").warning("inner record")
        assert [r.name for r in caplog.records] == ["inner_adapter.middleware"]
    finally:
        inner.unbind(inner_token)
        outer.unbind(outer_token)
    assert outer.current_backend() is outer.default_backend()


async def test_concurrent_tasks_bound_to_different_backends_see_their_own(
    registry: BackendRegistry,
) -> None:
    a, b = MemoryBackend(), MemoryBackend(True)
    both_bound = [anyio.Event(), anyio.Event()]
    done = [anyio.Event(), anyio.Event()]
    seen: dict[str, list[BaseStateBackend]] = {"a": [], "b": []}
    modes: dict[str, bool] = {}

    async def worker(index: int, name: str, backend: BaseStateBackend) -> None:
        token = registry.bind(backend)
        try:
            both_bound[index].set()
            await both_bound[1 - index].wait()  # the other task is bound now as well
            seen[name].append(registry.current_backend())
            modes[name] = await registry.get_maintenance_mode()
            async with registry.maintenance_mode_on():
                if index == 0:
                    await done[1].wait()  # a's override is held while b enters and leaves
                seen[name].append(registry.current_backend())
            done[index].set()
            await done[1 - index].wait()
            seen[name].append(registry.current_backend())
        finally:
            registry.unbind(token)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker, 0, "a", a)
            tg.start_soon(worker, 1, "b", b)

    assert seen["a"] == [a, a, a]
    assert seen["b"] == [b, b, b]
    assert modes == {"a": False, "b": True}
    assert overrides_of(a).held == (0, 0)
    assert overrides_of(b).held == (0, 0)
    assert await a.get_value() is False
    assert await b.get_value() is True
    # Bindings made in child tasks do not leak into the parent.
    assert registry.current_backend() is registry.default_backend()


async def test_binding_in_child_task_does_not_leak(registry: BackendRegistry) -> None:
    backend = MemoryBackend()
    bound = anyio.Event()

    async def child() -> None:
        registry.bind(backend)  # never unbound on purpose
        bound.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(child)
        await bound.wait()
        assert registry.current_backend() is not backend
    assert registry.current_backend() is not backend


# --- module-level functions without a backend argument --------------------------------------


async def test_module_functions_use_the_current_backend(
    registry: BackendRegistry, tmp_path: Path
) -> None:
    path = tmp_path / "state.txt"
    registry.configure_backend("file", file_path=path)
    assert await registry.get_maintenance_mode() is False
    await registry.set_maintenance_mode(True)
    assert path.read_text(encoding="utf-8") == "1"
    assert await registry.get_maintenance_mode() is True
    async with registry.maintenance_mode_off():
        assert path.read_text(encoding="utf-8") == "0"
        assert await registry.get_maintenance_mode() is False
    assert path.read_text(encoding="utf-8") == "1"

    other = MemoryBackend()
    token = registry.bind(other)
    try:
        await registry.set_maintenance_mode(False)
        async with registry.maintenance_mode_on():
            assert await other.get_value() is True
            assert path.read_text(encoding="utf-8") == "1"
    finally:
        registry.unbind(token)
    assert path.read_text(encoding="utf-8") == "1"


async def test_env_default_reads_the_adapter_variable(
    registry: BackendRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAINTENANCE_MODE", "1")  # the core default name is not used
    assert await registry.get_maintenance_mode() is False
    default = registry.default_backend()
    assert isinstance(default, AppEnvBackend)
    assert default.var_name == "CORE_TEST_APP_MAINTENANCE"

    # The environment backend reads its variable once: a fresh default backend
    # (a new process, here a reset registry) is what sees a new value.
    registry.reset()
    monkeypatch.setenv("CORE_TEST_APP_MAINTENANCE", "on")
    monkeypatch.setenv("MAINTENANCE_MODE", "0")
    assert await registry.get_maintenance_mode() is True
    assert registry.default_backend() is not default


async def test_set_on_env_default_warns_and_changes_nothing(
    registry: BackendRegistry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="maintenance_core"):
        await registry.set_maintenance_mode(True)
    assert await registry.get_maintenance_mode() is False
    assert any("CORE_TEST_APP_MAINTENANCE" in r.getMessage() for r in caplog.records)


async def test_set_maintenance_mode_coerces_to_bool(registry: BackendRegistry) -> None:
    backend = MemoryBackend()
    await registry.set_maintenance_mode(1, backend)  # type: ignore[arg-type]
    assert await backend.get_state() == MaintenanceState(True)
    await registry.set_maintenance_mode(0, backend)  # type: ignore[arg-type]
    assert await backend.get_state() == MaintenanceState(False)
