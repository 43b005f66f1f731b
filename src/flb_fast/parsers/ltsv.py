"""``Format ltsv``: ``label:value<TAB>label:value`` (``flb_parser_ltsv.c``, http://ltsv.org).

Labels are ``[0-9A-Za-z_.-]+``; a label not followed by ':' ends the parse, as does a line end.
A text with no field is not parsed. A time that does not parse fails the whole text (Fluent
Bit's ltsv returns an error there, unlike regex and json).
"""

from __future__ import annotations

import re
from typing import Any

from flb_fast.parsers.base import ParseResult
from flb_fast.parsers.common import FieldParser

_FIELD = re.compile(r"([0-9A-Za-z_.\-]*)(?::([^\x00\t\n\r]*))?")


class LtsvParser(FieldParser):
    format = "ltsv"

    def parse_text(self, text: str) -> ParseResult | None:
        record: dict[str, Any] = {}
        timestamp = -1
        pos, end = 0, len(text)
        while pos < end:
            match = _FIELD.match(text, pos)
            assert match is not None
            label, value = match.group(1), match.group(2)
            if value is None:
                break
            pos = match.end()
            if label:
                if self.time is not None and label == self.time_key and value:
                    ns = self.lookup_time(value)
                    if ns is None:
                        return None
                    timestamp = ns
                    if not self.time_keep:
                        value = None
                if value is not None:
                    record.pop(label, None)  # a repeated label keeps its last value at its last place
                    record[label] = self.cast(label, value) if self.types else value
            if pos < end and text[pos] == "\t":
                pos += 1
            if pos < end and text[pos] in "\r\n":
                break
        if not record:
            return None
        if self.decoders is not None:
            record = self.decoders.apply(record)
        return timestamp, record
