"""One backoff clock per output, shared by all its workers.

When the service throttles or fails (ThrottlingException, ServiceUnavailable, 5xx, connection
errors), every worker of the output waits before its next call, rather than each chunk retrying
on its own clock and flooding an API that already said "slow down" (fluent/fluent-bit #4293).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

# A throttled API recovers within seconds; the cap keeps a long outage from parking the output
# for longer than the engine's own retry interval (scheduler.base 5 s).
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


class OutputBackoff:
    """Exponential backoff with jitter, entered by any failing call and honoured by every call."""

    def __init__(
        self,
        base_seconds: float = BACKOFF_BASE_SECONDS,
        cap_seconds: float = BACKOFF_CAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self._clock = clock
        self._failures = 0
        self._until = 0.0

    @property
    def remaining_seconds(self) -> float:
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        """Sleep until the output's backoff (possibly extended meanwhile) is over."""
        while (delay := self._until - self._clock()) > 0:
            await asyncio.sleep(delay)

    def failed(self) -> float:
        """Record a throttle or transient failure; returns the delay now in force."""
        self._failures += 1
        delay = min(self.cap_seconds, self.base_seconds * 2 ** (self._failures - 1))
        delay *= random.uniform(0.5, 1.0)
        self._until = max(self._until, self._clock() + delay)
        return delay

    def succeeded(self) -> None:
        self._failures = 0
