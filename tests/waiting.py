"""Waiting in tests for a condition, polled on the running loop with a generous deadline: never a
bare sleep, so that a loaded 2-core machine only makes a test slower, not wrong."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Long enough for a loaded machine; a condition that is never met fails the test after it.
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.005


async def until(condition: Callable[[], object], what: str = "the condition", timeout: float = WAIT_SECONDS) -> None:
    """Return once ``condition()`` is true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)
