"""The ``parser`` filter: parse one field of each record with the named parsers (``filter_parser.c``).

For each record, the text in ``Key_Name`` (a plain key, or a record accessor such as
``$log['inner']``) goes through the ``Parser`` entries in order; the first that parses it
wins. The record becomes the parsed fields, then (``Reserve_Data``) the record's other fields
(and the key itself with ``Preserve_Key``), or just the key (``Preserve_Key`` alone). A parsed
time replaces the record's time. A record no parser matches, or without that text field, is
left untouched. The parsers run over the whole chunk in one batch call each.
"""

from __future__ import annotations

from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.parsers.base import Parser
from flb_fast.parsers.decoders import unescape
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.record_accessor import KeyAccessor, Template
from flb_fast.text import INVALID_UTF8


class ParserFilter(Filter):
    name = "parser"
    description = "Parse events"
    OPTIONS = OptionTable(
        Option("key_name", STR, None, "field to parse (a key, or a record accessor such as $log['msg'])"),
        Option("parser", STR, None, "parser to try, in order; may repeat", multi=True),
        Option("preserve_key", BOOL, "false", "keep the Key_Name field in the parsed record"),
        Option("reserve_data", BOOL, "false", "keep the record's other fields after the parsed ones"),
        Option("unescape_key", BOOL, "false", "unescape the field's text before parsing (deprecated in Fluent Bit)"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        if not options.key_name:
            raise PluginConfigError("key_name", "missing 'Key_Name'")
        self.key_name: str = options.key_name
        # A '$' name is a record accessor; anything else is the key's own name (filter_parser.c).
        self.nested = self.key_name.startswith("$")
        try:
            key = Template(self.key_name).first_key if self.nested else KeyAccessor(self.key_name)
        except ValueError as exc:
            raise PluginConfigError("key_name", str(exc)) from None
        if key is None:
            raise PluginConfigError("key_name", f"'{self.key_name}' names no record key")
        self.key: KeyAccessor = key
        names = [name.strip() for name in options.parser if name.strip()]
        if not names:
            raise PluginConfigError("parser", "at least one 'Parser' is required")
        self.parsers: list[Parser] = []
        for name in names:
            parser = ctx.parsers.get(name)
            if parser is None:
                raise PluginConfigError("parser", f"requested parser '{name}' not found")
            self.parsers.append(parser)
        self.preserve_key: bool = options.preserve_key
        self.reserve_data: bool = options.reserve_data
        self.unescape_key: bool = options.unescape_key

    def _text(self, record: dict[str, Any]) -> str | None:
        value = self.key.get(record)
        if isinstance(value, bytes):
            value = value.decode("utf-8", INVALID_UTF8)
        if not isinstance(value, str):
            return None
        return unescape(value) if self.unescape_key else value

    async def filter(self, chunk: Chunk) -> Chunk | None:
        records = chunk.records
        texts: dict[int, str] = {}
        for index, record in enumerate(records):
            text = self._text(record)
            if text is not None:
                texts[index] = text
        for parser in self.parsers:
            if not texts:
                break
            indexes = list(texts)
            results = parser.parse_batch([texts[index] for index in indexes])
            for index, result in zip(indexes, results, strict=True):
                if result is None:
                    continue
                del texts[index]
                timestamp, parsed = result
                if timestamp > 0:
                    chunk.timestamps[index] = timestamp
                records[index] = self._merge(records[index], parsed)
        return chunk

    def _merge(self, original: dict[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        """Parsed fields first, then what Reserve_Data / Preserve_Key keep (``flb_msgpack_expand_map``).

        A kept field the parsed ones have too is in Fluent Bit's record twice, and its JSON writer keeps
        the last where it stands: the kept value, after the parsed fields."""
        if self.reserve_data:
            for key, value in original.items():
                if key == self.key_name and not self.nested and not self.preserve_key:
                    continue
                if key in parsed:
                    del parsed[key]
                parsed[key] = value
        elif self.preserve_key and not self.nested and self.key_name in original:
            parsed.pop(self.key_name, None)
            parsed[self.key_name] = original[self.key_name]
        return parsed
