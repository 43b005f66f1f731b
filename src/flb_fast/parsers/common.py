"""What every ``[PARSER]`` format shares: time lookup, Types, decoders, warnings and counters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flb_fast.log import component_logger
from flb_fast.metrics import Counters
from flb_fast.parsers.base import Parser, ParseResult
from flb_fast.parsers.spec import ParserSpec
from flb_fast.parsers.types import CastError
from flb_fast.text import INVALID_UTF8


class FieldParser(Parser):
    """A parser built from a ``ParserSpec``; subclasses implement ``parse_text`` for their format.

    ``counters`` holds ``time_errors`` (times that did not parse: the record is kept and stamped
    with the read time, as Fluent Bit does) and ``cast_errors`` (Types that did not convert).
    Each kind of problem is logged once per parser, so a bad format cannot flood the log.
    """

    format = ""

    def __init__(self, spec: ParserSpec) -> None:
        self.name = spec.name
        self.spec = spec
        self.time = spec.time
        self.time_key = spec.time_key
        self.time_keep = spec.time_keep
        self.types = spec.types
        self.decoders = spec.decoders
        self.counters = Counters(time_errors=0, cast_errors=0)
        self.log = component_logger(f"parser:{spec.name}")
        self._warned: set[str] = set()

    def parse_text(self, text: str) -> ParseResult | None:
        raise NotImplementedError

    def parse_batch(self, texts: Sequence[str | bytes]) -> list[ParseResult | None]:
        parse = self.parse_text
        return [parse(text if isinstance(text, str) else text.decode("utf-8", INVALID_UTF8)) for text in texts]

    def lookup_time(self, value: str) -> int | None:
        """Nanoseconds for a time field, or None after counting and (once) warning."""
        assert self.time is not None
        ns = self.time.parse(value)
        if ns is None:
            self.time_failed(value)
        return ns

    def time_failed(self, value: str) -> None:
        """Count a time that did not parse; the record keeps the read time (warned once)."""
        self.counters.inc("time_errors")
        self.warn_once("time", "invalid time format %s for '%s'", self.spec.time_format, value[:254])

    def cast(self, key: str, value: str) -> Any:
        cast = self.types.get(key)
        if cast is None:
            return value
        try:
            return cast(value)
        except CastError:
            self.counters.inc("cast_errors")
            self.warn_once("cast", "key=%s cast error. save as string.", key)
            return value

    def warn_once(self, kind: str, message: str, *args: object) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self.log.warning(message + " (further occurrences are counted, not logged)", *args)
