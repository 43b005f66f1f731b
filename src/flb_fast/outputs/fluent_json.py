"""Fluent Bit's renderings of records, byte for byte: its JSON and its ``msgpack_object_print`` text.

JSON (``flb_pack.c`` ``msgpack2json`` and ``flb_pack_msgpack_to_json_format``):
- keys keep their order; a date key, when asked for, goes first unless the record already has
  that key (Fluent Bit keeps the last of duplicate keys, i.e. the record's own);
- a float prints as ``%.1f`` when it holds an integer value, else as ``%.16g``;
- strings escape ``"``, ``\\``, control characters and DEL, and with ``json.escape_unicode``
  (on by default in Fluent Bit 4.x) every non-ASCII character as ``\\uXXXX`` (lowercase hex,
  surrogate pairs above the BMP).

Records are encoded with one reused ``msgspec.json.Encoder`` into one reused buffer per chunk;
only floats (rare in logs) need a Python pass, and non-ASCII escaping runs once per chunk.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import parse_bool

NS_PER_SECOND = 1_000_000_000
# flb_pack.c flb_pack_to_json_date_type: accepted json_date_format values.
DATE_FORMATS = {
    "double": "double",
    "epoch": "epoch",
    "epoch_ms": "epoch_ms",
    "epoch_millis": "epoch_ms",
    "epoch_milliseconds": "epoch_ms",
    "iso8601": "iso8601",
    "java_sql_timestamp": "java_sql_timestamp",
}
JSON_FORMATS = ("json", "json_lines", "json_stream")
_INT64_LIMIT = 2.0**63
_NOT_PLAIN_ASCII = re.compile(r"[^\x00-\x7e]")


def format_double(value: float) -> str:
    """A float as ``msgpack2json`` prints it (the integer test mirrors C's ``(long long)`` cast;
    C's ``%.16g`` writes a NaN with its sign bit as ``-nan``)."""
    if value != value:
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if abs(value) < _INT64_LIMIT and value == int(value):
        return f"{value:.1f}"
    return f"{value:.16g}"


def seconds_double(timestamp_ns: int) -> float:
    """``flb_time_to_double``: seconds plus nanoseconds / 1e9, as a double."""
    seconds, nanos = divmod(timestamp_ns, NS_PER_SECOND)
    return float(seconds) + float(nanos) / 1e9


def seconds_dot_nanos(timestamp_ns: int) -> str:
    """``%d.%09lu``: the exact timestamp Fluent Bit prints in stdout and out_file lines."""
    seconds, nanos = divmod(timestamp_ns, NS_PER_SECOND)
    return f"{seconds}.{nanos:09d}"


def date_value(timestamp_ns: int, date_format: str) -> str:
    """The JSON value of the date key for ``json_date_format``."""
    seconds, nanos = divmod(timestamp_ns, NS_PER_SECOND)
    if date_format == "double":
        return format_double(seconds_double(timestamp_ns))
    if date_format == "epoch":
        return str(seconds)
    if date_format == "epoch_ms":
        return str(seconds * 1000 + nanos // 1_000_000)
    pattern = "%Y-%m-%dT%H:%M:%S" if date_format == "iso8601" else "%Y-%m-%d %H:%M:%S"
    suffix = "Z" if date_format == "iso8601" else ""
    return f'"{time.strftime(pattern, time.gmtime(seconds))}.{nanos // 1000:06d}{suffix}"'


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def escape_unicode(data: bytes) -> bytes:
    """Turn JSON text with raw UTF-8 into Fluent Bit's ASCII-only form (non-ASCII only occurs in strings)."""
    if data.isascii():
        return data.replace(b"\x7f", b"\\u007f") if b"\x7f" in data else data
    return _NOT_PLAIN_ASCII.sub(_escape_char, data.decode("utf-8")).encode("ascii")


def jsonable(value: Any) -> Any:
    """``value`` with floats replaced by their Fluent Bit text and bytes by text; shared when untouched."""
    kind = type(value)
    if kind is float:
        return msgspec.Raw(format_double(value).encode())
    if kind is dict:
        copy = None
        for key, item in value.items():
            converted = jsonable(item)
            if converted is not item:
                if copy is None:
                    copy = dict(value)
                copy[key] = converted
        return value if copy is None else copy
    if kind is list or kind is tuple:
        items = [jsonable(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if kind is bytes or kind is bytearray:
        return bytes(value).decode("utf-8", "replace")
    return value


class JsonRecordEncoder:
    """Encode a chunk's records as Fluent Bit JSON, optionally with a date key first."""

    def __init__(self, date_key: str | None = None, date_format: str = "double") -> None:
        self._encoder = msgspec.json.Encoder()
        self._buffer = bytearray()
        self.date_key = date_key
        self.date_format = date_format
        self._date_prefix = b"{" + self._encoder.encode(date_key) + b":" if date_key is not None else b""

    def encode(
        self,
        timestamps: Sequence[int],
        records: Sequence[dict],
        *,
        opening: bytes = b"",
        separator: bytes = b"",
        closing: bytes = b"",
        prefix: Callable[[int], bytes] | None = None,
        suffix: bytes = b"",
    ) -> bytes:
        """``opening`` + records joined by ``separator`` + ``closing``; each record between
        ``prefix(timestamp)`` and ``suffix``."""
        buffer = self._buffer
        buffer.clear()
        buffer += opening
        encode_into = self._encoder.encode_into
        for index, (timestamp, record) in enumerate(zip(timestamps, records, strict=True)):
            if index and separator:
                buffer += separator
            if prefix is not None:
                buffer += prefix(timestamp)
            body = jsonable(record)
            if self.date_key is not None and self.date_key not in record:
                buffer += self._date_prefix
                buffer += date_value(timestamp, self.date_format).encode()
                start = len(buffer)
                _encode_text(encode_into, body, buffer, start)
                if body:
                    buffer[start] = 0x2C  # the record's "{" becomes the "," after the date
                else:
                    del buffer[start]
            else:
                _encode_text(encode_into, body, buffer, len(buffer))
            buffer += suffix
        buffer += closing
        return escape_unicode(bytes(buffer))


def _encode_text(encode_into: Callable[..., None], body: Any, buffer: bytearray, offset: int) -> None:
    """Encode at ``offset``; a lone surrogate (text that was never valid UTF-8) becomes U+FFFD,
    as Fluent Bit writes U+FFFD for invalid UTF-8 rather than losing the record."""
    try:
        encode_into(body, buffer, offset)
    except UnicodeEncodeError:
        del buffer[offset:]
        encode_into(_without_surrogates(body), buffer, offset)


def _without_surrogates(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if kind is dict:
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_without_surrogates(item) for item in value]
    return value


def text_bytes(text: str) -> bytes:
    """Printed text as bytes: undecodable input bytes (surrogate-escaped) go out as they came in;
    any other lone surrogate becomes ``?`` rather than failing the chunk."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def print_value(value: Any) -> str:
    """``msgpack_object_print``: the human-readable form in stdout's msgpack format, csv and ltsv.

    Strings print raw between quotes (no escaping), floats as ``%f``, maps as ``{"k"=>"v"}``.
    """
    kind = type(value)
    if kind is str:
        return f'"{value}"'
    if value is None:
        return "nil"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return f"{value:f}"
    if kind is dict:
        return "{" + ", ".join(f"{print_value(k)}=>{print_value(v)}" for k, v in value.items()) + "}"
    if kind is list or kind is tuple:
        return "[" + ", ".join(print_value(item) for item in value) + "]"
    if kind is bytes or kind is bytearray:
        return '"' + "".join(_print_byte(byte) for byte in value) + '"'
    return f'"{value}"'


def _print_byte(byte: int) -> str:
    """``msgpack_object_bin_print``: printable bytes as is, ``"`` escaped, others as ``\\xNN``."""
    if byte == 0x22:
        return '\\"'
    if 0x20 <= byte < 0x7F:
        return chr(byte)
    return f"\\x{byte:02x}"


def json_date_key(value: str | None) -> str | None:
    """``json_date_key``: the key name, or None when it is ``false``/``off``/``no`` (Fluent Bit's
    ``flb_utils_bool(tmp) == FLB_FALSE``)."""
    if value is None:
        return None
    try:
        return None if parse_bool(value) is False else value
    except ValueError:
        return value


def validated_choice(option: str, value: str | None, choices: Any, default: str) -> str:
    """A case-insensitive choice among ``choices``; an unknown value is a config error."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered not in choices:
        raise PluginConfigError(option, f"invalid {option} '{value}' (expected one of: {', '.join(choices)})")
    return lowered


def json_layout(fmt: str) -> dict[str, Any]:
    """How ``flb_pack_msgpack_to_json_format`` joins records for ``json``/``json_lines``/``json_stream``."""
    if fmt == "json":
        return {"opening": b"[", "separator": b",", "closing": b"]"}
    if fmt == "json_lines":
        return {"suffix": b"\n"}
    return {}
