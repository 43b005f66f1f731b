"""The multiline filter: stack traces and Docker split messages joined as Fluent Bit 4.2.8 joins them
(cases recorded in tests/data/filters/multiline, see its README), buffered through its emitter input
or in place, with its counters and config errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigErrors
from flb_fast.engine.engine import Engine
from tests.engine.test_engine import config, counters, section, until
from tests.filters.emitting import delivered, drive

DATA = Path(__file__).parents[1] / "data" / "filters" / "multiline"
SCRIPTED = section("OUTPUT", Name="scripted", Match="*")


def expected(case: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{case}.expected.jsonl").read_text().splitlines()]


def tail(case: str, **options: str) -> str:
    return section("INPUT", Name="tail", Path=DATA / f"{case}.log", Read_from_Head="true", Tag="app", **options)


def multiline(**options: object) -> str:
    return section("FILTER", Name="multiline", Match="*", **{"multiline.key_content": "log", **options})


STACK = multiline(**{"multiline.parser": "java, python, go"})


def records_of(built) -> list[dict]:
    return [record for _, record in delivered(built)]


def test_java_python_and_go_traces_are_joined_through_the_emitter_as_fluent_bit_joins_them(run, pipeline):
    built, _ = pipeline(config(tail("stack"), STACK, SCRIPTED, flush=0.05))
    want = expected("stack")
    drive(run, built, lambda _: None, lambda b: len(records_of(b)) >= len(want))
    assert delivered(built) == [("app", record) for record in want]
    assert counters(built, "input", "emitter_for_multiline.0")["records"] == 7
    assert counters(built, "filter", "multiline.0") == {"drop_records": 25, "add_records": 0, "emit_records": 25,
                                                         "emit_truncated": 0}


def test_batches_feeding_a_buffered_group_are_acknowledged_once_the_group_is_delivered(run, pipeline):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                               multiline(**{"multiline.parser": "java", "flush_ms": 500}), SCRIPTED, flush=0.05))
    source, output = built.inputs[0].plugin, built.outputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        try:
            source.push([{"log": "java.lang.RuntimeException: boom"}], positions=["b1"])
            source.push([{"log": "    at Foo.bar(Foo.java:1)"}], positions=["b2"])
            await until(lambda: not engine.pending_filtering)
            seen.append((list(source.acknowledged), len(output.flushes)))
            await until(lambda: len(source.acknowledged) == 2)
            seen.append((list(source.acknowledged), len(output.flushes)))
        finally:
            await engine.stop()

    run(scenario())
    assert seen == [([], 0), (["b1", "b2"], 1)]
    assert records_of(built) == [{"log": "java.lang.RuntimeException: boom\n    at Foo.bar(Foo.java:1)"}]


def test_the_emitter_is_an_input_after_the_configured_ones_with_fluent_bits_default_limit(pipeline):
    built, _ = pipeline(config(tail("stack"), STACK, SCRIPTED))
    assert [(i.name, i.plugin_name, i.mem_buf_limit) for i in built.inputs] == [
        ("tail.0", "tail", 0), ("emitter_for_multiline.0", "emitter", 10_000_000)]


def test_emitter_name_and_mem_buf_limit_name_and_bound_the_emitter(pipeline):
    built, _ = pipeline(config(tail("stack"), multiline(**{"multiline.parser": "java", "Emitter_Name": "ml_emitter",
                                                           "Emitter_Mem_Buf_Limit": "2M"}), SCRIPTED))
    emitter = built.inputs[1]
    assert (emitter.name, emitter.display_name, emitter.mem_buf_limit) == ("ml_emitter", "ml_emitter", 2_000_000)
    assert "ml_emitter" in built.metrics.snapshot()["input"]


def test_unbuffered_mode_joins_within_the_chunk_without_an_emitter(run, pipeline):
    built, _ = pipeline(config(tail("stack"), multiline(**{"multiline.parser": "java, python, go", "buffer": "off"}),
                               SCRIPTED, flush=0.05))
    want = expected("stack")
    drive(run, built, lambda _: None, lambda b: len(records_of(b)) >= len(want))
    assert records_of(built) == want
    assert [i.name for i in built.inputs] == ["tail.0"]
    assert counters(built, "filter", "multiline.0") == {"drop_records": 18, "add_records": 0, "emit_truncated": 0}


def test_a_multiline_parser_section_joins_as_fluent_bit_joins_with_it(run, pipeline):
    parser = (DATA / "parsers_multiline.conf").read_text()
    built, _ = pipeline(config(parser, tail("stack"), multiline(**{"multiline.parser": "multiline-regex-test"}),
                               SCRIPTED, flush=0.05))
    want = expected("custom")
    drive(run, built, lambda _: None, lambda b: len(records_of(b)) >= len(want))
    assert records_of(built) == want


def test_partial_messages_are_concatenated_and_idle_ones_flushed_after_flush_ms(run, pipeline):
    built, _ = pipeline(config(tail("partial", Parser="json"),
                               multiline(mode="partial_message", flush_ms=1000), SCRIPTED, flush=0.05))
    want = expected("partial")
    drive(run, built, lambda _: None, lambda b: len(records_of(b)) >= len(want))
    assert records_of(built) == want


def test_partial_message_with_buffer_off_is_a_warning_and_buffers_as_fluent_bit_does(run, pipeline):
    """Fluent Bit 4.2.8 logs the error and joins the parts anyway; a message whose parts time out
    crashes it there (no emitter). Here it is a warning, and timed-out parts go through the emitter."""
    built, warnings = pipeline(config(tail("partial", Parser="json"),
                                      multiline(mode="partial_message", flush_ms=1000, buffer="off"), SCRIPTED,
                                      flush=0.05))
    assert [(w.option, w.message) for w in warnings] == [
        ("buffer", "multiline.0: 'partial_message' 'Mode' requires 'Buffer' to be 'On': Buffer On is used")]
    want = expected("partial")
    drive(run, built, lambda _: None, lambda b: len(records_of(b)) >= len(want))
    assert records_of(built) == want


def part(log: str, last: bool) -> dict:
    return {"log": log, "partial_message": "true", "partial_id": "m1", "partial_last": "true" if last else "false"}


def test_a_batch_holding_the_first_part_of_a_split_message_waits_for_the_joined_record(run, pipeline):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app"), multiline(mode="partial_message"),
                               section("OUTPUT", Name="gated", Match="*"), flush=0.05))
    source, gated = built.inputs[0].plugin, built.outputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        try:
            source.push([part("first ", last=False)], positions=["p1"])
            source.push([part("second", last=True)], positions=["p2"])
            await until(lambda: gated.started)
            await asyncio.sleep(0.1)
            seen.append(list(source.acknowledged))
            gated.gate.set()
            await until(lambda: len(source.acknowledged) == 2)
            seen.append(list(source.acknowledged))
        finally:
            await engine.stop()

    run(scenario())
    assert seen == [[], ["p1", "p2"]]
    assert gated.records == [{"log": "first second"}]


def first_part_only(built) -> None:
    built.inputs[0].plugin.push([part("first ", last=False), {"log": "alone"}])


def test_partial_message_mode_takes_a_flush_ms_below_500_and_times_parts_out_after_it(run, pipeline):
    """Fluent Bit 4.2.8 checks the 500 ms floor only in parser mode: with flush_ms 100 it prints
    the record without its last part about 0.1 s after it."""
    built, warnings = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                                      multiline(mode="partial_message", flush_ms=100), SCRIPTED, flush=0.05))
    drive(run, built, first_part_only, lambda b: len(records_of(b)) >= 2)
    assert warnings == []
    assert records_of(built) == [{"log": "alone"}, {"log": "first "}]


@pytest.mark.parametrize("flush_ms", [1, 0, -5])
def test_partial_message_flush_ms_below_2_never_times_parts_out_and_stopping_emits_them(run, pipeline, flush_ms):
    """Fluent Bit 4.2.8 arms its timer every flush_ms / 2 ms: 0 never fires, a negative period
    fails ("cannot do timeout_create()"); it prints only the record that was not split."""
    built, warnings = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                                      multiline(mode="partial_message", flush_ms=flush_ms), SCRIPTED, flush=0.05))
    while_running = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        try:
            first_part_only(built)
            await until(lambda: len(records_of(built)) >= 1)
            await asyncio.sleep(0.2)
            while_running.extend(records_of(built))
        finally:
            await engine.stop()

    run(scenario())
    assert [(w.option, w.message) for w in warnings] == [
        ("flush_ms", f"multiline.0: flush_ms {flush_ms} in 'partial_message' 'Mode': split messages never time "
                     "out; one whose last part does not arrive is emitted when the agent stops")]
    assert while_running == [{"log": "alone"}]
    assert records_of(built) == [{"log": "alone"}, {"log": "first "}]


def manual_java(built) -> None:
    built.inputs[0].plugin.push([{"log": "java.lang.IllegalStateException: boom"},
                                 {"log": "    at a.B.c(B.java:1)"}])


def test_a_group_still_open_is_emitted_at_the_flush_ms_tick(run, pipeline):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                               multiline(**{"multiline.parser": "java", "flush_ms": 500}), SCRIPTED, flush=0.05))
    drive(run, built, manual_java, lambda b: len(records_of(b)) >= 1)
    assert delivered(built) == [("app", {"log": "java.lang.IllegalStateException: boom\n    at a.B.c(B.java:1)"})]


def test_stopping_the_agent_emits_the_groups_still_open(run, pipeline):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                               multiline(**{"multiline.parser": "java", "flush_ms": 60000}), SCRIPTED, flush=0.05))
    drive(run, built, manual_java, lambda _: True)
    assert records_of(built) == [{"log": "java.lang.IllegalStateException: boom\n    at a.B.c(B.java:1)"}]


def test_joined_records_keep_the_first_lines_fields(run, pipeline):
    def feed(b) -> None:
        b.inputs[0].plugin.push([{"log": "Traceback (most recent call last):", "pod": "a"},
                                 {"log": '  File "x.py", line 1, in <module>', "pod": "b"},
                                 {"log": "    f()", "pod": "c"},
                                 {"log": "KeyError: 'k'", "pod": "d"}])

    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="app"),
                               multiline(**{"multiline.parser": "python"}), SCRIPTED, flush=0.05))
    drive(run, built, feed, lambda b: len(records_of(b)) >= 1)
    joined = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    f()\nKeyError: \'k\''
    assert records_of(built) == [{"log": joined, "pod": "a"}]


@pytest.mark.parametrize(("options", "message"), [
    ({"mode": "lines", "multiline.parser": "java"}, "'Mode' must be 'partial_message' or 'parser'"),
    ({"mode": "partial_message", "multiline.key_content": None},
     "'Mode' 'partial_message' requires 'multiline.key_content'"),
    ({"multiline.parser": "java", "flush_ms": 100}, "flush timeout '100' is too low"),
    ({}, "The default 'Mode' 'parser' requires at least one 'multiline.parser'"),
    ({"multiline.parser": "cobol"}, "multiline parser 'cobol' is not registered"),
    ({"multiline.parser": "java", "emitter_storage.type": "disk"},
     "invalid 'emitter_storage.type' value. Only 'memory' or 'filesystem' types are allowed"),
    ({"multiline.parser": "java", "emitter_name": "tail.0"}, "emitter_name 'tail.0' already exists"),
])
def test_bad_settings_stop_start_up_naming_the_option(pipeline, options, message):
    settings = {"Name": "multiline", "Match": "*", "multiline.key_content": "log", **options}
    text = config(tail("stack"), section("FILTER", **{k: v for k, v in settings.items() if v is not None}), SCRIPTED)
    with pytest.raises(ConfigErrors) as caught:
        pipeline(text)
    assert [message in str(error) for error in caught.value.errors] == [True]
