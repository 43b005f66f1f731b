"""KeyedLocks: one lock per key while it is used, none kept for keys nobody uses any more."""

from __future__ import annotations

import asyncio
import gc

from flb_fast.locks import KeyedLocks
from tests.waiting import until


def test_tasks_asking_for_a_key_in_use_get_its_lock_and_a_free_key_leaves(run) -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    order: list[str] = []

    async def step(name: str, release: asyncio.Event | None = None) -> None:
        async with locks("a"):
            order.append(f"{name} in")
            if release is not None:
                await release.wait()
            order.append(f"{name} out")

    async def scenario() -> tuple[int, int]:
        release = asyncio.Event()
        first = asyncio.ensure_future(step("first", release))
        await until(lambda: order == ["first in"], "the first holder")
        second = asyncio.ensure_future(step("second"))
        await asyncio.sleep(0)
        in_use = len(locks)
        release.set()
        await asyncio.gather(first, second)
        del first, second
        gc.collect()
        return in_use, len(locks)

    assert run(scenario()) == (1, 0)
    assert order == ["first in", "first out", "second in", "second out"]
