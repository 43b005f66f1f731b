"""Bounded TTL caches and fetches shared by every chunk that waits on the same key."""

from __future__ import annotations

import asyncio

from flb_fast.filters.kubernetes.meta_cache import MISSING, FetchCache, TtlLru


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """Counts calls; each answer waits for ``release`` when ``gate`` is set."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail or set()
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> str:
        self.calls.append(key)
        if self.gate is not None:
            await self.gate.wait()
        if key in self.fail:
            raise OSError(f"no {key}")
        return f"value-{key}-{len(self.calls)}"


def cache(fetch: Fetcher, clock: Clock, failures: list | None = None, **kw) -> FetchCache:
    settings = {"ttl": 10.0, "negative_ttl": 5.0, "max_entries": 100, "max_wait": 30.0}
    settings.update(kw)
    sink = failures if failures is not None else []
    return FetchCache(fetch, on_failure=lambda key, exc: sink.append((key, str(exc))), clock=clock, **settings)


def test_lru_evicts_the_least_recently_used_entry() -> None:
    lru: TtlLru[str, int] = TtlLru(2)
    lru.put("a", 1, float("inf"))
    lru.put("b", 2, float("inf"))
    assert lru.get("a", 0) == 1
    lru.put("c", 3, float("inf"))
    assert lru.get("b", 0) is MISSING
    assert (lru.get("a", 0), lru.get("c", 0)) == (1, 3)


def test_lru_entries_expire() -> None:
    lru: TtlLru[str, int] = TtlLru(2)
    lru.put("a", 1, 10.0)
    assert lru.get("a", 9.9) == 1
    assert lru.get("a", 10.0) is MISSING
    assert len(lru) == 0


def test_concurrent_gets_share_one_fetch(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock)
        fetch.gate = asyncio.Event()
        waiters = [asyncio.ensure_future(values.get("pod")) for _ in range(20)]
        await asyncio.sleep(0)
        fetch.gate.set()
        return await asyncio.gather(*waiters)

    assert run(scenario()) == ["value-pod-1"] * 20
    assert fetch.calls == ["pod"]


def test_values_live_for_the_ttl_and_ttl_zero_is_forever(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        timed, forever = cache(fetch, clock, ttl=10.0), cache(fetch, clock, ttl=0)
        first = [await timed.get("a"), await forever.get("b")]
        clock.now += 9.9
        second = [await timed.get("a"), await forever.get("b")]
        clock.now += 1e6
        third = [await timed.get("a"), await forever.get("b")]
        return first, second, third

    first, second, third = run(scenario())
    assert first == second == ["value-a-1", "value-b-2"]
    assert third == ["value-a-3", "value-b-2"]


def test_a_failure_is_remembered_for_the_negative_ttl(run) -> None:
    fetch, clock, failures = Fetcher(fail={"gone"}), Clock(), []

    async def scenario():
        values = cache(fetch, clock, failures, negative_ttl=5.0)
        results = [await values.get("gone"), await values.get("gone")]
        clock.now += 5.0
        results.append(await values.get("gone"))
        return results

    assert run(scenario()) == [None, None, None]
    assert fetch.calls == ["gone", "gone"]
    assert failures == [("gone", "no gone"), ("gone", "no gone")]


def test_negative_ttl_zero_retries_at_once(run) -> None:
    fetch, clock = Fetcher(fail={"gone"}), Clock()

    async def scenario():
        values = cache(fetch, clock, negative_ttl=0)
        return [await values.get("gone"), await values.get("gone")]

    assert run(scenario()) == [None, None]
    assert fetch.calls == ["gone", "gone"]


def test_a_waiter_gives_up_after_max_wait_and_the_fetch_goes_on(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock, max_wait=0.05)
        fetch.gate = asyncio.Event()
        early = await values.get("slow")
        fetch.gate.set()
        while values.cached("slow") is None:
            await asyncio.sleep(0.01)
        return early, await values.get("slow")

    assert run(scenario()) == (None, "value-slow-1")
    assert fetch.calls == ["slow"]


def test_while_a_fetch_outlasts_max_wait_other_keys_do_not_wait(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock, max_wait=10.0)
        fetch.gate = asyncio.Event()
        first = asyncio.ensure_future(values.get("a"))
        await asyncio.sleep(0)
        clock.now += 10.0  # "a" has now been in flight for max_wait
        second = await values.get("b")  # returns at once: no real time passes in between
        in_flight = sorted(values._flights)
        fetch.gate.set()
        return await first, second, in_flight

    first, second, in_flight = run(scenario())
    assert first == "value-a-1"
    assert second is None
    assert in_flight == ["a", "b"]


def test_prime_and_forget(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock)
        values.prime("p", "primed")
        primed = await values.get("p")
        values.forget("p")
        return primed, await values.get("p")

    assert run(scenario()) == ("primed", "value-p-1")


def test_close_cancels_fetches_in_flight(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock, max_wait=0.01)
        fetch.gate = asyncio.Event()
        await values.get("never")
        await values.close()
        return values._flights

    assert run(scenario()) == {}


def test_waiters_of_a_fetch_cancelled_by_close_go_on_without_the_value(run) -> None:
    fetch, clock = Fetcher(), Clock()

    async def scenario():
        values = cache(fetch, clock, max_wait=30.0)
        fetch.gate = asyncio.Event()
        waiter = asyncio.ensure_future(values.get("pod"))
        await asyncio.sleep(0)
        await values.close()
        return await waiter

    assert run(scenario()) is None
