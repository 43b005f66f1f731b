"""Building parsers from sections the way a parsers.conf would declare them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flb_fast.config.model import Config, Property, Section
from flb_fast.parsers import build_registry, create_parser
from flb_fast.parsers.common import FieldParser

_REGISTRY = None


def section(kind: str = "parser", file: str = "parsers.conf", line: int = 1, **props: str) -> Section:
    """A section whose property n sits at file:line+n, as the config loader would record it."""
    properties = [Property(key, value, file, line + n + 1) for n, (key, value) in enumerate(props.items())]
    return Section(kind, properties, file, line)


def parser(**props: str) -> FieldParser:
    return create_parser(section(**props))


def standard(name: str) -> FieldParser:
    """One of the bundled standard parsers (Fluent Bit's conf/parsers.conf)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = build_registry(Config())
    found = _REGISTRY.get(name)
    assert found is not None, name
    return found  # type: ignore[return-value]


def ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       fraction_ns: int = 0, offset_minutes: int = 0) -> int:
    """Nanoseconds since the epoch from calendar fields (an oracle independent of the parser)."""
    zone = timezone(timedelta(minutes=offset_minutes))
    seconds = int(datetime(year, month, day, hour, minute, second, tzinfo=zone).timestamp())
    return seconds * 1_000_000_000 + fraction_ns
