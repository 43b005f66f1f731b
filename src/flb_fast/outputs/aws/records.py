"""The record-stream outputs (Firehose PutRecordBatch, Kinesis PutRecords): batching within the
service limits, and partial failures retried record by record.

A chunk's records are encoded once into the service records' data, with a parallel list of
partition keys where the API has them (no per-record (data, key) objects: each request's end
and body are found by ``_core`` in one pass over the two lists). What is not yet accepted
stays pending under the chunk's id: after a partial failure (``FailedPutCount`` /
``FailedRecordCount``) only the failed records, followed by those not yet sent, go out on the
retry, so what already arrived is not duplicated (Fluent Bit resends the whole chunk:
aws/aws-for-fluent-bit #150). A response whose failed count is 0 is neither parsed nor searched
record by record (``failed_count_reader``).
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any, ClassVar, NamedTuple

import msgspec

from flb_fast.compiled import core_part
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.outputs.aws.aggregation import aggregate_groups, compressed_aggregates
from flb_fast.outputs.aws.base import AwsOutput
from flb_fast.outputs.aws.encode import RecordEncoder, go_data_keys
from flb_fast.outputs.aws.errors import THROTTLE_CODES
from flb_fast.outputs.aws.go_json import TRUNCATED_SUFFIX
from flb_fast.outputs.base import FlushResult
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# The most bytes one character takes in UTF-8 (RFC 3629).
UTF8_MAX_BYTES = 4
# gzip (both plugins) and zlib (the Go kinesis plugin), applied to each record on its own.
COMPRESSIONS = ("gzip", "zlib")

RECORD_OPTIONS = OptionTable(
    Option("time_key", STR, None, "add the record time under this key"),
    Option("time_key_format", STR, "%Y-%m-%dT%H:%M:%S",
           "strftime format of time_key; %3N ms, %9N or %L ns (the Go plugins' names: %L ms, %f us)"),
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
    """One service record built apart (a KPL aggregate): its data and partition key."""

    data: bytes
    key: str | None


def record_sizes(datas: list[bytes], keys: list[str | None] | None) -> list[int]:
    """Each record's size as the service counts it: its data, and its partition key when ``keys`` are given."""
    if keys is not None:
        return [len(data) + (len(key.encode()) if key else 0) for data, key in zip(datas, keys, strict=True)]
    return [len(data) for data in datas]


class _Pending:
    """A chunk's records (data, and partition keys where the API has them) and how many of
    them were accepted, in order."""

    __slots__ = ("datas", "keys", "sent")

    def __init__(self, datas: list[bytes], keys: list[str | None] | None) -> None:
        self.datas = datas
        self.keys = keys
        self.sent = 0


def batch_head(name_field: str, name: str) -> bytes:
    """A PutRecordBatch / PutRecords body up to its first record, as botocore's serialiser writes it."""
    return (json.dumps({name_field: name})[:-1] + ', "Records": [').encode()


def key_json(key: object) -> bytes:
    """A partition key as botocore's serialiser writes it (``json.dumps`` defaults)."""
    return json.dumps(key).encode()


def reference_batch_body(
    head: bytes, datas: list[bytes], keys: list[str | None] | None, start: int, end: int
) -> bytes:
    """``head`` then ``{"Data": ..., "PartitionKey": ...}`` per record of ``[start, end)``, byte for
    byte as botocore's JSON serialiser writes it (``json.dumps`` defaults; blobs as base64, which
    needs no escaping). The reference of ``_core.records_body``."""
    records = []
    for index in range(start, end):
        record = b'{"Data": "' + base64.b64encode(datas[index]) + b'"'
        if keys is not None:
            record += b', "PartitionKey": ' + key_json(keys[index])
        records.append(record + b"}")
    return head + b", ".join(records) + b"]}"


# The compiled builders when the extension has them (it does in any current build): each
# request's end without a list of sizes, its body in one pass with base64 written straight into
# it (bench/README.md, the firehose and kinesis rows).
_records_body = core_part("records_body")
_records_batch_end = core_part("records_batch_end")


def batch_body(head: bytes, datas: list[bytes], keys: list[str | None] | None, start: int, end: int) -> bytes:
    """A PutRecordBatch / PutRecords body of records ``[start, end)`` after ``head`` (``batch_head``):
    ``{name_field: name, "Records": [{"Data": ..., "PartitionKey": ...}, ...]}`` (a partition key
    per record when ``keys`` are given), byte for byte as botocore's JSON serialiser writes it."""
    if _records_body is not None:
        return _records_body(head, datas, keys, start, end, key_json)
    return reference_batch_body(head, datas, keys, start, end)


def batch_end(datas: list[bytes], keys: list[str | None] | None, start: int, limits: Limits) -> int:
    """The end of the request starting at record ``start``: the first range of ``split_batches``
    over the records from ``start`` (partition keys counted when ``limits.key_counts``)."""
    counted = keys if limits.key_counts else None
    if _records_batch_end is not None:
        return _records_batch_end(datas, counted, start, limits.max_records, limits.max_request_bytes)
    stop = start + limits.max_records
    sizes = record_sizes(datas[start:stop], counted[start:stop] if counted is not None else None)
    return start + split_batches(sizes, limits)[0][1]


def split_batches(sizes: list[int], limits: Limits) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of records that each make one request within ``limits``
    (every record is at most ``max_record_bytes``), each as long as the record count and request
    size allow: found by bisecting the running total of the sizes, not by a step per record.
    The reference of ``_core.records_batch_end``."""
    totals = list(accumulate(sizes, initial=0))
    batches: list[tuple[int, int]] = []
    start = 0
    while start < len(sizes):
        end = bisect_right(totals, totals[start] + limits.max_request_bytes, start + 1) - 1
        end = max(start + 1, min(end, start + limits.max_records))
        batches.append((start, end))
        start = end
    return batches


def failed_count_reader(count_field: str) -> Callable[[bytes], dict[str, Any]]:
    """A reader of PutRecordBatch / PutRecords answers that reads only ``count_field`` (the failed
    count) when it is 0: ``{count_field: 0}``, without the per-record results (one object per record,
    500 a request, and the garbage collection their allocation sets off: about 5k instructions a
    record parsed whole), as Fluent Bit reads only the count then (firehose_api.c / kinesis_api.c
    ``process_api_response``). Any other answer (a failed count, none, not an integer, not JSON)
    is parsed whole by ``json.loads``, as before."""
    decoder = msgspec.json.Decoder(msgspec.defstruct("FailedCount", [(count_field, int | None, None)]))

    def read(body: bytes) -> dict[str, Any]:
        try:
            count = getattr(decoder.decode(body), count_field)
        except msgspec.MsgspecError:
            count = None
        return {count_field: 0} if count == 0 else json.loads(body)

    return read


class RecordsOutput(AwsOutput):
    """Base of kinesis_firehose and kinesis_streams. Subclasses give ``LIMITS``, the stream
    option, the request's name field, the response's failed count and results fields for their API."""

    JSON_PROTOCOL = True
    LIMITS: ClassVar[Limits]
    STREAM_OPTION: ClassVar[str]
    API: ClassVar[str]
    # Whether every record ends with a newline (Fluent Bit's C plugins and the Go firehose
    # plugin add one; the Go kinesis plugin only with append_newline).
    RECORD_NEWLINE: ClassVar[bool] = False
    # Whether a simple aggregate ends with one more newline (kinesis_firehose does).
    AGGREGATE_FINAL_NEWLINE: ClassVar[bool] = False
    # Whether this is the AWS Go plugin's name, whose records are written as the Go plugins write
    # them (aws/go_json.py), not as Fluent Bit's C plugins do (aws/encode.py).
    GO: ClassVar[bool] = False
    # The botocore method, the request's stream name field, and the response's count of failed records and its
    # per-record results (in request order, an ``ErrorCode`` on each failed one).
    METHOD: ClassVar[str]
    NAME_FIELD: ClassVar[str]
    FAILED_COUNT_FIELD: ClassVar[str]
    RESULTS_FIELD: ClassVar[str]

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
        self._batch_head = batch_head(self.NAME_FIELD, self.stream_name)
        self._read_answer = failed_count_reader(self.FAILED_COUNT_FIELD)
        self.encoder = RecordEncoder(
            log_key=options.log_key,
            time_key=options.time_key,
            time_key_format=options.time_key_format,
            data_keys=go_data_keys(getattr(options, "data_keys", None)),
            replace_dots=getattr(options, "replace_dots", None),
            log_key_json=not self.GO,
            go=self.GO,
        )
        self.simple_aggregation = bool(getattr(options, "simple_aggregation", False))
        # Aggregated records are always newline-terminated: the newline is their delimiter.
        self.record_newline = (
            self.RECORD_NEWLINE or self.simple_aggregation or bool(getattr(options, "append_newline", False))
        )

    def partition_keys(self, records: list[dict[str, Any]]) -> list[str | None] | None:
        """The partition key of each record; None for services without them."""
        return None

    def _records(self, chunk: Chunk) -> _Pending:
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
        refused, refusal = self.encoder.take_refused()
        datas, keys, too_large = self._pack(datas, records)
        self.count_skipped(missing - refused, empty, too_large, refused, refusal)
        return _Pending(datas, keys)

    def compress(self, data: bytes) -> bytes:
        """``data`` as the ``compression`` option wants it sent."""
        if self.compression == "gzip":
            return gzip.compress(data, mtime=0)
        if self.compression == "zlib":
            return zlib.compress(data)
        return data

    def _pack(self, datas: list[bytes], records: list[dict[str, Any]]) -> tuple[list[bytes], list[str | None] | None, int]:
        """The service records to send for the encoded records (``datas[i]`` of ``records[i]``):
        their data, their partition keys (None for services without them), and how many records
        were too large to send. One service record per record, or Fluent Bit's simple aggregates."""
        if self.simple_aggregation:
            return self._simple_aggregates(datas, records)
        if self.compression is not None:
            datas = [self.compress(data) for data in datas]
        keys = self.partition_keys(records)
        limit = self.LIMITS.max_record_bytes
        counted = keys if self.LIMITS.key_counts else None
        # At most 4 UTF-8 bytes per character of a key: under the limit, no record needs a look.
        key_bound = max(map(len, filter(None, counted)), default=0) * UTF8_MAX_BYTES if counted is not None else 0
        if max(map(len, datas), default=0) + key_bound <= limit:
            return datas, keys, 0
        if self.GO and self.compression is None:
            datas = self._go_truncated(datas, counted, limit)
        sizes = record_sizes(datas, counted)
        if max(sizes, default=0) <= limit:
            return datas, keys, 0
        kept = [index for index, size in enumerate(sizes) if size <= limit]
        return [datas[i] for i in kept], [keys[i] for i in kept] if keys is not None else None, len(datas) - len(kept)

    def _go_truncated(self, datas: list[bytes], keys: list[str | None] | None, limit: int) -> list[bytes]:
        """As the Go plugins' processRecord: a record over ``limit`` bytes (with its partition
        key's, where the service counts them) is cut to fit with TRUNCATED_SUFFIX at its end, at
        a byte, as they cut it, and counted (``truncated_records``)."""
        truncated = 0
        for index, data in enumerate(datas):
            key_bytes = len(keys[index].encode()) if keys is not None and keys[index] else 0  # type: ignore[union-attr]
            if len(data) + key_bytes > limit:
                datas[index] = data[: limit - key_bytes - len(TRUNCATED_SUFFIX)] + TRUNCATED_SUFFIX
                truncated += 1
        if truncated:
            self.ctx.metrics.inc("truncated_records", truncated)
            self.ctx.log.warning("truncated %d record(s) to the %d bytes the service takes", truncated, limit)
        return datas

    def _simple_aggregates(
        self, datas: list[bytes], records: list[dict[str, Any]]
    ) -> tuple[list[bytes], list[str | None] | None, int]:
        """``simple_aggregation``: newline-joined records per service record (see
        ``outputs.aws.aggregation``); an aggregate takes the partition key of its first record."""
        limits = self.LIMITS
        keys = self.partition_keys(records)
        room = [
            limits.max_record_bytes - (len(key.encode()) if limits.key_counts and key else 0)
            for key in (keys if keys is not None else [None] * len(datas))
        ]
        groups, too_large = aggregate_groups([len(data) for data in datas], room)
        packed_datas: list[bytes] = []
        packed_keys: list[str | None] = []
        for group in groups:
            first = group[0]
            members = [datas[index] for index in group]
            packed, dropped = compressed_aggregates(members, room[first], self.AGGREGATE_FINAL_NEWLINE, self.compress)
            packed_datas += packed
            if keys is not None:
                packed_keys += [keys[first]] * len(packed)
            too_large += dropped
        return packed_datas, packed_keys if keys is not None else None, too_large

    async def flush(self, chunk: Chunk) -> FlushResult:
        pending: _Pending | None = self._progress.get(chunk.id)
        if pending is None:
            pending = self._progress[chunk.id] = self._records(chunk)
        datas, keys = pending.datas, pending.keys
        start = pending.sent
        while start < len(datas):
            end = batch_end(datas, keys, start, self.LIMITS)
            await self.backoff.wait()
            try:
                response = await self.call(
                    self.METHOD, body=batch_body(self._batch_head, datas, keys, start, end), decode=self._read_answer
                )
            except Exception as exc:  # noqa: BLE001 - every failure becomes a flush result
                return self.failure(exc, f"{self.API} to {self.stream_name}")
            codes = self._failed_codes(response)
            if codes is not None and len(codes) != end - start:
                return self.failure(
                    ValueError(f"{len(codes)} results for {end - start} records"), f"{self.API} to {self.stream_name}"
                )
            if codes is not None:
                # The failed records go first, then those not sent yet: the retry's order.
                failed = [start + index for index, code in enumerate(codes) if code]
                self._progress[chunk.id] = _Pending(
                    [datas[index] for index in failed] + datas[end:],
                    [keys[index] for index in failed] + keys[end:] if keys is not None else None,
                )
                return self._partial_failure(codes)
            pending.sent = start = end
            self.backoff.succeeded()
        return FlushResult.OK

    def _failed_codes(self, response: dict[str, Any]) -> list[str | None] | None:
        """Per record of the request, its error code or None when accepted; None when the
        response counts no failed record: the results are then not looked at, as Fluent Bit
        does (firehose_api.c / kinesis_api.c ``process_api_response``: "no need to check
        RequestResponses field")."""
        if response.get(self.FAILED_COUNT_FIELD) == 0:
            return None
        codes = [result.get("ErrorCode") for result in response[self.RESULTS_FIELD]]
        return codes if any(codes) else None

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
