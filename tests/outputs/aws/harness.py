"""Build an AWS output in-process the way the engine does (its option table bound from
properties, a PluginContext with real counters and a Fluent Bit-style logger), and drive it."""

from __future__ import annotations

import time
from typing import Any

from flb_fast.outputs.base import FlushResult
from flb_fast.record import Chunk
from tests.standalone import plugin_for


def make_output(cls: type, **properties: Any) -> Any:
    """``cls`` built as the engine builds it (``plugin_for``), from ``properties`` as in a config
    file; numbers are written as their text."""
    return plugin_for(cls, **{key: str(value) for key, value in properties.items()})


async def flush_all(output: Any, *chunks: Chunk) -> list[FlushResult]:
    """Start ``output``, flush ``chunks`` one after the other and stop it: each flush's result."""
    await output.start()
    try:
        return [await output.flush(chunk) for chunk in chunks]
    finally:
        await output.stop()


def now_ns() -> int:
    return time.time_ns()


def chunk_of(records: list[dict[str, Any]], tag: str = "app.log", timestamps: list[int] | None = None) -> Chunk:
    """A chunk of ``records``, one millisecond apart ending now unless timestamps are given."""
    if timestamps is None:
        base = now_ns() - len(records) * 1_000_000
        timestamps = [base + index * 1_000_000 for index in range(len(records))]
    return Chunk(tag, list(timestamps), list(records), sum(len(str(r)) for r in records))
