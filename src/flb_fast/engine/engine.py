"""Run a pipeline: inputs -> filters -> chunks -> outputs, with backpressure, retries and Grace.

Data path (Fluent Bit's ``flb_input_chunk_append_raw`` + ``flb_engine_flush``):

1. An input calls ``ctx.emit(chunk)``. The engine stamps ``chunk.input_name``, counts the
   input's ``records``/``bytes``, holds the bytes against its ``Mem_Buf_Limit`` and, when the
   limit is reached, pauses the input and sends its open chunks to the outputs at once
   (a full buffer is a reason to flush, not to wait for the timer: issue 6).
2. The filters matching the tag run in config order, one batch at a time per input (order is
   kept per input; a filter waiting on I/O holds up only its own input).
3. The batch joins the open chunk of its (input, tag). Every ``Flush`` seconds, or when a
   chunk reaches ``CHUNK_MAX_BYTES``, or under backpressure, the chunk goes to each matching
   output as a task; an output runs at most ``Workers`` flushes at once.
4. When every output is done with a chunk its bytes are released, and a paused input whose
   bytes fell below the limit is resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from flb_fast.engine.chunk_pool import InputBuffer
from flb_fast.engine.pipeline import FilterInstance, InputInstance, OutputInstance, Pipeline
from flb_fast.engine.router import MAX_CACHED_TAGS, Routes
from flb_fast.engine.task import RetryPolicy, deliver
from flb_fast.log import component_logger
from flb_fast.record import Chunk

# An output's stop() flushes its own buffers; even when Grace is spent it gets this long.
MIN_STOP_SECONDS = 0.5
# After the loop ends, idle worker threads get this long to finish before the process leaves.
THREAD_EXIT_SECONDS = 1.0


class StartError(Exception):
    """A plugin could not start (a file it cannot open, a port in use, no credentials)."""


class _Held:
    """A dispatched chunk: which input's bytes it holds and how many outputs still have it."""

    __slots__ = ("buffer", "input", "bytes", "remaining")

    def __init__(self, buffer: InputBuffer, instance: InputInstance, held: int, remaining: int) -> None:
        self.buffer = buffer
        self.input = instance
        self.bytes = held
        self.remaining = remaining


class Engine:
    """The running pipeline. ``await start()`` then, on a signal or in a test, ``await stop()``."""

    def __init__(self, pipeline: Pipeline, retry_policy: RetryPolicy | None = None) -> None:
        service = pipeline.service
        self.pipeline = pipeline
        self.flush_seconds = float(service.flush)
        self.grace_seconds = float(service.grace)
        self.retry_policy = retry_policy or RetryPolicy(float(service.scheduler_base), float(service.scheduler_cap))
        self.start_time = time.time()
        self.log = component_logger("engine")
        self._input_log = component_logger("input")
        self._filters: Routes[FilterInstance] = Routes([(f.matcher, f) for f in pipeline.filters])
        self._outputs: Routes[OutputInstance] = Routes([(o.matcher, o) for o in pipeline.outputs])
        self._buffers: dict[InputInstance, InputBuffer] = {i: InputBuffer(i.mem_buf_limit) for i in pipeline.inputs}
        # Per input: (batch, bytes held, index of the first of the input's processors to run).
        self._queues: dict[InputInstance, deque[tuple[Chunk, int, int]]] = {i: deque() for i in pipeline.inputs}
        self._filtering: dict[InputInstance, asyncio.Task[None]] = {}
        self._workers: dict[OutputInstance, asyncio.Semaphore] = {}
        self._deliveries: set[asyncio.Task[None]] = set()
        self._held: dict[int, _Held] = {}
        self._unrouted: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._started: list[Any] = []
        self.http_server: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start outputs, then filters, then inputs (so nothing is emitted before it can go somewhere)."""
        self.start_time = time.time()
        self._workers = {o: asyncio.Semaphore(o.workers) for o in self.pipeline.outputs}
        for instance in [*self.pipeline.outputs, *self.pipeline.filters, *self.pipeline.processors,
                         *self.pipeline.inputs]:
            if isinstance(instance, InputInstance):
                instance.sink = self._emit
            try:
                await instance.plugin.start()
            except Exception as exc:
                raise StartError(f"{instance.name} failed to start: {exc}") from exc
            self._started.append(instance)
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_timer())
        if self.pipeline.service.http_server:
            from flb_fast.http_server.server import MonitoringServer

            self.http_server = MonitoringServer(self)
            await self.http_server.start()
        self.log.info("started (pid=%d)", os.getpid())

    async def stop(self) -> None:
        """Stop within ``Grace``: inputs first (they emit what they hold), then flush and wait for outputs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace_seconds
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
            self._flush_task = None
        for instance in self.pipeline.inputs:
            if instance in self._started:
                if instance.emitter_of is not None:
                    # An emitter (after the configured inputs) emits what its filter still holds
                    # when it stops: what the inputs emitted goes through the filters first.
                    await self._settle_filters(deadline)
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
            self.log.info("service will shutdown in max %g seconds", self.grace_seconds)
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
        for instance in self.pipeline.inputs:
            instance.sink = None
        self._started.clear()
        if self.http_server is not None:
            await self.http_server.stop()
            self.http_server = None
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
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(coro, timeout=max(0.0, deadline - loop.time()))
        except TimeoutError:
            self.log.warning("%s took longer than the grace period", what)
        except Exception:
            self.log.exception("%s failed", what)

    # -- data path ---------------------------------------------------------------------------

    def _emit(self, instance: InputInstance, chunk: Chunk, stage: int = 0) -> None:
        chunk.input_name = instance.name
        if not instance.processors:
            self._count_input(instance, chunk)
        buffer = self._buffers[instance]
        held = chunk.size
        buffer.hold(held)
        if buffer.over_limit and not buffer.paused:
            self._pause(instance, buffer)
        queue = self._queues[instance]
        if queue or instance.processors or self._filters(chunk.tag):
            queue.append((chunk, held, stage))
            if instance not in self._filtering:
                self._filtering[instance] = asyncio.get_running_loop().create_task(self._run_filters(instance))
            if buffer.over_limit:
                self._dispatch_all(instance, buffer)
        else:
            self._route(instance, buffer, chunk, held)

    async def _run_filters(self, instance: InputInstance) -> None:
        """Filter this input's batches in order; a batch leaves the queue only once routed."""
        queue = self._queues[instance]
        buffer = self._buffers[instance]
        try:
            while queue:
                chunk, held, stage = queue[0]
                filtered: Chunk | None = chunk
                if instance.processors:
                    # Fluent Bit counts an input's records once its processors have run.
                    filtered = await self._apply_filters(chunk, instance.processors[stage:])
                    if filtered is not None:
                        self._count_input(instance, filtered)
                if filtered is not None:
                    filtered = await self._apply_filters(filtered, self._filters(filtered.tag))
                queue.popleft()
                if filtered is None:
                    self._release(instance, buffer, held)
                else:
                    self._route(instance, buffer, filtered, held)
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
            if after < before:
                counters.inc("drop_records", before - after)
            elif after > before:
                counters.inc("add_records", after - before)
            if result is None or not after:
                return None
            chunk = result
        return chunk

    def _route(self, instance: InputInstance, buffer: InputBuffer, chunk: Chunk, held: int) -> None:
        if not len(chunk) or not instance.routable or not self._outputs(chunk.tag):
            # Fluent Bit counts such records as input and discards the chunk ("no matching route").
            if len(chunk) and chunk.tag not in self._unrouted:
                if len(self._unrouted) >= MAX_CACHED_TAGS:
                    self._unrouted.clear()
                self._unrouted.add(chunk.tag)
                self.log.debug("no matching route for tag '%s' of %s: its records are dropped",
                               chunk.tag, instance.display_name)
            self._release(instance, buffer, held)
            return
        if buffer.append(chunk, held):
            self._dispatch(instance, buffer, chunk.tag)
        if buffer.over_limit:
            self._dispatch_all(instance, buffer)

    def flush(self) -> None:
        """Send every open chunk to its outputs now (the flush timer's tick)."""
        for instance, buffer in self._buffers.items():
            self._dispatch_all(instance, buffer)

    def _dispatch_all(self, instance: InputInstance, buffer: InputBuffer) -> None:
        for tag in buffer.tags():
            self._dispatch(instance, buffer, tag)

    def _dispatch(self, instance: InputInstance, buffer: InputBuffer, tag: str) -> None:
        chunk, held = buffer.take(tag)
        outputs = self._outputs(tag)
        self._held[chunk.id] = _Held(buffer, instance, held, len(outputs))
        loop = asyncio.get_running_loop()
        for output in outputs:
            task = loop.create_task(self._deliver(chunk, output))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, chunk: Chunk, output: OutputInstance) -> None:
        sent: Chunk | None = chunk
        try:
            if output.processors:
                # This output's processors work on its own copy: other outputs get the chunk as it is.
                copy = Chunk(chunk.tag, list(chunk.timestamps), [dict(record) for record in chunk.records],
                             chunk.size, chunk.input_name)
                sent = await self._apply_filters(copy, output.processors)
            if sent is not None:
                await deliver(sent, output, self._workers[output], self.retry_policy, self.log,
                              self._held[chunk.id].input.display_name)
        finally:
            try:
                output.plugin.forget(sent if sent is not None else chunk)
            finally:
                entry = self._held[chunk.id]
                entry.remaining -= 1
                if not entry.remaining:
                    del self._held[chunk.id]
                    self._release(entry.input, entry.buffer, entry.bytes)

    async def _flush_timer(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            self.flush()

    # -- backpressure ------------------------------------------------------------------------

    def _pause(self, instance: InputInstance, buffer: InputBuffer) -> None:
        buffer.paused = True
        self._input_log.warning("%s paused (mem buf overlimit)", instance.display_name)
        instance.plugin.pause()

    def _release(self, instance: InputInstance, buffer: InputBuffer, held: int) -> None:
        buffer.release(held)
        if buffer.paused and not buffer.over_limit:
            buffer.paused = False
            self._input_log.info("%s resume (mem buf overlimit)", instance.display_name)
            instance.plugin.resume()

    # -- introspection (tests, monitoring) ---------------------------------------------------

    def held_bytes(self, instance: InputInstance) -> int:
        """Bytes of ``instance`` held in memory (emitted, not yet released by every output)."""
        return self._buffers[instance].held

    @property
    def pending_deliveries(self) -> int:
        """(chunk, output) deliveries not finished yet, retries included."""
        return len(self._deliveries)

    @property
    def pending_filtering(self) -> int:
        """Batches emitted but not yet through their filters."""
        return sum(len(queue) for queue in self._queues.values())


# Records are dicts that hold the shared pod metadata dict, so the collector tracks every one
# of them, and with CPython's default threshold (700) it scans young records over and over
# although they form no cycles. Fewer young collections cut the CPU per line of
# bench_pipeline's kubernetes variant by about 15% at the same peak RSS (bench/README.md);
# objects left from start-up are frozen out of the scans altogether.
GC_THRESHOLDS = (50_000, 20, 100)


def run(pipeline: Pipeline) -> int:
    """Run ``pipeline`` on uvloop until SIGTERM or SIGINT; 0 on a clean stop, 1 if it cannot start."""
    import gc

    import uvloop

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)

    code = uvloop.run(_serve(pipeline))
    _leave_if_threads_are_stuck(code)
    return code


def _leave_if_threads_are_stuck(code: int) -> None:
    """Exit now if a worker thread is still busy (say, a write to a stdout pipe nobody reads).

    The interpreter joins executor threads when it exits, so one stuck thread would keep the
    process alive past ``Grace``; Grace is a promise to the orchestrator, so we leave instead.
    """
    deadline = time.monotonic() + THREAD_EXIT_SECONDS
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if stuck:
        component_logger("engine").warning("exiting with %d worker threads still busy: %s",
                                           len(stuck), ", ".join(stuck))
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(code)


async def _serve(pipeline: Pipeline) -> int:
    log = component_logger("engine")
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal(signum: int) -> None:
        log.info("caught signal (%s)", signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    engine = Engine(pipeline)
    try:
        try:
            await engine.start()
        except Exception as exc:
            log.error("could not start: %s", exc)
            await engine.stop()
            return 1
        await stopping.wait()
        await engine.stop()
        return 0
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
