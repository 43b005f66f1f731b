"""``Format regex``: named groups become fields (``flb_parser_regex.c``).

Fluent Bit searches (not anchors) the pattern; a line it does not match is not parsed. Each named
group in pattern order gives a field; a group that is empty or did not take part is dropped while
``Skip_Empty_Values`` is on (the default) and is an empty string otherwise. A time field that does
not parse is dropped too (even with ``Time_Keep On``), and the record keeps the read time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.parsers.base import ParseResult
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.onigmo import compile_onigmo
from flb_fast.parsers.regex_program import compile_program
from flb_fast.parsers.spec import ParserSpec
from flb_fast.text import INVALID_UTF8

# Key of a line the compiled batch did not parse (no capture group can be named so).
_UNPARSED = "\x00unparsed"


class RegexParser(FieldParser):
    format = "regex"

    def __init__(self, spec: ParserSpec) -> None:
        super().__init__(spec)
        assert spec.regex is not None
        self.regex = compile_onigmo(spec.regex)
        self._search = self.regex.search
        self._skip_empty = spec.skip_empty_values
        self._plain = not self.types and self.decoders is None
        self._time_field = self.time_key if self.time is not None else None
        self._time_clf = self.time is not None and self.time.reads_clf_in_core

    @cached_property
    def compiled(self) -> Any:
        """The batch matcher in C, or None to use re (no _core, or a pattern it cannot run).
        Built on first use: a parsers file defines many more parsers than a config runs, and
        building one costs more than checking its pattern (re.compile, at start-up)."""
        program_class = core_part("RegexProgram")
        if program_class is None:
            return None
        program = compile_program(self.regex)
        if program is None:
            return None
        return program_class(program.code, program.classes, program.group_count, program.names,
                             program.anchored_line_start)

    def parse_lines(self, lines: Sequence[bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        """Tail's path: the whole batch in C when compiled, else one tight Python loop for the
        common case (no Types, no decoders)."""
        if self.compiled is not None:
            return self._compiled_lines(lines, read_time_ns, key)
        if not (self._plain and self._skip_empty and self.regex.groups):
            return super().parse_lines(lines, read_time_ns, key)
        search = self._search
        time_field = self._time_field
        keep = self.time_keep
        times_seen: dict[str, int | None] = {}
        timestamps: list[int] = []
        records: list[dict] = []
        failed = 0
        for line in lines:
            text = line.decode("utf-8", INVALID_UTF8)
            match = search(text)
            if match is None:
                failed += 1
                timestamps.append(read_time_ns)
                records.append({key: text})
                continue
            record = match.groupdict("")
            if "" in record.values():
                record = {name: value for name, value in record.items() if value}
            timestamp = read_time_ns
            if time_field is not None:
                value = record.get(time_field)
                if value is not None:
                    ns = times_seen.get(value, -1)
                    if ns == -1:
                        ns = times_seen[value] = self.time.parse(value)  # type: ignore[union-attr]
                    if ns is None:
                        self.time_failed(value)
                        del record[time_field]
                    else:
                        timestamp = ns or read_time_ns
                        if not keep:
                            del record[time_field]
            timestamps.append(timestamp)
            records.append(record)
        return timestamps, records, failed

    def _compiled_lines(self, lines: Sequence[str | bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        return self.compiled.parse_lines(
            lines if isinstance(lines, list) else list(lines), read_time_ns, key, self._skip_empty,
            self._time_field, self.time_keep, self.time.parse if self.time is not None else None,
            self.time_failed, None if self._plain else self._finish, self._time_clf)

    def parse_batch(self, texts: Sequence[str | bytes]) -> list[ParseResult | None]:
        """The kubernetes and parser filters' path: compiled too, str texts matched as they are."""
        if self.compiled is None:
            return super().parse_batch(texts)
        timestamps, records, failed = self._compiled_lines(texts, -1, _UNPARSED)
        if not failed:
            return list(zip(timestamps, records, strict=True))
        return [None if _UNPARSED in record else (timestamp, record)
                for timestamp, record in zip(timestamps, records, strict=True)]

    def _finish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Types, then decoders, on a record whose time field was already handled (cb_results order)."""
        if self.types:
            for key, value in record.items():
                if key in self.types:
                    record[key] = self.cast(key, value)
        return self.decoders.apply(record) if self.decoders is not None else record

    def parse_text(self, text: str) -> ParseResult | None:
        match = self._search(text)
        if match is None or not self.regex.groups:
            return None
        groups = match.groupdict()
        timestamp = -1
        time_field = self._time_field
        if self._plain and self._skip_empty:
            # The common case (the standard parsers): one dict pass, then the time field.
            record: dict[str, Any] = {key: value for key, value in groups.items() if value}
            if time_field is not None and time_field in record:
                ns = self.lookup_time(record[time_field])
                if ns is None or not self.time_keep:
                    del record[time_field]
                if ns is not None:
                    timestamp = ns
            return timestamp, record
        record = {}
        for key, value in groups.items():
            if not value:
                if self._skip_empty:
                    continue
                value = ""
            if key == time_field:
                ns = self.lookup_time(value)
                if ns is None:
                    continue
                timestamp = ns
                if not self.time_keep:
                    continue
            record[key] = self.cast(key, value) if self.types else value
        if self.decoders is not None:
            record = self.decoders.apply(record)
        return timestamp, record
