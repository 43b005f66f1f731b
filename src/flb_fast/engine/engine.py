"""Run a pipeline: inputs -> filters -> chunks -> outputs, with backpressure, retries and Grace.

Data path (Fluent Bit's ``flb_input_chunk_append_raw`` + ``flb_engine_flush``); the chunks
themselves, their bytes and who still owes them live in the storage layer (``storage.store``):

1. An input calls ``ctx.emit(chunk)``. The engine counts the input's ``records``/``bytes`` and
   the store holds the bytes against its ``Mem_Buf_Limit``; when the limit is reached the store
   pauses the input. Its open chunks go to the outputs at once when they alone hold the limit
   (``ChunkStore.open_due``); otherwise deliveries in flight free room or batches in the filters
   join the open chunks (which are weighed again then), and the open chunks keep growing across
   the pause (fewer, bigger requests).
2. The filters matching the tag run in config order, one batch at a time per input (order is
   kept per input; a filter waiting on I/O holds up only its own input).
3. The batch joins the open chunk of its (input, tag). Every ``Flush`` seconds, or when a
   chunk reaches ``CHUNK_MAX_BYTES``, or as in 1., the chunk goes to each matching
   output as a task; an output runs at most ``concurrent_flushes(Workers)`` flushes at once: one
   per worker, or several per worker for the outputs whose flushes are independent requests.
4. Each (chunk, output) delivery reports to the store when the output accepted the chunk or
   dropped it for good; the last one releases its bytes, removes its file and acknowledges the
   input's positions. A chunk file left by a previous run is sent before any input starts.
5. With ``[SERVICE] Memory_Limit`` (ours), ``memory_limit.MemoryLimit`` pauses every input while
   the process's resident memory is near the limit, whatever holds it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flb_fast.engine.memory_limit import MemoryLimit, MemoryLimitError
from flb_fast.engine.pipeline import FilterInstance, InputInstance, OutputInstance, Pipeline
from flb_fast.engine.router import MAX_CACHED_TAGS, Routes
from flb_fast.engine.task import RetryPolicy, deliver
from flb_fast.log import component_logger
from flb_fast.outputs.base import FlushResult
from flb_fast.record import Chunk
from flb_fast.storage.joint_ack import Filtering
from flb_fast.storage.store import ChunkDropped, ChunkStore, StoredChunk
from flb_fast.tasks import cancel_and_wait

if TYPE_CHECKING:
    from flb_fast.storage.filesystem import FilesystemBackend

# An output's stop() flushes its own buffers; even when Grace is spent it gets this long.
MIN_STOP_SECONDS = 0.5


class StartError(Exception):
    """A plugin could not start (a file it cannot open, a port in use, no credentials)."""


class Engine:
    """The running pipeline. ``await start()`` then, on a signal or in a test, ``await stop()``."""

    def __init__(self, pipeline: Pipeline, retry_policy: RetryPolicy | None = None) -> None:
        service = pipeline.service
        self.pipeline = pipeline
        self.flush_seconds = float(service.flush)
        self.grace_seconds = float(service.grace)
        self.retry_policy = retry_policy or RetryPolicy(float(service.scheduler_base), float(service.scheduler_cap))
        self.log = component_logger("engine")
        self._input_log = component_logger("input")
        self._filters: Routes[FilterInstance] = Routes([(f.matcher, f) for f in pipeline.filters])
        self._outputs: Routes[OutputInstance] = Routes([(o.matcher, o) for o in pipeline.outputs])
        self.store = ChunkStore(service, pipeline.inputs, _filesystem(service))
        # Per input: (batch, bytes held, positions it covers, index of the first of the input's
        # processors still to run on it).
        self._queues: dict[InputInstance, deque[tuple[Chunk, int, list[Any], int]]] = {
            i: deque() for i in pipeline.inputs}
        self._filtering: dict[InputInstance, asyncio.Task[None]] = {}
        # Per output: its flushes that may run at once (the others wait for a slot).
        self._slots: dict[OutputInstance, asyncio.Semaphore] = {}
        self._deliveries: set[asyncio.Task[None]] = set()
        self._unrouted: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._started: list[Any] = []
        self.memory_limit: MemoryLimit | None = None
        # Set when an input asks the agent to stop (tail's Exit_On_Eof); the runner waits on it.
        self.exit_requested = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start outputs, then filters, then inputs (so nothing is emitted before it can go somewhere)."""
        self._slots = {o: asyncio.Semaphore(o.plugin.concurrent_flushes(o.workers)) for o in self.pipeline.outputs}
        for instance in [*self.pipeline.outputs, *self.pipeline.filters, *self.pipeline.processors]:
            await self._start(instance)
        await self._send_backlog()
        if self.pipeline.service.memory_limit:
            try:
                self.memory_limit = MemoryLimit(int(self.pipeline.service.memory_limit), self.store, self._idle,
                                                self.flush)
            except MemoryLimitError as exc:
                raise StartError(str(exc)) from exc
            self.memory_limit.start()
        for instance in self.pipeline.inputs:
            instance.sink = self._emit
            instance.gauge = self._room
            instance.exiter = self.exit_requested.set
            await self._start(instance)
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_timer())
        self.log.info("started (pid=%d)", os.getpid())

    async def _start(self, instance: Any) -> None:
        try:
            await instance.plugin.start()
        except Exception as exc:
            raise StartError(f"{instance.name} failed to start: {exc}") from exc
        self._started.append(instance)

    async def stop(self) -> None:
        """Stop within ``Grace``: inputs first (they emit what they hold), then flush and wait for outputs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace_seconds
        # flb_engine.c: the grace line as the engine stops, then flb_engine_stop_ingestion's.
        self.log.warning("service will shutdown in max %g seconds", self.grace_seconds)
        self.log.info("pausing all inputs..")
        await cancel_and_wait(self._flush_task)
        self._flush_task = None
        if self.memory_limit is not None:
            await self.memory_limit.stop()
            self.memory_limit = None
        for instance in self.pipeline.inputs:
            if instance in self._started:
                if instance.emitter_of is not None:
                    # An emitter (after the configured inputs) emits what its filter still holds
                    # when it stops: what the inputs emitted goes through the filters first.
                    await self._settle_filters(deadline)
                if not self.store.paused(instance):
                    # flb_input_pause: an input its buffer limit already paused is not paused again.
                    self._input_log.info("pausing %s", instance.display_name)
                await self._bounded(instance.plugin.stop(), deadline, f"stopping {instance.name}")
                for unit in instance.processors:
                    # A processor that holds records (multiline) emits them back into its input.
                    emitter = unit.plugin.emitter
                    if emitter is not None and emitter.on_stop is not None:
                        await self._settle_filters(deadline)
                        emitter.on_stop()
        await self._settle_filters(deadline)
        self.flush()
        pending = set(self._deliveries)
        if pending:
            await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
        abandoned = [task for task in self._deliveries if not task.done()]
        for task in abandoned:
            task.cancel()
        if abandoned:
            await asyncio.gather(*abandoned, return_exceptions=True)
            self.log.warning("grace period of %g seconds ended with %d chunk deliveries unfinished",
                             self.grace_seconds, len(abandoned))
        for plugin in [*self.pipeline.filters, *self.pipeline.processors, *self.pipeline.outputs]:
            if plugin in self._started:
                await self._bounded(plugin.plugin.stop(), max(deadline, loop.time() + MIN_STOP_SECONDS),
                                    f"stopping {plugin.name}")
        # Writes still queued for chunk files acknowledge their records before the inputs close.
        await self.store.drain()
        for instance in self.pipeline.inputs:
            instance.sink = None
            instance.exiter = None
            if instance in self._started:
                await self._bounded(instance.plugin.close(), loop.time() + MIN_STOP_SECONDS, f"closing {instance.name}")
        self._started.clear()
        self.store.close_files()
        self.log.info("service has stopped (%d pending tasks)", len(abandoned))

    async def _settle_filters(self, deadline: float) -> None:
        """Wait until no batch is in the filters (a filter may emit new batches through an
        emitter input while it runs); at ``deadline`` the filtering still going on is cancelled."""
        loop = asyncio.get_running_loop()
        while self._filtering:
            filtering = list(self._filtering.values())
            await asyncio.wait(filtering, timeout=max(0.0, deadline - loop.time()))
            if loop.time() >= deadline:
                for task in self._filtering.values():
                    task.cancel()
                return

    async def _bounded(self, coro: Any, deadline: float, what: str) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                await coro
        except TimeoutError:
            self.log.warning("%s took longer than the grace period", what)
        except Exception:
            self.log.exception("%s failed", what)

    # -- data path ---------------------------------------------------------------------------

    def _emit(self, instance: InputInstance, chunk: Chunk, stage: int = 0) -> None:
        chunk.input_name = instance.name
        if not instance.processors:
            self._count_input(instance, chunk)
        queue = self._queues[instance]
        filtering = bool(queue or instance.processors or self._filters(chunk.tag))
        held = self.store.received(instance, chunk, filtering)
        if self.memory_limit is not None:
            self.memory_limit.grew(held)
        positions, chunk.positions = chunk.positions, []
        if filtering:
            queue.append((chunk, held, positions, stage))
            if instance not in self._filtering:
                self._filtering[instance] = asyncio.get_running_loop().create_task(self._run_filters(instance))
            if self.store.open_due(instance):
                self._dispatch_all(instance)
        else:
            self._route(instance, chunk, held, positions)

    def _room(self, instance: InputInstance) -> int | None:
        source = self.store.inputs[instance]
        return source.limit - source.mem_size if source.limit else None

    async def _run_filters(self, instance: InputInstance) -> None:
        """Filter this input's batches in order; a batch leaves the queue only once routed."""
        queue = self._queues[instance]
        try:
            while queue:
                chunk, held, positions, stage = queue[0]
                filtered: Chunk | None = chunk
                # Records re-emitted from this batch hold its acknowledgement until they are done too.
                with Filtering(instance.plugin, positions) as batch:
                    if instance.processors:
                        # Fluent Bit counts an input's records once its processors have run.
                        filtered = await self._apply_filters(chunk, instance.processors[stage:])
                        if filtered is not None:
                            self._count_input(instance, filtered)
                    if filtered is not None:
                        filtered = await self._apply_filters(filtered, self._filters(filtered.tag))
                positions = batch.positions
                queue.popleft()
                # What waits for the outputs is the filters' result: hold what it costs.
                held = self.store.refit(instance, filtered, held)
                if filtered is None:
                    self.store.discard(instance, held, positions)
                else:
                    self._route(instance, filtered, held, positions)
        finally:
            self._filtering.pop(instance, None)

    @staticmethod
    def _count_input(instance: InputInstance, chunk: Chunk) -> None:
        counters = instance.ctx.metrics
        counters.inc("records", len(chunk))
        counters.inc("bytes", chunk.size)

    async def _apply_filters(self, chunk: Chunk, units: Sequence[FilterInstance]) -> Chunk | None:
        """Run ``chunk`` through ``units`` (the filters matching its tag, or processors) in order."""
        for instance in units:
            before = len(chunk)
            try:
                result = await instance.plugin.filter(chunk)
            except Exception:
                instance.ctx.log.exception("filter failed on a chunk of %d records; records passed on unfiltered",
                                           before)
                result = chunk
            counters = instance.ctx.metrics
            after = 0 if result is None else len(result)
            counters.inc("records", before)
            counters.inc("bytes", chunk.size)
            if after < before:
                counters.inc("drop_records", before - after)
                # Raw input bytes of the dropped records, apportioned (records have no size of their own).
                counters.inc("drop_bytes", chunk.size * (before - after) // before)
            elif after > before:
                counters.inc("add_records", after - before)
            if result is None or not after:
                return None
            chunk = result
        return chunk

    def _route(self, instance: InputInstance, chunk: Chunk, held: int, positions: list[Any]) -> None:
        if not len(chunk) or not instance.routable or not self._outputs(chunk.tag):
            # Fluent Bit counts such records as input and discards the chunk ("no matching route").
            if len(chunk) and chunk.tag not in self._unrouted:
                if len(self._unrouted) >= MAX_CACHED_TAGS:
                    self._unrouted.clear()
                self._unrouted.add(chunk.tag)
                self.log.debug("no matching route for tag '%s' of %s: its records are dropped",
                               chunk.tag, instance.display_name)
            self.store.discard(instance, held, positions)
            return
        if self.store.append(instance, chunk, held, positions):
            self._dispatch(instance, chunk.tag)
        if self.store.open_due(instance):
            self._dispatch_all(instance)

    def flush(self) -> None:
        """Send every open chunk to its outputs now (the flush timer's tick)."""
        for instance in self.pipeline.inputs:
            self._dispatch_all(instance)

    def _dispatch_all(self, instance: InputInstance) -> None:
        for tag in self.store.open_tags(instance):
            self._dispatch(instance, tag)

    def _dispatch(self, instance: InputInstance, tag: str) -> None:
        outputs = self._outputs(tag)
        stored = self.store.close(instance, tag, outputs)
        if stored is not None:
            self._send(stored, outputs)

    def _send(self, stored: StoredChunk, outputs: list[OutputInstance]) -> None:
        loop = asyncio.get_running_loop()
        for output in outputs:
            task = loop.create_task(self._deliver(stored, output))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _send_backlog(self) -> None:
        """Chunk files of the previous run go out first, oldest first (Fluent Bit's storage_backlog).

        The first ``storage.max_chunks_up`` of them are read back before any input starts, and
        their deliveries queue for the outputs' workers; the rest wait for a slot ahead of any
        new filesystem chunk.
        """
        for stored in await self.store.recover():
            outputs = self._outputs(stored.tag)
            self.log.info("backlog chunk %d of %s (%d records) sent to %d outputs",
                          stored.id, stored.source.instance.display_name, stored.records, len(outputs))
            if self.store.dispatch(stored, outputs):
                self._send(stored, outputs)
        await asyncio.sleep(0)  # the deliveries ask for their chunks
        await self.store.loaded()
        await asyncio.sleep(0)  # and, woken in order, queue for the workers

    async def _deliver(self, stored: StoredChunk, output: OutputInstance) -> None:
        """One (chunk, output) delivery; the store hears of it only once it is decided."""
        try:
            chunk = await self.store.bring_up(stored, output)
        except ChunkDropped:
            return
        source = stored.source.instance.display_name
        sent: Chunk | None = chunk
        result = FlushResult.OK
        try:
            if output.processors:
                # This output's processors work on its own copy: other outputs get the chunk as it is.
                copy = Chunk(chunk.tag, list(chunk.timestamps), [dict(record) for record in chunk.records],
                             chunk.size, chunk.input_name)
                sent = await self._apply_filters(copy, output.processors)
            if sent is not None:
                result = await deliver(sent, output, self._slots[output], self.retry_policy, self.log, source)
        finally:
            output.plugin.forget(sent if sent is not None else chunk)
        if result is FlushResult.OK and sent is not None:
            self.pipeline.metrics.routed(source, output.display_name, len(sent), sent.size,
                                         time.monotonic() - stored.created)
        self.store.done(stored, output, result)

    async def _flush_timer(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            self.flush()

    # -- introspection (tests, monitoring) ---------------------------------------------------

    def held_bytes(self, instance: InputInstance) -> int:
        """Bytes of ``instance`` held in memory (emitted, not yet released by every output)."""
        return self.store.held_bytes(instance)

    def _idle(self) -> bool:
        """Nothing held: no record in the store, no delivery going on, no batch in the filters."""
        return not self._deliveries and not self._filtering and not self.store.total_held

    @property
    def pending_deliveries(self) -> int:
        """(chunk, output) deliveries not finished yet, retries included."""
        return len(self._deliveries)

    @property
    def pending_filtering(self) -> int:
        """Batches emitted but not yet through their filters."""
        return sum(len(queue) for queue in self._queues.values())


def _filesystem(service: Any) -> FilesystemBackend | None:
    """The chunk files' backend when ``storage.path`` is set (Fluent Bit's ``flb_storage_create``)."""
    if not service.storage_path:
        return None
    from flb_fast.storage.filesystem import FilesystemBackend

    return FilesystemBackend(service.storage_path, service.storage_sync.lower() == "full",
                             bool(service.storage_checksum), bool(service.storage_delete_irrecoverable_chunks))
