"""Bounded caches with a TTL, and fetches that run once per key however many chunks wait.

A chunk waits for its pod's metadata at most ``max_wait`` seconds; the fetch goes on in the
background and serves the chunks that come after. The engine filters one chunk at a time per
input, so waits would add up over the new pods of a restarting node: once a fetch has been
running longer than ``max_wait`` (the API server is slow), chunks of other pods do not wait
at all until it is answered. Failures (API down, 403, 404, timeouts) are
remembered for ``negative_ttl`` so that a dead API server costs one request per pod per
period instead of one per chunk (Fluent Bit's ``kube_meta_negative_cache_ttl``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MISSING: Any = object()


class Failure:
    """A remembered failed fetch."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class TtlLru(Generic[K, V]):
    """At most ``max_entries`` values, least recently used evicted first, each with an expiry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K, now: float) -> V:
        """The live value for ``key``, or ``MISSING``."""
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry[1] <= now:
            del self._entries[key]
            return MISSING
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, expires_at: float) -> None:
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


def expiry(now: float, ttl: float) -> float:
    """A TTL of 0 means no expiry (Fluent Bit's Kube_Meta_Cache_TTL default)."""
    return now + ttl if ttl > 0 else float("inf")


class FetchCache(Generic[K, V]):
    """``get(key)``: the cached value, or the result of one shared fetch awaited at most ``max_wait``.

    Returns None when the fetch failed, is remembered as failed, or is still running after
    ``max_wait``; the caller then goes on without the value.
    """

    def __init__(
        self,
        fetch: Callable[[K], Awaitable[V]],
        *,
        ttl: float,
        negative_ttl: float,
        max_entries: int,
        max_wait: float,
        on_failure: Callable[[K, Exception], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_wait = max_wait
        self.on_failure = on_failure
        self.clock = clock
        self._values: TtlLru[K, V | Failure] = TtlLru(max_entries)
        self._flights: dict[K, asyncio.Task[V | Failure]] = {}
        self._flight_started: dict[K, float] = {}

    def cached(self, key: K) -> V | Failure | None:
        value = self._values.get(key, self.clock())
        return None if value is MISSING else value

    def prime(self, key: K, value: V) -> None:
        """Store a value learnt from elsewhere (a kubelet pod list, a watch event)."""
        self._values.put(key, value, expiry(self.clock(), self.ttl))

    def forget(self, key: K) -> None:
        self._values.pop(key)

    async def get(self, key: K) -> V | None:
        value = self.cached(key)
        if value is not None:
            return None if isinstance(value, Failure) else value
        now = self.clock()
        wait = 0.0 if self._stalled(now) else self.max_wait
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.get_running_loop().create_task(self._run(key))
            self._flights[key] = flight
            self._flight_started[key] = now
        if wait <= 0 and not flight.done():
            return None
        try:
            async with asyncio.timeout(wait):
                result = await asyncio.shield(flight)
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            # The fetch was cancelled by close(), not this waiter: go on without the value.
            task = asyncio.current_task()
            if flight.cancelled() and task is not None and not task.cancelling():
                return None
            raise
        return None if isinstance(result, Failure) else result

    def _stalled(self, now: float) -> bool:
        """Whether some fetch has already outlasted ``max_wait``."""
        return any(now - started >= self.max_wait for started in self._flight_started.values())

    async def _run(self, key: K) -> V | Failure:
        try:
            value: V | Failure = await self.fetch(key)
            self._values.put(key, value, expiry(self.clock(), self.ttl))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure means "no metadata", never a crash
            self.on_failure(key, exc)
            value = Failure(str(exc))
            if self.negative_ttl > 0:
                self._values.put(key, value, self.clock() + self.negative_ttl)
        finally:
            self._flights.pop(key, None)
            self._flight_started.pop(key, None)
        return value

    async def close(self) -> None:
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
        self._flights.clear()
        self._flight_started.clear()
