"""Tail's old multiline mode: ``Multiline On`` with ``Parser_Firstline`` and ``Parser_1`` ... ``Parser_N``.

Follows Fluent Bit's plugins/in_tail/tail_multiline.c. Each line is first tried with the
firstline parser: a match closes the record held (it is emitted) and opens a new one, the
match's fields, stamped with the match's time (the read time when it has none). A line that
does not match is tried with the ``Parser_N`` parsers in config order; the first that matches
adds its fields to the record held. A line none matches is added to the record held as text,
joined with ``"\\n"`` to the last field of the match before it, when the firstline match ended
with a string field (``is_last_key_val_string``); otherwise, or before any firstline match, it
is a record of its own, ``{Key: line}``, as a line without a parser is.

A held record is emitted when the next firstline match comes, when ``Multiline_Flush`` seconds
have passed since its first line (tail_multiline.c ``file_pending_flush``), at the end of the
files with ``Exit_On_Eof``, and at stop. It has Path_Key first and no Offset_Key
(``flb_tail_mult_pack_line_body``). Within one read, the records a firstline match closes come
before the records of lines of their own (Fluent Bit appends the first to the input at once and
the others when the read is processed: recorded, tests/data/fluent-bit/tail_old_multiline). A
Fluent Bit read fills a buffer of Buffer_Chunk_Size bytes (growing to Buffer_Max_Size for a
long line), one here up to 256 KiB, so where lines of their own and joined records meet across
Fluent Bit's buffer boundaries, the two agents may order them differently; the records are the
same.

Where Fluent Bit loses lines, flb-fast keeps them (README, the deliberate differences):
a record with an empty continuation line (Fluent Bit 4.2.8 logs ``error packing event : -4`` and
drops it, recorded: tests/data/fluent-bit/tail_old_multiline_empty_line), lines a ``Parser_N``
matches before any firstline match (Fluent Bit packs them into a buffer it never sends; here a
record of its own each), and text added after a ``Parser_N`` match whose last field is no string
(skipped when Fluent Bit writes the record; here a record of its own).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from flb_fast.inputs.tail.records import RecordBuilder
from flb_fast.parsers.base import Parser


class _Held:
    """The record held: the firstline match, then each ``Parser_N`` match (a dict) and each line
    no parser matched (text), in the order read."""

    __slots__ = ("timestamp", "parts", "since", "offset", "appends")

    def __init__(self, timestamp: int, fields: dict[str, Any], since: float, offset: int) -> None:
        self.timestamp = timestamp
        self.parts: list[dict[str, Any] | str] = [fields]
        self.since = since
        self.offset = offset
        # Text may be joined to the last match only when it ends with a string field.
        self.appends = _ends_with_string(fields)

    def record(self, path_key: str | None, path: str) -> dict[str, Any] | None:
        """The record Fluent Bit writes: Path_Key, then every match's fields, a match's last string
        field followed by the text after it; ``None`` when the matches hold no field."""
        if not any(isinstance(part, dict) and part for part in self.parts):
            return None  # tail_multiline.c flb_tail_mult_flush: mult_keys == 0, nothing written
        record: dict[str, Any] = {} if path_key is None else {path_key: path}
        index = 0
        while index < len(self.parts):
            fields = self.parts[index]
            index += 1
            assert isinstance(fields, dict)
            for key, value in fields.items():
                # A key matched twice: Fluent Bit's record holds both, and its JSON writer keeps
                # the later at its own place (flb_pack.c msgpack2json), as the nest filter's lift.
                record.pop(key, None)
                record[key] = value
            texts = []
            while index < len(self.parts) and isinstance(self.parts[index], str):
                texts.append(self.parts[index])
                index += 1
            if texts:
                last = next(reversed(fields))
                record[last] = "\n".join([fields[last], *texts])  # type: ignore[list-item]
        return record


def _ends_with_string(fields: dict[str, Any]) -> bool:
    return bool(fields) and type(fields[next(reversed(fields))]) is str


class FirstlineMultiline:
    """One file's old-mode multiline state. Lines of their own and the text joined to a match are
    made by the input's ``builder`` (no parser: Key, Path_Key, Offset_Key, invalid UTF-8 counted),
    as every other line tail reads."""

    __slots__ = ("firstline", "parsers", "builder", "flush_seconds", "ignore_older", "held", "skipping")

    def __init__(
        self,
        firstline: Parser,
        parsers: Sequence[Parser],
        builder: RecordBuilder,
        flush_seconds: float,
        ignore_older: float = 0,
    ) -> None:
        self.firstline = firstline
        self.parsers = list(parsers)
        self.builder = builder
        self.flush_seconds = flush_seconds
        self.ignore_older = ignore_older
        self.held: _Held | None = None
        # A firstline match older than Ignore_Older is being skipped with the lines after it
        # (tail_multiline.c ``mult_skipping``).
        self.skipping = False

    @property
    def holding(self) -> bool:
        return self.held is not None

    @property
    def held_since(self) -> float | None:
        return self.held.since if self.held is not None else None

    @property
    def held_offset(self) -> int | None:
        """File offset of the held record's first line (``None`` if none): the offset to commit."""
        return self.held.offset if self.held is not None else None

    def process(
        self, lines: list[bytes], starts: Sequence[int], read_time_ns: int, now: float, path: str,
        cut: Collection[int] = (),
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        """Records completed by these lines (``starts``: each line's file offset), the records a
        firstline match closed first, and ``held_offset`` afterwards.

        ``cut`` holds the indexes of the lines Truncate_Long_Lines cut. Fluent Bit cuts such a
        line alone in a read of its own (tail_file.c ``process_content``): the record held is
        closed, and the line is a record of its own, between what came before and after it.
        """
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        closed_ts: list[int] = []
        closed: list[dict[str, Any]] = []
        own_ts: list[int] = []
        own: list[dict[str, Any]] = []

        def end_read() -> None:
            timestamps.extend(closed_ts + own_ts)
            records.extend(closed + own)
            for done in (closed_ts, closed, own_ts, own):
                done.clear()

        firsts = self.firstline.parse_batch(lines)
        for index, (line, start, first) in enumerate(zip(lines, starts, firsts, strict=True)):
            if index in cut:
                end_read()
                self._close(timestamps, records, path)
                self._own(line, start, read_time_ns, path, timestamps, records)
                continue
            if first is not None:
                self._close(closed_ts, closed, path)
                timestamp = first[0] if first[0] not in (-1, 0) else read_time_ns
                self.skipping = 0 < self.ignore_older and timestamp < read_time_ns - self.ignore_older * 1_000_000_000
                if not self.skipping:
                    self.held = _Held(timestamp, first[1], now, start)
                continue
            if self.skipping:
                continue
            fields = self._parse_more(line)
            held = self.held
            if held is not None and fields is not None:
                held.parts.append(fields)
                continue
            if held is not None and held.appends and _ends_with_string(_last_fields(held)):
                held.parts.extend(self.builder.decode([line]))
                continue
            self._own(line, start, read_time_ns, path, own_ts, own)
        end_read()
        return timestamps, records, self.held_offset

    def flush(self, path: str) -> tuple[list[int], list[dict[str, Any]]]:
        """The record held, emitted (timeout, file end or stop)."""
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        self._close(timestamps, records, path)
        return timestamps, records

    def _close(self, timestamps: list[int], records: list[dict[str, Any]], path: str) -> None:
        held, self.held, self.skipping = self.held, None, False
        if held is not None and (record := held.record(self.builder.path_key, path)) is not None:
            timestamps.append(held.timestamp)
            records.append(record)

    def _parse_more(self, line: bytes) -> dict[str, Any] | None:
        for parser in self.parsers:
            result = parser.parse_batch([line])[0]
            if result is not None:
                return result[1]
        return None

    def _own(self, line: bytes, start: int, read_time_ns: int, path: str,
             timestamps: list[int], records: list[dict[str, Any]]) -> None:
        """A line of its own: Path_Key, Offset_Key, then Key (tail_file.c flb_tail_file_pack_line)."""
        stamps, made = self.builder.build([line], [start], read_time_ns, path)
        timestamps.extend(stamps)
        records.extend(made)


def _last_fields(held: _Held) -> dict[str, Any]:
    """The last match of the record held: the fields text after it would be joined to."""
    return next(part for part in reversed(held.parts) if isinstance(part, dict))
