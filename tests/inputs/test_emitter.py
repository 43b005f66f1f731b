"""The emitter input a re-emitting filter owns: what it hands the engine, and how its pause
reaches the inputs whose records it re-emits (Fluent Bit's in_emitter cb_emitter_pause/resume)."""

from __future__ import annotations

import asyncio

from flb_fast.inputs.emitter import EmitterInput
from flb_fast.record import Chunk
from tests.engine.plugins import ManualInput
from tests.standalone import plugin_for


def emitter_with(*names: str) -> tuple[EmitterInput, dict[str, ManualInput], list[Chunk]]:
    emitted: list[Chunk] = []
    senders = {name: plugin_for(ManualInput) for name in names}
    bound = plugin_for(EmitterInput, emit=emitted.append)
    return EmitterInput(bound.ctx, bound.options, senders), senders, emitted


def test_records_are_emitted_as_one_chunk_sized_by_their_msgpack_encoding():
    emitter, _, emitted = emitter_with("tail.0")
    emitter.add("new.tag", [1, 2], [{"a": "b"}, {"a": "c"}], "tail.0")
    (chunk,) = emitted
    # msgpack: array header (1) + two maps of one pair (1 + 2 + 2 each)
    assert (chunk.tag, chunk.timestamps, chunk.records, chunk.size) == ("new.tag", [1, 2], [{"a": "b"}, {"a": "c"}], 11)


def test_pausing_the_emitter_pauses_the_inputs_it_emitted_for_and_resuming_resumes_them():
    emitter, senders, _ = emitter_with("tail.0", "tail.1")
    emitter.add("t", [1], [{}], "tail.0")
    emitter.pause()
    assert (senders["tail.0"].calls, senders["tail.1"].calls) == (["pause"], [])
    emitter.resume()
    assert senders["tail.0"].calls == ["pause", "resume"]


def test_an_input_first_seen_while_paused_is_paused_at_once():
    emitter, senders, emitted = emitter_with("tail.0")
    emitter.pause()
    emitter.add("t", [1], [{}], "tail.0")
    assert senders["tail.0"].calls == ["pause"]
    assert len(emitted) == 1


def test_an_input_paused_by_someone_else_is_not_resumed_by_the_emitter():
    emitter, senders, _ = emitter_with("tail.0")
    emitter.add("t", [1], [{}], "tail.0")
    senders["tail.0"].pause()
    emitter.pause()
    emitter.resume()
    assert senders["tail.0"].calls == ["pause"]
    assert senders["tail.0"].paused


def test_stopping_runs_the_owning_filters_hook():
    emitter, _, _ = emitter_with()
    stopped: list[bool] = []
    emitter.on_stop = lambda: stopped.append(True)
    asyncio.run(emitter.stop())
    assert stopped == [True]
