"""The record-stream outputs (Firehose PutRecordBatch, Kinesis PutRecords): batching within the
service limits, and partial failures retried record by record.

A chunk's records are encoded once into entries (data, partition key). What is not yet accepted
stays pending under the chunk's id: after a partial failure (``FailedPutCount`` /
``FailedRecordCount``) only the failed entries, followed by those not yet sent, go out on the
retry, so what already arrived is not duplicated (Fluent Bit resends the whole chunk:
aws/aws-for-fluent-bit #150).
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import zlib
from abc import abstractmethod
from bisect import bisect_right
from itertools import accumulate
from typing import Any, ClassVar, NamedTuple

from flb_fast.compiled import core_part
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.outputs.aws.aggregation import aggregate_groups, compressed_aggregates
from flb_fast.outputs.aws.base import AwsOutput
from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.aws.errors import THROTTLE_CODES
from flb_fast.outputs.base import FlushResult
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# gzip (both plugins) and zlib (the Go kinesis plugin), applied to each record on its own.
COMPRESSIONS = ("gzip", "zlib")

RECORD_OPTIONS = OptionTable(
    Option("time_key", STR, None, "add the record time under this key"),
    Option("time_key_format", STR, "%Y-%m-%dT%H:%M:%S", "strftime format of time_key; %3N ms, %9N or %L ns"),
    Option("log_key", STR, None, "send only this key's value (raw) instead of the whole record as JSON"),
    Option("compression", STR, None, "compress each record: gzip or zlib"),
)
"""How ``RecordsOutput`` encodes each record: declared once, next to the code that reads them,
so Firehose and Kinesis cannot drift apart (each plugin's table follows its stream option with it)."""


class Limits(NamedTuple):
    """A batch API's limits; ``key_counts`` says whether partition keys count towards sizes."""

    max_records: int
    max_request_bytes: int
    max_record_bytes: int
    key_counts: bool


class Entry(NamedTuple):
    data: bytes
    key: str | None


# An Entry from a (data, key) pair without a Python-level ``__new__`` call per record.
_make_entry = functools.partial(tuple.__new__, Entry)


def entry_sizes(entries: list[Entry], limits: Limits) -> list[int]:
    """Each entry's size as the service counts it: its data, and its partition key where ``key_counts``."""
    if limits.key_counts:
        return [len(data) + (len(key.encode()) if key else 0) for data, key in entries]
    return [len(data) for data, _ in entries]


class _Pending:
    """A chunk's encoded entries and how many of them were accepted, in order."""

    __slots__ = ("entries", "sent")

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.sent = 0


def batch_head(name_field: str, name: str) -> bytes:
    """A PutRecordBatch / PutRecords body up to its first record, as botocore's serialiser writes it."""
    return (json.dumps({name_field: name})[:-1] + ', "Records": [').encode()


def key_json(key: object) -> bytes:
    """A partition key as botocore's serialiser writes it (``json.dumps`` defaults)."""
    return json.dumps(key).encode()


def reference_batch_body(head: bytes, batch: list[Entry], keyed: bool) -> bytes:
    """``head`` then ``{"Data": ..., "PartitionKey": ...}`` per entry, byte for byte as botocore's
    JSON serialiser writes it (``json.dumps`` defaults; blobs as base64, which needs no escaping).
    The reference of ``_core.records_body``."""
    records = []
    for entry in batch:
        record = b'{"Data": "' + base64.b64encode(entry.data) + b'"'
        if keyed:
            record += b', "PartitionKey": ' + key_json(entry.key)
        records.append(record + b"}")
    return head + b", ".join(records) + b"]}"


# The compiled builder when the extension has it (it does in any current build): the body in one
# pass, base64 written straight into it (bench/README.md, the firehose and kinesis rows).
_records_body = core_part("records_body")


def batch_body(name_field: str, name: str, batch: list[Entry], keyed: bool) -> bytes:
    """A PutRecordBatch / PutRecords body, ``{name_field: name, "Records": [{"Data": ...,
    "PartitionKey": ...}, ...]}``, byte for byte as botocore's JSON serialiser writes it."""
    head = batch_head(name_field, name)
    if _records_body is not None:
        return _records_body(head, batch, 0, len(batch), keyed, key_json)
    return reference_batch_body(head, batch, keyed)


def split_batches(sizes: list[int], limits: Limits) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of entries that each make one request within ``limits``
    (every entry is at most ``max_record_bytes``), each as long as the record count and request
    size allow: found by bisecting the running total of the sizes, not by a step per entry."""
    totals = list(accumulate(sizes, initial=0))
    batches: list[tuple[int, int]] = []
    start = 0
    while start < len(sizes):
        end = bisect_right(totals, totals[start] + limits.max_request_bytes, start + 1) - 1
        end = max(start + 1, min(end, start + limits.max_records))
        batches.append((start, end))
        start = end
    return batches


class RecordsOutput(AwsOutput):
    """Base of kinesis_firehose and kinesis_streams. Subclasses give ``LIMITS``, the stream
    option, and ``_put`` / ``_failed_codes`` for their API."""

    JSON_PROTOCOL = True
    LIMITS: ClassVar[Limits]
    STREAM_OPTION: ClassVar[str]
    API: ClassVar[str]
    # Whether every record ends with a newline (Fluent Bit's C plugins and the Go firehose
    # plugin add one; the Go kinesis plugin only with append_newline).
    RECORD_NEWLINE: ClassVar[bool] = False
    # Whether a simple aggregate ends with one more newline (kinesis_firehose does).
    AGGREGATE_FINAL_NEWLINE: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.stream_name = getattr(options, self.STREAM_OPTION)
        if not self.stream_name:
            raise PluginConfigError(self.STREAM_OPTION, f"'{self.STREAM_OPTION}' is a required field")
        compression = (options.compression or "").lower() or None
        if compression is not None and compression not in COMPRESSIONS:
            raise PluginConfigError(
                "compression", f"compression '{options.compression}' is not supported (supported: gzip)"
            )
        self.compression = compression
        self.encoder = RecordEncoder(
            log_key=options.log_key,
            time_key=options.time_key,
            time_key_format=options.time_key_format,
            data_keys=getattr(options, "data_keys", None),
            replace_dots=getattr(options, "replace_dots", None),
        )
        self.simple_aggregation = bool(getattr(options, "simple_aggregation", False))
        # Aggregated records are always newline-terminated: the newline is their delimiter.
        self.record_newline = (
            self.RECORD_NEWLINE or self.simple_aggregation or bool(getattr(options, "append_newline", False))
        )

    def partition_keys(self, records: list[dict[str, Any]]) -> list[str | None]:
        """The partition key of each record's entry; None for services without one."""
        return [None] * len(records)

    def _entries(self, chunk: Chunk) -> list[Entry]:
        encoded = self.encoder.encode_all(chunk.records, chunk.timestamps, b"\n" if self.record_newline else b"")
        datas: list[bytes] = []
        records: list[dict[str, Any]] = []
        missing = empty = 0
        if self.encoder.whole_records:
            # A whole record is never missing or empty (its JSON is at least "{}").
            datas, records = encoded, chunk.records  # type: ignore[assignment]
        else:
            for data, record in zip(encoded, chunk.records, strict=True):
                if data is None:
                    missing += 1
                elif not data:
                    empty += 1
                else:
                    datas.append(data)
                    records.append(record)
        entries, too_large = self._pack(datas, records)
        self.count_skipped(missing, empty, too_large)
        return entries

    def compress(self, data: bytes) -> bytes:
        """``data`` as the ``compression`` option wants it sent."""
        if self.compression == "gzip":
            return gzip.compress(data, mtime=0)
        if self.compression == "zlib":
            return zlib.compress(data)
        return data

    def _pack(self, datas: list[bytes], records: list[dict[str, Any]]) -> tuple[list[Entry], int]:
        """The entries to send for the encoded records (``datas[i]`` of ``records[i]``), and how
        many records were too large to send: one entry per record, or Fluent Bit's simple aggregates."""
        if self.simple_aggregation:
            return self._simple_aggregates(datas, records)
        if self.compression is not None:
            datas = [self.compress(data) for data in datas]
        entries = list(map(_make_entry, zip(datas, self.partition_keys(records), strict=True)))
        sizes = entry_sizes(entries, self.LIMITS)
        limit = self.LIMITS.max_record_bytes
        if max(sizes, default=0) <= limit:
            return entries, 0
        kept = [entry for entry, size in zip(entries, sizes, strict=True) if size <= limit]
        return kept, len(entries) - len(kept)

    def _simple_aggregates(self, datas: list[bytes], records: list[dict[str, Any]]) -> tuple[list[Entry], int]:
        """``simple_aggregation``: newline-joined records per entry (see ``outputs.aws.aggregation``);
        an aggregate takes the partition key of its first record."""
        limits = self.LIMITS
        keys = self.partition_keys(records)
        room = [limits.max_record_bytes - (len(key.encode()) if limits.key_counts and key else 0) for key in keys]
        groups, too_large = aggregate_groups([len(data) for data in datas], room)
        entries: list[Entry] = []
        for group in groups:
            first = group[0]
            members = [datas[index] for index in group]
            packed, dropped = compressed_aggregates(members, room[first], self.AGGREGATE_FINAL_NEWLINE, self.compress)
            entries += (Entry(data, keys[first]) for data in packed)
            too_large += dropped
        return entries, too_large

    async def flush(self, chunk: Chunk) -> FlushResult:
        pending: _Pending | None = self._progress.get(chunk.id)
        if pending is None:
            pending = self._progress[chunk.id] = _Pending(self._entries(chunk))
        entries, limits = pending.entries, self.LIMITS
        first = pending.sent
        for start, end in split_batches(entry_sizes(entries[first:], limits), limits):
            batch = entries[first + start : first + end]
            await self.backoff.wait()
            try:
                codes = self._failed_codes(await self._put(batch))
            except Exception as exc:  # noqa: BLE001 - every failure becomes a flush result
                return self.failure(exc, f"{self.API} to {self.stream_name}")
            failed = [entry for entry, code in zip(batch, codes, strict=True) if code]
            if failed:
                # The failed records go first, then those not sent yet: the retry's order.
                self._progress[chunk.id] = _Pending(failed + entries[first + end :])
                return self._partial_failure(codes)
            pending.sent = first + end
            self.backoff.succeeded()
        return FlushResult.OK

    def _partial_failure(self, codes: list[str | None]) -> FlushResult:
        failed_codes = [code for code in codes if code]
        self.ctx.metrics.inc("failed_records", len(failed_codes))
        throttled = any(code in THROTTLE_CODES for code in failed_codes)
        delay = self.backoff.failed() if throttled else 0.0
        if throttled:
            self.ctx.metrics.inc("throttled_requests")
        self.ctx.log.warning(
            "%s to %s: %d of %d record(s) failed (%s); only those will be retried%s",
            self.API,
            self.stream_name,
            len(failed_codes),
            len(codes),
            ", ".join(sorted(set(failed_codes))),
            f", backing off all workers for {delay:.1f}s" if throttled else "",
        )
        return FlushResult.RETRY

    @abstractmethod
    async def _put(self, batch: list[Entry]) -> dict[str, Any]:
        """Send one batch with the service's API."""

    @abstractmethod
    def _failed_codes(self, response: dict[str, Any]) -> list[str | None]:
        """Per entry of the request, its error code or None when accepted."""
