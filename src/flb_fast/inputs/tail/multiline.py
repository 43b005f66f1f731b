"""``multiline.parser docker, cri``: the container runtimes' own split-line formats.

Fluent Bit's built-in ``docker`` and ``cri`` multiline parsers (src/multiline/flb_ml_parser_
{docker,cri}.c): a Docker json-file entry whose ``log`` does not end in ``\\n`` continues in the
next entry of the same stream; a CRI line ``<time> <stream> <P|F> <log>`` with ``P`` continues in
the next line of the same stream. Partial lines are grouped by ``stream``, so interleaved
stdout and stderr parts never mix (fluent-bit #4387). The record is the first part's fields
(time removed, as those parsers do not keep it) with the parts' ``log`` joined, stamped with
the first part's time. A line neither parser recognises passes through as ``{"log": line}``.
"""

from __future__ import annotations

import calendar
import functools
import re
from typing import Any

import msgspec

# FB src/multiline/flb_ml_parser_cri.c: FLB_ML_CRI_REGEX.
CRI_LINE = re.compile(r"^(?P<time>.+?) (?P<stream>stdout|stderr) (?P<_p>F|P) (?P<log>.*)$", re.DOTALL)
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$")
RUNTIME_PARSERS = frozenset({"docker", "cri"})
# FB include/fluent-bit/multiline/flb_ml.h: FLB_ML_FLUSH_TIMEOUT (ms) for built-in parsers.
FLUSH_SECONDS = 4.0

_decode_object = msgspec.json.Decoder(dict).decode


@functools.lru_cache(maxsize=256)
def _epoch_seconds(date: str, clock: str, zone: str) -> int:
    seconds = calendar.timegm(tuple(int(part) for part in (*date.split("-"), *clock.split(":"))) + (0, 0, 0))  # type: ignore[arg-type]
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def parse_time_ns(text: str) -> int | None:
    """Nanoseconds since the epoch from an RFC 3339 time with up to 9 fractional digits."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    date, clock, fraction, zone = match.groups()
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    return _epoch_seconds(date, clock, zone or "") * 1_000_000_000 + nanos


class _Group:
    __slots__ = ("timestamp", "record", "parts", "since", "offset")

    def __init__(self, timestamp: int, record: dict[str, Any], since: float, offset: int) -> None:
        self.timestamp = timestamp
        self.record = record
        self.parts = [record["log"]]
        self.since = since
        self.offset = offset

    def finish(self) -> tuple[int, dict[str, Any]]:
        self.record["log"] = "".join(self.parts)
        return self.timestamp, self.record


class RuntimeMultiline:
    """One file's partial-line groups, one per stream."""

    __slots__ = ("use_docker", "use_cri", "groups")

    def __init__(self, parsers: list[str]) -> None:
        self.use_docker = "docker" in parsers
        self.use_cri = "cri" in parsers
        self.groups: dict[str, _Group] = {}

    @property
    def holding(self) -> bool:
        return bool(self.groups)

    @property
    def held_since(self) -> float | None:
        return min((group.since for group in self.groups.values()), default=None)

    @property
    def held_offset(self) -> int | None:
        """File offset of the oldest line still held (``None`` if none): the offset to commit."""
        return min((group.offset for group in self.groups.values()), default=None)

    def process(
        self, lines: list[bytes], first_offset: int, read_time_ns: int, key: str, now: float
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        """Records completed by these lines, and ``held_offset`` afterwards.

        ``first_offset`` is the file offset of ``lines[0]``.
        """
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        offset = first_offset
        for line in lines:
            line_offset = offset
            offset += len(line) + 1
            parsed = self._parse(line)
            if parsed is None:
                timestamps.append(read_time_ns)
                records.append({key: line.decode("utf-8", "replace")})
                continue
            timestamp, record, partial = parsed
            if timestamp is None:
                timestamp = read_time_ns
            stream = record.get("stream", "")
            group = self.groups.get(stream)
            if group is None:
                if partial:
                    self.groups[stream] = _Group(timestamp, record, now, line_offset)
                else:
                    timestamps.append(timestamp)
                    records.append(record)
                continue
            group.parts.append(record["log"])
            if not partial:
                del self.groups[stream]
                ts, joined = group.finish()
                timestamps.append(ts)
                records.append(joined)
        return timestamps, records, self.held_offset

    def flush(self) -> tuple[list[int], list[dict[str, Any]]]:
        """Every held group as a record (timeout or stop), oldest first."""
        finished = sorted((group.finish() for group in self.groups.values()), key=lambda item: item[0])
        self.groups = {}
        return [ts for ts, _ in finished], [record for _, record in finished]

    def _parse(self, line: bytes) -> tuple[int | None, dict[str, Any], bool] | None:
        if self.use_docker and line[:1] == b"{":
            try:
                record = _decode_object(line)
            except msgspec.DecodeError:
                record = None
            if record is not None and isinstance(record.get("log"), str):
                time_text = record.pop("time", None)
                timestamp = parse_time_ns(time_text) if isinstance(time_text, str) else None
                return timestamp, record, not record["log"].endswith("\n")
        if self.use_cri:
            match = CRI_LINE.match(line.decode("utf-8", "replace"))
            if match is not None:
                time_text, stream, tag, log = match.groups()
                return parse_time_ns(time_text), {"stream": stream, "_p": tag, "log": log}, tag == "P"
        return None


class RulesMultiline:
    """``multiline.parser`` naming ``[MULTILINE_PARSER]`` sections or the built-in go, java, python
    and ruby: the parsers' shared rule engine (flb_fast.parsers.multiline), one stream per file."""

    __slots__ = ("engine", "held_offset")

    def __init__(self, parsers: list[Any], key: str) -> None:
        from flb_fast.parsers.multiline import Multiline

        self.engine = Multiline(parsers, default_key=key)
        self.held_offset: int | None = None

    @property
    def holding(self) -> bool:
        return self.engine.pending() > 0

    def process(
        self, lines: list[bytes], first_offset: int, read_time_ns: int, key: str, now: float
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        """Same contract as ``RuntimeMultiline.process``: completed records and ``held_offset``.

        A group opens on the line after which the engine holds something it did not hold
        before, or on a line that completed a group yet left one open (a start line).
        """
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        offset = first_offset
        for line in lines:
            was_holding = self.holding
            completed = self.engine.feed_text(0, read_time_ns, line.decode("utf-8", "replace"))
            if not self.holding:
                self.held_offset = None
            elif not was_holding or completed:
                self.held_offset = offset
            for timestamp, record in completed:
                timestamps.append(timestamp)
                records.append(record)
            offset += len(line) + 1
        return timestamps, records, self.held_offset

    def flush_expired(self, now: float) -> tuple[list[int], list[dict[str, Any]]]:
        return self._split(self.engine.flush_expired(now))

    def flush(self) -> tuple[list[int], list[dict[str, Any]]]:
        return self._split(self.engine.flush_all())

    def _split(self, completed: list[tuple[int, dict[str, Any]]]) -> tuple[list[int], list[dict[str, Any]]]:
        if not self.holding:
            self.held_offset = None
        return [ts for ts, _ in completed], [record for _, record in completed]
