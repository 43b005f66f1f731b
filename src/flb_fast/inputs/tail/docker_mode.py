"""``Docker_Mode``: rejoin the entries Docker's json-file driver splits at 16 KB.

Docker writes a long line as several JSON entries of which only the last one's ``log`` ends in
``\\n``. As in Fluent Bit's tail_dockermode.c, the joined entry is the last entry's JSON with its
``log`` replaced by the concatenation, so ``stream`` and ``time`` are the last part's, and it
then goes through the input's ``Parser`` like any other line. A line that is not JSON with a
string ``log`` first flushes what is held, then passes through unchanged.

With ``Docker_Mode_Parser``, an entry that matches that parser starts a record that is held
while the entries that do not match are appended to it (a stack trace logged line by line); an
entry that matches starts the next one. Entries outside such a record are joined as without it. The parser sees the entry's raw JSON line, not its ``log``, as in Fluent Bit 4.2.8
(recorded: tests/data/fluent-bit/docker_mode_parser*). What is held is flushed after ``Docker_Mode_Flush`` seconds, and at stop.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from flb_fast.compiled import core_part
from flb_fast.json_line import string_value_span
from flb_fast.parsers.base import Parser


class _LogField(msgspec.Struct):
    log: str


# Docker json-file writes "log" first and "stream" next: a complete entry (log ends in a newline)
# holds this byte run, which no string content can contain (its quote would be escaped). An
# escaped backslash before the "n" would fake it, so a batch where that occurs takes the slow path
# (the compiled search instead counts the backslashes and hands such a line to the slow path alone).
# Valid Docker output has one "stream" key per entry; garbage with a mark inside its text could at
# worst leave a split entry unjoined (passed on as it is), never lose it.
_COMPLETE_MARK = b'\\n","stream":'
_FAKE_MARK = b'\\\\n","stream":'

# A joined record is flushed once its parts reach this size, and joining starts afresh: memory
# stays bounded whatever a container writes without a newline. 1 MiB is above what any AWS
# destination takes in one event (CloudWatch Logs 256 KiB, Firehose 1,000 KiB).
JOINED_MAX_BYTES = 1024 * 1024

_decode_one = msgspec.json.Decoder(_LogField).decode
_decode_object = msgspec.json.Decoder(dict).decode
_encode = msgspec.json.Encoder().encode
# The lines without the mark (or with a faked one), searched from each line's end in C (a sixth
# of the CPU of the bisection below on the bench's mix); None (``_unmarked`` is then the path)
# without _core.
_core_unmarked = core_part("docker_unmarked")

def log_value(line: bytes) -> str | None:
    """The ``log`` string of a Docker json-file line, ``None`` if the line is not such JSON (one
    that does not start with its object is not: modify_json_cond wants the root token at 0)."""
    if line[:1] != b"{":
        return None
    try:
        return _decode_one(line).log
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class _Sink:
    """Lines handed on, with their file offsets when Offset_Key wants them."""

    __slots__ = ("lines", "offsets")

    def __init__(self, offsets: list[int] | None) -> None:
        self.lines: list[bytes] = []
        self.offsets = offsets

    def add(self, line: bytes, offset: int) -> None:
        self.lines.append(line)
        if self.offsets is not None:
            self.offsets.append(offset)

    def extend(self, lines: list[bytes], starts: Sequence[int]) -> None:
        self.lines.extend(lines)
        if self.offsets is not None:
            self.offsets.extend(starts)


class DockerModeJoiner:
    """One file's Docker_Mode state: the parts held and the entry they will be written into."""

    __slots__ = ("firstline", "parts", "held_bytes", "last_line", "held_since", "held_offset", "first_matched")

    def __init__(self, firstline: Parser | None) -> None:
        self.firstline = firstline
        self.parts: list[str] = []
        self.held_bytes = 0
        self.last_line: bytes | None = None
        self.held_since: float | None = None
        self.held_offset: int | None = None
        # The held record began with an entry Docker_Mode_Parser matched: complete entries that
        # do not match are its continuation lines.
        self.first_matched = False

    @property
    def holding(self) -> bool:
        return self.last_line is not None

    def join(
        self, lines: list[bytes], starts: Sequence[int], now: float, offsets: list[int] | None = None
    ) -> tuple[list[bytes], int | None]:
        """Lines ready for the parser, and the file offset where what is still held begins.

        ``starts`` holds each line's file offset; the second value is ``None`` when
        nothing is held (the caller may commit past every line). When ``offsets`` is a list,
        the file offset of each returned line is appended to it (Offset_Key): a joined record
        has its last entry's, as in Fluent Bit. Without Docker_Mode_Parser only the lines that
        lack the complete-entry mark (and the one after a held record) are decoded; runs of
        complete entries pass through as slices.
        """
        out = _Sink(offsets)
        if self.firstline is not None or _core_unmarked is None and _FAKE_MARK in b"\n".join(lines):
            for line, offset in zip(lines, starts, strict=True):
                self._step(line, offset, now, out)
            return out.lines, self.held_offset
        if _core_unmarked is not None:
            suspects: list[int] = _core_unmarked(lines)
        else:
            suspects = []
            _unmarked(lines, 0, len(lines), suspects)
        if not suspects and not self.holding:
            out.extend(lines, starts)
            return lines, None
        start = 0
        for stop in [*suspects, len(lines)]:
            if start < stop and self.holding:
                self._step(lines[start], starts[start], now, out)
                start += 1
            if start < stop:
                out.extend(lines[start:stop], starts[start:stop])
            if stop < len(lines):
                self._step(lines[stop], starts[stop], now, out)
            start = stop + 1
        return out.lines, self.held_offset

    def _step(self, line: bytes, offset: int, now: float, out: _Sink) -> None:
        """One entry through the joining rules (``offset``: where it starts in the file)."""
        log = log_value(line)
        if log is None:
            if self.holding:
                self._flush_into(out)
            out.add(line, offset)
        elif not log.endswith("\n"):
            if not self.holding:
                self._start(offset)
                self.first_matched = self.firstline is not None and self._starts_record(line)
            self._hold(line, log, now, out)
        elif self.firstline is None or not self.first_matched and (self.holding or not self._starts_record(line)):
            out.add(self._written(line, log) if self.holding else line, offset)
            self._clear()
        elif self.holding and self.first_matched and self._starts_record(line):
            self._flush_into(out)
            self._start(offset)
            self.first_matched = True
            self._hold(line, log, now, out)
        else:
            if not self.holding:
                self._start(offset)
                self.first_matched = True
            self._hold(line, log, now, out)

    def _flush_into(self, out: _Sink) -> None:
        offset = self.held_offset
        out.add(self.flush(), offset if offset is not None else 0)

    def flush(self) -> bytes:
        """The held record as one JSON line (the last entry with the joined ``log``); clears it."""
        assert self.last_line is not None
        parts, last_line = self.parts, self.last_line
        self._clear()
        return _with_log(last_line, "".join(parts))

    def _starts_record(self, line: bytes) -> bool:
        assert self.firstline is not None
        return self.firstline.parse_batch([line])[0] is not None

    def _start(self, offset: int) -> None:
        self.held_offset = offset

    def _hold(self, line: bytes, log: str, now: float, out: _Sink) -> None:
        # The flush timeout runs from the last part held: Fluent Bit's dmode_flush_timeout restarts
        # with each part (tail_dockermode.c), so a line whose parts keep coming is not cut.
        self.held_since = now
        self.parts.append(log)
        self.held_bytes += len(log)
        self.last_line = line
        if self.held_bytes >= JOINED_MAX_BYTES:
            self._flush_into(out)

    def _written(self, line: bytes, log: str) -> bytes:
        joined = "".join(self.parts) + log
        return _with_log(line, joined)

    def _clear(self) -> None:
        self.first_matched = False
        self.parts = []
        self.held_bytes = 0
        self.last_line = None
        self.held_since = None
        self.held_offset = None


def _unmarked(lines: list[bytes], low: int, high: int, found: list[int]) -> None:
    """Indices in ``lines[low:high]`` without the complete-entry mark, by bisection on mark counts.

    One count over a joined range costs a memcpy and one scan; partial entries are rare (a few
    per thousand lines), so this touches each byte a few times instead of searching every line
    with a per-call needle setup.
    """
    count = high - low
    if count == 0 or b"\n".join(lines[low:high]).count(_COMPLETE_MARK) == count:
        return
    if count == 1:
        found.append(low)
        return
    middle = (low + high) // 2
    _unmarked(lines, low, middle, found)
    _unmarked(lines, middle, high, found)


def _with_log(line: bytes, log: str) -> bytes:
    """``line`` with its ``log`` string replaced by ``log``, spliced into the line's own text as
    tail_dockermode.c does (every other byte stays, so the parser reads the rest as written)."""
    span = string_value_span(line, "log")
    if span is None:  # log_value read one where the splice finds none (a repeated log key)
        try:
            entry = _decode_object(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            entry = {}  # and what msgspec cannot hold either: the joined text is what is kept
        entry["log"] = log
        return _encode(entry)
    # One copy of each part (a joined log runs to JOINED_MAX_BYTES): no slices, no pairwise concatenation.
    view = memoryview(line)
    return b"".join((view[:span[0]], _encode(log), view[span[1]:]))
