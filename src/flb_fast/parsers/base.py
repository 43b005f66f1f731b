"""The parser protocol and the registry that resolves parser names."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from flb_fast.text import INVALID_UTF8

# A parsed value: (timestamp in ns, or -1 when the parser found no time, record body).
ParseResult = tuple[int, dict]


class Parser(ABC):
    """A compiled ``[PARSER]``: applied to a whole batch of texts per call, never per line.

    ``parse_batch`` is what the kubernetes filter (annotations, Merge_Parser) and the parser
    filter use; ``parse_lines`` is tail's path from raw lines to records, where a line the
    parser does not match becomes ``{key: line}`` stamped with the read time, as in Fluent Bit.
    Fast formats override ``parse_lines`` with a compiled loop.
    """

    name: str

    @abstractmethod
    def parse_batch(self, texts: Sequence[str | bytes]) -> list[ParseResult | None]:
        """One result per text: ``None`` where the text does not parse."""

    def parse_lines(self, lines: Sequence[bytes], read_time_ns: int, key: str) -> tuple[list[int], list[dict], int]:
        """Records for raw lines: (timestamps, records, number of lines that did not parse)."""
        timestamps: list[int] = []
        records: list[dict] = []
        failed = 0
        for line, result in zip(lines, self.parse_batch(lines), strict=True):
            if result is None:
                failed += 1
                timestamps.append(read_time_ns)
                records.append({key: line.decode("utf-8", INVALID_UTF8)})
            else:
                # No time, or a time of exactly 0: the read time (tail_file.c checks
                # flb_time_to_nanosec(&out_time) == 0L).
                timestamps.append(result[0] if result[0] not in (-1, 0) else read_time_ns)
                records.append(result[1])
        return timestamps, records, failed


class Deferred:
    """A parser known to compile, made when it is first looked up.

    The built-in multiline parsers (22 regular expressions) and the bundled parsers file (also when a config names a copy of it, as AWS for Fluent Bit's
    images do with ``/fluent-bit/parsers/parsers.conf``) defines 18 parsers and a config uses one
    or two: compiling all of their regular expressions at start took about a tenth of the agent's
    start-up CPU. Every built-in and bundled parser is compiled by the tests, so none can fail later.
    """

    __slots__ = ("build", "name")

    def __init__(self, name: str, build: Callable[[], Any]) -> None:
        self.name = name
        self.build = build


class ParserRegistry:
    """Parsers by name (case-sensitive, as Fluent Bit's ``flb_parser_get``).

    Multiline parsers (``[MULTILINE_PARSER]`` and the built-in go, java, python, ruby) live in
    their own namespace, as in Fluent Bit (``flb_ml_parser_get``): tail's ``multiline.parser``
    and the multiline filter look them up with ``get_multiline``. Either may be ``Deferred``.
    """

    def __init__(self, parsers: Sequence[Parser] = ()) -> None:
        self._parsers: dict[str, Parser | Deferred] = {}
        self._multiline: dict[str, Any] = {}
        for parser in parsers:
            self.add(parser)

    def add_multiline(self, parser: Any) -> bool:
        """Add a ``flb_fast.parsers.multiline.MultilineParser``; False (not added) if the name exists."""
        return self._multiline.setdefault(parser.name, parser) is parser

    def get_multiline(self, name: str) -> Any:
        parser = self._multiline.get(name)
        if type(parser) is Deferred:
            parser = self._multiline[name] = parser.build()
        return parser

    def multiline_names(self) -> list[str]:
        return list(self._multiline)

    def add(self, parser: Parser | Deferred) -> bool:
        """Add a parser; False (not added) if the name exists: the first definition wins, as in Fluent Bit."""
        return self._parsers.setdefault(parser.name, parser) is parser

    def get(self, name: str) -> Parser | None:
        parser = self._parsers.get(name)
        if type(parser) is Deferred:
            parser = self._parsers[name] = parser.build()
        return parser

    def __contains__(self, name: str) -> bool:
        return name in self._parsers

    def names(self) -> list[str]:
        return list(self._parsers)
