"""S3 limits, object bodies (gzip, Content-MD5) and the lines of JSON the S3 output writes.

Sources: Amazon S3 multipart upload limits
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): parts are 5 MiB to 5 GiB
except the last, at most 10,000 per upload. Fluent Bit's own bounds (plugins/out_s3/s3.h):
upload_chunk_size at most 50,000,000 bytes, total_file_size at most 50 GB, and 1 GB with
use_put_object.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from flb_fast.outputs.aws.encode import json_fallback
from flb_fast.outputs.fluent_json import escape_unicode, jsonable

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 50_000_000
MAX_PARTS = 10_000
MAX_OBJECT_BYTES = 50_000_000_000
MAX_PUT_OBJECT_BYTES = 1_000_000_000
COPY_BUFFER_BYTES = 1024 * 1024

DATE_FORMATS = ("double", "epoch", "iso8601", "java_sql_timestamp")


def format_date(timestamp_ns: int, date_format: str) -> bytes:
    """The ``json_date_key`` value as JSON, in Fluent Bit's ``json_date_format`` styles."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    if date_format == "epoch":
        return str(seconds).encode()
    if date_format == "double":
        return f"{seconds}.{nanos // 1000:06d}".encode()
    moment = datetime.fromtimestamp(seconds, UTC)
    if date_format == "java_sql_timestamp":
        return f'"{moment:%Y-%m-%d %H:%M:%S}.{nanos // 1000:06d}"'.encode()
    return f'"{moment:%Y-%m-%dT%H:%M:%S}.{nanos // 1000:06d}Z"'.encode()


class LineEncoder:
    """Records as JSON lines with the date key first (as flb_pack_msgpack_to_json_format puts
    it), or only the ``log_key`` value per line. The JSON is Fluent Bit's (json.escape_unicode
    on: non-ASCII and DEL as \\u escapes, its floats: ``outputs/fluent_json.py``)."""

    def __init__(self, date_key: str | None, date_format: str, log_key: str | None) -> None:
        self._encoder = msgspec.json.Encoder()
        self.log_key = log_key
        self.date_format = date_format
        self._date_prefix = b'{"' + self._encoder.encode(date_key)[1:-1] + b'":' if date_key else None

    def _json(self, value: object) -> bytes:
        try:
            return escape_unicode(self._encoder.encode(jsonable(value)))
        except (UnicodeEncodeError, TypeError):
            return json_fallback(value)

    def encode(self, records: list[dict], timestamps: list[int]) -> tuple[bytes, int]:
        """The lines of a chunk, and how many records lacked ``log_key``."""
        out = bytearray()
        missing = 0
        for record, timestamp in zip(records, timestamps, strict=True):
            if self.log_key is not None:
                if self.log_key not in record:
                    missing += 1
                    continue
                value = record[self.log_key]
                out += value.encode(errors="replace") if isinstance(value, str) else self._json(value)
            elif self._date_prefix is not None:
                body = self._json(record)
                out += self._date_prefix
                out += format_date(timestamp, self.date_format)
                if len(body) > 2:
                    out += b","
                    out += memoryview(body)[1:]
                else:
                    out += b"}"
            else:
                out += self._json(record)
            out += b"\n"
        return bytes(out), missing


def gzip_file(source: Path) -> Path:
    """Compress ``source`` into a sibling ``.gz`` file, streaming (bodies can be a gigabyte)."""
    target = source.with_name(source.name + ".gz")
    with open(source, "rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, COPY_BUFFER_BYTES)
    return target


def content_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(COPY_BUFFER_BYTES):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()
