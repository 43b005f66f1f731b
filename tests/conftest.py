"""Fixtures shared by the whole suite.

Every test directory is a package (has ``__init__.py``), so helpers are imported as
``tests.fakes.<module>`` and test modules may share base names across directories.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

Runner = Callable[..., Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Run a coroutine to completion on the standard loop and on uvloop, with a time bound.

    Engine and input code must behave the same on both (uvloop's own test mixin pattern).
    """

    def runner(coro: Awaitable[Any], timeout: float = 60.0) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(coro, timeout)

        if request.param == "uvloop":
            return uvloop.run(bounded())
        return asyncio.run(bounded())

    return runner
