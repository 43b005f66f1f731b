"""Plugins the engine tests drive by hand: an input that emits on demand, outputs that answer
from a script or wait on a gate, a filter that drops or duplicates records.

They are registered under test-only names by the ``pipeline`` fixture (tests/engine/conftest.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from flb_fast.config.options import INT, STR, Option, OptionTable, parse_clist
from flb_fast.filters.base import Filter
from flb_fast.inputs.base import Input
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.record import Chunk

TIMESTAMP_NS = 1_700_000_000_123_456_789


class ManualInput(Input):
    """Emits what the test pushes; ``stop()`` emits ``pending`` (as tail emits partial lines).

    A push may carry ``positions``; those the engine acknowledges land in ``acknowledged``.
    """

    name = "manual"
    description = "test input driven by the test"
    OPTIONS = OptionTable()

    def __init__(self, ctx: Any, options: Any) -> None:
        super().__init__(ctx, options)
        self.calls: list[str] = []
        self.pending: list[dict] = []
        self.acknowledged: list[object] = []

    async def start(self) -> None:
        self.calls.append("start")

    def push(self, records: list[dict], size: int | None = None, tag: str | None = None,
             positions: list[object] | None = None) -> None:
        size = 10 * len(records) if size is None else size
        self.ctx.emit(Chunk(tag or self.options.tag, [TIMESTAMP_NS] * len(records), records, size, None, positions))

    def acknowledge(self, positions: list[object]) -> None:
        self.acknowledged.extend(positions)

    def pause(self) -> None:
        super().pause()
        self.calls.append("pause")

    def resume(self) -> None:
        super().resume()
        self.calls.append("resume")

    async def stop(self) -> None:
        self.calls.append("stop")
        if self.pending:
            self.push(self.pending)
            self.pending = []


class ScriptedOutput(Output):
    """Answers each flush with the next word of ``results`` (ok, retry, error, raise), then ok."""

    name = "scripted"
    description = "test output answering from a script"
    OPTIONS = OptionTable(Option("results", STR, "", "comma-separated answers, one per flush"))

    def __init__(self, ctx: Any, options: Any) -> None:
        super().__init__(ctx, options)
        self.script = parse_clist(options.results or "")
        self.flushes: list[tuple[int, str, list[dict]]] = []
        self.forgotten: list[int] = []
        self.delivered = asyncio.Event()

    async def flush(self, chunk: Chunk) -> FlushResult:
        self.flushes.append((chunk.id, chunk.tag, list(chunk.records)))
        answer = self.script.pop(0) if self.script else "ok"
        if answer == "raise":
            raise RuntimeError("scripted failure")
        result = FlushResult(answer)
        if result is FlushResult.OK:
            self.delivered.set()
        return result

    def forget(self, chunk: Chunk) -> None:
        self.forgotten.append(chunk.id)

    def delivered_records(self) -> list[dict]:
        return [record for _, _, records in self.flushes for record in records]


class GatedOutput(Output):
    """Holds every flush until the test opens ``gate``; records how many ran at once. It asks the
    engine for ``flushes_per_worker`` flushes at once per worker."""

    name = "gated"
    description = "test output that blocks until released"
    OPTIONS = OptionTable(Option("flushes_per_worker", INT, "1", "flushes the engine runs at once per worker"))
    default_workers = 1

    def __init__(self, ctx: Any, options: Any) -> None:
        super().__init__(ctx, options)
        self.gate = asyncio.Event()
        self.started: list[int] = []
        self.records: list[dict] = []
        self.forgotten: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def concurrent_flushes(self, workers: int) -> int:
        return workers * self.options.flushes_per_worker

    async def flush(self, chunk: Chunk) -> FlushResult:
        self.started.append(chunk.id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        self.records.extend(chunk.records)
        return FlushResult.OK

    def forget(self, chunk: Chunk) -> None:
        self.forgotten.append(chunk.id)


class EditFilter(Filter):
    """Drops records that have key ``drop``, doubles those with key ``double``; ``hold`` waits on a gate."""

    name = "edit"
    description = "test filter"
    OPTIONS = OptionTable(Option("hold", STR, "off", "wait for the test's gate before each chunk"))

    def __init__(self, ctx: Any, options: Any) -> None:
        super().__init__(ctx, options)
        self.gate = asyncio.Event()
        if options.hold == "off":
            self.gate.set()
        self.seen: list[str] = []

    async def filter(self, chunk: Chunk) -> Chunk | None:
        await self.gate.wait()
        self.seen.extend(str(record.get("n")) for record in chunk.records)
        if any("explode" in record for record in chunk.records):
            raise ValueError("filter bug")
        if all("drop" in record for record in chunk.records):
            return None
        timestamps: list[int] = []
        records: list[dict] = []
        for ts, record in zip(chunk.timestamps, chunk.records, strict=True):
            if "drop" in record:
                continue
            copies = 2 if "double" in record else 1
            timestamps.extend([ts] * copies)
            records.extend([record] * copies)
        chunk.timestamps, chunk.records = timestamps, records
        return chunk
