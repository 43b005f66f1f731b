"""``[SERVICE] Memory_Limit``: every input pauses at the high-water mark of the process's memory and
resumes below the low-water mark. The process's memory is scripted here (``MemoryLimit.rss``);
tests/e2e/test_memory_limit.py runs the real agent against its real memory."""

from __future__ import annotations

import pytest

from flb_fast.engine.engine import Engine
from flb_fast.engine.memory_limit import HIGH_WATER, LOW_WATER, MemoryLimit
from tests.engine.test_engine import config, counters, section, until

MB = 1000 * 1000
# Memory_Limit 100M: sizes in a config are decimal, as in Fluent Bit.
LIMIT = 100 * MB


@pytest.fixture
def memory(monkeypatch) -> list[int]:
    """The process's resident memory as the monitor reads it: set ``memory[0]``."""
    current = [10 * MB]
    monkeypatch.setattr(MemoryLimit, "rss", lambda self: current[0])
    return current


def with_limit(*sections: str, limit: str = "100M") -> str:
    """The engine tests' [SERVICE] section with a Memory_Limit, then ``sections``."""
    return config() + f"    Memory_Limit {limit}\n" + "".join(sections)


def two_inputs(**first: object) -> str:
    return with_limit(section("INPUT", Name="manual", Tag="a", **first), section("INPUT", Name="manual", Tag="b"),
                      section("OUTPUT", Name="gated", Match="*"))


def test_memory_limit_is_a_size_and_off_by_default(pipeline):
    assert pipeline(with_limit(limit="200M"))[0].service.memory_limit == 200 * MB
    assert pipeline(config())[0].service.memory_limit is None


def test_the_high_water_mark_pauses_every_input_and_sends_what_is_buffered(run, pipeline, memory, logs):
    built, _ = pipeline(two_inputs())
    first, second = (instance.plugin for instance in built.inputs)
    out = built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        first.push([{"n": 1}])
        memory[0] = int(LIMIT * HIGH_WATER) - 1
        engine.memory_limit.check()
        seen["below"] = (list(first.calls), list(second.calls))
        memory[0] = int(LIMIT * HIGH_WATER)
        engine.memory_limit.check()
        seen["at"] = (list(first.calls), list(second.calls))
        await until(lambda: out.started)
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        await engine.stop()

    run(scenario())
    assert seen["below"] == (["start"], ["start"])
    assert seen["at"] == (["start", "pause"], ["start", "pause"])
    assert out.records == [{"n": 1}]
    assert counters(built, "input", "manual.0")["memory_limit_pauses"] == 1
    assert counters(built, "input", "manual.1")["memory_limit_pauses"] == 1
    assert "[engine] memory 70.0MB reached 70.0MB, the high-water mark of Memory_Limit 100.0MB: pausing all inputs" \
        in logs
    assert "[input] manual.0 paused (memory limit)" in logs
    assert "[input] manual.1 paused (memory limit)" in logs


def test_inputs_resume_below_the_low_water_mark_only(run, pipeline, memory, logs):
    built, _ = pipeline(two_inputs())
    first = built.inputs[0].plugin
    out = built.outputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        first.push([{"n": 1}])  # held until the gated output lets it through
        memory[0] = LIMIT
        engine.memory_limit.check()
        memory[0] = int(LIMIT * LOW_WATER)
        engine.memory_limit.check()
        seen.append(list(first.calls))
        memory[0] = int(LIMIT * LOW_WATER) - 1
        engine.memory_limit.check()
        seen.append(list(first.calls))
        out.gate.set()
        await engine.stop()

    run(scenario())
    assert seen == [["start", "pause"], ["start", "pause", "resume"]]
    assert "[engine] memory 55.0MB below 55.0MB, the low-water mark of Memory_Limit 100.0MB: resuming all inputs" in logs
    assert "[input] manual.0 resume (memory limit)" in logs


def test_an_input_its_mem_buf_limit_holds_stays_paused_when_the_memory_limit_releases(run, pipeline, memory):
    built, _ = pipeline(two_inputs(Mem_Buf_Limit=1))
    first, second = (instance.plugin for instance in built.inputs)
    out = built.outputs[0].plugin
    seen = {}

    async def scenario():
        engine = Engine(built)
        await engine.start()
        first.push([{"n": 1}])  # over its Mem_Buf_Limit until the gated output lets it through
        memory[0] = LIMIT
        engine.memory_limit.check()
        memory[0] = 0
        engine.memory_limit.check()
        seen["released"] = (list(first.calls), list(second.calls))
        out.gate.set()
        await until(lambda: engine.pending_deliveries == 0)
        seen["delivered"] = list(first.calls)
        await engine.stop()

    run(scenario())
    assert seen["released"] == (["start", "pause"], ["start", "pause", "resume"])
    assert seen["delivered"] == ["start", "pause", "resume"]


def test_with_nothing_held_the_inputs_resume_even_above_the_low_water_mark(run, pipeline, memory, logs):
    built, _ = pipeline(two_inputs())
    first = built.inputs[0].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        memory[0] = LIMIT
        engine.memory_limit.check()
        seen.append(list(first.calls))
        engine.memory_limit.check()
        seen.append(list(first.calls))
        await engine.stop()

    run(scenario())
    assert seen == [["start", "pause"], ["start", "pause", "resume"]]
    assert ("[engine] memory 100.0MB with nothing held stays above 55.0MB, the low-water mark of Memory_Limit 100.0MB: "
            "resuming all inputs (the limit leaves little room for records)") in logs
