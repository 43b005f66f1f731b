"""``stdout`` output: print records as Fluent Bit's out_stdout does (plugins/out_stdout/stdout.c).

``Format msgpack`` (the default) prints one human-readable line per record,
``[0] tag: [[1700000000.000000000, {}], {"k"=>"v"}]``, numbered from 0 in each chunk;
``json``, ``json_lines`` and ``json_stream`` print Fluent Bit's JSON with the date key first.
Writes go through a one-thread executor: a slow terminal or pipe never stalls the loop.
"""

from __future__ import annotations

import os
from typing import Any

from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.outputs.fluent_json import (
    DATE_FORMATS,
    JSON_FORMATS,
    JsonRecordEncoder,
    json_date_key,
    json_layout,
    print_value,
    seconds_dot_nanos,
    text_bytes,
    validated_choice,
)
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

FORMATS = ("msgpack", *JSON_FORMATS)
STDOUT_FD = 1


class StdoutOutput(Output):
    name = "stdout"
    description = "Prints events to STDOUT"
    OPTIONS = OptionTable(
        Option("format", STR, "msgpack", "msgpack (human-readable lines), json, json_lines or json_stream"),
        Option("json_date_key", STR, "date", "name of the date key in JSON formats; false or off leaves it out"),
        Option("json_date_format", STR, "double",
               "date value in JSON formats: double, epoch, epoch_ms, iso8601 or java_sql_timestamp"),
    )
    default_workers = 1

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.format = validated_choice("format", options.format, FORMATS, "msgpack")
        date_format = DATE_FORMATS[validated_choice("json_date_format", options.json_date_format, DATE_FORMATS,
                                                    "double")]
        self.encoder = JsonRecordEncoder(json_date_key(options.json_date_key), date_format)
        self.layout = json_layout(self.format)
        self.fd = STDOUT_FD
        self._writer: BoundedExecutor | None = None

    async def start(self) -> None:
        self._writer = BoundedExecutor(f"{self.ctx.instance}-write", 1)

    def render(self, chunk: Chunk) -> bytes:
        """The exact bytes Fluent Bit prints for ``chunk``."""
        if self.format == "msgpack":
            tag = chunk.tag
            return text_bytes("".join(
                f"[{index}] {tag}: [[{seconds_dot_nanos(ts)}, {{}}], {print_value(record)}]\n"
                for index, (ts, record) in enumerate(zip(chunk.timestamps, chunk.records, strict=True))
            ))
        data = self.encoder.encode(chunk.timestamps, chunk.records, **self.layout)
        # out_stdout ends json and json_stream output with a newline; json_lines has its own.
        return data if self.format == "json_lines" else data + b"\n"

    async def flush(self, chunk: Chunk) -> FlushResult:
        data = self.render(chunk)
        assert self._writer is not None, "start() was not called"
        try:
            await self._writer.run(_write_all, self.fd, data)
        except OSError as exc:
            self.ctx.log.error("could not write to stdout: %s", exc)
            return FlushResult.RETRY
        return FlushResult.OK

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
