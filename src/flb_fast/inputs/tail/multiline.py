"""``multiline.parser docker, cri``: the container runtimes' own split-line formats.

Fluent Bit's built-in ``docker`` and ``cri`` multiline parsers (src/multiline/flb_ml_parser_
{docker,cri}.c): a Docker json-file entry whose ``log`` does not end in ``\\n`` continues in the
next entry of the same stream; a CRI line ``<time> <stream> <P|F> <log>`` with ``P`` continues in
the next line of the same stream. Partial lines are grouped by ``stream``, so interleaved
stdout and stderr parts never mix (fluent-bit #4387). The record is the first part's fields
(``time`` kept, as both parsers have Time_Keep on) with the parts' ``log`` joined, stamped with
the first part's time. A line neither parser recognises first closes the file's open groups
(they are emitted as they are), then passes through as ``{"log": line}`` (flb_ml_append_text:
tail's ``Key`` does not apply), cut at the multiline buffer limit (counted as
``multiline_truncated``). Joined parts are not cut at that limit: Fluent Bit 4.2.8's docker
(endswith) and cri (equal) parsers join with flb_sds_cat_safe, not flb_ml_group_cat (recorded:
tests/data/inputs/tail/multiline-buffer-limit). A group is emitted when it reaches
``JOINED_MAX_BYTES`` instead, keeping memory bounded where Fluent Bit's is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flb_fast import _core
from flb_fast.inputs.tail.docker_mode import JOINED_MAX_BYTES
from flb_fast.json_line import JSON_SPACE, decode_json_object
from flb_fast.parsers.multiline_defaults import BUFFER_LIMIT_CHARS
from flb_fast.text import INVALID_UTF8

JSON_SPACE_BYTES = JSON_SPACE.encode()
# A CRI line's separator after its time (flb_ml_parser_cri.c's regex; _core/cri.pxi).
_CRI_SEPARATOR = re.compile(rb" (?:stdout|stderr) [FP] ")
# What a line that is a Docker entry may start with: its object, or JSON white space before it.
_ENTRY_FIRST_BYTES = (b"{", *(bytes([space]) for space in JSON_SPACE_BYTES if space != ord("\n")))
RUNTIME_PARSERS = frozenset({"docker", "cri"})
# FB include/fluent-bit/multiline/flb_ml.h: FLB_ML_FLUSH_TIMEOUT (ms) for built-in parsers.
FLUSH_SECONDS = 4.0

# flb_ml_parser_docker.c docker_parser_create: the docker multiline parser's Time_Format.
DOCKER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L"


def parse_time_ns(text: str) -> int | None:
    """Nanoseconds since the epoch of a Docker entry's time, as Fluent Bit's docker multiline parser
    reads it: ``%Y-%m-%dT%H:%M:%S.%L`` as UTC, what follows ignored (an offset too), and, as that
    parser is not strict (flb_ml_parser_docker.c: time_strict FLB_FALSE; flb_parser.c
    flb_parser_time_lookup), a time that stops matching gives the fields read up to there
    (``2024-13-02T03:04:05Z`` is 2024-01-00, that is 2023-12-31). The compiled reading takes the
    usual times; the others go to parsers.time."""
    ns = _core.parse_time_rfc3339(text)
    if ns != -1:
        return ns
    from flb_fast.parsers.time import lenient_time_ns  # only for times that are not canonical

    return lenient_time_ns(DOCKER_TIME_FORMAT, text)


class _Group:
    """One stream's held parts. Fluent Bit joins the parts' bytes (flb_sds_cat_safe), so a CRI
    part's log is kept as the line's bytes: a character containerd split between two lines is whole
    again once joined, and bytes that are not UTF-8 are written as they are in the joined text."""

    __slots__ = ("timestamp", "record", "parts", "size", "since", "offset")

    def __init__(self, timestamp: int, record: dict[str, Any], since: float, offset: int, line: bytes) -> None:
        self.timestamp = timestamp
        self.record = record
        self.parts: list[bytes] = []
        self.size = 0
        self.since = since
        self.offset = offset
        self.add(record, line)

    def add(self, record: dict[str, Any], line: bytes) -> None:
        part = _log_bytes(record, line)
        self.parts.append(part)
        self.size += len(part)

    def finish(self) -> tuple[int, dict[str, Any]]:
        self.record["log"] = b"".join(self.parts).decode("utf-8", INVALID_UTF8)
        return self.timestamp, self.record


def _log_bytes(record: dict[str, Any], line: bytes) -> bytes:
    """The bytes of an entry's log: a CRI line's own (what follows ``<time> <stream> <P|F> ``, as
    _core's decode_cri_lines finds it), a Docker entry's as JSON decoded them."""
    if "_p" in record:
        separator = _CRI_SEPARATOR.search(line, 1)
        if separator is not None:
            return line[separator.end():]
    return record["log"].encode("utf-8", "surrogateescape")


class RuntimeMultiline:
    """One file's partial-line groups, one per stream."""

    __slots__ = ("use_docker", "use_cri", "groups", "group_order", "buffer_limit", "truncated")

    def __init__(self, parsers: list[str], buffer_limit: int = BUFFER_LIMIT_CHARS) -> None:
        self.use_docker = "docker" in parsers
        self.use_cri = "cri" in parsers
        self.groups: dict[str, _Group] = {}
        # Fluent Bit's stream groups in the order they are flushed (flb_ml_stream.c: the default
        # group, for entries without a string stream, is created first; a named one is appended
        # the first time its stream is seen and kept).
        self.group_order: dict[str, None] = {"": None}
        self.buffer_limit = buffer_limit
        self.truncated = 0

    def newly_truncated(self) -> int:
        """Lines no parser claimed that were cut at the buffer limit since the last call."""
        new, self.truncated = self.truncated, 0
        return new

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
        self, lines: list[bytes], starts: Sequence[int], read_time_ns: int, now: float,
        offsets: list[int] | None = None,
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        """Records completed by these lines, and ``held_offset`` afterwards.

        ``starts`` holds where reading stood as each line was read (``TailFile.read_into``'s read
        positions); when ``offsets`` is a list, each record's Offset_Key is appended to it: that
        of the line being read when the record was made (the line that completed a joined
        record, or that closed the groups held), as in_tail's flush callback writes
        ``stream_offset + last_processed_bytes``. A batch of CRI lines is decoded in one compiled
        call; when none is partial and nothing is held, its records are the result.
        """
        if self.use_cri and not (self.use_docker and _has_json_line(lines)):
            timestamps, records, partials, failed = _core.decode_cri_lines(lines, read_time_ns)
            if not partials and not self.groups and not (failed and b"" in lines):
                if failed:
                    for record in records:
                        if len(record) == 1:
                            record["log"] = self._cut(record["log"])
                if offsets is not None:
                    offsets.extend(starts)
                return timestamps, records, None
            partial_at = set(partials)
            parsed: list[tuple[int | None, dict[str, Any], bool] | None] = [
                (timestamp, record, index in partial_at) if len(record) > 1 else None
                for index, (timestamp, record) in enumerate(zip(timestamps, records, strict=True))
            ]
        else:
            parsed = [self._parse_docker(line) for line in lines]
            if self.use_cri:
                self._parse_cri_rest(lines, parsed, read_time_ns)
        return self._group(lines, parsed, starts, read_time_ns, now, offsets)

    def _group(
        self,
        lines: list[bytes],
        parsed: list[tuple[int | None, dict[str, Any], bool] | None],
        starts: Sequence[int],
        read_time_ns: int,
        now: float,
        offsets: list[int] | None,
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        for line, entry, line_offset in zip(lines, parsed, starts, strict=True):
            if entry is None:
                held_ts, held_records = self.flush()
                timestamps.extend(held_ts)
                records.extend(held_records)
                if offsets is not None:
                    offsets.extend([line_offset] * len(held_records))
                if not line:
                    # flb_ml.c flb_ml_append_text: a line no parser claims flushes what is held,
                    # then is a record of its own, but an empty one flushes as nothing.
                    continue
                timestamps.append(read_time_ns)
                records.append({"log": self._cut(line.decode("utf-8", INVALID_UTF8))})
                if offsets is not None:
                    offsets.append(line_offset)
                continue
            timestamp, record, partial = entry
            if not timestamp:  # none, or exactly the epoch: the read time, as in_tail stamps it
                timestamp = read_time_ns
            stream = record.get("stream", "")
            if type(stream) is not str:  # flb_ml.c process_append: a group name that is no string
                stream = ""  # is no group name (the stream's default group, as a missing one)
            group = self.groups.get(stream)
            if group is None:
                self.group_order.setdefault(stream)
                if partial:
                    self.groups[stream] = _Group(timestamp, record, now, line_offset, line)
                else:
                    timestamps.append(timestamp)
                    records.append(record)
                    if offsets is not None:
                        offsets.append(line_offset)
                continue
            group.add(record, line)
            if not partial or group.size >= JOINED_MAX_BYTES:
                del self.groups[stream]
                ts, joined = group.finish()
                timestamps.append(ts)
                records.append(joined)
                if offsets is not None:
                    offsets.append(line_offset)
        return timestamps, records, self.held_offset

    def _cut(self, text: str) -> str:
        """A line no parser claims, cut at the buffer limit as flb_ml_group_cat cuts it."""
        if 0 < self.buffer_limit < len(text):
            self.truncated += 1
            return text[: self.buffer_limit]
        return text

    def flush(self) -> tuple[list[int], list[dict[str, Any]]]:
        """Every held group as a record (a line no parser claims, timeout or stop), in Fluent Bit's
        group order (flb_ml.c flb_ml_flush_parser_instance walks the groups of the stream)."""
        groups = [self.groups[stream] for stream in self.group_order if stream in self.groups]
        self.groups = {}
        finished = [group.finish() for group in groups]
        return [ts for ts, _ in finished], [record for _, record in finished]

    @staticmethod
    def _parse_cri_rest(
        lines: list[bytes], parsed: list[tuple[int | None, dict[str, Any], bool] | None], read_time_ns: int
    ) -> None:
        """Lines of a mixed batch that are not Docker entries, tried as CRI lines."""
        rest = [index for index, entry in enumerate(parsed) if entry is None]
        if not rest:
            return
        timestamps, records, partials, _failed = _core.decode_cri_lines([lines[i] for i in rest], read_time_ns)
        partial_at = set(partials)
        for position, index in enumerate(rest):
            if len(records[position]) > 1:
                parsed[index] = (timestamps[position], records[position], position in partial_at)

    def _parse_docker(self, line: bytes) -> tuple[int | None, dict[str, Any], bool] | None:
        """A Docker json-file entry (time kept, as Fluent Bit's docker multiline parser keeps it)."""
        if not self.use_docker or not _starts_object(line):
            return None
        try:
            record, time_text = decode_json_object(line, "time")
        except RecursionError:  # nested deeper than msgspec decodes: no entry
            return None
        if type(record) is not dict or not isinstance(record.get("log"), str) or not record["log"]:
            # flb_ml.c package_content: the docker parser (ENDSWITH "\n") claims an entry only
            # when its log is a string at least as long as "\n"; an empty one is no entry.
            return None
        timestamp = parse_time_ns(time_text) if isinstance(time_text, str) else None
        return timestamp, record, not record["log"].endswith("\n")


def _starts_object(line: bytes) -> bool:
    """Whether ``line`` starts with ``{`` after JSON's white space (the JSON parser skips it)."""
    return line[:1] == b"{" or line.lstrip(JSON_SPACE_BYTES)[:1] == b"{"


def _has_json_line(lines: list[bytes]) -> bool:
    """Whether a line of the batch may be a Docker entry: one starts with ``{`` or white space (a
    CRI line starts with its time), found in one pass over the batch per byte."""
    if not lines:
        return False
    joined = b"\n" + b"\n".join(lines)
    return any(b"\n" + first in joined for first in _ENTRY_FIRST_BYTES)


class RulesMultiline:
    """``multiline.parser`` naming ``[MULTILINE_PARSER]`` sections or the built-in go, java, python
    and ruby: the parsers' shared rule engine (flb_fast.parsers.multiline), one stream per file.

    Records hold their text under the parser's ``key_content``, else ``log``: tail's ``Key`` does
    not apply (in_tail hands the lines to flb_ml_append_text, whose records name "log").
    """

    __slots__ = ("engine", "held_offset", "truncated_seen")

    def __init__(self, parsers: list[Any], buffer_limit: int = BUFFER_LIMIT_CHARS) -> None:
        from flb_fast.parsers.multiline import Multiline

        self.engine = Multiline(parsers, default_key="log", buffer_limit=buffer_limit)
        self.held_offset: int | None = None
        self.truncated_seen = 0

    def newly_truncated(self) -> int:
        """Lines cut at the multiline buffer limit since the last call: what Fluent Bit's tail
        counts as ``multiline_truncated`` when flb_ml_append_text says FLB_MULTILINE_TRUNCATED
        (tail_file.c ``process_content``)."""
        new = self.engine.truncated - self.truncated_seen
        self.truncated_seen = self.engine.truncated
        return new

    @property
    def holding(self) -> bool:
        return self.engine.pending() > 0

    def process(
        self, lines: list[bytes], starts: Sequence[int], read_time_ns: int, now: float,
        offsets: list[int] | None = None,
    ) -> tuple[list[int], list[dict[str, Any]], int | None]:
        """Same contract as ``RuntimeMultiline.process``: completed records and ``held_offset``
        (a record's offset is that of the line that completed it).

        ``held_offset`` is the offset of the oldest line a group still holds, whichever parser's
        group it is (a python traceback may stay open while a java trace is joined).
        """
        timestamps: list[int] = []
        records: list[dict[str, Any]] = []
        for line, offset in zip(lines, starts, strict=True):
            completed = self.engine.feed_text(0, read_time_ns, line.decode("utf-8", INVALID_UTF8), offset)
            self.held_offset = self.engine.held_position()
            for timestamp, record in completed:
                timestamps.append(timestamp)
                records.append(record)
                if offsets is not None:
                    offsets.append(offset)
        return timestamps, records, self.held_offset

    def flush_expired(self, now: float) -> tuple[list[int], list[dict[str, Any]]]:
        return self._split(self.engine.flush_expired(now))

    def flush(self) -> tuple[list[int], list[dict[str, Any]]]:
        return self._split(self.engine.flush_all())

    def _split(self, completed: list[tuple[int, dict[str, Any]]]) -> tuple[list[int], list[dict[str, Any]]]:
        self.held_offset = self.engine.held_position()
        return [ts for ts, _ in completed], [record for _, record in completed]
