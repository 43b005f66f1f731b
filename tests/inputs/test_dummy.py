"""dummy emits Copies records per tick, Samples times, stamped as in_dummy stamps them."""

from __future__ import annotations

import asyncio
import time

import pytest

from flb_fast.inputs.dummy import DummyInput
from flb_fast.record import Chunk
from tests.standalone import plugin_for


def dummy(**options: str) -> tuple[DummyInput, list[Chunk]]:
    emitted: list[Chunk] = []
    return plugin_for(DummyInput, emit=emitted.append, tag="demo", **options), emitted


def test_default_record_is_fluent_bits_dummy_message():
    plugin, emitted = dummy()
    plugin.collect()
    assert [(c.tag, c.records, c.size) for c in emitted] == [("demo", [{"message": "dummy"}], 19)]


def test_copies_records_per_batch_each_its_own_dict():
    plugin, emitted = dummy(dummy='{"a": {"b": 1}}', copies="3")
    plugin.collect()
    [batch] = emitted
    assert batch.records == [{"a": {"b": 1}}] * 3
    assert batch.size == len(b'{"a":{"b":1}}') * 3
    batch.records[0]["a"]["b"] = 2
    assert batch.records[1] == {"a": {"b": 1}}


def test_samples_limits_the_number_of_batches():
    plugin, emitted = dummy(samples="2")
    assert [plugin.collect() for _ in range(3)] == [True, True, False]
    assert len(emitted) == 2


def test_invalid_json_falls_back_to_the_default_message():
    plugin, emitted = dummy(dummy="{not json")
    plugin.collect()
    assert emitted[0].records == [{"message": "dummy"}]


def test_start_time_with_fixed_timestamp_stamps_every_record_the_same():
    plugin, emitted = dummy(start_time_sec="1700000000", start_time_nsec="5", fixed_timestamp="on", copies="2")
    plugin.collect()
    plugin.collect()
    assert [c.timestamps for c in emitted] == [[1_700_000_000_000_000_005] * 2] * 2


def test_start_time_advances_with_the_clock():
    plugin, emitted = dummy(start_time_sec="1000")
    plugin.collect()
    elapsed = time.time_ns() - plugin.base_ns
    assert 1000 * 10**9 <= emitted[0].timestamps[0] <= 1000 * 10**9 + elapsed


def test_without_start_time_records_carry_the_current_time():
    plugin, emitted = dummy()
    before = time.time_ns()
    plugin.collect()
    assert before <= emitted[0].timestamps[0] <= time.time_ns()


@pytest.mark.parametrize(
    ("options", "interval_ns"),
    [({}, 10**9), ({"rate": "4"}, 250_000_000), ({"rate": "4", "interval_nsec": "1000"}, 1000),
     ({"interval_sec": "2"}, 2 * 10**9), ({"interval_sec": "-1", "rate": "2"}, 500_000_000)],
)
def test_interval_comes_from_interval_options_then_rate(options, interval_ns):
    plugin, _ = dummy(**options)
    assert plugin.interval_ns == interval_ns


def test_runs_on_its_timer_and_stops_after_samples(run):
    plugin, emitted = dummy(rate="100", samples="3", flush_on_startup="on")

    async def scenario():
        await plugin.start()
        for _ in range(2000):
            if len(emitted) == 3 and plugin._task.done():
                break
            await asyncio.sleep(0.005)
        await plugin.stop()

    run(scenario())
    assert len(emitted) == 3


def test_a_paused_dummy_emits_nothing(run):
    plugin, emitted = dummy(rate="200")

    async def scenario():
        await plugin.start()
        plugin.pause()
        await asyncio.sleep(0.1)
        paused_count = len(emitted)
        plugin.resume()
        for _ in range(2000):
            if emitted:
                break
            await asyncio.sleep(0.005)
        await plugin.stop()
        return paused_count

    assert run(scenario()) == 0
    assert emitted
