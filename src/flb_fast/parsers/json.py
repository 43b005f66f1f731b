"""``Format json``: one JSON object per text (``flb_parser_json.c``).

The text must hold exactly one JSON value and it must be an object. Decoders run first, then the
time: only a string time field is read; one that does not parse keeps the record whole (the field
stays) with the read time. ``Time_Keep Off`` removes the field only when it was used. Types do
not apply to JSON, as in Fluent Bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from flb_fast.parsers.base import ParseResult
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.spec import ParserSpec

# Time formats _core.decode_json_lines reads itself (RFC 3339 with fractional seconds).
CORE_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%L", "%Y-%m-%dT%H:%M:%S.%L%z", "%Y-%m-%dT%H:%M:%S.%LZ")


def _core_decoder() -> Any:
    try:
        from flb_fast import _core
    except ImportError:  # pragma: no cover - the extension is always built in a checkout
        return None
    return getattr(_core, "decode_json_lines", None)


class JsonParser(FieldParser):
    format = "json"

    def __init__(self, spec: ParserSpec) -> None:
        super().__init__(spec)
        self._decode = msgspec.json.Decoder().decode
        time = spec.time
        plain_time = time is None or (
            spec.time_format in CORE_TIME_FORMATS and time.strict and not time.system_timezone and not time.offset
        )
        self._core = _core_decoder() if spec.decoders is None and plain_time else None

    def parse_text(self, text: str | bytes) -> ParseResult | None:  # type: ignore[override]
        try:
            record = self._decode(text)
        except msgspec.DecodeError:
            return None
        if type(record) is not dict:
            return None
        if self.decoders is not None:
            record = self.decoders.apply(record)
        if self.time is None:
            return -1, record
        value = record.get(self.time_key)
        if type(value) is not str:
            return -1, record
        ns = self.lookup_time(value)
        if ns is None:
            return -1, record
        if not self.time_keep:
            del record[self.time_key]
        return ns, record

    def parse_batch(self, texts: Sequence[str | bytes]) -> list[ParseResult | None]:
        # msgspec reads bytes directly: no decode step per line.
        parse = self.parse_text
        return [parse(text) for text in texts]

    def parse_lines(self, lines: Sequence[bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        if self._core is not None:
            time_key = self.time_key if self.time is not None else None
            return self._core(lines, read_time_ns, key, time_key, self.time_keep)
        return super().parse_lines(lines, read_time_ns, key)
