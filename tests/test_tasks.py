"""cancel_and_wait: how plugins end the tasks of their own."""

from __future__ import annotations

import asyncio

import pytest

from flb_fast.tasks import cancel_and_wait


def test_each_task_is_cancelled_and_has_finished_on_return(run) -> None:
    async def scenario() -> list[bool]:
        tasks = [asyncio.get_running_loop().create_task(asyncio.sleep(3600)) for _ in range(3)]
        await cancel_and_wait(*tasks)
        return [task.cancelled() for task in tasks]

    assert run(scenario()) == [True, True, True]


def test_none_entries_are_skipped(run) -> None:
    run(cancel_and_wait(None, None))


def test_a_task_that_failed_is_waited_for_without_raising_or_being_reported(run) -> None:
    reported: list[dict] = []

    async def fail() -> None:
        raise ValueError("broken")

    async def scenario() -> bool:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
        task = asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0)
        await cancel_and_wait(task)
        del task
        return True

    assert run(scenario())
    assert reported == []


def test_a_task_that_ends_its_own_way_while_cancelled_has_finished_on_return(run) -> None:
    finished: list[str] = []

    async def tidy() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)
            finished.append("tidied")

    async def scenario() -> None:
        task = asyncio.get_running_loop().create_task(tidy())
        await asyncio.sleep(0)
        await cancel_and_wait(task)

    run(scenario())
    assert finished == ["tidied"]


def test_a_cancellation_of_the_caller_propagates(run) -> None:
    async def scenario() -> bool:
        cancelled_once = asyncio.Event()
        release = asyncio.Event()

        async def slow_to_end() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled_once.set()
                await release.wait()

        task = asyncio.get_running_loop().create_task(slow_to_end())
        await asyncio.sleep(0)
        caller = asyncio.get_running_loop().create_task(cancel_and_wait(task))
        await cancelled_once.wait()
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        still_running = not task.done()
        release.set()
        await task
        return still_running

    assert run(scenario()) is True
