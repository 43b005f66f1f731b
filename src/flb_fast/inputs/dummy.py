"""``dummy`` input: emit a sample record on a timer (Fluent Bit's plugins/in_dummy/in_dummy.c).

Every interval (``Interval_Sec``/``Interval_NSec`` when set, else ``1 / Rate`` seconds, else one
second) the input emits ``Copies`` copies of the ``Dummy`` JSON object as one batch, until
``Samples`` batches have been emitted (0 = forever). Timestamps are the current time, or
``Start_time_sec``/``Start_time_nsec`` plus the time elapsed since start, or, with
``Fixed_Timestamp``, always the same instant. A paused input skips its ticks, as a paused
Fluent Bit collector does.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.inputs.base import Input
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.tasks import cancel_and_wait

DEFAULT_DUMMY_MESSAGE = '{"message":"dummy"}'
NS_PER_SECOND = 1_000_000_000


class DummyInput(Input):
    name = "dummy"
    description = "Generate dummy data"
    # In Fluent Bit's order (in_dummy.c config_map), as the unknown-option error lists them.
    OPTIONS = OptionTable(
        Option("samples", INT, "0", "number of batches to emit; 0 = no limit"),
        Option("dummy", STR, DEFAULT_DUMMY_MESSAGE, "the sample record, a JSON object"),
        Option("metadata", STR, "{}", "the sample's log event metadata, a JSON object",
               unsupported="records carry no event metadata"),
        Option("rate", INT, "1", "records batches per second"),
        Option("interval_sec", INT, "0", "seconds between batches; overrides rate"),
        Option("interval_nsec", INT, "0", "nanoseconds between batches; overrides rate"),
        Option("copies", INT, "1", "records per batch"),
        Option("start_time_sec", INT, "-1", "base timestamp in seconds (default: now)"),
        Option("start_time_nsec", INT, "-1", "base timestamp in nanoseconds"),
        Option("fixed_timestamp", BOOL, "off", "stamp every record with the base timestamp"),
        Option("flush_on_startup", BOOL, "false", "emit the first batch at start instead of after one interval"),
        Option("test_hang_on_exit", BOOL, "false", "Fluent Bit's own test switch (hang at exit)", unsupported="ignored"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.tag = options.tag or ctx.instance
        self.record_json = self._sample(options.dummy)
        self.interval_ns = self._interval_ns(options)
        self.copies = max(0, options.copies)
        self.samples = options.samples
        self.emitted_batches = 0
        start_sec, start_nsec = options.start_time_sec, options.start_time_nsec
        self.start_ns: int | None = None
        if start_sec >= 0 or start_nsec >= 0:
            self.start_ns = max(start_sec, 0) * NS_PER_SECOND + max(start_nsec, 0)
        self.base_ns = time.time_ns()
        self._task: asyncio.Task[None] | None = None

    def _sample(self, text: str) -> bytes:
        """The record's JSON; Fluent Bit falls back to the default message when it does not parse."""
        raw = text.encode()
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            value = None
        if not isinstance(value, dict):
            self.ctx.log.warning("data is incomplete. Use default string.")
            return DEFAULT_DUMMY_MESSAGE.encode()
        return msgspec.json.encode(value)

    @staticmethod
    def _interval_ns(options: Any) -> int:
        """in_dummy ``configure``: interval settings win, then ``Rate`` above 1, else one second."""
        seconds, nanos = options.interval_sec, options.interval_nsec
        if seconds < 0 or nanos < 0:
            seconds = nanos = 0
        if seconds > 0 or nanos > 0:
            return seconds * NS_PER_SECOND + nanos
        if options.rate > 1:
            return NS_PER_SECOND // options.rate
        return NS_PER_SECOND

    def timestamp_ns(self) -> int:
        if self.options.fixed_timestamp:
            return self.start_ns if self.start_ns is not None else self.base_ns
        if self.start_ns is not None:
            return self.start_ns + (time.time_ns() - self.base_ns)
        return time.time_ns()

    def collect(self) -> bool:
        """Emit one batch; False once ``Samples`` batches have been emitted."""
        if 0 < self.samples <= self.emitted_batches:
            return False
        timestamp = self.timestamp_ns()
        decode = msgspec.json.decode
        raw = self.record_json
        records = [decode(raw) for _ in range(self.copies)]
        assert self.ctx.emit is not None
        self.ctx.emit(Chunk(self.tag, [timestamp] * len(records), records, len(raw) * len(records)))
        if self.samples > 0:
            self.emitted_batches += 1
        return True

    async def start(self) -> None:
        if self.options.flush_on_startup:
            self.collect()
        self.base_ns = time.time_ns()
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval_ns / NS_PER_SECOND
        due = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            # Missed ticks collapse into one, as with a timerfd.
            due = max(due + interval, loop.time())
            if self.paused:
                continue
            if not self.collect():
                return

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
