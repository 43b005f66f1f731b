"""``file`` output: append records to a file as Fluent Bit's out_file does (plugins/out_file/file.c).

The file is ``Path/File``; without ``File`` it is named after the tag (made safe: each path
component keeps only letters, digits, ``-``, ``_`` and ``.``; ``.``/``..`` become ``_``).
Formats, one line per record:

- ``out_file`` (default): ``tag: [1700000000.000000000, {"k":"v"}]``
- ``plain``: ``{"k":"v"}``
- ``csv``: ``1700000000.000000000,"v1","v2"`` (``csv_column_names`` adds a ``timestamp,"k1","k2"``
  header when the file is empty)
- ``ltsv``: ``"time":1700000000.000000,"k":"v"`` with ``Delimiter`` / ``Label_Delimiter``
- ``template``: ``Template`` with ``{time}`` and ``{key}`` placeholders
- ``msgpack``: Fluent Bit's binary event format (``[[EventTime, {}], record]`` per record)

The file is opened, appended and closed in each flush, on a one-thread executor (file I/O may
block), so rotating or deleting it between flushes is safe.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from typing import Any

import msgspec

from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.outputs.fluent_json import (
    JsonRecordEncoder,
    print_value,
    seconds_dot_nanos,
    seconds_double,
    text_bytes,
    validated_choice,
)
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

FORMATS = ("out_file", "plain", "csv", "ltsv", "template", "msgpack")
# file.c check_delimiter: the only delimiter spellings Fluent Bit recognises.
DELIMITERS = {"\\t": "\t", "tab": "\t", "space": " ", "comma": ","}
# Fluent Bit's EventTime msgpack extension type (include/fluent-bit/flb_time.h).
EVENT_TIME_EXT = 0
_UNSAFE_TAG_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def sanitize_tag(tag: str) -> str:
    """file.c ``sanitize_tag_name``: a tag as a relative path that stays under ``Path``. Fluent Bit
    replaces each byte that is not ASCII alphanumeric, ``-``, ``_`` or ``.``, so a character of
    several UTF-8 bytes becomes as many ``_`` (``nest.é`` is written to ``nest.__``)."""
    parts = []
    for component in re.split(r"[/\\]+", tag):
        if not component:
            continue
        parts.append("_" if component in (".", "..") else _UNSAFE_TAG_CHAR.sub(_underscores, component))
    return "/".join(parts) or "_"


def _underscores(match: re.Match[str]) -> str:
    """One ``_`` per byte of the tag's text: a byte that was not UTF-8 (a surrogate escape) is one."""
    char = match.group()
    try:
        size = len(char.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        size = len(char.encode("utf-8", "surrogatepass"))
    return "_" * size


def render_template(template: str, timestamp_ns: int, record: dict) -> str:
    """file.c ``template_output``: ``{key}`` placeholders; an unknown key stays as written."""
    out: list[str] = []
    brace = -1
    for index, char in enumerate(template):
        if char == "{":
            if brace >= 0:
                out.append(template[brace:index])
            brace = index
        elif char == "}" and brace >= 0:
            key = template[brace + 1:index]
            if key == "time":
                out.append(f"{seconds_double(timestamp_ns):f}")
            elif key in record:
                value = record[key]
                out.append(value if isinstance(value, str) else print_value(value))
            else:
                out.append(template[brace:index + 1])
            brace = -1
        elif brace < 0:
            out.append(char)
    if brace >= 0:
        out.append(template[brace:])
    out.append("\n")
    return "".join(out)


class FileOutput(Output):
    name = "file"
    description = "Generate log file"
    OPTIONS = OptionTable(
        Option("path", STR, None, "directory of the output file"),
        Option("file", STR, None, "name of the output file (default: the tag)"),
        Option("format", STR, "out_file", "out_file, plain, csv, ltsv, template or msgpack"),
        Option("delimiter", STR, None, "csv/ltsv field delimiter: \\t, tab, space or comma"),
        Option("label_delimiter", STR, None, "ltsv label delimiter: \\t, tab, space or comma"),
        Option("template", STR, "{time} {message}", "template for the template format"),
        Option("csv_column_names", BOOL, "false", "write the keys as a header line into an empty csv file"),
        Option("mkdir", BOOL, "false", "create the output directory (mode 0755) if it does not exist"),
    )
    default_workers = 1

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.format = validated_choice("format", options.format, FORMATS, "out_file")
        self.delimiter = {"csv": ",", "ltsv": "\t"}.get(self.format, "")
        self.label_delimiter = ":" if self.format == "ltsv" else ""
        self.delimiter = self._delimiter("delimiter", options.delimiter, self.delimiter)
        self.label_delimiter = self._delimiter("label_delimiter", options.label_delimiter, self.label_delimiter)
        self.encoder = JsonRecordEncoder()
        self._msgpack = msgspec.msgpack.Encoder()
        self._writer: BoundedExecutor | None = None

    def _delimiter(self, option: str, value: str | None, default: str) -> str:
        """Fluent Bit ignores a delimiter it does not recognise; we do too, but say so."""
        if value is None:
            return default
        known = DELIMITERS.get(value.strip().lower())
        if known is None:
            self.ctx.log.warning("%s '%s' is not one of \\t, tab, space, comma: keeping %r", option, value, default)
            return default
        return known

    async def start(self) -> None:
        self._writer = BoundedExecutor(f"{self.ctx.instance}-write", 1)

    def path_for(self, tag: str) -> str:
        name = self.options.file if self.options.file else sanitize_tag(tag)
        return os.path.join(self.options.path, name) if self.options.path else name

    def render(self, chunk: Chunk, file_is_empty: bool) -> bytes:
        """The exact bytes Fluent Bit appends for ``chunk``."""
        fmt = self.format
        if fmt == "out_file":
            tag = chunk.tag.encode()
            return self.encoder.encode(chunk.timestamps, chunk.records,
                                       prefix=lambda ts: tag + b": [" + seconds_dot_nanos(ts).encode() + b", ",
                                       suffix=b"]\n")
        if fmt == "plain":
            return self.encoder.encode(chunk.timestamps, chunk.records, suffix=b"\n")
        if fmt == "msgpack":
            return b"".join(self._msgpack.encode([[_event_time(ts), {}], record])
                            for ts, record in zip(chunk.timestamps, chunk.records, strict=True))
        line: Callable[[int, dict], str]
        if fmt == "template":
            template = self.options.template or ""
            line = lambda ts, record: render_template(template, ts, record)  # noqa: E731
        elif fmt == "ltsv":
            line = self._ltsv_line
        else:
            line = self._csv_line
        out = []
        for ts, record in zip(chunk.timestamps, chunk.records, strict=True):
            if fmt == "csv" and record and self.options.csv_column_names and file_is_empty:
                out.append(self.delimiter.join(["timestamp", *map(print_value, record)]) + "\n")
                file_is_empty = False
            out.append(line(ts, record))
        return text_bytes("".join(out))

    def _csv_line(self, timestamp_ns: int, record: dict) -> str:
        if not record:
            return ""
        return self.delimiter.join([seconds_dot_nanos(timestamp_ns), *map(print_value, record.values())]) + "\n"

    def _ltsv_line(self, timestamp_ns: int, record: dict) -> str:
        if not record:
            return ""
        label = self.label_delimiter
        fields = [f'"time"{label}{seconds_double(timestamp_ns):f}']
        fields.extend(f"{print_value(key)}{label}{print_value(value)}" for key, value in record.items())
        return self.delimiter.join(fields) + "\n"

    async def flush(self, chunk: Chunk) -> FlushResult:
        assert self._writer is not None, "start() was not called"
        path = self.path_for(chunk.tag)
        try:
            await self._writer.run(self._append, path, chunk)
        except OSError as exc:
            self.ctx.log.error("error opening: %s (%s)", path, exc.strerror or exc)
            return FlushResult.ERROR
        return FlushResult.OK

    def _append(self, path: str, chunk: Chunk) -> None:
        """Runs on the writer thread: open for append (creating the directory if asked), write, close."""
        try:
            handle = open(path, "ab")  # noqa: SIM115
        except FileNotFoundError:
            if not self.options.mkdir:
                raise
            os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
            handle = open(path, "ab")  # noqa: SIM115
        with handle:
            handle.write(self.render(chunk, file_is_empty=handle.tell() == 0))

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None


def _event_time(timestamp_ns: int) -> msgspec.msgpack.Ext:
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    return msgspec.msgpack.Ext(EVENT_TIME_EXT, struct.pack(">II", seconds, nanos))

