"""The single record representation that flows from inputs through filters to outputs.

A chunk is a batch of records of one tag from one input: parallel lists of nanosecond
timestamps and record bodies (plain dicts in key order). ``_core`` fills it, filters modify it
in place, outputs encode it once. ``size`` counts the raw input bytes behind the records; it is
what ``Mem_Buf_Limit`` accounts against and what output ``proc_bytes`` reports.

``positions`` are the input's own marks of where these records came from (a tail file and the
offset after them). They travel with the records and go back to the input once every output has
accepted the chunk, so the input commits a position only for records that can no longer be lost.
"""

from __future__ import annotations

import itertools
from typing import Any

_chunk_ids = itertools.count(1)


class Chunk:
    __slots__ = ("id", "tag", "input_name", "timestamps", "records", "size", "positions")

    def __init__(
        self,
        tag: str,
        timestamps: list[int],
        records: list[dict[str, Any]],
        size: int,
        input_name: str | None = None,
        positions: list[Any] | None = None,
    ) -> None:
        self.id = next(_chunk_ids)
        self.tag = tag
        self.input_name = input_name
        self.timestamps = timestamps
        self.records = records
        self.size = size
        self.positions: list[Any] = positions if positions is not None else []

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"Chunk(id={self.id}, tag={self.tag!r}, records={len(self.records)}, size={self.size})"

    def extend(self, other: Chunk) -> None:
        """Append another batch of the same tag (the engine gathers batches into one chunk)."""
        self.timestamps.extend(other.timestamps)
        self.records.extend(other.records)
        self.size += other.size
        self.positions.extend(other.positions)

    def keep(self, mask: list[bool]) -> None:
        """Keep only the records whose mask entry is true (a filter dropping records)."""
        self.timestamps = [ts for ts, kept in zip(self.timestamps, mask, strict=True) if kept]
        self.records = [rec for rec, kept in zip(self.records, mask, strict=True) if kept]
