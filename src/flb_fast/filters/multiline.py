"""The ``multiline`` filter: join the lines of stack traces and split messages (plugins/filter_multiline/ml.c).

``mode parser`` runs the records' ``multiline.key_content`` field through the named multiline
parsers (built-in go, java, python, ruby or ``[MULTILINE_PARSER]`` sections) with the same engine
tail's ``multiline.parser`` uses (``flb_fast.parsers.multiline``). ``multiline.key_content``
replaces each parser's own ``key_content``; a parser left without one passes records unchanged.

- ``buffer on`` (the default): every record is taken out of the chunk and fed to the engine, one
  stream per (input, tag); what it completes, joined records and lines no rule claims alike, is
  re-emitted under the original tag through the filter's emitter input, so it goes through the
  filters again from the first (``cb_ml_filter``; records from the filter's own emitter pass
  untouched). Every ``flush_ms`` the groups still open are emitted as they are
  (``cb_ml_flush_timer``, which flushes every pending group, whatever its age). The input's
  positions (a tail offset) wait for the re-emitted records: each stream holds the
  acknowledgement of the batches that fed it until what it buffers from them is emitted, and the
  emitted chunks carry it (storage/joint_ack.py; Fluent Bit commits the offset regardless).
- ``buffer off``: one stream for the whole filter, and the groups still open when the chunk ends
  are flushed into it (``flb_ml_flush_pending_now``): lines are joined only within one chunk.
- ``mode partial_message`` joins Docker's split messages (``partial_message``, ``partial_id``,
  ``partial_last``, ml_concat.c): the parts' ``multiline.key_content`` values are concatenated, the
  first part's other fields (without ``partial_*`` keys) kept; a group whose last part arrived
  returns in the same chunk, one idle for ``flush_ms`` is re-emitted through the emitter. The
  batches a message's parts came from are acknowledged only once that chunk is done. The idle
  messages are looked for every ``flush_ms / 2`` milliseconds (``partial_timer_cb``); with a
  ``flush_ms`` below 2 Fluent Bit's timer never fires, and a message whose last part does not
  arrive waits until the agent stops (Fluent Bit drops it then).

Counters as Fluent Bit's: ``emit_records`` (records fed in buffered mode), ``emit_truncated``
(groups cut at ``multiline_buffer_limit``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import Any

import msgspec

from flb_fast.config.common import EMITTER_OPTIONS
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, CLIST, INT, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.parsers.multiline import Multiline, MultilineParser
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.storage.joint_ack import JointAck, current_batch
from flb_fast.tasks import cancel_and_wait

MODES = ("parser", "partial_message")
# flb_ml_auto_flush_init: "flush timeout '%i' is too low" below this many milliseconds, checked
# only in parser mode with buffer on (partial_message mode never calls it).
MIN_FLUSH_MS = 500
# ml_concat.h: FLB_MULTILINE_PARTIAL_{MESSAGE,ID,LAST}_KEY and the prefix of keys not copied.
PARTIAL_MESSAGE_KEY = "partial_message"
PARTIAL_ID_KEY = "partial_id"
PARTIAL_LAST_KEY = "partial_last"
PARTIAL_PREFIX = "partial_"

Completed = list[tuple[int, dict[str, Any]]]


def _is_true(value: Any) -> bool:
    """``ml_is_partial``: the value starts with ``true``, in any case."""
    return isinstance(value, str) and value[:4].lower() == "true"


def _is_partial_key(key: str) -> bool:
    """``ml_create_packer`` compares at most the key's own length with ``partial_``."""
    return PARTIAL_PREFIX.startswith(key) if len(key) < len(PARTIAL_PREFIX) else key.startswith(PARTIAL_PREFIX)


class _Packer:
    """One split message being joined (``struct split_message_packer``)."""

    __slots__ = ("timestamp", "record", "parts", "written", "holds")

    def __init__(self, timestamp: int, record: dict[str, Any], key: str, now: float) -> None:
        self.timestamp = timestamp
        self.record = {k: v for k, v in record.items() if k != key and not _is_partial_key(k)}
        self.parts: list[str] = []
        self.written = now
        # Holds on the acknowledgement of the batches its parts came from (storage/joint_ack.py).
        self.holds: list[JointAck] = []

    def hold(self, batch: JointAck | None) -> None:
        """Hold ``batch`` (once) until the joined message is on its way."""
        if batch is not None and (not self.holds or self.holds[-1] is not batch):
            self.holds.append(batch.hold())

    def hand_holds_to(self, batch: JointAck | None) -> None:
        """The joined message returns in ``batch``'s chunk: the batches held wait for that chunk."""
        for held in self.holds:
            if held is batch or batch is None:
                held.release()
            else:
                batch.positions.append(held)
        self.holds = []

    def complete(self, key: str) -> tuple[int, dict[str, Any]]:
        self.record[key] = "".join(self.parts)
        return self.timestamp, self.record


class MultilineFilter(Filter):
    name = "multiline"
    description = "Concatenate multiline messages"
    OPTIONS = OptionTable(
        Option("debug_flush", BOOL, "false", "print each joined record to stdout as it is flushed"),
        Option("buffer", BOOL, "true", "take records out of the chunk and re-emit them joined through "
               "an emitter input (needed for inputs that emit records one by one)"),
        Option("mode", STR, "parser", "parser (join by multiline parser rules) or partial_message "
               "(join Docker's split messages)"),
        Option("flush_ms", INT, "2000", "milliseconds after which pending groups are emitted"),
        Option("multiline.parser", CLIST, None, "multiline parsers tried in order: go, java, python, ...",
               multi=True),
        Option("multiline.key_content", STR, None, "field holding the text to join"),
    ) + EMITTER_OPTIONS

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        mode = options.mode.strip().lower()
        if mode not in MODES:
            raise PluginConfigError("mode", "'Mode' must be 'partial_message' or 'parser'")
        self.partial_mode = mode == "partial_message"
        self.buffered: bool = options.buffer
        self.key_content: str | None = options.multiline_key_content
        self.flush_seconds = options.flush_ms / 1000
        # The partial_message timer's period: the C int division of ml.c's flb_sched_timer_cb_create call.
        self.partial_period_ms = int(options.flush_ms / 2)
        self.config_warnings: list[tuple[str, str]] = []
        if options.debug_flush:
            self.config_warnings.append(("debug_flush", "option 'debug_flush' is not supported yet by flb_fast: "
                                                        "ignored"))
        if self.partial_mode and not self.key_content:
            raise PluginConfigError("multiline.key_content",
                                    "'Mode' 'partial_message' requires 'multiline.key_content'")
        if self.buffered and not self.partial_mode and options.flush_ms < MIN_FLUSH_MS:
            raise PluginConfigError("flush_ms", f"flush timeout '{options.flush_ms}' is too low")
        if self.partial_mode and self.partial_period_ms <= 0:
            self.config_warnings.append(("flush_ms", f"flush_ms {options.flush_ms} in 'partial_message' 'Mode': "
                                                     "split messages never time out; one whose last part does "
                                                     "not arrive is emitted when the agent stops"))
        if self.partial_mode and not self.buffered:
            # Fluent Bit 4.2.8 logs this and starts anyway: ml_filter_partial joins the parts as
            # with Buffer On, and a message whose parts time out crashes it (its emitter was never
            # made). Here such a message goes out through the emitter, as with Buffer On.
            self.config_warnings.append(("buffer", "'partial_message' 'Mode' requires 'Buffer' to be 'On': "
                                                   "Buffer On is used"))
            self.buffered = True
        names = [name for group in options.multiline_parser for name in group]
        if not self.partial_mode and not names:
            raise PluginConfigError("multiline.parser",
                                    "The default 'Mode' 'parser' requires at least one 'multiline.parser'")
        parsers: list[MultilineParser] = []
        for name in names:
            parser = ctx.parsers.get_multiline(name)
            if parser is None:
                raise PluginConfigError("multiline.parser", f"multiline parser '{name}' is not registered")
            if self.key_content:
                parser = msgspec.structs.replace(parser, key_content=self.key_content)
            if parser.key_content:
                parsers.append(parser)
        # With no key to read, a parser passes every record through: an empty list does just that.
        self.parsers = parsers
        # Buffered mode: one engine per stream, so that a flush knows each record's input and tag.
        self._engines: dict[Hashable, Multiline] = {}
        # Buffered mode: per stream, holds on the acknowledgement of every batch that fed it
        # (storage/joint_ack.py), kept until what the stream buffers from them is emitted.
        self._holds: dict[Hashable, list[JointAck]] = {}
        self._packers: dict[tuple[str, str | None, Hashable], _Packer] = {}
        self._timer: asyncio.Task[None] | None = None
        self.ctx.metrics.setdefault("emit_truncated", 0)
        if self.buffered:
            self.ctx.metrics.setdefault("emit_records", 0)

    @property
    def uses_emitter(self) -> bool:
        return self.buffered

    async def start(self) -> None:
        if self.emitter is not None:
            self.emitter.on_stop = self.flush_pending
        if self.buffered and (not self.partial_mode or self.partial_period_ms > 0):
            self._timer = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        await cancel_and_wait(self._timer)
        self._timer = None

    async def _tick(self) -> None:
        # Partial messages are looked at twice per flush_ms (partial_timer_cb), groups once.
        period = self.partial_period_ms / 1000 if self.partial_mode else self.flush_seconds
        while True:
            await asyncio.sleep(period)
            if self.partial_mode:
                self._flush_packers(time.monotonic() - self.flush_seconds)
            else:
                self.flush_pending()

    def flush_pending(self) -> None:
        """Emit every open group as it is (the flush timer, and the agent stopping)."""
        if self.partial_mode:
            self._flush_packers(None)
            return
        for stream, engine in list(self._engines.items()):
            completed = engine.flush_all()
            self._emit(stream, completed)
            if not completed:  # idle for a whole period: forgotten, so that streams that come and go do not pile up
                del self._engines[stream]

    def _engine(self, stream: Hashable) -> Multiline:
        engine = self._engines.get(stream)
        if engine is None:
            engine = self._engines[stream] = Multiline(
                self.parsers, default_key=self.key_content or "", buffer_limit=self.ctx.service.multiline_buffer_limit)
        return engine

    def _emit(self, stream: Hashable, completed: Completed) -> None:
        """Re-emit ``completed``; it holds the batches that fed the stream. A stream that buffers
        nothing more gives their holds up (a group may span batches: until then it keeps them)."""
        holds = self._holds.pop(stream, [])
        engine = self._engines.get(stream)
        buffering = engine is not None and engine.pending() > 0
        if buffering:
            self._holds[stream] = holds
        if not completed:
            if not buffering:
                for hold in holds:
                    hold.release()
            return
        assert self.emitter is not None and isinstance(stream, tuple)
        sender, tag = stream
        self.emitter.add(tag, [ts for ts, _ in completed], [record for _, record in completed], sender,
                         [hold.hold() for hold in holds] if buffering else holds)

    async def filter(self, chunk: Chunk) -> Chunk | None:
        if self.emitter is not None and chunk.input_name == self.emitter.instance_name:
            return chunk
        if self.partial_mode:
            return self._filter_partial(chunk)
        stream = (chunk.input_name, chunk.tag) if self.buffered else None
        engine = self._engine(stream)
        truncated = engine.truncated
        completed: Completed = []
        for timestamp, record in zip(chunk.timestamps, chunk.records, strict=True):
            completed.extend(engine.feed(stream, timestamp, record))
        if not self.buffered:
            completed.extend(engine.flush_all())
        self._count_truncated(engine.truncated - truncated)
        if not self.buffered:
            chunk.timestamps = [ts for ts, _ in completed]
            chunk.records = [record for _, record in completed]
            return chunk
        self.ctx.metrics.inc("emit_records", len(chunk))
        batch = current_batch()
        if batch is not None:
            self._holds.setdefault(stream, []).append(batch.hold())
        self._emit(stream, completed)
        return None

    def _count_truncated(self, cut: int) -> None:
        if cut:
            self.ctx.log.warning("multiline message truncated due to buffer limit")
            self.ctx.metrics.inc("emit_truncated", cut)

    def _filter_partial(self, chunk: Chunk) -> Chunk | None:
        """``ml_filter_partial``: parts are held, a message whose last part came returns here."""
        key = self.key_content
        assert key is not None
        now = time.monotonic()
        batch = current_batch()
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        partial_records = 0
        for timestamp, record in zip(chunk.timestamps, chunk.records, strict=True):
            value = record.get(key)
            if _is_true(record.get(PARTIAL_MESSAGE_KEY)) and isinstance(value, str):
                partial_id = record.get(PARTIAL_ID_KEY)
                if partial_id is not None:
                    partial_records += 1
                    packer_key = (chunk.tag, chunk.input_name, str(partial_id))
                    packer = self._packers.get(packer_key)
                    if packer is None:
                        packer = self._packers[packer_key] = _Packer(timestamp, record, key, now)
                    packer.parts.append(value)
                    packer.written = now
                    packer.hold(batch)
                    if _is_true(record.get(PARTIAL_LAST_KEY)):
                        del self._packers[packer_key]
                        packer.hand_holds_to(batch)
                        ts, joined = packer.complete(key)
                        timestamps.append(ts)
                        records.append(joined)
                    continue
                self.ctx.log.warning("Could not find partial_id but partial_message key is FLB_TRUE for record "
                                     "with tag %s", chunk.tag)
            timestamps.append(timestamp)
            records.append(record)
        if not partial_records:
            return chunk
        if not records:
            return None
        chunk.timestamps, chunk.records = timestamps, records
        return chunk

    def _flush_packers(self, idle_before: float | None) -> None:
        """Emit the split messages last written before ``idle_before`` (all of them when None)."""
        assert self.key_content is not None
        by_stream: dict[Hashable, Completed] = {}
        for packer_key, packer in list(self._packers.items()):
            if idle_before is not None and packer.written >= idle_before:
                continue
            del self._packers[packer_key]
            tag, sender, _ = packer_key
            by_stream.setdefault((sender, tag), []).append(packer.complete(self.key_content))
            self._holds.setdefault((sender, tag), []).extend(packer.holds)
        for stream, completed in by_stream.items():
            self._emit(stream, completed)
