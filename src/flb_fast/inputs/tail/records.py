"""Lines of one read buffer -> (timestamps, records): Parser or ``{Key: line}``, plus Path_Key/Offset_Key.

One call per read buffer; the line splitter has already applied Skip_Empty_Lines and CRLF. The parser gets the whole list (``parse_lines``), so the docker
parser decodes the buffer in one compiled call; the no-parser path decodes the buffer as one
UTF-8 string and splits it, rather than decoding line by line.
"""

from __future__ import annotations

from typing import Any

from flb_fast.metrics import Counters
from flb_fast.parsers.base import Parser
from flb_fast.text import INVALID_UTF8


class RecordBuilder:
    """The input's record shape, fixed at construction from its options."""

    def __init__(
        self,
        parser: Parser | None,
        key: str,
        path_key: str | None,
        offset_key: str | None,
        counters: Counters,
    ) -> None:
        self.parser = parser
        self.key = key
        self.path_key = path_key
        self.offset_key = offset_key
        self.counters = counters

    @property
    def wants_offsets(self) -> bool:
        return self.offset_key is not None

    def build(
        self, lines: list[bytes], offsets: list[int] | None, read_time_ns: int, path: str,
        crlf: list[int] | None = None,
    ) -> tuple[list[int], list[dict[str, Any]]]:
        """Records for complete lines; ``offsets`` (each line's file offset) feed Offset_Key;
        ``crlf`` lists the lines that lost a ``"\\r"`` (the splitter's ``crlf_lines``)."""
        if self.offset_key is None:
            offsets = None
        if not lines:
            return [], []
        if self.parser is not None:
            timestamps, records, failed = self.parser.parse_lines(lines, read_time_ns, self.key)
            unparsed: set[int] = set()
            if failed:
                self.counters.inc("lines_unparsed", failed)
                unparsed = self._unparsed(records, lines)
                for index in unparsed.intersection(crlf or ()):
                    records[index][self.key] += "\r"
            if self.path_key is not None or offsets is not None:
                records = self._add_keys(records, offsets, path, unparsed)
            return timestamps, records
        texts = self.decode(lines)
        timestamps = [read_time_ns] * len(texts)
        key = self.key
        if self.path_key is None and offsets is None:
            return timestamps, [{key: text} for text in texts]
        return timestamps, self._with_keys_first(texts, offsets, path)

    def build_records(
        self, records: list[dict[str, Any]], offsets: list[int] | None, path: str
    ) -> list[dict[str, Any]]:
        """Path_Key/Offset_Key for records made elsewhere (multiline groups)."""
        if self.path_key is None and (self.offset_key is None or offsets is None):
            return records
        return self._add_keys(records, offsets if self.offset_key else None, path, set())

    def decode(self, lines: list[bytes]) -> list[str]:
        """The lines as text, bytes that are not UTF-8 kept as U+E000 + byte (``text.INVALID_UTF8``)
        and each such line counted in ``lines_invalid_utf8``."""
        try:
            return b"\n".join(lines).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            texts = []
            invalid = 0
            for line in lines:
                try:
                    texts.append(line.decode("utf-8"))
                except UnicodeDecodeError:
                    invalid += 1
                    texts.append(line.decode("utf-8", INVALID_UTF8))
            self.counters.inc("lines_invalid_utf8", invalid)
            return texts

    def _unparsed(self, records: list[dict[str, Any]], lines: list[bytes]) -> set[int]:
        """Indexes of the lines the parser did not parse: their record is ``{Key: line}``. (A parser
        that captures a whole line under Key alone would look the same; its record is the line too.)"""
        key = self.key
        return {index for index, record in enumerate(records)
                if len(record) == 1 and key in record and record[key] == lines[index].decode("utf-8", INVALID_UTF8)}

    def _add_keys(
        self, records: list[dict[str, Any]], offsets: list[int] | None, path: str, unparsed: set[int]
    ) -> list[dict[str, Any]]:
        """Fluent Bit appends Path_Key then Offset_Key to a parsed record; a line its parser did not
        parse gets them first, as an unparsed line does (recorded: tests/data/fluent-bit/tail_offset_key,
        tail_path_key)."""
        path_key, offset_key = self.path_key, self.offset_key
        out = []
        for index, record in enumerate(records):
            extra: dict[str, Any] = {}
            if path_key is not None:
                extra[path_key] = path
            if offsets is not None and offset_key is not None:
                extra[offset_key] = offsets[index]
            if index in unparsed:
                extra.update(record)
                out.append(extra)
            else:
                record.update(extra)
                out.append(record)
        return out

    def _with_keys_first(self, texts: list[str], offsets: list[int] | None, path: str) -> list[dict[str, Any]]:
        """An unparsed line in Fluent Bit: Path_Key, then Offset_Key, then Key."""
        path_key, offset_key, key = self.path_key, self.offset_key, self.key
        out = []
        for index, text in enumerate(texts):
            record: dict[str, Any] = {}
            if path_key is not None:
                record[path_key] = path
            if offsets is not None and offset_key is not None:
                record[offset_key] = offsets[index]
            record[key] = text
            out.append(record)
        return out
