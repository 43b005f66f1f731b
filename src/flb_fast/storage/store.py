"""``ChunkStore``: every chunk from the input's emit until the last matching output is done with it.

Fluent Bit splits this between ``flb_input_chunk.c`` (open chunks per input and tag, byte
accounting, pause at the limits) and ``flb_task.c`` (which outputs a chunk still goes to); one
object here owns both, so that a chunk's bytes, its file and its input's positions are released
at one place: when the chunk is done for every output.

- Bytes are *held* against ``Mem_Buf_Limit`` from the emit until the chunk is done (or goes down
  to disk), as Fluent Bit's ``mem_chunks_size``; reaching the limit pauses the input. They are
  what the records cost in memory (``footprint``), estimated at the emit and again once the
  filters have run, not the bytes read: the records wait for the outputs as Python objects
  (through filters, one batch in MEASURE_BATCHES of a tag is measured, the others count as their
  bytes read times what the tag's measured batches cost per byte). A
  filesystem input's chunks are not limited so (they go down instead), except those whose file
  the disk refused (full, read-only): they stay in memory and their bytes count against it.
- The process's own ``Memory_Limit`` (``engine.memory_limit``) pauses every input at once through
  ``hold_inputs``; an input resumes only when neither its limit nor that one holds it.
- A chunk records the outputs that have not yet taken it. ``done(stored, output)`` strikes one
  out (accepted, or dropped for good after its retries); with none left the chunk's bytes are
  released, its file removed and the input acknowledged.
- Acknowledgement: the input's positions (``Chunk.positions``) go back to it through
  ``Input.acknowledge`` once the records cannot be lost any more: when every output has them
  (memory storage), or as soon as they are written to a chunk file (filesystem storage). A batch
  whose records a filter re-emitted waits for the re-emitted chunks as well (joint_ack.py).
- Filesystem chunks: at most ``storage.max_chunks_up`` of them have their records in memory; the
  others wait on disk ("down") and are brought up, oldest first, when a slot frees.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from flb_fast.engine.pipeline import InputInstance, OutputInstance
from flb_fast.log import component_logger
from flb_fast.outputs.base import FlushResult
from flb_fast.record import Chunk
from flb_fast.storage.footprint import footprint
from flb_fast.storage.joint_ack import acknowledge
from flb_fast.storage.memory import MemoryBackend

if TYPE_CHECKING:  # imported by the engine only when storage.path is set
    from flb_fast.storage.filesystem import ChunkFile, FilesystemBackend

# Fluent Bit closes a chunk once it holds about 2 MB (FLB_INPUT_CHUNK_FS_MAX_SIZE, 2048000,
# include/fluent-bit/flb_input_chunk.h), so no single chunk grows without bound.
CHUNK_MAX_BYTES = 2_048_000


# Filtered batches of a tag the estimate of what its batches cost in memory follows (a moving average
# of bytes of records per byte read, before and after the filters). It is learned per tag because it
# depends on what the tag's records are: on bench_pipeline's kubernetes workload the filter's merged
# JSON records measured 2.3 times the Docker records they came from, the plain and nginx pods' 1.01
# times, and one pod's batches within 1-2% of each other; a single average over all tags missed every
# batch by a third or more, and the input held up to 7.7 MB against Mem_Buf_Limit 5MB (per tag, and
# waiting for the first batch: 6.2-6.5 MB, as a whole read's batch went over the limit; near the limit tail
# now reads only what the room left holds, ``inputs/tail`` ``_read_limit``, and the input held at most 5.6 MB).
GROWTH_BATCHES = 8
# A batch is measured (``footprint``) on its way to the filters and again once through them once in
# this many of its tag's; the others count as their bytes read times what the tag's measured batches
# cost per byte. Measuring every batch twice took 5% of the agent's instructions on bench_pipeline's
# kubernetes workload (callgrind). There, every filtered batch measured and predicted from the moving
# average of its tag's earlier ones: 2.3% off for the median batch, 12.8% at the 90th percentile, 33%
# at most (plain-text pods, whose share of 4-16 KB lines decides a batch), and the predicted bytes of
# the whole run 0.2% under the measured.
MEASURE_BATCHES = 8
# Tags whose growth an input remembers at most; past it they are learned anew. A tail input on a
# node has a tag per container log: a few hundred pods with a few containers each, for which the
# kubernetes filter keeps 4,096 cache entries (its MAX_CACHED_ENTRIES).
MAX_GROWTH_TAGS = 4096


class PerByteRate:
    """What a tag's batches cost in memory per byte read at one point of their way (before or after
    the filters): a moving average over about GROWTH_BATCHES measured batches, and the batches
    counted at it since one was measured."""

    __slots__ = ("rate", "measured", "unmeasured")

    def __init__(self) -> None:
        self.rate = 0.0
        self.measured = 0
        self.unmeasured = 0

    def learn(self, per_byte: float) -> None:
        """A measured batch's cost per byte read."""
        self.measured = min(self.measured + 1, GROWTH_BATCHES)
        self.rate += (per_byte - self.rate) / self.measured
        self.unmeasured = 0

    def counts_next(self) -> bool:
        """Whether the next batch counts at ``rate`` instead of being measured (it is, once in
        MEASURE_BATCHES, and while nothing is learned); if so, it is counted as such."""
        if self.measured and self.unmeasured < MEASURE_BATCHES - 1:
            self.unmeasured += 1
            return True
        return False


class TagGrowth:
    """What one tag's batches cost in memory per byte read, before the filters and after them."""

    __slots__ = ("before", "after")

    def __init__(self) -> None:
        self.before = PerByteRate()
        self.after = PerByteRate()

    def filtered_rate(self, top_growth: float) -> float:
        """What a batch will cost per byte read once filtered: as learned, or, before any of the
        tag's batches has been through the filters, ``top_growth`` (the most any tag's cost)."""
        return self.after.rate if self.after.measured else top_growth


class ChunkDropped(Exception):
    """The output no longer owes this chunk: it was dropped for it (``storage.total_limit_size``)."""


class StoredChunk:
    """One chunk: its records (``None`` while down on disk), where they came from and who still owes it."""

    __slots__ = ("id", "tag", "chunk", "source", "held", "size", "records", "positions", "owed", "file", "backlog",
                 "created", "stranded")

    def __init__(self, chunk_id: int, tag: str, source: InputStore) -> None:
        self.id = chunk_id
        self.tag = tag
        self.chunk: Chunk | None = None
        self.source = source
        # Bytes of memory its records hold against the input's limit (their footprint, not chunk.size).
        self.held = 0
        self.size = 0
        self.records = 0
        # Positions to acknowledge when the chunk is done (those not yet made safe on disk).
        self.positions: list[Any] = []
        self.owed: set[OutputInstance] = set()
        self.file: ChunkFile | None = None
        self.backlog = False
        # When it was opened (monotonic), for the delivery latency Fluent Bit reports per route.
        self.created = time.monotonic()
        # Its file was refused by the disk: its records stay in memory until delivered.
        self.stranded = False

    @property
    def up(self) -> bool:
        return self.chunk is not None


class InputStore:
    """One input's open chunks, the bytes it holds and its backend (``storage.type``)."""

    __slots__ = ("instance", "backend", "limit", "held", "stranded", "open", "paused", "paused_by", "chunks",
                 "pause_on_chunks_overlimit", "growth", "top_growth", "learning", "filtering")

    def __init__(self, instance: InputInstance, backend: MemoryBackend | FilesystemBackend) -> None:
        self.instance = instance
        self.backend = backend
        # Fluent Bit applies Mem_Buf_Limit to memory inputs only (flb_input_chunk_protect): a
        # filesystem input's records wait on disk instead, bounded by storage.max_chunks_up.
        self.limit = 0 if backend.durable else instance.mem_buf_limit
        self.held = 0
        # Per tag, what its batches cost in memory per byte read, before and after the filters; the
        # most any tag's filtered batches cost per byte, for a tag not seen yet (0 until a batch of the
        # input has been through the filters); whether the input waits for that first batch; and the
        # bytes read of each batch still in the filters, in order.
        self.growth: dict[str, TagGrowth] = {}
        self.top_growth = 0.0
        self.learning = False
        self.filtering: deque[int] = deque()
        # Bytes of the chunks the disk refused, which cannot go down: held against Mem_Buf_Limit.
        self.stranded = 0
        self.open: dict[str, StoredChunk] = {}
        self.paused = False
        # What paused it: its memory limit ("mem") or storage.max_chunks_up ("storage"); each
        # resumes with its own line, as Fluent Bit's mem_buf_status and storage_buf_status do.
        self.paused_by = ""
        # Every chunk of this input not yet done: open, up or down.
        self.chunks: dict[int, StoredChunk] = {}
        options = instance.options
        self.pause_on_chunks_overlimit = backend.durable and bool(
            getattr(options, "storage_pause_on_chunks_overlimit", False))

    @property
    def mem_size(self) -> int:
        """What the pause and resume lines report as the input's memory (Fluent Bit's ``mem_chunks_size``)."""
        return max(self.held, self.stranded)

    @property
    def over_limit(self) -> bool:
        """The input's records reach its limit."""
        return 0 < self.limit <= self.held or 0 < self.instance.mem_buf_limit <= self.stranded


class InputUsage(Struct, frozen=True):
    """One input's chunks and bytes in memory, at one moment."""

    name: str
    filesystem: bool
    overlimit: bool
    mem_size: int
    mem_limit: int
    total: int
    up: int
    busy: int
    busy_size: int
    paused: bool = False


class ChunkStore:
    """The engine's storage layer; see the module docstring."""

    def __init__(self, service: Any, inputs: list[InputInstance], filesystem: FilesystemBackend | None) -> None:
        self.max_chunks_up = max(1, int(service.storage_max_chunks_up))
        self.backlog_mem_limit = int(service.storage_backlog_mem_limit)
        self.filesystem = filesystem
        self.log = component_logger("storage")
        self._input_log = component_logger("input")
        memory = MemoryBackend()
        self.inputs: dict[InputInstance, InputStore] = {}
        for instance in inputs:
            durable = _storage_type(instance) == "filesystem" and filesystem is not None
            self.inputs[instance] = InputStore(instance, filesystem if durable and filesystem else memory)
        self._ids = itertools.count(1)
        # Filesystem chunks dispatched with their records in memory, and those waiting to come up.
        self.up_chunks: set[StoredChunk] = set()
        self._waiting: deque[tuple[StoredChunk, asyncio.Future[None]]] = deque()
        self._loading: dict[StoredChunk, asyncio.Future[None]] = {}
        self._load_tasks: set[asyncio.Task[None]] = set()
        # storage.total_limit_size: per output with a limit, its filesystem chunks (oldest first) and their bytes.
        self._queued: dict[OutputInstance, dict[StoredChunk, None]] = {}
        self._queued_bytes: dict[OutputInstance, int] = {}
        # Every input paused by the process's Memory_Limit (hold_inputs).
        self.inputs_held = False
        # Whether an input waits for its first batch to go through the filters (``received``). Not
        # with an emitter (rewrite_tag, multiline): it pauses the inputs it re-emits for itself
        # (``cb_emitter_pause``), except those already paused, so a wait of the store's own that
        # ends while the emitter is paused would let them run on.
        self.wait_for_first_batch = not any(instance.emitter_of is not None for instance in inputs)

    # -- from the input's emit to the open chunk ----------------------------------------------

    def received(self, instance: InputInstance, chunk: Chunk, filtering: bool = False) -> int:
        """Hold an emitted batch's memory against its input's limit (pausing it there); the bytes held.

        A batch on its way to the filters (``filtering``; ``refit`` follows once they have run)
        counts against the limit for what its records will cost once filtered, and never less than
        they cost now, as far as the earlier batches of its tag tell per byte read
        (``InputStore.growth``; a tag not seen yet, as much as the most any tag's filtered batches
        cost): Fluent Bit runs the filters before it counts a chunk's bytes
        (``flb_input_chunk_append_raw``), so its limit holds filtered records. The batch itself is
        measured once in MEASURE_BATCHES of its tag's (and always while its tag is new). Until a
        first batch of the input has been through the filters nothing tells, so the input waits for
        it, as Fluent Bit's does (its filters run in the input's own append, a kubernetes filter's
        metadata request included).
        """
        source = self.inputs[instance]
        if not filtering:
            held = footprint(chunk)
        else:
            size = chunk.size
            source.filtering.append(size)
            learned = source.growth.get(chunk.tag) if size > 0 else None
            if learned is not None and learned.before.counts_next():
                held = round(size * max(learned.before.rate, learned.filtered_rate(source.top_growth)))
            else:
                held = footprint(chunk)
                if size > 0:
                    if learned is None:
                        learned = self._learned(source, chunk.tag)
                    learned.before.learn(held / size)
                    held = max(held, round(size * learned.filtered_rate(source.top_growth)))
            if not source.top_growth and not source.learning and self.wait_for_first_batch:
                source.learning = True
                if not source.paused:
                    source.instance.plugin.pause()
        self._hold(source, held)
        return held

    def refit(self, instance: InputInstance, chunk: Chunk | None, held: int) -> int:
        """The filters have run on a batch held for ``held`` bytes: hold what its records cost now
        (nothing when they dropped them all, ``chunk`` None): measured once in MEASURE_BATCHES of
        its tag's filtered batches (and always while its tag is new), which teach what they cost per
        byte read; the others count as their bytes read times that."""
        source = self.inputs[instance]
        size = source.filtering.popleft()
        if chunk is None:
            now = 0
        elif size <= 0:
            now = footprint(chunk)
        else:
            learned = source.growth.get(chunk.tag) or self._learned(source, chunk.tag)
            if learned.after.counts_next():
                now = round(size * learned.after.rate)
            else:
                now = footprint(chunk)
                learned.after.learn(now / size)
                source.top_growth = max(source.top_growth, learned.after.rate)
        source.held += now - held
        self._check_limit(source, now)
        if source.learning:
            # The first batch is through: the input goes on (a batch the filters dropped whole
            # taught nothing, and the next one waits as this one did).
            source.learning = False
            if not source.paused:
                source.instance.plugin.resume()
        self._maybe_resume(source)
        return now

    @staticmethod
    def _learned(source: InputStore, tag: str) -> TagGrowth:
        """A new entry of ``tag`` in ``source.growth`` (which forgets every tag past MAX_GROWTH_TAGS)."""
        if len(source.growth) >= MAX_GROWTH_TAGS:
            source.growth.clear()
        learned = source.growth[tag] = TagGrowth()
        return learned

    def _hold(self, source: InputStore, held: int) -> None:
        source.held += held
        self._check_limit(source, held)

    def over_limit(self, instance: InputInstance) -> bool:
        return self.inputs[instance].over_limit

    def open_due(self, instance: InputInstance) -> bool:
        """Whether the input's open chunks go to the outputs now rather than at the flush timer's
        tick: when its open chunks alone hold its whole limit.

        Fluent Bit sends open chunks at its flush timer's tick only (``flb_engine_flush``): an input
        paused at its limit waits for it. Here, until the open chunks alone reach the limit, the rest
        of what the input holds is in flight or in the filters: deliveries end and release it (the
        input resumes, and its open chunks keep taking batches) or batches reach their open chunks
        (and this is asked again), so the input never waits on the timer for room, and its chunks
        are not cut at every pause. Sending them at every pause made chunks of a read or two each
        once tail cut its reads to the room left: 1,700 PutLogEvents per 200,000 lines instead of
        349 (bench_pipeline --variant cloudwatch-fast); sending them once they held half the limit,
        500-520 PutRecordBatch instead of 489 (firehose-fast). A filesystem input is over its limit
        only with chunks the disk refused, which cannot go down: its open chunks go at once.
        """
        source = self.inputs[instance]
        if not source.over_limit:
            return False
        if source.backend.durable:
            return True
        return sum(stored.held for stored in source.open.values()) >= source.limit

    def paused(self, instance: InputInstance) -> bool:
        """The input is paused by its memory or storage limit."""
        return self.inputs[instance].paused

    def discard(self, instance: InputInstance, held: int, positions: list[Any]) -> None:
        """A batch no output will get (filtered out, or no route): release it and acknowledge it."""
        source = self.inputs[instance]
        self._release(source, held)
        self._acknowledge(source, positions)

    def append(self, instance: InputInstance, chunk: Chunk, held: int, positions: list[Any]) -> bool:
        """Add a routed batch to its tag's open chunk; True when that chunk is now full."""
        source = self.inputs[instance]
        stored = source.open.get(chunk.tag)
        chunk.positions = []
        if stored is None:
            stored = StoredChunk(next(self._ids), chunk.tag, source)
            chunk.id = stored.id
            chunk.input_name = instance.name
            stored.chunk = chunk
            stored.file = source.backend.create(stored.id, chunk.tag, instance.name)
            source.open[chunk.tag] = stored
            source.chunks[stored.id] = stored
        else:
            assert stored.chunk is not None
            stored.chunk.extend(chunk)
        stored.held += held
        if stored.stranded:
            source.stranded += held
        stored.size += chunk.size
        stored.records += len(chunk)
        if stored.file is not None and not stored.file.failed:
            source.backend.write(stored.file, chunk, lambda ok: self._written(stored, positions, ok))
        else:
            stored.positions.extend(positions)
            if stored.file is not None:
                self._strand(stored)
        return stored.size >= CHUNK_MAX_BYTES

    def _written(self, stored: StoredChunk, positions: list[Any], ok: bool) -> None:
        """A batch reached its chunk file: its records survive a crash, so the input may move on.
        So may it if every output already had the chunk when the storage thread's answer came."""
        if ok or stored.source.chunks.get(stored.id) is not stored:
            self._acknowledge(stored.source, positions)
        else:
            # The disk refused it (full, read-only): the records stay in memory and are
            # acknowledged once delivered, as memory storage does.
            stored.positions.extend(positions)
            self._strand(stored)
        self._maybe_put_down(stored)

    def _strand(self, stored: StoredChunk) -> None:
        """``stored`` cannot go down to disk: its bytes count against its input's Mem_Buf_Limit from now on."""
        if stored.stranded or stored.chunk is None:
            return
        stored.stranded = True
        stored.source.stranded += stored.held
        self._check_limit(stored.source, stored.held)

    def open_tags(self, instance: InputInstance) -> list[str]:
        return list(self.inputs[instance].open)

    def close(self, instance: InputInstance, tag: str, outputs: list[OutputInstance]) -> StoredChunk | None:
        """The open chunk of (input, tag) stops taking batches and goes to ``outputs`` (see ``dispatch``)."""
        source = self.inputs[instance]
        stored = source.open.pop(tag)
        if stored.file is not None:
            source.backend.seal(stored.file)
        return stored if self.dispatch(stored, outputs) else None

    def dispatch(self, stored: StoredChunk, outputs: list[OutputInstance]) -> bool:
        """Record which outputs owe ``stored``; False (and the chunk is done) when none does.

        A filesystem chunk in memory takes a free ``storage.max_chunks_up`` slot, or goes down.
        """
        stored.owed = set(outputs)
        if not stored.owed:
            self._finish(stored)
            return False
        if stored.file is not None:
            for output in outputs:
                if output.options.storage_total_limit_size is not None:
                    self._queue_for(output, stored)
        if stored.file is not None and stored.chunk is not None:
            if len(self.up_chunks) < self.max_chunks_up:
                self.up_chunks.add(stored)
            else:
                self._maybe_put_down(stored)
            self._check_chunks_overlimit(stored.source)
        return True

    def _queue_for(self, output: OutputInstance, stored: StoredChunk) -> None:
        """Count ``stored`` against the output's ``storage.total_limit_size``; drop its oldest chunks beyond it.

        As Fluent Bit's ``flb_input_chunk_find_space_new_data``: the oldest chunks queued for the
        output go first, and never a chunk being flushed (here: one in memory for its delivery).
        """
        limit = output.options.storage_total_limit_size
        queue = self._queued.setdefault(output, {})
        queue[stored] = None
        total = self._queued_bytes[output] = self._queued_bytes.get(output, 0) + stored.size
        for old in list(queue):
            if total <= limit:
                break
            if old is stored or old in self.up_chunks:
                continue
            total -= old.size
            self._unqueue(output, old)
            output.ctx.metrics.inc("dropped_records", old.records)
            self.log.warning("chunk %d of %s (%d records) dropped for %s: storage.total_limit_size %d bytes reached",
                             old.id, old.source.instance.display_name, old.records, output.display_name, limit)
            old.owed.discard(output)
            if not old.owed:
                self._finish(old)

    def _unqueue(self, output: OutputInstance, stored: StoredChunk) -> None:
        queue = self._queued.get(output)
        if queue is not None and queue.pop(stored, False) is None:
            self._queued_bytes[output] -= stored.size

    # -- delivery ---------------------------------------------------------------------------

    async def bring_up(self, stored: StoredChunk, output: OutputInstance) -> Chunk:
        """The chunk's records for ``output``; a filesystem chunk first waits for one of
        ``storage.max_chunks_up`` slots (oldest waiting first) and is read back from its file if it
        went down. Raises ``ChunkDropped`` when the output no longer owes it (storage.total_limit_size)."""
        if stored.file is not None:
            while stored not in self.up_chunks:
                if output not in stored.owed:
                    raise ChunkDropped(stored.id)
                loading = self._loading.get(stored)
                if loading is None:
                    loading = self._loading[stored] = asyncio.get_running_loop().create_future()
                    self._waiting.append((stored, loading))
                    self._bring_up_waiting()
                await asyncio.shield(loading)
        if output not in stored.owed:
            raise ChunkDropped(stored.id)
        assert stored.chunk is not None
        return stored.chunk

    def done(self, stored: StoredChunk, output: OutputInstance, result: FlushResult) -> None:
        """``output`` accepted ``stored`` (OK) or dropped it for good (ERROR, counted by the delivery);
        the last output to decide finishes the chunk."""
        if result is not FlushResult.OK:
            self.log.debug("chunk %d of %s dropped by %s", stored.id, stored.source.instance.display_name,
                           output.display_name)
        stored.owed.discard(output)
        self._unqueue(output, stored)
        if not stored.owed:
            self._finish(stored)

    def _finish(self, stored: StoredChunk) -> None:
        source = stored.source
        source.chunks.pop(stored.id, None)
        if stored.chunk is not None:
            if stored.stranded:
                source.stranded -= stored.held
            self._release(source, stored.held)
            stored.chunk = None
        if stored.file is not None:
            source.backend.remove(stored.file)
        loading = self._loading.pop(stored, None)
        if loading is not None:
            self._waiting = deque(entry for entry in self._waiting if entry[0] is not stored)
            loading.set_result(None)
        if stored in self.up_chunks:
            self.up_chunks.discard(stored)
            self._bring_up_waiting()
        self._acknowledge(source, stored.positions)
        stored.positions = []
        self._check_chunks_overlimit(source)

    def _maybe_put_down(self, stored: StoredChunk) -> None:
        """Keep only the file of a closed chunk without a slot: its records leave memory until an
        output needs them, once every write of it is on disk (a chunk the disk refused stays up)."""
        file = stored.file
        if (file is None or stored.chunk is None or not stored.owed or stored in self.up_chunks
                or file.pending or file.failed):
            return
        self._release(stored.source, stored.held)
        stored.chunk = None

    def _bring_up_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting and len(self.up_chunks) < self.max_chunks_up:
            stored, loading = self._waiting[0]
            if stored.backlog and self._backlog_up_bytes() + stored.size > self.backlog_mem_limit \
                    and any(chunk.backlog for chunk in self.up_chunks):
                return
            self._waiting.popleft()
            self.up_chunks.add(stored)
            task = loop.create_task(self._load(stored, loading))
            self._load_tasks.add(task)
            task.add_done_callback(self._load_tasks.discard)

    def _backlog_up_bytes(self) -> int:
        return sum(chunk.size for chunk in self.up_chunks if chunk.backlog)

    async def _load(self, stored: StoredChunk, loading: asyncio.Future[None]) -> None:
        assert stored.file is not None
        source = stored.source
        if stored.chunk is None:
            try:
                chunk = await source.backend.load(stored.file)
            except Exception as exc:
                self.log.error("cannot read chunk %s back from disk: %s; its records are dropped",
                               stored.file.path, exc)
                chunk = Chunk(stored.tag, [], [], 0)
            chunk.id = stored.id
            chunk.input_name = source.instance.name
            if stored.owed:
                stored.chunk = chunk
                stored.held = footprint(chunk)
                source.held += stored.held
        if not stored.owed:
            self.up_chunks.discard(stored)
        self._loading.pop(stored, None)
        if not loading.done():
            loading.set_result(None)

    # -- backlog -----------------------------------------------------------------------------

    async def loaded(self) -> None:
        """Wait until the chunks being read back from disk are in memory (their deliveries woken)."""
        while self._load_tasks:
            await asyncio.gather(*self._load_tasks)

    async def recover(self) -> list[StoredChunk]:
        """Chunk files a previous run left, oldest first, as down chunks of their inputs."""
        if self.filesystem is None:
            return []
        by_name = {source.instance.name: source for source in self.inputs.values() if source.backend.durable}
        found = []
        files = await self.filesystem.recover(list(by_name))
        if files:
            self._ids = itertools.count(files[-1].chunk_id + 1)
        for file in files:
            source = by_name[file.input_name]
            stored = StoredChunk(file.chunk_id, file.tag, source)
            stored.file = file
            stored.size = file.size
            stored.records = file.records
            stored.backlog = True
            source.chunks[stored.id] = stored
            found.append(stored)
        return found

    # -- backpressure ------------------------------------------------------------------------

    def _check_limit(self, source: InputStore, size: int) -> None:
        """Pause at the memory limit, in Fluent Bit's words (flb_input_chunk.c ``flb_input_chunk_protect``):
        ``size`` the batch that reached it, then the limit and what the input now holds."""
        if source.over_limit and not source.paused:
            limit = source.instance.mem_buf_limit
            self._pause(source, f"mem buf overlimit - event of size {size}B exceeded limit {limit} to {source.mem_size}B",
                        "mem")

    def _pause(self, source: InputStore, reason: str, by: str = "") -> None:
        source.paused = True
        source.paused_by = by
        self._input_log.warning("%s paused (%s)", source.instance.display_name, reason)
        # flb_input_pause (flb_input.c) says so too, after the reason.
        self._input_log.info("pausing %s", source.instance.display_name)
        source.instance.plugin.pause()

    def _release(self, source: InputStore, held: int) -> None:
        source.held -= held
        self._maybe_resume(source)

    def _maybe_resume(self, source: InputStore, reason: str | None = None) -> None:
        """Resume ``source`` once nothing holds it; ``reason`` for the line, else what paused it."""
        if (source.paused and not self.inputs_held and not source.over_limit and not source.learning
                and not self._chunks_overlimit(source)):
            source.paused = False
            # flb_input_resume (flb_input.c) says so first, then flb_input_chunk.c gives the reason.
            self._input_log.info("resume %s", source.instance.display_name)
            self._input_log.info("%s resume (%s)", source.instance.display_name, reason or self._resume_reason(source))
            source.instance.plugin.resume()

    def hold_inputs(self, reason: str) -> None:
        """Pause every input until ``release_inputs`` (the process reached its ``Memory_Limit``);
        each input counts it in its ``memory_limit_pauses``."""
        self.inputs_held = True
        for source in self.inputs.values():
            source.instance.ctx.metrics.inc("memory_limit_pauses")
            if not source.paused:
                self._pause(source, reason)

    def release_inputs(self, reason: str) -> None:
        """Resume the inputs ``hold_inputs`` paused, but those their own limits still hold."""
        self.inputs_held = False
        for source in self.inputs.values():
            self._maybe_resume(source, reason)

    def _chunks_overlimit(self, source: InputStore) -> bool:
        return source.pause_on_chunks_overlimit and len(self.up_chunks) >= self.max_chunks_up

    def _resume_reason(self, source: InputStore) -> str:
        """Why ``source`` resumes, for the line Fluent Bit writes (``flb_input_chunk_set_limits``)."""
        if source.paused_by == "storage":
            return self._storage_overlimit()
        return f"mem buf overlimit - buf size {source.mem_size}B now below limit {source.instance.mem_buf_limit}B"

    def _storage_overlimit(self) -> str:
        return f"storage buf overlimit {len(self.up_chunks)}/{self.max_chunks_up}"

    def _check_chunks_overlimit(self, source: InputStore) -> None:
        """``storage.pause_on_chunks_overlimit``: pause at ``storage.max_chunks_up`` chunks up, resume below."""
        if not source.pause_on_chunks_overlimit:
            return
        if self._chunks_overlimit(source) and not source.paused:
            self._pause(source, self._storage_overlimit(), "storage")
        elif source.paused and not self._chunks_overlimit(source):
            self._release(source, 0)

    def _acknowledge(self, source: InputStore, positions: list[Any]) -> None:
        if positions:
            acknowledge(source.instance.plugin, positions)

    # -- introspection -----------------------------------------------------------------------

    def held_bytes(self, instance: InputInstance) -> int:
        return self.inputs[instance].held

    @property
    def total_held(self) -> int:
        """Bytes of memory the records of every input hold."""
        return sum(source.held for source in self.inputs.values())

    def queued_bytes(self, output: OutputInstance) -> int:
        """Bytes of the filesystem chunks waiting for ``output`` (counted with storage.total_limit_size)."""
        return self._queued_bytes.get(output, 0)

    def usage(self) -> list[InputUsage]:
        """Per input, what ``/api/v1/storage`` reports (Fluent Bit's ``flb_storage.c`` storage metrics)."""
        found = []
        for source in self.inputs.values():
            chunks = source.chunks.values()
            busy = [stored for stored in chunks if stored.owed]
            found.append(InputUsage(
                name=source.instance.display_name,
                filesystem=source.backend.durable,
                overlimit=source.over_limit or self._chunks_overlimit(source),
                mem_size=source.held,
                mem_limit=source.instance.mem_buf_limit,
                total=len(source.chunks),
                up=sum(1 for stored in chunks if stored.up),
                busy=len(busy),
                busy_size=sum(stored.size for stored in busy if stored.up),
                paused=source.paused,
            ))
        return found

    async def drain(self) -> None:
        """Wait for the queued file writes and removals, and for the acknowledgements they bring."""
        if self.filesystem is not None:
            await self.filesystem.drain()
            await asyncio.sleep(0)

    def close_files(self) -> None:
        """Stop the storage worker (at stop, after ``drain``)."""
        if self.filesystem is not None:
            self.filesystem.close()


def _storage_type(instance: InputInstance) -> str:
    return str(getattr(instance.options, "storage_type", "memory") or "memory").lower()
