"""``null`` output: accept and discard every chunk (Fluent Bit's out_null).

As in Fluent Bit, ``format`` may be set so that a benchmark pays the cost of encoding the
records (to JSON) without the cost of writing them anywhere.
"""

from __future__ import annotations

from typing import Any

from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.outputs.fluent_json import (
    DATE_FORMATS,
    JSON_FORMATS,
    JsonRecordEncoder,
    json_date_key,
    json_layout,
    validated_choice,
)
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk


class NullOutput(Output):
    name = "null"
    description = "Throws away events"
    OPTIONS = OptionTable(
        Option("format", STR, None, "encode records as json, json_lines or json_stream before discarding them"),
        Option("json_date_format", STR, "double",
               "date value when format is set: double, epoch, epoch_ms, iso8601 or java_sql_timestamp"),
        Option("json_date_key", STR, "date", "name of the date key when format is set; false or off leaves it out"),
    )
    default_workers = 1

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.encoder: JsonRecordEncoder | None = None
        if options.format is not None:
            fmt = validated_choice("format", options.format, JSON_FORMATS, "json")
            date_format = DATE_FORMATS[validated_choice("json_date_format", options.json_date_format,
                                                        DATE_FORMATS, "double")]
            self.encoder = JsonRecordEncoder(json_date_key(options.json_date_key), date_format)
            self.layout = json_layout(fmt)

    async def flush(self, chunk: Chunk) -> FlushResult:
        if self.encoder is not None:
            self.encoder.encode(chunk.timestamps, chunk.records, **self.layout)
        return FlushResult.OK
