"""Build an AWS output in-process the way the engine does: its option table bound from
properties, a PluginContext with real counters and a Fluent Bit-style logger."""

from __future__ import annotations

import time
from typing import Any

from flb_fast.config.common import OUTPUT_BASE
from flb_fast.config.model import Property
from flb_fast.log import plugin_logger
from flb_fast.metrics import Metrics
from flb_fast.outputs.base import FlushResult
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk


def make_output(cls: type, **properties: Any) -> Any:
    """``cls`` constructed from ``properties`` (option names as in a config file)."""
    instance = f"{cls.name}.0"
    options, warnings = (OUTPUT_BASE + cls.OPTIONS).bind(
        [Property(key, str(value), "test.conf", line) for line, (key, value) in enumerate(properties.items(), 1)],
        f"output {cls.name}",
    )
    assert not warnings, warnings
    ctx = PluginContext(
        kind="output",
        plugin=cls.name,
        instance=instance,
        display_name=instance,
        log=plugin_logger("output", cls.name, instance),
        metrics=Metrics().register("output", instance),
        parsers=None,
        service=None,
    )
    return cls(ctx, options)


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
