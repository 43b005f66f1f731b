"""``Format json``: one JSON object per text (``flb_parser_json.c``).

The text must start with a JSON object; what follows it is read as Fluent Bit reads it
(``flb_fast.json_line``: unreadable bytes are ignored, a second value makes no record). Decoders
run first, then the time: only a string time field is read; one that does not parse keeps the
record whole (the field stays) with the read time. ``Time_Keep Off`` removes the field only when
it was used. Types do not apply to JSON, as in Fluent Bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.json_line import decode_json_object, first_json_object
from flb_fast.parsers.base import ParseResult
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.spec import ParserSpec

# The docker parser's Time_Format, which _core reads natively (see _core/time.pxi).
DOCKER_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L"


class JsonParser(FieldParser):
    format = "json"

    def __init__(self, spec: ParserSpec) -> None:
        super().__init__(spec)
        # _core decodes whole batches (``compiled``: the decoder class, None for the Python
        # path); decoders must run before the time lookup, so they keep the Python path.
        self.compiled = core_part("JsonLinesDecoder") if spec.decoders is None else None
        self._core_decoders: dict[str, Any] = {}
        time = spec.time
        self._core_native_time = time is not None and spec.time_format == DOCKER_TIME_FORMAT and time.strict \
            and not time.system_timezone and not time.offset

    def parse_text(self, text: str | bytes) -> ParseResult | None:  # type: ignore[override]
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        try:
            record, value = decode_json_object(data, self.time_key if self.time is not None else None)
        except RecursionError:  # nested deeper than msgspec decodes
            return None
        if type(record) is not dict:
            return None
        if self.decoders is not None:
            record = self.decoders.apply(record)
            value = record.get(self.time_key)
        if self.time is None or type(value) is not str:
            return -1, record
        ns = self.lookup_time(value)
        if ns is None:
            return -1, record
        if not self.time_keep:
            record = self._without_time(data, record, value)
        return ns, record

    def _without_time(self, data: bytes, record: dict[str, Any], value: str) -> dict[str, Any]:
        """``record`` without the time key's first occurrence, the one the time was read from, as
        Fluent Bit removes it (flb_parser_json.c): where the key repeats, the record still holds
        the last one, where it stands, so the line is read again without the first. The record
        holds another value than the time's when the key repeats (a string of one character or
        none may be the same object either way: such a line is read again too)."""
        if self.decoders is None and (record.get(self.time_key) is not value or len(value) < 2):
            return first_json_object(data, self.time_key)  # type: ignore[return-value]
        del record[self.time_key]
        return record

    def parse_batch(self, texts: Sequence[str | bytes]) -> list[ParseResult | None]:
        # msgspec reads bytes directly: no decode step per line.
        parse = self.parse_text
        return [parse(text) for text in texts]

    def parse_lines(self, lines: Sequence[bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        """Tail's path: the compiled decoder when there are no decoders (one per ``key``)."""
        if self.compiled is None:
            return super().parse_lines(lines, read_time_ns, key)
        decoder = self._core_decoders.get(key)
        if decoder is None:
            decoder = self._core_decoders[key] = self.compiled(
                key, self.time_key if self.time is not None else None, self.time_keep,
                None if self._core_native_time or self.time is None else self._core_time)
        errors_before = decoder.time_errors
        result = decoder.decode(lines if isinstance(lines, list) else list(lines), read_time_ns)
        new_errors = decoder.time_errors - errors_before
        if new_errors:
            self.counters.inc("time_errors", new_errors)
            self.warn_once("time", "invalid time format %s in %d line(s)", self.spec.time_format, new_errors)
        return result

    def _core_time(self, value: str) -> int:
        assert self.time is not None
        ns = self.time.parse(value)
        return -1 if ns is None else ns
