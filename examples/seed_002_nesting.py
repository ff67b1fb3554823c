"""Context Manager > "Nesting Context Managers" (docs seed 002-context-manager).

Nested ``maintenance_mode_on()`` blocks keep maintenance on; the original state
(off) comes back only when the outermost block exits. Uses the default
environment variable backend; run it with ``FASTAPI_MAINTENANCE_MODE`` unset.

Run:

    uv run python -m examples.seed_002_nesting

Completed beyond the docs: the imports, ``perform_nested_task`` (elided there)
and the ``__main__`` block.
"""

import asyncio

from fastapi_maintenance import get_maintenance_mode, maintenance_mode_on

# Not in the docs: the maintenance state perform_nested_task saw.
states_during_nested_task: list[bool] = []


async def perform_nested_task() -> None:
    """Stand-in for the nested task the docs elide."""
    states_during_nested_task.append(await get_maintenance_mode())


async def complex_operation():
    # Start with maintenance OFF
    assert not await get_maintenance_mode()

    async with maintenance_mode_on():
        # Now maintenance is ON
        assert await get_maintenance_mode()

        # Nested context - maintenance stays ON
        async with maintenance_mode_on():
            # Still ON
            assert await get_maintenance_mode()
            await perform_nested_task()

        # After inner context - still ON
        assert await get_maintenance_mode()

    # After outer context - back to OFF
    assert not await get_maintenance_mode()


if __name__ == "__main__":
    asyncio.run(complex_operation())
    print("nesting works; maintenance during the nested task:", states_during_nested_task)
