"""Fixtures shared by the whole suite.

Every test directory is a package (has ``__init__.py``), so helpers are imported as
``tests.fakes.<module>`` and test modules may share base names across directories.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvloop
from hypothesis import HealthCheck, settings

from flb_fast.log import utf8_safe

Runner = Callable[..., Any]

# Property tests check results, never timing: on a loaded 2-core machine an example may take
# seconds, and hypothesis's deadline and too-slow health check would fail a correct test.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("shared-machine")


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Run a coroutine to completion on the standard loop and on uvloop, with a time bound.

    Engine and input code must behave the same on both (uvloop's own test mixin pattern).
    """

    def runner(coro: Awaitable[Any], timeout: float = 60.0) -> Any:
        async def bounded() -> Any:
            async with asyncio.timeout(timeout):
                return await coro

        if request.param == "uvloop":
            return uvloop.run(bounded())
        return asyncio.run(bounded())

    return runner


@pytest.fixture
def agent_logging() -> Iterator[None]:
    """``log.setup()`` (which ``main()`` calls) configures the ``flb_fast`` and root loggers and
    routes Python warnings to logging; put all of it back for the tests that follow in this process."""
    agent, root = logging.getLogger("flb_fast"), logging.getLogger()
    saved = (list(agent.handlers), agent.level, agent.propagate, list(root.handlers), root.level)
    yield
    for handler in {*agent.handlers, *root.handlers} - {*saved[0], *saved[3]}:
        handler.close()
    agent.handlers[:], agent.level, agent.propagate, root.handlers[:], root.level = saved
    logging.captureWarnings(False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Escape lone surrogates in a report's captured output and failure text.

    Tests feed hostile text to parsers, and what they log or assert on can hold a lone
    surrogate; pytest-xdist cannot send such a report between processes and would abort the
    whole run with an INTERNALERROR instead of showing the one failing test.
    """
    outcome = yield
    report = outcome.get_result()
    report.sections = [(title, utf8_safe(content)) for title, content in report.sections]
    if report.failed and report.longrepr is not None:
        report.longrepr = utf8_safe(str(report.longrepr))
