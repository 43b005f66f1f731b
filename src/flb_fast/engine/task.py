"""Deliver one chunk to one output: flush, retry with backoff, count the outcome.

The counters and log lines are Fluent Bit's (``flb_engine.c`` ``handle_output_event``):
OK adds ``proc_records``/``proc_bytes``; ERROR adds ``errors`` and ``dropped_records``;
RETRY schedules another attempt (``retries``, ``retried_records``) until ``Retry_Limit``
retries have been made, after which the chunk is dropped for this output
(``retries_failed``, ``dropped_records``); with ``no_retries`` it is dropped at once
(``dropped_records`` only).
"""

from __future__ import annotations

import asyncio
import logging
import random

from msgspec import Struct, field

from flb_fast.engine.pipeline import OutputInstance
from flb_fast.engine.scheduler import RETRY_NONE, RETRY_UNLIMITED, backoff_seconds
from flb_fast.outputs.base import FlushResult
from flb_fast.record import Chunk


class RetryPolicy(Struct):
    """``scheduler.base`` / ``scheduler.cap`` seconds; ``rng`` is seeded in tests."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)

    def wait(self, attempt: int) -> float:
        return backoff_seconds(self.base, self.cap, attempt, self.rng)


async def deliver(
    chunk: Chunk,
    output: OutputInstance,
    slots: asyncio.Semaphore,
    policy: RetryPolicy,
    log: logging.LoggerAdapter,
    input_label: str,
) -> FlushResult:
    """Run ``output.plugin.flush(chunk)`` until it succeeds, fails for good or runs out of retries.
    Each attempt holds one of the output's ``slots`` (its flushes that may run at once); the
    wait before a retry holds none.

    The result is the decision for this (chunk, output): ``OK`` (accepted) or ``ERROR`` (dropped
    for good, counted in ``dropped_records``); the engine reports it to the chunk store.

    ``input_label`` and the output are named in log lines as Fluent Bit's ``flb_input_name`` /
    ``flb_output_name`` name them: by ``Alias`` when set.
    """
    counters = output.ctx.metrics
    where = f"input={input_label} > output={output.display_name}"
    retries = 0
    while True:
        async with slots:
            result = await _flush_once(chunk, output, log)
        records = len(chunk)
        if result is FlushResult.OK:
            counters.inc("proc_records", records)
            counters.inc("proc_bytes", chunk.size)
            if retries:
                log.info("flush chunk '%s' succeeded at retry %d: task_id=%d, %s", chunk.id, retries, chunk.id, where)
            return FlushResult.OK
        if result is FlushResult.ERROR:
            counters.inc("errors")
            counters.inc("dropped_records", records)
            return FlushResult.ERROR
        if output.retry_limit == RETRY_NONE:
            counters.inc("dropped_records", records)
            log.info("chunk '%s' is not retried (no retry config): task_id=%d, %s", chunk.id, chunk.id, where)
            return FlushResult.ERROR
        if output.retry_limit != RETRY_UNLIMITED and retries >= output.retry_limit:
            counters.inc("retries_failed")
            counters.inc("dropped_records", records)
            log.error("chunk '%s' cannot be retried: task_id=%d, %s", chunk.id, chunk.id, where)
            return FlushResult.ERROR
        retries += 1
        wait = policy.wait(retries)
        counters.inc("retries")
        counters.inc("retried_records", records)
        log.warning("failed to flush chunk '%s', retry in %.1f seconds: task_id=%d, %s",
                    chunk.id, wait, chunk.id, where)
        await asyncio.sleep(wait)


async def _flush_once(chunk: Chunk, output: OutputInstance, log: logging.LoggerAdapter) -> FlushResult:
    """One attempt. An exception is a bug in the output, not a verdict on the chunk: retry it."""
    try:
        result = await output.plugin.flush(chunk)
    except Exception:
        log.exception("output %s raised while flushing chunk '%s'; will retry", output.name, chunk.id)
        return FlushResult.RETRY
    if not isinstance(result, FlushResult):
        log.error("output %s returned %r instead of a FlushResult; will retry", output.name, result)
        return FlushResult.RETRY
    return result
