"""Running the systemd input on real journal files, and reading the recorded Fluent Bit cases."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from flb_fast.inputs.systemd import SystemdInput
from flb_fast.record import Chunk
from tests.standalone import plugin_for
from tests.waiting import until

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


async def read_all(plugin: SystemdInput, emitted: list[Chunk], count: int) -> list[Chunk]:
    """Start the input, wait until ``count`` records came out, stop and close it."""
    await plugin.start()
    try:
        await until(lambda: sum(map(len, emitted)) >= count, f"{count} records")
    finally:
        await plugin.stop()
        await plugin.close()
    return emitted
