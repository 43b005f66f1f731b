"""``Format logfmt``: ``key=value key="quoted value" bare`` (``flb_parser_logfmt.c``, brandur.org/logfmt).

Keys are runs of bytes above space other than ``=`` and ``"``; anything else between pairs is
skipped. A bare key or ``key=`` is ``true``, ``key=""`` is an empty string, and quoted values
have their backslash escapes decoded. A repeated key keeps its last value, at its last place (Fluent
Bit's record holds both; its JSON writer keeps the last where it stands). Parsing stops at the first line end after a pair. A time
that does not parse fails the whole text, as in Fluent Bit. With Types set, every value goes
through the cast as written (a bare key becomes the empty string), as Fluent Bit does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.parsers.base import ParseResult
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.spec import ParserSpec
from flb_fast.unescape import unescape_utf8

_PAIR = re.compile(
    r'[\x00-\x20="]*([^\x00-\x20="]+)(?:(=)(?:"((?:[^\\"]|\\[\s\S]?)*)("?)|([^\x00-\x20="]*)))?'
)


def unescape_value(raw: str) -> str:
    """A quoted value's escapes read (``flb_unescape_string_utf8``), up to the first NUL they make:
    flb_parser_logfmt.c keeps the result's ``strlen``."""
    return unescape_utf8(raw).partition("\0")[0]


class LogfmtParser(FieldParser):
    format = "logfmt"

    def __init__(self, spec: ParserSpec) -> None:
        super().__init__(spec)
        self._no_bare_keys = spec.logfmt_no_bare_keys
        # The batch scanner in C (_core/logfmt.pxi), None for the Python path.
        self.compiled = core_part("parse_logfmt_lines")

    def parse_lines(self, lines: Sequence[bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        """Tail's path: the whole batch scanned in C when the extension has it."""
        if self.compiled is None:
            return super().parse_lines(lines, read_time_ns, key)
        plain = not self.types and self.decoders is None
        return self.compiled(
            lines if isinstance(lines, list) else list(lines), read_time_ns, key,
            self.time_key if self.time is not None else None, self.time_keep, self._no_bare_keys, bool(self.types),
            self.time.parse if self.time is not None else None, self.time_failed, unescape_value,
            None if plain else self._finish)

    def _finish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Types on the values as written, then decoders (flb_parser_logfmt.c order)."""
        if self.types:
            for name, value in record.items():
                record[name] = self.cast(name, value)
        return self.decoders.apply(record) if self.decoders is not None else record

    def parse_text(self, text: str) -> ParseResult | None:
        record: dict[str, Any] = {}
        timestamp = -1
        pos, end = 0, len(text)
        match_pair = _PAIR.match
        while pos < end:
            match = match_pair(text, pos)
            if match is None:
                break
            key, has_value, quoted, _closing, plain = match.groups()
            pos = match.end()
            raw = quoted if quoted is not None else (plain or "")
            if self._no_bare_keys and not has_value:
                return None
            if self.time is not None and key == self.time_key and raw:
                ns = self.lookup_time(raw)
                if ns is None:
                    return None
                timestamp = ns
                if not self.time_keep:
                    key = ""
            if key:
                record.pop(key, None)  # a repeated key keeps its last value at its last place
                if self.types:
                    record[key] = self.cast(key, raw)
                elif not raw:
                    record[key] = "" if quoted is not None else True
                else:
                    record[key] = unescape_value(raw) if quoted is not None and "\\" in raw else raw
            if pos < end and text[pos] in "\r\n":
                break
        if not record:
            return None
        if self.decoders is not None:
            record = self.decoders.apply(record)
        return timestamp, record
