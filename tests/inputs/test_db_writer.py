"""The DB writer saves the latest value of each key on its own thread, never on the caller's."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from flb_fast.inputs.db_writer import LatestWriter
from tests.waiting import until

WAIT_SECONDS = 30


class Recorder:
    """A ``write`` that records each batch and the thread it ran on; it can be made to wait or fail."""

    def __init__(self) -> None:
        self.batches: list[dict[str, int]] = []
        self.written_at: list[float] = []
        self.threads: set[int] = set()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failures = 0

    def __call__(self, batch: dict[str, int]) -> None:
        self.threads.add(threading.get_ident())
        self.entered.set()
        assert self.release.wait(WAIT_SECONDS)
        if self.failures:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        self.batches.append(dict(batch))
        self.written_at.append(time.monotonic())


class Log:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.logged = threading.Event()

    def error(self, message: str, *args: Any) -> None:
        self.errors.append(message % args)
        self.logged.set()


def test_values_given_while_a_write_waits_are_written_together_the_latest_of_each_key() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log())
    with writer.lock:  # the writer's thread cannot start a transaction meanwhile
        writer.put({"a.log": 1})
        writer.put({"b.log": 5})
        writer.put({"a.log": 2})
    asyncio.run(writer.flush())
    writer.close()
    assert write.batches == [{"a.log": 2, "b.log": 5}]


def test_writes_run_on_the_writers_thread() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log())
    writer.put({"a.log": 1})
    asyncio.run(writer.flush())
    writer.close()
    assert write.batches == [{"a.log": 1}]
    assert threading.get_ident() not in write.threads


def test_a_value_given_while_a_write_waits_on_the_disk_is_taken_at_once() -> None:
    write = Recorder()
    write.release.clear()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log())
    writer.put({"a.log": 1})
    assert write.entered.wait(WAIT_SECONDS)
    writer.put({"a.log": 2})  # returns while the first write still waits
    waiting = not write.release.is_set()
    write.release.set()
    asyncio.run(writer.flush())
    writer.close()
    assert waiting
    assert write.batches == [{"a.log": 1}, {"a.log": 2}]


def test_a_failed_write_is_logged_and_retried_with_the_newer_values() -> None:
    write = Recorder()
    write.failures = 1
    log = Log()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, log)
    with writer.lock:
        writer.put({"a.log": 1})
        writer.put({"b.log": 1})
    assert log.logged.wait(WAIT_SECONDS)
    assert write.batches == []
    assert log.errors == ["db: could not save 2 value(s), next write will retry: [Errno 28] No space left on device"]
    writer.put({"a.log": 2})
    asyncio.run(writer.flush())
    writer.close()
    assert write.batches == [{"a.log": 2, "b.log": 1}]


def test_close_writes_what_still_waits() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log())
    with writer.lock:
        writer.put({"a.log": 3})
    writer.close()
    assert write.batches == [{"a.log": 3}]


def test_values_given_together_are_written_in_one_batch() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log())
    writer.put({"a.log": 1, "b.log": 2})
    asyncio.run(writer.flush())
    writer.close()
    assert write.batches == [{"a.log": 1, "b.log": 2}]


def test_transactions_are_at_least_the_interval_apart() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log(), interval=0.3)

    async def two_writes() -> None:
        writer.put({"a.log": 1})
        await until(lambda: len(write.batches) == 1, "the first write")
        writer.put({"a.log": 2})
        await until(lambda: len(write.batches) == 2, "the second write")

    asyncio.run(two_writes())
    writer.close()
    assert write.batches == [{"a.log": 1}, {"a.log": 2}]
    assert write.written_at[1] - write.written_at[0] >= 0.3


def test_values_given_within_the_interval_wait_for_one_transaction() -> None:
    write = Recorder()
    writer: LatestWriter[str, int] = LatestWriter("test.db", write, Log(), interval=WAIT_SECONDS)

    async def puts() -> None:
        writer.put({"a.log": 1})
        await until(lambda: len(write.batches) == 1, "the first write")
        for offset in range(2, 6):
            writer.put({"a.log": offset})
            await asyncio.sleep(0)
        writer.put({"b.log": 7})
        await writer.flush()

    asyncio.run(puts())
    writer.close()
    assert write.batches == [{"a.log": 1}, {"a.log": 5, "b.log": 7}]


def writer_with_a_turn_waiting(write: Recorder, name: str = "test.db") -> LatestWriter[str, int]:
    """A writer with a long interval that wrote ``{"a.log": 1}`` and holds ``{"a.log": 2}`` for its
    next turn, which waits for the interval on the writer's thread."""
    writer: LatestWriter[str, int] = LatestWriter(name, write, Log(), interval=10 * WAIT_SECONDS)
    writer.put({"a.log": 1})
    asyncio.run(writer.flush())
    writer.put({"a.log": 2})
    return writer


def test_flush_does_not_wait_for_the_interval() -> None:
    write = Recorder()
    writer = writer_with_a_turn_waiting(write)

    async def flush_in_time() -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            await writer.flush()

    asyncio.run(flush_in_time())
    writer.close()
    assert write.batches == [{"a.log": 1}, {"a.log": 2}]


def test_close_ends_the_writers_thread_without_waiting_for_the_interval() -> None:
    write = Recorder()
    writer = writer_with_a_turn_waiting(write, "close-test.db")
    writer.close()
    asyncio.run(until(lambda: not any(thread.name.startswith("flb-close-test.db") for thread in threading.enumerate()),
                      "the writer's thread to end"))
    assert write.batches == [{"a.log": 1}, {"a.log": 2}]
