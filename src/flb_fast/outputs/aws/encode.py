"""Record bodies as the AWS outputs send them: one JSON encode per record.

The record's JSON is Fluent Bit's (the C plugins cloudwatch_logs, kinesis_firehose and
kinesis_streams write it with msgpack2json, json.escape_unicode on: every non-ASCII character and
DEL as a \\uXXXX escape, floats as ``outputs/fluent_json.py`` writes them, key order kept) or,
with ``go``, the AWS Go plugins' (``cloudwatch``, ``firehose``, ``kinesis``: keys sorted, HTML
characters escaped, Go's floats: ``outputs/aws/go_json.py``).

``log_key`` sends only that key's value, a string as it is or, with ``log_key_json``
(kinesis_firehose and kinesis_streams), as its JSON without the quotes, which is what Fluent Bit's
C plugins send: they strip the first and last character of the value's JSON (firehose_api.c /
kinesis_api.c process_event; cloudwatch_logs puts the same text in its body's JSON string, where
it reads as the value again). ``time_key`` appends the formatted record time as the last key,
spliced into the encoded bytes rather than copying the record; the Go plugins set it in the record
before anything else (``AddRecord``), so there it is sorted with the other keys and ``data_keys``
may leave it out. The Go plugins' ``data_keys`` and ``replace_dots`` (options of their names
only) are applied here as well, with ``go``, so every output shares one encoder.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from flb_fast.compiled import core_part
from flb_fast.outputs.aws.go_json import GoJsonError, go_json, go_log_key_json
from flb_fast.outputs.fluent_json import escape_unicode, jsonable

# Fluent Bit's time_key_format extensions: %3N milliseconds, %9N and %L nanoseconds
# (plugins/out_kinesis_firehose docs); everything else is strftime.
_FRACTION_RE = re.compile(r"%(3N|9N|L)")
# The Go plugins' (lestrrat-go/strftime with WithMilliseconds('L') and WithMicroseconds('f')):
# %L milliseconds, %f microseconds.
_GO_FRACTION_RE = re.compile(r"%([Lf])")
DEFAULT_TIME_KEY_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Records encoded per msgspec call by ``encode_all``: the joined text of a slice is a transient
# copy of its records' JSON, so a slice (about 1 MB of kubernetes records) bounds that copy
# rather than a whole chunk (up to Mem_Buf_Limit of raw lines, several times that as JSON).
ENCODE_SLICE_RECORDS = 1024
# The compiled writer of whole records when the extension has it (it does in any current build):
# each record written once, in one pass, a map shared by many records (the pod metadata) written
# once per call and copied after (_core/jsonw.pxi; bench/README.md, the firehose and kinesis rows).
_records_json = core_part("records_json")


def format_time(timestamp_ns: int, fmt: str) -> str:
    """``strftime`` in UTC of a nanosecond timestamp, with Fluent Bit's fraction specifiers."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    if "%" in fmt and ("N" in fmt or "%L" in fmt):
        fmt = _FRACTION_RE.sub(lambda m: f"{nanos // 1_000_000:03d}" if m.group(1) == "3N" else f"{nanos:09d}", fmt)
    return datetime.fromtimestamp(seconds, UTC).strftime(fmt)


def format_go_time(timestamp_ns: int, fmt: str) -> str:
    """``strftime`` in UTC of a nanosecond timestamp, with the Go plugins' fraction specifiers."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    if "%L" in fmt or "%f" in fmt:
        millis, micros = f"{nanos // 1_000_000:03d}", f"{nanos // 1000:06d}"
        fmt = _GO_FRACTION_RE.sub(lambda m: millis if m.group(1) == "L" else micros, fmt)
    return datetime.fromtimestamp(seconds, UTC).strftime(fmt)


def json_fallback(value: Any) -> bytes:
    """JSON of a value msgspec refuses (a str with lone surrogates from undecodable input, an
    object of an unsupported type): escaped ASCII, unknown objects as their text, so the record
    is still delivered rather than failing its whole chunk."""
    return json.dumps(value, ensure_ascii=True, default=str, separators=(",", ":")).encode()


def go_data_keys(value: str | None) -> list[str] | None:
    """The Go plugins' ``data_keys``: the value trimmed and split at its commas, the entries kept
    as written (plugins.DataKeys: ``a, b`` names the keys ``a`` and `` b``)."""
    return value.strip().split(",") if value else None


def _replace_dots(record: dict[str, Any], replacement: str) -> dict[str, Any]:
    """The Go plugins' ``replaceDots``: dots in the keys of the record and of the maps nested in
    it as map values (not those inside lists) replaced."""
    return {
        key.replace(".", replacement): _replace_dots(value, replacement) if isinstance(value, dict) else value
        for key, value in record.items()
    }


class RecordEncoder:
    """Encodes records for one output; reuses one msgspec encoder and one buffer.

    ``encode`` returns the bytes to send, ``b""`` for an empty message (the outputs skip those, as
    Fluent Bit does), or ``None`` when ``log_key`` is set and the record lacks it or (``go``) when
    the Go plugins could not write it, which they drop (counted in ``refused``, the last reason in
    ``refusal``, until ``take_refused``).
    """

    def __init__(
        self,
        log_key: str | None = None,
        time_key: str | None = None,
        time_key_format: str | None = None,
        data_keys: list[str] | None = None,
        replace_dots: str | None = None,
        log_key_json: bool = False,
        go: bool = False,
    ) -> None:
        self.log_key = log_key
        self.go = go
        self.refused = 0
        self.refusal = ""
        self.log_key_json = log_key_json
        self.time_key = time_key
        self.time_key_format = time_key_format or DEFAULT_TIME_KEY_FORMAT
        self.data_keys = frozenset(data_keys) if data_keys else None
        self.replace_dots = replace_dots
        if not go and (self.data_keys is not None or replace_dots is not None):
            raise ValueError("data_keys and replace_dots are the Go plugins' options: they need go")
        # Records go out whole, as their JSON: what outputs may write in one pass themselves.
        # (The Go plugins' rendering has no one-pass writer: its records are encoded one by one.)
        self.whole_records = not go and log_key is None and time_key is None
        self._encoder = msgspec.json.Encoder()
        # JSON of one value as this encoder writes it (raises on a value it refuses).
        self.encode_value = go_json if go else self._fluent_bit_json
        self._time_suffix_prefix = b',"' + self._fluent_bit_json(time_key)[1:-1] + b'":' if time_key else b""

    def _fluent_bit_json(self, value: Any) -> bytes:
        """``value``'s JSON as Fluent Bit's msgpack2json writes it (raises where msgspec does)."""
        return escape_unicode(self._encoder.encode(jsonable(value)))

    def _json(self, value: Any) -> bytes:
        try:
            return self.encode_value(value)
        except (UnicodeEncodeError, TypeError):
            return json_fallback(value)

    def encode_all(
        self, records: list[dict[str, Any]], timestamps_ns: list[int], suffix: bytes = b""
    ) -> list[bytes | None]:
        """``encode`` of each record, each non-empty one followed by ``suffix``. Records sent
        whole (no ``go``, ``log_key`` or ``time_key``) are written by ``_core.records_json`` when
        it is built (a record it does not write goes through ``encode``), else by
        ``encode_slices``."""
        if not self.whole_records:
            if self.go:
                # The maps inside the records stay alive for the call unless replace_dots copies them.
                memo: dict[int, str] | None = {} if self.replace_dots is None else None
                encoded = [self._encode_go(record, timestamp, memo)
                           for record, timestamp in zip(records, timestamps_ns, strict=True)]
            else:
                encoded = [self.encode(record, timestamp)
                           for record, timestamp in zip(records, timestamps_ns, strict=True)]
            return [data + suffix if data else data for data in encoded] if suffix else encoded
        if _records_json is not None:
            return _records_json(records, self.encode_value, lambda index: self._json(records[index]), suffix)
        return self.encode_slices(records, suffix)

    def encode_slices(self, records: list[dict[str, Any]], suffix: bytes = b"") -> list[bytes | None]:
        """Whole records, each followed by ``suffix``, ENCODE_SLICE_RECORDS at a time in one
        msgspec call (``encode_lines``: a JSON text never holds a raw newline, so the lines are
        the records); a slice holding a record msgspec refuses is encoded record by record. The
        Python path of ``_core.records_json``, and its reference in the tests."""
        encoded: list[bytes | None] = []
        for start in range(0, len(records), ENCODE_SLICE_RECORDS):
            part = records[start : start + ENCODE_SLICE_RECORDS]
            try:
                lines = escape_unicode(self._encoder.encode_lines([jsonable(r) for r in part])).split(b"\n")[:-1]
            except (UnicodeEncodeError, TypeError):
                lines = [self._json(record) for record in part]
            encoded += [line + suffix for line in lines] if suffix else lines
        return encoded

    def take_refused(self) -> tuple[int, str]:
        """How many records the Go plugins' rendering refused since the last call, and why."""
        refused, self.refused = self.refused, 0
        return refused, self.refusal

    def encode(self, record: dict[str, Any], timestamp_ns: int) -> bytes | None:
        if self.go:
            return self._encode_go(record, timestamp_ns)
        if self.log_key is not None:
            if self.log_key not in record:
                return None
            value = record[self.log_key]
            # Always valid UTF-8 (CloudWatch Logs requires it): undecodable input becomes U+FFFD.
            if isinstance(value, str):
                return self._json(value)[1:-1] if self.log_key_json else value.encode(errors="replace")
            if isinstance(value, (bytes, bytearray)):
                return bytes(value).decode(errors="replace").encode()
            return self._json(value)
        body = self._json(record)
        if self.time_key is None:
            return body
        stamp = self._fluent_bit_json(format_time(timestamp_ns, self.time_key_format))
        if len(body) == 2:  # "{}"
            return b"{" + self._time_suffix_prefix[1:] + stamp + b"}"
        return body[:-1] + self._time_suffix_prefix + stamp + b"}"

    def _encode_go(self, record: dict[str, Any], timestamp_ns: int, memo: dict[int, str] | None = None) -> bytes | None:
        """As the Go plugins' ``AddRecord`` and ``processRecord``: ``time_key`` set first, then
        ``data_keys`` (kept as the record names them), ``replace_dots``, then the JSON (``memo``:
        ``go_json``'s)."""
        if self.time_key is not None:
            record = {**record, self.time_key: format_go_time(timestamp_ns, self.time_key_format)}
        if self.data_keys is not None:
            record = {key: value for key, value in record.items() if key in self.data_keys}
        if self.replace_dots is not None:
            record = _replace_dots(record, self.replace_dots)
        try:
            if self.log_key is None:
                return go_json(record, memo)
            if self.log_key not in record:
                return None
            value = record[self.log_key]
            if isinstance(value, str):
                return value.encode(errors="replace")
            if isinstance(value, (bytes, bytearray)):
                return bytes(value)
            return go_log_key_json(value)
        except GoJsonError as error:
            self.refused += 1
            self.refusal = str(error)
            return None
