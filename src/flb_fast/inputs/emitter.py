"""``emitter``: the private input through which a filter re-emits records (Fluent Bit's plugins/in_emitter).

A filter that emits records under a new tag (``rewrite_tag``) or emits records it held back
(``multiline`` in buffered mode) gets one emitter instance of its own, created at pipeline build
time (``emitter_create`` in filter_rewrite_tag/rewrite_tag.c and filter_multiline/ml.c), named by
the filter's ``Emitter_Name`` (default ``emitter_for_<filter>``), with its own ``records``/``bytes``
counters and its own ``Mem_Buf_Limit`` (``Emitter_Mem_Buf_Limit``). Records it emits enter the
engine as any input's do: every filter matching their tag runs on them, from the first, then
they are routed by that tag.

``InlineEmitter`` stands in for it when the filter runs in an input's ``processors`` list: the
records then go back into that input, after the filter's own stage.

An emitted chunk holds the acknowledgement of the batch its records came from
(storage/joint_ack.py): the sender's positions, a tail offset, are committed only once the
re-emitted records are done too.

A user cannot configure it (Fluent Bit flags it ``FLB_INPUT_PRIVATE``), so it is not in the
registry. When the engine pauses it (its bytes reached the limit), it pauses the inputs whose
records it has re-emitted, as ``cb_emitter_pause`` does, and resumes them with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from flb_fast.config.options import OptionTable
from flb_fast.inputs.base import Input
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.storage.joint_ack import current_batch

if TYPE_CHECKING:
    from flb_fast.engine.pipeline import InputInstance

_encode = msgspec.msgpack.Encoder().encode


class EmitterInput(Input):
    name = "emitter"
    description = "Record Emitter"
    OPTIONS = OptionTable()

    def __init__(self, ctx: PluginContext, options: Any, inputs: Mapping[str, Input] | None = None) -> None:
        super().__init__(ctx, options)
        # Every input of the pipeline by instance name, filled in once the pipeline is built:
        # a chunk names the input it came from, and that input is the one to pause.
        self._inputs: Mapping[str, Input] = inputs if inputs is not None else {}
        self._senders: dict[str, Input] = {}
        self._paused_senders: list[Input] = []
        # The owning filter's hook that emits what it still holds when the agent stops.
        self.on_stop: Callable[[], None] | None = None

    @property
    def instance_name(self) -> str:
        return self.ctx.instance

    def add(self, tag: str, timestamps: list[int], records: list[dict[str, Any]], sender: str | None,
            positions: list[Any] | None = None) -> None:
        """Emit records under ``tag`` on behalf of the input named ``sender``.

        ``positions``: what acknowledging the emitted chunk releases (``JointAck`` holds); by
        default a hold on the batch being filtered now.

        Their size, counted as ``bytes`` and held against the limit, is their msgpack size, as
        the emitter's chunks are in Fluent Bit (without the per-record time and metadata header).

        ``in_emitter_add_record``: a sender seen for the first time while the emitter is paused
        is paused at once. The records are accepted even when paused: the senders stop, so what
        arrives meanwhile is bounded by what they had already read, and nothing is dropped.
        """
        if sender is not None and sender not in self._senders:
            source = self._inputs.get(sender)
            if source is not None and source is not self:
                self._senders[sender] = source
                if self.paused and not source.paused:
                    source.pause()
                    self._paused_senders.append(source)
        assert self.ctx.emit is not None
        self.ctx.emit(Chunk(tag, timestamps, records, len(_encode(records)),
                            positions=_holds() if positions is None else positions))

    def pause(self) -> None:
        super().pause()
        for source in self._senders.values():
            if not source.paused:
                source.pause()
                self._paused_senders.append(source)

    def resume(self) -> None:
        super().resume()
        paused, self._paused_senders = self._paused_senders, []
        for source in paused:
            source.resume()

    async def start(self) -> None:
        """Nothing to open: records arrive through ``add``."""

    async def stop(self) -> None:
        if self.on_stop is not None:
            self.on_stop()


class InlineEmitter:
    """What a re-emitting filter in an input's processors list emits through: the records go back
    into that input after the filter's own stage (``ingest_inline`` in rewrite_tag.c and ml.c), so
    they are counted by that input and never reach the filter again."""

    def __init__(self, owner: InputInstance, stage: int, processor: str) -> None:
        self.owner = owner
        self.stage = stage
        self._name = f"{owner.name}:{processor}"
        self.on_stop: Callable[[], None] | None = None

    @property
    def instance_name(self) -> str:
        return self._name

    def add(self, tag: str, timestamps: list[int], records: list[dict[str, Any]], sender: str | None,
            positions: list[Any] | None = None) -> None:
        """As ``EmitterInput.add``."""
        self.owner.emit_after(self.stage, Chunk(tag, timestamps, records, len(_encode(records)),
                                                positions=_holds() if positions is None else positions))


def _holds() -> list[Any]:
    """A hold on the batch being filtered now, as an emitted chunk's positions (none outside filtering)."""
    batch = current_batch()
    return [] if batch is None else [batch.hold()]
