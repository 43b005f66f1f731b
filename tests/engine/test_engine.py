"""The running engine: flush by chunk, routing, filters, retries, Mem_Buf_Limit and Grace.

Every test runs on asyncio and on uvloop (the ``run`` fixture) and waits on conditions with
generous timeouts rather than on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from flb_fast.engine.engine import Engine, StartError
from flb_fast.log import FluentBitFormatter
from flb_fast.record import Chunk
from flb_fast.storage import store as store_module
from flb_fast.storage.footprint import footprint
from tests.engine.plugins import TIMESTAMP_NS
from tests.waiting import until


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(FluentBitFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record).split("] ", 2)[2])


@pytest.fixture
def logs():
    """The agent's log lines without their date and level, e.g. ``[input] manual.0 paused (...)``."""
    handler = Lines()
    logger = logging.getLogger("flb_fast")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


SERVICE = "[SERVICE]\n    Flush {flush}\n    Grace {grace}\n    scheduler.base 0.01\n    scheduler.cap 1\n"


def config(*sections: str, flush: float = 3600, grace: float = 5) -> str:
    return SERVICE.format(flush=flush, grace=grace) + "".join(sections)


def section(kind: str, **options: object) -> str:
    return f"[{kind}]\n" + "".join(f"    {key} {value}\n" for key, value in options.items())


MANUAL = section("INPUT", Name="manual", Tag="app")
# How far the event loop's clock, which times Grace, may lag time.monotonic() (see its use).
LOOP_CLOCK_SLACK_SECONDS = 0.005


def counters(pipeline, kind: str, name: str) -> dict[str, int]:
    return pipeline.metrics.snapshot()[kind][name]


def footprint_of(*batches: list[dict]) -> int:
    """The bytes of memory held for these batches, one per emit (what Mem_Buf_Limit counts)."""
    return sum(footprint(Chunk("app", [TIMESTAMP_NS] * len(batch), batch, 0)) for batch in batches)


# -- flushing and routing ---------------------------------------------------------------------


def test_batches_of_one_tag_leave_as_one_chunk_at_the_flush_tick(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*"), flush=0.2))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        source.push([{"n": 2}, {"n": 3}])
        source.push([{"n": 4}], tag="other")
        assert out.flushes == []
        await until(lambda: len(out.flushes) == 2)
        await engine.stop()

    run(scenario())
    assert sorted((tag, records) for _, tag, records in out.flushes) == [
        ("app", [{"n": 1}, {"n": 2}, {"n": 3}]),
        ("other", [{"n": 4}]),
    ]
    assert counters(built, "input", "manual.0") == {"records": 4, "bytes": 40}
    assert counters(built, "output", "scripted.0")["proc_records"] == 4
    assert counters(built, "output", "scripted.0")["proc_bytes"] == 40


def test_a_chunk_goes_to_every_matching_output(run, pipeline):
    built, _ = pipeline(config(
        section("INPUT", Name="manual", Tag="app.web"),
        section("OUTPUT", Name="scripted", Match="app.*"),
        section("OUTPUT", Name="scripted", Match_Regex="^app"),
        section("OUTPUT", Name="scripted", Match="db.*"),
    ))
    source = built.inputs[0].plugin
    outs = [o.plugin for o in built.outputs]

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        engine.flush()
        await until(lambda: outs[0].flushes and outs[1].flushes)
        await engine.stop()

    run(scenario())
    assert [[records for _, _, records in o.flushes] for o in outs] == [[[{"n": 1}]], [[{"n": 1}]], []]


def test_records_no_output_matches_are_counted_as_input_and_released(run, pipeline, logs):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="nomatch", Mem_Buf_Limit=100),
                               section("OUTPUT", Name="scripted", Match="app")))
    source = built.inputs[0].plugin
    result = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for _ in range(50):
            source.push([{"n": 1}])
        result["held"] = engine.held_bytes(built.inputs[0])
        await engine.stop()

    run(scenario())
    assert result["held"] == 0
    assert counters(built, "input", "manual.0")["records"] == 50
    assert built.outputs[0].plugin.flushes == []
    assert logs.count("[engine] no matching route for tag 'nomatch' of manual.0: its records are dropped") == 1


def test_a_full_chunk_goes_out_without_waiting_for_the_timer(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], size=1_000_000)
        source.push([{"n": 2}], size=1_048_000)
        await until(lambda: len(out.flushes) == 1)
        source.push([{"n": 3}])
        await engine.stop()

    run(scenario())
    assert [records for _, _, records in out.flushes] == [[{"n": 1}, {"n": 2}], [{"n": 3}]]


# -- filters ----------------------------------------------------------------------------------


def test_filters_drop_and_add_records_and_are_counted(run, pipeline, monkeypatch):
    monkeypatch.setattr(store_module, "MEASURE_BATCHES", 1)  # every batch measured, none estimated
    built, _ = pipeline(config(MANUAL, section("FILTER", Name="edit", Match="*"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1, "drop": True}])
        source.push([{"n": 2, "drop": True}, {"n": 3}])
        source.push([{"n": 4, "double": True}])
        await until(lambda: not engine.pending_filtering)
        # What the filters left is held: one record, and one record twice (one dict in two places).
        double = {"n": 4, "double": True}
        assert engine.held_bytes(built.inputs[0]) == footprint_of([{"n": 3}], [double, double])
        engine.flush()
        await until(lambda: out.flushes)
        await engine.stop()

    run(scenario())
    assert out.delivered_records() == [{"n": 3}, {"n": 4, "double": True}, {"n": 4, "double": True}]
    assert counters(built, "filter", "edit.0") == {"drop_records": 2, "add_records": 1}
    assert counters(built, "output", "scripted.0")["proc_records"] == 3


def test_a_waiting_filter_keeps_the_order_of_its_input(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, edit, out = built.inputs[0].plugin, built.filters[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for n in range(5):
            source.push([{"n": n}])
        await asyncio.sleep(0.05)
        assert edit.seen == []
        edit.gate.set()
        await until(lambda: len(edit.seen) == 5)
        engine.flush()
        await until(lambda: out.flushes)
        await engine.stop()

    run(scenario())
    assert out.delivered_records() == [{"n": n} for n in range(5)]


def test_a_failing_filter_passes_the_records_on(run, pipeline, logs):
    built, _ = pipeline(config(MANUAL, section("FILTER", Name="edit", Match="*"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1, "explode": True}])
        await until(lambda: not engine.pending_filtering)
        engine.flush()
        await until(lambda: out.flushes)
        await engine.stop()

    run(scenario())
    assert out.delivered_records() == [{"n": 1, "explode": True}]
    assert any(line.startswith("[filter:edit:edit.0] filter failed") for line in logs)


# -- retries ----------------------------------------------------------------------------------


def deliver_once(run, built) -> None:
    source = built.inputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}, {"n": 2}])
        engine.flush()
        await until(lambda: engine.pending_deliveries == 0)
        assert engine.held_bytes(built.inputs[0]) == 0
        await engine.stop()

    run(scenario())


def output_counters(built) -> dict[str, int]:
    return counters(built, "output", built.outputs[0].display_name)


def test_retry_then_success_counts_each_retry(run, pipeline, logs):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Retry_Limit=2,
                                               Results="retry,retry,ok")))
    deliver_once(run, built)
    out = built.outputs[0].plugin
    assert output_counters(built) == {"proc_records": 2, "proc_bytes": 20, "errors": 0, "retries": 2,
                                      "retries_failed": 0, "dropped_records": 0, "retried_records": 4}
    assert len(out.flushes) == 3
    assert out.forgotten == [out.flushes[0][0]]
    chunk_id = out.flushes[0][0]
    assert f"[engine] flush chunk '{chunk_id}' succeeded at retry 2: task_id={chunk_id}, " \
           f"input=manual.0 > output=scripted.0" in logs


def test_exhausted_retries_drop_the_chunk_for_that_output(run, pipeline, logs):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Results="retry,retry,ok")))
    deliver_once(run, built)
    out = built.outputs[0].plugin
    assert output_counters(built) == {"proc_records": 0, "proc_bytes": 0, "errors": 0, "retries": 1,
                                      "retries_failed": 1, "dropped_records": 2, "retried_records": 2}
    assert len(out.flushes) == 2
    chunk_id = out.flushes[0][0]
    assert out.forgotten == [chunk_id]
    assert f"[engine] chunk '{chunk_id}' cannot be retried: task_id={chunk_id}, " \
           f"input=manual.0 > output=scripted.0" in logs


def test_no_retries_drops_at_the_first_retry_request(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Retry_Limit="no_retries",
                                               Results="retry")))
    deliver_once(run, built)
    assert len(built.outputs[0].plugin.flushes) == 1
    assert output_counters(built) == {"proc_records": 0, "proc_bytes": 0, "errors": 0, "retries": 0,
                                      "retries_failed": 0, "dropped_records": 2, "retried_records": 0}


def test_no_limits_retries_until_success(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Retry_Limit="no_limits",
                                               Results="retry,retry,retry,retry,retry,ok")))
    deliver_once(run, built)
    assert output_counters(built) == {"proc_records": 2, "proc_bytes": 20, "errors": 0, "retries": 5,
                                      "retries_failed": 0, "dropped_records": 0, "retried_records": 10}


def test_error_drops_at_once_without_retry(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Retry_Limit=5,
                                               Results="error")))
    deliver_once(run, built)
    assert len(built.outputs[0].plugin.flushes) == 1
    assert output_counters(built) == {"proc_records": 0, "proc_bytes": 0, "errors": 1, "retries": 0,
                                      "retries_failed": 0, "dropped_records": 2, "retried_records": 0}


def test_an_output_that_raises_is_retried(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Results="raise,ok")))
    deliver_once(run, built)
    assert output_counters(built)["proc_records"] == 2
    assert output_counters(built)["retries"] == 1


def test_a_chunk_is_released_only_when_every_output_is_done(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*"),
                               section("OUTPUT", Name="gated", Match="*")))
    source, fast, slow = built.inputs[0].plugin, built.outputs[0].plugin, built.outputs[1].plugin
    held = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        engine.flush()
        await until(lambda: fast.flushes and slow.started)
        await asyncio.sleep(0.02)
        held.append(engine.held_bytes(built.inputs[0]))
        slow.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        held.append(engine.held_bytes(built.inputs[0]))
        await engine.stop()

    run(scenario())
    assert held == [footprint_of([{"n": 1}]), 0]


# -- acknowledgement --------------------------------------------------------------------------


def test_positions_are_acknowledged_only_once_every_output_accepted_the_chunk(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*"),
                               section("OUTPUT", Name="gated", Match="*")))
    source, fast, slow = built.inputs[0].plugin, built.outputs[0].plugin, built.outputs[1].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], positions=["a:10"])
        source.push([{"n": 2}], positions=["a:20"])
        engine.flush()
        await until(lambda: fast.flushes and slow.started)
        await asyncio.sleep(0.02)
        seen.append(list(source.acknowledged))
        slow.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        seen.append(list(source.acknowledged))
        await engine.stop()

    run(scenario())
    assert seen == [[], ["a:10", "a:20"]]


def test_positions_of_records_filtered_out_or_unrouted_are_acknowledged_at_once(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("FILTER", Name="edit", Match="*"),
                               section("OUTPUT", Name="gated", Match="app")))
    source = built.inputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1, "drop": True}], positions=["dropped"])
        source.push([{"n": 2}], tag="elsewhere", positions=["unrouted"])
        source.push([{"n": 3}], positions=["held"])
        await until(lambda: not engine.pending_filtering)
        seen.append(list(source.acknowledged))
        await engine.stop()

    run(scenario())
    assert seen == [["dropped", "unrouted"]]


def test_positions_of_a_chunk_dropped_after_its_retries_are_acknowledged(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Results="retry,retry",
                                               Retry_Limit=1)))
    source = built.inputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], positions=["a:10"])
        engine.flush()
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()

    run(scenario())
    assert source.acknowledged == ["a:10"]
    assert output_counters(built)["dropped_records"] == 1


def test_workers_bound_concurrent_flushes_of_an_output(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="gated", Match="*", Workers=2)))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for tag in ("a", "b", "c"):
            source.push([{"tag": tag}], tag=tag)
        engine.flush()
        await until(lambda: len(out.started) == 2)
        await asyncio.sleep(0.05)
        assert len(out.started) == 2
        out.gate.set()
        await until(lambda: len(out.records) == 3)
        await engine.stop()

    run(scenario())
    assert out.max_in_flight == 2


def test_an_output_may_run_several_flushes_per_worker_at_once(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="gated", Match="*", Workers=1, flushes_per_worker=3)))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for tag in ("a", "b", "c", "d"):
            source.push([{"tag": tag}], tag=tag)
        engine.flush()
        await until(lambda: len(out.started) == 3)
        await asyncio.sleep(0.05)
        assert len(out.started) == 3
        out.gate.set()
        await until(lambda: len(out.records) == 4)
        await engine.stop()

    run(scenario())
    assert out.max_in_flight == 3
    assert sorted(record["tag"] for record in out.records) == ["a", "b", "c", "d"]


# -- Mem_Buf_Limit ----------------------------------------------------------------------------


def test_reaching_mem_buf_limit_pauses_the_input_and_sends_its_open_chunk_at_once(run, pipeline, logs):
    # The limit is what the first ten records cost in memory, whatever their size in bytes read.
    limit = footprint_of(*([{"n": n}] for n in range(10)))
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=limit),
                               section("OUTPUT", Name="gated", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for n in range(9):
            source.push([{"n": n}], size=100)
        seen["before"] = (list(source.calls), engine.held_bytes(built.inputs[0]), list(out.started))
        source.push([{"n": 9}], size=100)
        await until(lambda: len(out.started) == 1)
        seen["at_limit"] = (list(source.calls), engine.held_bytes(built.inputs[0]))
        source.push([{"n": 10}], size=100)  # a paused input may still hand over what it holds
        seen["in_flight"] = engine.pending_deliveries
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0 and "resume" in source.calls)
        seen["after"] = (list(source.calls), engine.held_bytes(built.inputs[0]), list(out.records))
        await engine.stop()

    run(scenario())
    assert seen["before"] == (["start"], footprint_of(*([{"n": n}] for n in range(9))), [])
    assert seen["at_limit"] == (["start", "pause"], limit)
    # The record handed over while paused waits in a new open chunk: the one in flight holds the limit.
    assert seen["in_flight"] == 1
    ninth, tenth = footprint_of([{"n": 9}]), footprint_of([{"n": 10}])
    assert seen["after"] == (["start", "pause", "resume"], tenth, [{"n": n} for n in range(10)])
    assert out.records == [{"n": n} for n in range(11)]  # sent as the engine stops
    assert f"[input] manual.0 paused (mem buf overlimit - event of size {ninth}B exceeded limit {limit} to {limit}B)" in logs
    assert f"[input] manual.0 resume (mem buf overlimit - buf size {tenth}B now below limit {limit}B)" in logs


TEN_RECORDS_LIMIT = footprint_of(*([{"n": n}] for n in range(10)))


def ten_records_limit_pipeline(pipeline):
    """A manual input limited to what ten records ``{"n": 0..9}`` cost, into a gated output."""
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=TEN_RECORDS_LIMIT),
                               section("OUTPUT", Name="gated", Match="*")))
    return built, built.inputs[0], built.inputs[0].plugin, built.outputs[0].plugin


async def go_past_the_limit(source, out) -> None:
    """Ten records reach the limit (their chunk goes out and waits at the output's gate), then five
    more go over it, into a new open chunk."""
    for n in range(10):
        source.push([{"n": n}])
    await until(lambda: len(out.started) == 1)
    for n in range(10, 15):
        source.push([{"n": n}])


def test_over_its_limit_an_input_keeps_its_open_chunk_while_chunks_in_flight_hold_the_rest(run, pipeline):
    built, instance, source, out = ten_records_limit_pipeline(pipeline)
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        await go_past_the_limit(source, out)
        seen["over"] = (engine.pending_deliveries, engine.held_bytes(instance), list(source.calls))
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0 and "resume" in source.calls)
        seen["resumed"] = (len(out.started), engine.held_bytes(instance), list(out.records))
        await engine.stop()

    run(scenario())
    assert seen["over"] == (1, footprint_of(*([{"n": n}] for n in range(15))), ["start", "pause"])
    # The first chunk delivered, the input goes on and its open chunk keeps taking batches.
    assert seen["resumed"] == (1, footprint_of(*([{"n": n}] for n in range(10, 15))),
                               [{"n": n} for n in range(10)])
    assert out.records == [{"n": n} for n in range(15)]


def test_an_open_chunk_that_grew_across_a_pause_goes_once_it_alone_holds_the_limit(run, pipeline):
    built, instance, source, out = ten_records_limit_pipeline(pipeline)
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        await go_past_the_limit(source, out)
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0 and "resume" in source.calls)
        for n in range(15, 19):
            source.push([{"n": n}])
        seen["below"] = (engine.pending_deliveries, list(source.calls))
        source.push([{"n": 19}])
        seen["limit"] = (engine.pending_deliveries, list(source.calls))
        await until(lambda: engine.pending_deliveries == 0 and engine.held_bytes(instance) == 0)
        await engine.stop()

    run(scenario())
    assert seen["below"] == (0, ["start", "pause", "resume"])
    assert seen["limit"] == (1, ["start", "pause", "resume", "pause"])
    # Two chunks of ten records each: the second grew across the pause and the resume.
    assert len(out.started) == 2
    assert out.records == [{"n": n} for n in range(20)]


def test_open_chunks_of_every_tag_go_at_once_when_together_they_hold_the_limit(run, pipeline):
    # Nothing of the input is in flight to free room: waiting for the flush timer (an hour here)
    # would hold the input paused until then.
    limit = footprint_of(*([{"n": n}] for n in range(10)))
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=limit),
                               section("OUTPUT", Name="scripted", Match="*")))
    instance = built.inputs[0]
    source, out = instance.plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        for n in range(10):
            source.push([{"n": n}], tag="a" if n % 2 else "b")
        await until(lambda: engine.pending_deliveries == 0 and "resume" in source.calls)
        assert engine.held_bytes(instance) == 0
        await engine.stop()

    run(scenario())
    assert source.calls == ["start", "pause", "resume", "stop"]
    assert sorted((tag, records) for _, tag, records in out.flushes) == [
        ("a", [{"n": n} for n in range(1, 10, 2)]),
        ("b", [{"n": n} for n in range(0, 10, 2)]),
    ]


def test_a_batch_leaving_the_filters_into_open_chunks_that_now_hold_the_limit_sends_them(run, pipeline):
    one = footprint_of([{"n": 0}])
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=5 * one),
                               section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    instance = built.inputs[0]
    source, edit, out = instance.plugin, built.filters[0].plugin, built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        edit.gate.set()
        source.push([{"n": 0}])
        await until(lambda: engine.pending_filtering == 0)
        edit.gate.clear()
        source.push([{"n": n} for n in range(1, 10)])  # over the limit while in the filters
        seen["filtering"] = (engine.pending_deliveries, engine.pending_filtering, source.calls[-1])
        edit.gate.set()
        await until(lambda: len(out.flushes) == 1 and engine.held_bytes(instance) == 0)
        await engine.stop()

    run(scenario())
    assert seen["filtering"] == (0, 1, "pause")
    # One chunk: the open chunk was not sent when the limit was reached, but once the batch joined it.
    assert [records for _, _, records in out.flushes] == [[{"n": n} for n in range(10)]]


def test_an_input_is_told_the_room_its_mem_buf_limit_leaves(run, pipeline):
    limit = 10**6
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=limit),
                               section("INPUT", Name="manual", Tag="other"),
                               section("OUTPUT", Name="gated", Match="*")))
    limited, unlimited = built.inputs
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        seen["start"] = limited.ctx.room()
        limited.plugin.push([{"n": 1}, {"n": 2}])
        seen["held"] = limited.ctx.room()
        seen["no limit"] = unlimited.ctx.room()
        engine.flush()
        built.outputs[0].plugin.gate.set()
        await until(lambda: engine.pending_deliveries == 0 and engine.held_bytes(limited) == 0)
        seen["delivered"] = limited.ctx.room()
        await engine.stop()

    run(scenario())
    assert seen == {"start": limit, "held": limit - footprint_of([{"n": 1}, {"n": 2}]), "no limit": None,
                    "delivered": limit}


def test_batches_in_the_filters_count_against_mem_buf_limit_as_the_filters_grew_earlier_ones(run, pipeline):
    # The filter doubles each record; one batch filtered shows what it makes of the next one.
    raw = footprint_of([{"n": 1, "double": True}])
    grown = footprint(Chunk("app", [TIMESTAMP_NS] * 2, [{"n": 1, "double": True}] * 2, 0))
    limit = grown - 1
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=limit),
                               section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, edit, out = built.inputs[0].plugin, built.filters[0].plugin, built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        edit.gate.set()
        source.push([{"n": 1, "double": True}])
        await until(lambda: out.flushes and engine.held_bytes(built.inputs[0]) == 0 and not source.paused)
        edit.gate.clear()
        source.push([{"n": 1, "double": True}])
        await asyncio.sleep(0)
        seen["waiting"] = (engine.held_bytes(built.inputs[0]), source.paused)
        edit.gate.set()
        await until(lambda: len(out.flushes) == 2 and not source.paused)
        await engine.stop()

    run(scenario())
    # Unfiltered, the second batch holds less than the limit, but it counts as what it will hold.
    assert raw < limit
    assert seen["waiting"] == (grown, True)
    assert out.delivered_records() == [{"n": 1, "double": True}] * 4


def test_an_input_waits_for_its_first_batch_to_go_through_the_filters(run, pipeline, logs):
    # Until one batch is filtered nothing tells what the filters make of a batch's memory: the
    # input reads no further, as Fluent Bit's waits for its filters, and says nothing of a limit.
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=10**6),
                               section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, edit, out = built.inputs[0].plugin, built.filters[0].plugin, built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        await asyncio.sleep(0)
        seen["waiting"] = (list(source.calls), source.paused)
        edit.gate.set()
        await until(lambda: engine.pending_filtering == 0)
        source.push([{"n": 2}])
        await until(lambda: engine.pending_filtering == 0)
        seen["filtered"] = (list(source.calls), source.paused)
        await engine.stop()

    run(scenario())
    assert seen["waiting"] == (["start", "pause"], True)
    assert seen["filtered"] == (["start", "pause", "resume"], False)
    assert out.delivered_records() == [{"n": 1}, {"n": 2}]
    assert not [line for line in logs if "paused" in line or "resume (" in line]


def test_batches_in_the_filters_count_as_earlier_batches_of_their_tag_grew(run, pipeline):
    # The filter doubles the records of tag "big" and leaves those of "small" as they are; a tag
    # not seen yet counts as the most any tag's filtered batches cost per byte read.
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=10**6),
                               section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, edit, out = built.inputs[0].plugin, built.filters[0].plugin, built.outputs[0].plugin
    big, small = {"n": 1, "double": True}, {"n": 2}
    raw_small = footprint_of([small])
    grown_big = footprint(Chunk("big", [TIMESTAMP_NS] * 2, [big, big], 0))
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        edit.gate.set()
        source.push([big], tag="big")
        await until(lambda: engine.pending_filtering == 0)
        source.push([small], tag="small")
        await until(lambda: engine.pending_filtering == 0)
        edit.gate.clear()
        before = engine.held_bytes(built.inputs[0])
        # Each push the same bytes read (the manual input's 10 per record).
        for records, tag in (([small], "small"), ([big], "big"), ([small], "new")):
            source.push(records, tag=tag)
            seen.append(engine.held_bytes(built.inputs[0]) - before)
        edit.gate.set()
        await until(lambda: engine.pending_filtering == 0)
        await engine.stop()

    run(scenario())
    assert grown_big > raw_small
    assert seen == [raw_small, raw_small + grown_big, raw_small + 2 * grown_big]
    assert len(out.delivered_records()) == 7


def test_a_batch_is_measured_once_in_measure_batches_of_its_tag(run, pipeline, monkeypatch):
    # Before and after the filters; the others count as bytes read times what the tag's measured
    # batches cost per byte: the same records read as twice the bytes count twice.
    monkeypatch.setattr(store_module, "MEASURE_BATCHES", 3)
    measured = []
    monkeypatch.setattr(store_module, "footprint", lambda chunk: measured.append(chunk.size) or footprint(chunk))
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=10**6),
                               section("FILTER", Name="edit", Match="*", Hold="on"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source, edit = built.inputs[0].plugin, built.filters[0].plugin
    raw = footprint_of([{"n": 1}])
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        edit.gate.set()
        source.push([{"n": 1}], size=10)
        await until(lambda: engine.pending_filtering == 0)
        edit.gate.clear()
        held = engine.held_bytes(built.inputs[0])
        for size in (20, 30, 40):
            source.push([{"n": 1}], size=size)
            seen.append(engine.held_bytes(built.inputs[0]) - held)
            held = engine.held_bytes(built.inputs[0])
        edit.gate.set()
        await until(lambda: engine.pending_filtering == 0)
        await engine.stop()

    run(scenario())
    # The first batch before and after the filters, then the third after it, before and after them.
    assert measured == [10, 10, 40, 40]
    assert seen == [2 * raw, 3 * raw, 4 * raw]


def test_the_growth_of_at_most_max_growth_tags_tags_is_remembered(run, pipeline, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_GROWTH_TAGS", 2)
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=10**6),
                               section("FILTER", Name="edit", Match="*"),
                               section("OUTPUT", Name="scripted", Match="*")))
    source = built.inputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        store = engine.store.inputs[built.inputs[0]]
        for tag in ("a", "b", "c"):
            source.push([{"n": 1}], tag=tag)
            await until(lambda: engine.pending_filtering == 0)
            seen.append(sorted(store.growth))
        await engine.stop()

    run(scenario())
    assert seen == [["a"], ["a", "b"], ["c"]]


def test_memory_stays_bounded_with_a_slow_output_and_nothing_is_lost(run, pipeline):
    batches = 60
    # The memory one push holds at most, and a limit of ten of them.
    batch = max(footprint_of([{"n": n}]) for n in range(batches))
    limit = 10 * batch
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=limit),
                               section("OUTPUT", Name="gated", Match="*"), flush=0.05))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    highest = []

    async def release_slowly():
        while True:
            out.gate.set()
            await asyncio.sleep(0)
            out.gate.clear()
            await asyncio.sleep(0.02)

    async def scenario():
        engine = Engine(built)
        await engine.start()
        releaser = asyncio.get_running_loop().create_task(release_slowly())
        pushed = 0
        while pushed < batches:
            if source.paused:
                await asyncio.sleep(0.002)
                continue
            source.push([{"n": pushed}])
            pushed += 1
            highest.append(engine.held_bytes(built.inputs[0]))
            await asyncio.sleep(0)
        out.gate.set()
        await until(lambda: len(out.records) == batches)
        releaser.cancel()
        await engine.stop()

    run(scenario())
    assert max(highest) <= limit + batch - 1
    assert source.calls.count("pause") >= 1
    assert source.calls.count("pause") == source.calls.count("resume")
    assert out.records == [{"n": n} for n in range(batches)]


# -- stop and Grace ---------------------------------------------------------------------------


def test_stop_flushes_open_chunks_and_what_inputs_emit_when_stopping(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        source.pending = [{"n": 2, "partial": True}]
        await engine.stop()

    run(scenario())
    assert out.delivered_records() == [{"n": 1}, {"n": 2, "partial": True}]
    assert source.calls == ["start", "stop"]


def test_stop_logs_pausing_each_running_input(run, pipeline, logs):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*")))

    async def scenario():
        engine = Engine(built)
        await engine.start()
        await engine.stop()

    run(scenario())
    assert logs.count("[input] pausing manual.0") == 1


def test_stop_does_not_pause_again_an_input_its_limit_paused(run, pipeline, logs):
    # flb_input_pause returns early for an input whose buffer limit paused it: no second line.
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Mem_Buf_Limit=1),
                               section("OUTPUT", Name="gated", Match="*"), grace=0.3))
    source = built.inputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], size=100)
        await until(lambda: source.paused)
        await engine.stop()

    run(scenario())
    assert any(line.startswith("[input] manual.0 paused (mem buf overlimit") for line in logs)
    assert logs.count("[input] pausing manual.0") == 1


def test_a_retry_that_fits_in_grace_completes_before_exit(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*", Results="retry,ok")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        await engine.stop()

    run(scenario())
    assert out.delivered_records() == [{"n": 1}, {"n": 1}]
    assert output_counters(built)["proc_records"] == 1


def test_stop_returns_within_grace_when_an_output_never_finishes(run, pipeline, logs):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="gated", Match="*"), grace=0.3))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin
    timing = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}], positions=["line 1"])
        started = time.monotonic()
        await engine.stop()
        timing["stop"] = time.monotonic() - started

    run(scenario())
    # The grace is counted on the loop's clock: uvloop's is libuv's, in whole milliseconds and read
    # at the top of each loop turn, so it may run up to a few milliseconds behind time.monotonic().
    assert 0.3 - LOOP_CLOCK_SLACK_SECONDS <= timing["stop"] < 0.3 + 5
    assert source.acknowledged == []  # the input reads it again on its next start
    assert out.forgotten == out.started
    assert "[engine] service has stopped (1 pending tasks)" in logs


def test_log_lines_name_instances_by_alias(run, pipeline, logs):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app", Alias="src", Mem_Buf_Limit=10),
                               section("OUTPUT", Name="scripted", Match="*", Alias="dest", Results="retry,retry")))
    source, out = built.inputs[0].plugin, built.outputs[0].plugin

    async def scenario():
        engine = Engine(built)
        await engine.start()
        source.push([{"n": 1}])
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()

    run(scenario())
    chunk_id = out.flushes[0][0]
    one = footprint_of([{"n": 1}])
    assert f"[input] src paused (mem buf overlimit - event of size {one}B exceeded limit 10 to {one}B)" in logs
    assert "[input] src resume (mem buf overlimit - buf size 0B now below limit 10B)" in logs
    assert f"[engine] chunk '{chunk_id}' cannot be retried: task_id={chunk_id}, input=src > output=dest" in logs


def test_a_plugin_that_cannot_start_names_itself_and_nothing_is_left_running(run, pipeline, monkeypatch):
    built, _ = pipeline(config(MANUAL, section("OUTPUT", Name="scripted", Match="*")))
    source = built.inputs[0].plugin

    async def refuse() -> None:
        raise OSError("port in use")

    monkeypatch.setattr(built.outputs[0].plugin, "start", refuse)

    async def scenario():
        engine = Engine(built)
        with pytest.raises(StartError, match="scripted.0 failed to start: port in use"):
            await engine.start()
        await engine.stop()

    run(scenario())
    assert source.calls == []
