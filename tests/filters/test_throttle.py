"""The throttle filter (FB plugins/filter_throttle; docs: pipeline/filters/throttle)."""

from __future__ import annotations

import logging

import pytest

from flb_fast.filters.throttle import ThrottleFilter, interval_seconds
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import assert_case, cases
from tests.standalone import plugin_for


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **props: str) -> ThrottleFilter:
    filt = plugin_for(ThrottleFilter, Name="throttle", **props)
    filt.clock = clock
    filt.tick()
    return filt


def passed(run: Runner, filt: ThrottleFilter, count: int) -> int:
    chunk = run(filt.filter(Chunk("app", [1] * count, [{"n": n} for n in range(count)], 0)))
    return len(chunk)


@pytest.mark.parametrize("case", cases("throttle"))
def test_recorded_fluent_bit_case(run: Runner, case: str) -> None:
    assert_case(run, "throttle", case)


def test_a_fresh_window_lets_rate_times_window_through_then_drops(run: Runner) -> None:
    filt = throttle(Clock(1000), Rate="5", Window="5")
    assert (passed(run, filt, 30), passed(run, filt, 3)) == (25, 0)


def test_the_first_records_of_a_chunk_are_kept_and_the_rest_dropped_in_order(run: Runner) -> None:
    filt = throttle(Clock(1000), Rate="2", Window="2")
    chunk = run(filt.filter(Chunk("app", [1, 2, 3, 4, 5, 6], [{"n": n} for n in range(6)], 0)))
    assert (chunk.timestamps, chunk.records) == ([1, 2, 3, 4], [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}])


def test_the_window_slides_one_pane_per_interval(run: Runner) -> None:
    clock = Clock(1000)
    filt = throttle(clock, Rate="2", Window="2")
    assert passed(run, filt, 10) == 4  # pane 1000 holds 4: average 2
    clock.now = 1001.5
    filt.tick()  # a new, empty pane: the average is still 4 / 2
    assert passed(run, filt, 10) == 0
    clock.now = 1002.2
    filt.tick()  # pane 1000 is overwritten: room for 4 again
    assert passed(run, filt, 10) == 4


def test_ticks_within_the_same_second_do_not_open_a_pane(run: Runner) -> None:
    clock = Clock(1000.1)
    filt = throttle(clock, Rate="2", Window="2")
    assert passed(run, filt, 4) == 4
    clock.now = 1000.9
    filt.tick()
    filt.tick()
    assert passed(run, filt, 1) == 0


def test_rate_and_window_at_or_below_one_take_fluent_bit_defaults(run: Runner) -> None:
    filt = throttle(Clock(1000), Rate="0.5", Window="1")
    assert (filt.rate, filt.window.size, passed(run, filt, 10)) == (1.0, 5, 5)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1", (1, True)), ("3s", (3, True)), ("1.5m", (90, True)), ("0.5h", (1800, True)), ("1d", (86400, True)),
     ("2x", (2, False)), ("abc", (0, False)), ("1ms", (1, False)), ("0", (0, False))],
)
def test_interval_parses_as_parse_duration(text: str, parsed: tuple[int, bool]) -> None:
    assert interval_seconds(text) == parsed


def test_a_bad_interval_warns_and_ticks_every_second() -> None:
    filt = throttle(Clock(1000), Interval="abc")
    assert (filt.interval, filt.config_warnings) == (
        1, [("interval", "invalid time interval abc falling back to default: 1 second")]
    )


def test_print_status_logs_the_window_at_each_tick(caplog: pytest.LogCaptureFixture, run: Runner) -> None:
    clock = Clock(1000)
    filt = throttle(clock, Rate="3", Window="2", Interval="2s", Print_Status="on")
    passed(run, filt, 5)
    with caplog.at_level(logging.INFO):
        clock.now = 1002
        filt.tick()
    assert [record.getMessage() for record in caplog.records] == [
        "1002: limit is 3.00 per 2s with window size of 2, current rate is: 2 per interval"
    ]


def test_start_runs_the_ticker_and_stop_ends_it(run: Runner) -> None:
    filt = plugin_for(ThrottleFilter, Name="throttle")

    async def cycle() -> bool:
        await filt.start()
        ticker = filt._ticker
        await filt.stop()
        return ticker is not None and ticker.done() and filt._ticker is None

    assert run(cycle())
