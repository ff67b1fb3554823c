"""``any_of``: sync and async handlers, short-circuiting, errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from maintenance_core.exemptions import any_of, exempt_paths

from .helpers import request


def recorder(result: bool, calls: list[str], name: str) -> Any:
    def handler(request: object) -> bool:
        calls.append(name)
        return result

    return handler


def async_recorder(result: bool, calls: list[str], name: str) -> Any:
    async def handler(request: object) -> bool:
        calls.append(name)
        return result

    return handler


@pytest.mark.anyio
async def test_false_when_none_says_so() -> None:
    calls: list[str] = []
    handler = any_of(recorder(False, calls, "a"), async_recorder(False, calls, "b"))
    assert await handler(request()) is False
    assert calls == ["a", "b"]


@pytest.mark.anyio
async def test_short_circuits_on_first_true_sync() -> None:
    calls: list[str] = []
    handler = any_of(
        recorder(False, calls, "a"), recorder(True, calls, "b"), recorder(True, calls, "c")
    )
    assert await handler(request()) is True
    assert calls == ["a", "b"]


@pytest.mark.anyio
async def test_short_circuits_on_first_true_async() -> None:
    calls: list[str] = []
    handler = any_of(
        async_recorder(False, calls, "a"),
        async_recorder(True, calls, "b"),
        async_recorder(True, calls, "c"),
    )
    assert await handler(request()) is True
    assert calls == ["a", "b"]


@pytest.mark.anyio
async def test_awaitable_returned_by_a_sync_callable_is_awaited() -> None:
    async def later() -> bool:
        return False

    def returns_awaitable(request: object) -> Awaitable[bool]:
        return later()

    # A coroutine object is truthy: it must be awaited, not taken as True.
    assert await any_of(returns_awaitable)(request()) is False


@pytest.mark.anyio
async def test_combines_helpers() -> None:
    handler = any_of(exempt_paths("/admin"), exempt_paths("/health"))
    assert await handler(request("/health/live"))
    assert await handler(request("/admin"))
    assert not await handler(request("/shop"))


@pytest.mark.anyio
async def test_exception_propagates() -> None:
    def broken(request: object) -> bool:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await any_of(broken, exempt_paths("/"))(request())


def test_no_handler_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        any_of()


def test_non_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="callable"):
        any_of(exempt_paths("/a"), "/admin")  # type: ignore[arg-type]
