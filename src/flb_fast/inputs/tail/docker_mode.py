"""``Docker_Mode``: rejoin the entries Docker's json-file driver splits at 16 KB.

Docker writes a long line as several JSON entries of which only the last one's ``log`` ends in
``\\n``. As in Fluent Bit's tail_dockermode.c, the joined entry is the last entry's JSON with its
``log`` replaced by the concatenation, so ``stream`` and ``time`` are the last part's, and it
then goes through the input's ``Parser`` like any other line. A line that is not JSON with a
string ``log`` first flushes what is held, then passes through unchanged.

With ``Docker_Mode_Parser``, complete entries are held too: an entry whose ``log`` matches that
parser starts a new record, any other one continues the held record (a stack trace logged
line by line). What is held is flushed after ``Docker_Mode_Flush`` seconds, and at stop.
"""

from __future__ import annotations

import msgspec

from flb_fast.parsers.base import Parser


class _LogField(msgspec.Struct):
    log: str


_decode_batch = msgspec.json.Decoder(list[_LogField]).decode
_decode_one = msgspec.json.Decoder(_LogField).decode
_decode_object = msgspec.json.Decoder(dict).decode
_encode = msgspec.json.Encoder().encode

def log_values(lines: list[bytes]) -> list[str | None]:
    """The ``log`` string of each line, ``None`` where a line is not such JSON.

    One decoder call for the whole batch in the common case where every line is valid; a
    batch with a bad line falls back to one call per line.
    """
    try:
        entries = _decode_batch(b"[" + b",".join(lines) + b"]")
        if len(entries) == len(lines):
            return [entry.log for entry in entries]
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    values: list[str | None] = []
    for line in lines:
        try:
            values.append(_decode_one(line).log)
        except (msgspec.DecodeError, msgspec.ValidationError):
            values.append(None)
    return values


class DockerModeJoiner:
    """One file's Docker_Mode state: the parts held and the entry they will be written into."""

    __slots__ = ("firstline", "parts", "last_line", "held_since", "held_offset")

    def __init__(self, firstline: Parser | None) -> None:
        self.firstline = firstline
        self.parts: list[str] = []
        self.last_line: bytes | None = None
        self.held_since: float | None = None
        self.held_offset: int | None = None

    @property
    def holding(self) -> bool:
        return self.last_line is not None

    def join(self, lines: list[bytes], first_offset: int, now: float) -> tuple[list[bytes], int | None]:
        """Lines ready for the parser, and the file offset where what is still held begins.

        ``first_offset`` is the offset of ``lines[0]``; the second value is ``None`` when
        nothing is held (the caller may commit past every line).
        """
        out: list[bytes] = []
        offset = first_offset
        for line, log in zip(lines, log_values(lines), strict=True):
            if log is None:
                if self.holding:
                    out.append(self.flush())
                out.append(line)
            elif not log.endswith("\n"):
                if not self.holding:
                    self._start(offset, now)
                self._hold(line, log)
            elif self.firstline is None:
                out.append(self._written(line, log) if self.holding else line)
                self._clear()
            elif self.holding and self._starts_record(log):
                out.append(self.flush())
                self._start(offset, now)
                self._hold(line, log)
            else:
                if not self.holding:
                    self._start(offset, now)
                self._hold(line, log)
            offset += len(line) + 1
        return out, self.held_offset

    def flush(self) -> bytes:
        """The held record as one JSON line (the last entry with the joined ``log``); clears it."""
        assert self.last_line is not None
        parts, last_line = self.parts, self.last_line
        self._clear()
        return _with_log(last_line, "".join(parts))

    def _starts_record(self, log: str) -> bool:
        assert self.firstline is not None
        return self.firstline.parse_batch([log.rstrip("\n")])[0] is not None

    def _start(self, offset: int, now: float) -> None:
        self.held_offset = offset
        self.held_since = now

    def _hold(self, line: bytes, log: str) -> None:
        self.parts.append(log)
        self.last_line = line

    def _written(self, line: bytes, log: str) -> bytes:
        joined = "".join(self.parts) + log
        return _with_log(line, joined)

    def _clear(self) -> None:
        self.parts = []
        self.last_line = None
        self.held_since = None
        self.held_offset = None


def _with_log(line: bytes, log: str) -> bytes:
    entry = _decode_object(line)
    entry["log"] = log
    return _encode(entry)
