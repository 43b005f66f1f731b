"""The ``throttle`` filter: drop records while the average per interval over a sliding window exceeds ``Rate``.

As ``filter_throttle`` (``throttle.c``, ``window.c``): the window holds ``Window`` panes, each a
whole-second timestamp and a count. A ticker, every ``Interval``, opens a pane for the current
second (overwriting the oldest once all are used); each record is kept, and counted in the
current pane, while the window's total divided by ``Window`` is below ``Rate``, and dropped
otherwise. The average is taken over every pane, used or not, so a fresh window lets up to
``Rate * Window`` records through at once, as Fluent Bit does.

``Rate`` at most 1 means 1 and ``Window`` at most 1 means 5 (``configure``). ``Interval`` is a
number of seconds with an optional ``s``, ``m``, ``h`` or ``d``, cut to whole seconds as
``sleep`` takes them; with a bad suffix Fluent Bit warns and uses the bare number, and so does
flb_fast. ``Print_Status`` logs the window at each tick.

The clock is the instance's ``clock`` (``time.time``), replaceable in tests, and ``tick`` is what
the ticker calls, so tests drive the window without sleeping.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from flb_fast.config.options import BOOL, DOUBLE, INT, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.tasks import cancel_and_wait

# configure(): values at or below these fall back to THROTTLE_DEFAULT_RATE / THROTTLE_DEFAULT_WINDOW.
DEFAULT_RATE = 1.0
DEFAULT_WINDOW = 5
DEFAULT_INTERVAL_SECONDS = 1
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SUFFIX_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def interval_seconds(text: str) -> tuple[int, bool]:
    """``parse_duration``: ``3s``, ``1.5m``, ``0.5h`` -> (whole seconds, True).

    As there, a bad suffix (``2x``) is reported invalid but its number still counts, unscaled.
    """
    match = _NUMBER.match(text)
    number = float(match.group()) if match else 0.0
    suffix = text[match.end():] if match else text
    valid = number > 0 and suffix in _SUFFIX_SECONDS
    return int(number * _SUFFIX_SECONDS[suffix] if valid else number), valid


class Window:
    """``struct throttle_window``: ``size`` panes of (timestamp, count), reused in turn."""

    __slots__ = ("size", "timestamps", "counts", "last", "total", "current")

    def __init__(self, size: int) -> None:
        self.size = size
        self.timestamps = [0] * size
        self.counts = [0] * size
        self.last = -1
        self.total = 0
        self.current = 0

    def add(self, timestamp: int, count: int) -> None:
        """``window_add``: count into the pane of ``timestamp``, opening it in the next slot if new."""
        self.current = timestamp
        try:
            index = self.timestamps.index(timestamp)
        except ValueError:
            self.last = 0 if self.last == self.size - 1 else self.last + 1
            self.total -= self.counts[self.last]
            self.timestamps[self.last] = timestamp
            self.counts[self.last] = count
        else:
            self.counts[index] += count
        self.total += count


class ThrottleFilter(Filter):
    name = "throttle"
    description = "Throttle messages using sliding window algorithm"
    OPTIONS = OptionTable(
        Option("rate", DOUBLE, "1", "average records per interval allowed over the window"),
        Option("window", INT, "5", "number of intervals the average is taken over"),
        Option("print_status", BOOL, "false", "log the window's rate at every interval"),
        Option("interval", STR, "1", "length of one interval: seconds, or a number with s, m, h or d"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        self.rate: float = options.rate if options.rate > DEFAULT_RATE else DEFAULT_RATE
        self.window = Window(options.window if options.window > 1 else DEFAULT_WINDOW)
        self.interval_text: str = options.interval
        seconds, valid = interval_seconds(options.interval)
        if not valid:
            self.config_warnings.append(
                ("interval", f"invalid time interval {options.interval} falling back to default: 1 second")
            )
        # Fluent Bit sleeps the whole seconds it parsed (0 means a ticker without pause); panes
        # are whole seconds, so ticking every second is the same window.
        self.interval = max(seconds, DEFAULT_INTERVAL_SECONDS)
        self.print_status: bool = options.print_status
        self.clock: Callable[[], float] = time.time
        self._ticker: asyncio.Task[None] | None = None

    def tick(self) -> None:
        """One beat of ``time_ticker``: open the pane of the current second and report."""
        now = int(self.clock())
        self.window.add(now, 0)
        if self.print_status:
            self.ctx.log.info(
                "%d: limit is %0.2f per %s with window size of %i, current rate is: %i per interval",
                now, self.rate, self.interval_text, self.window.size, self.window.total // self.window.size,
            )

    async def _tick_forever(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        await cancel_and_wait(self._ticker)
        self._ticker = None

    async def filter(self, chunk: Chunk) -> Chunk | None:
        window, limit = self.window, self.rate
        total, size = window.total, window.size
        kept = 0
        count = len(chunk.records)
        # throttle_data, record by record: keep while the average is below the rate.
        while kept < count and (total + kept) / size < limit:
            kept += 1
        if kept:
            window.add(window.current, kept)
        if kept < count:
            chunk.keep([True] * kept + [False] * (count - kept))
        return chunk
