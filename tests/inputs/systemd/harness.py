"""Running the systemd input on real journal files, and reading the recorded Fluent Bit cases."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flb_fast.inputs.systemd import SystemdInput
from flb_fast.record import Chunk
from tests.standalone import plugin_for
from tests.waiting import WAIT_SECONDS, until

DATA = Path(__file__).resolve().parents[2] / "data" / "inputs" / "systemd"


def golden_entries() -> list[tuple[int, list[tuple[str, str]]]]:
    return [(realtime, [(key, value) for key, value in fields])
            for realtime, fields in json.loads((DATA / "entries.json").read_text())]


def case_options(case: str) -> dict[str, str | list[str]]:
    """A case's ``<case>.conf`` as plugin options (a repeated key becomes a list)."""
    options: dict[str, Any] = {}
    for line in (DATA / f"{case}.conf").read_text().splitlines():
        key, _, value = line.strip().partition(" ")
        if key in options:
            options[key] = [*(options[key] if isinstance(options[key], list) else [options[key]]), value.strip()]
        else:
            options[key] = value.strip()
    return options


def fluent_bit_records(case: str) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """``<case>.expected`` as tag -> [(timestamp ns, record)], in Fluent Bit's order per tag."""
    return out_file_records((DATA / f"{case}.expected").read_text())


def out_file_records(text: str) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The ``file`` output's default format (``tag: [seconds.nanoseconds, record]`` lines) by tag."""
    by_tag: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for line in text.splitlines():
        tag, _, rest = line.partition(": [")
        seconds, _, record = rest[:-1].partition(", ")
        by_tag[tag].append((int(Decimal(seconds) * 10**9), json.loads(record)))
    return dict(by_tag)


def by_tag(chunks: list[Chunk]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    grouped: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for chunk in chunks:
        grouped[chunk.tag].extend(zip(chunk.timestamps, chunk.records, strict=True))
    return dict(grouped)


def in_key_order(grouped: dict[str, list[tuple[int, dict[str, Any]]]]) -> dict[str, list[tuple[int, list]]]:
    """Records as lists of their members, so that comparing them compares the keys' order too."""
    return {tag: [(ns, list(record.items())) for ns, record in records] for tag, records in grouped.items()}


def records_of(chunks: list[Chunk]) -> list[dict[str, Any]]:
    return [record for chunk in chunks for record in chunk.records]


def systemd_input(journal_dir: Path, acknowledge: bool = True, **options: Any) -> tuple[SystemdInput, list[Chunk]]:
    """The input on ``journal_dir`` and the chunks it emits. Each chunk is acknowledged as it is
    emitted (an engine whose outputs take everything at once) unless ``acknowledge`` is False:
    then the test acknowledges ``chunk.positions``."""
    emitted: list[Chunk] = []

    def emit(chunk: Chunk) -> None:
        emitted.append(chunk)
        if acknowledge:
            plugin.acknowledge(chunk.positions)

    plugin = plugin_for(SystemdInput, emit=emit, path=str(journal_dir), **options)
    return plugin, emitted


async def journal_thread_idle(plugin: SystemdInput) -> None:
    """Wait until what was queued on the input's journal thread (cursor saves) is done: the
    thread takes its calls one at a time, in order."""
    assert plugin.worker is not None
    await plugin.worker.run(lambda: None)


class WatchedJournal:
    """The input's real journal, with the thread of each call noted (``open`` for opening it),
    calls that overlap another counted, and ``collect`` (a pass's reading) held while ``gate``
    is clear. ``build`` touches no libsystemd handle and is not noted."""

    def __init__(self, plugin: SystemdInput) -> None:
        self.calls: list[tuple[str, int]] = []
        self.overlaps = 0
        self.busy = False
        self.gate = threading.Event()
        self.gate.set()
        self.reading = threading.Event()
        open_journal = plugin.open_journal

        def watched_open() -> WatchedJournal:
            self.calls.append(("open", threading.get_ident()))
            self.journal = open_journal()
            return self

        plugin.open_journal = watched_open  # type: ignore[method-assign]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def threads(self) -> set[int]:
        return {thread for _, thread in self.calls}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.journal, name)
        if name == "build":
            return method

        def call(*args: Any) -> Any:
            if self.busy:
                self.overlaps += 1
            self.busy = True
            try:
                self.calls.append((name, threading.get_ident()))
                if name == "collect":
                    self.reading.set()
                    assert self.gate.wait(WAIT_SECONDS)
                return method(*args)
            finally:
                self.busy = False

        return call


async def passes(plugin: SystemdInput, count: int) -> list[bool]:
    """``count`` passes of a paused input, one after the other (its own reading stays idle):
    whether each said more may be waiting."""
    plugin.pause()
    await plugin.start()
    try:
        return [await plugin.read_pass() for _ in range(count)]
    finally:
        await plugin.stop()
        await plugin.close()


async def read_all(plugin: SystemdInput, emitted: list[Chunk], count: int) -> list[Chunk]:
    """Start the input, wait until ``count`` records came out, stop and close it."""
    await plugin.start()
    try:
        await until(lambda: sum(map(len, emitted)) >= count, f"{count} records")
    finally:
        await plugin.stop()
        await plugin.close()
    return emitted
