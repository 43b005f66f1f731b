"""Output ``kinesis_streams`` (Fluent Bit's C plugin) and ``kinesis`` (the AWS Go plugin).

PutRecords with each record ended by a newline (the C plugin; the Go plugin only with
``append_newline``) and a partition key per record: random in the C plugin (spreads records over the
shards), or the Go plugin's ``partition_key`` (a record key, ``a->b`` for nested ones; random
when the record lacks it). ``simple_aggregation`` packs newline-separated records into each
Kinesis record (``outputs.aws.aggregation``), the Go plugin's ``aggregation`` packs them into KPL
aggregated records (``kpl``). A partly failed batch is retried for its failed records only.
"""

from __future__ import annotations

import os
from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, STR, TIME, Option, OptionTable
from flb_fast.outputs.aws.options import AWS_COMMON_OPTIONS
from flb_fast.outputs.aws.records import RECORD_OPTIONS, RecordsOutput
from flb_fast.outputs.kinesis_streams.batch import LIMITS, MAX_PARTITION_KEY_CHARS
from flb_fast.outputs.kinesis_streams.kpl import kpl_entries
from flb_fast.plugin import PluginContext

# Random bytes of a partition key, written as twice as many hex characters.
PARTITION_KEY_RANDOM_BYTES = 16


def random_partition_key() -> str:
    return os.urandom(PARTITION_KEY_RANDOM_BYTES).hex()


def random_partition_keys(count: int) -> list[str]:
    """``count`` random partition keys, from one read of the random source."""
    text = os.urandom(PARTITION_KEY_RANDOM_BYTES * count).hex()
    width = 2 * PARTITION_KEY_RANDOM_BYTES
    return [text[start : start + width] for start in range(0, width * count, width)]


class KinesisStreamsOutput(RecordsOutput):
    name = "kinesis_streams"
    description = "Send logs to Amazon Kinesis Streams"
    SERVICE = "kinesis"
    API = "PutRecords"
    METHOD = "put_records"
    NAME_FIELD = "StreamName"
    FAILED_COUNT_FIELD = "FailedRecordCount"
    RESULTS_FIELD = "Records"
    LIMITS = LIMITS
    STREAM_OPTION = "stream"
    RECORD_NEWLINE = True

    OPTIONS = (
        AWS_COMMON_OPTIONS
        + OptionTable(Option("stream", STR, None, "name of the Kinesis data stream"))
        + RECORD_OPTIONS
        + OptionTable(
            Option("simple_aggregation", BOOL, "false", "pack newline-separated records into each Kinesis record")
        )
    )

    def partition_keys(self, records: list[dict[str, Any]]) -> list[str | None] | None:
        return list(random_partition_keys(len(records)))


class GoKinesisOutput(KinesisStreamsOutput):
    """``Name kinesis``: the AWS Go plugin's options as well as the C plugin's."""

    name = "kinesis"
    description = "Send logs to Amazon Kinesis Data Streams (AWS Go plugin options)"
    RECORD_NEWLINE = False  # the Go plugin adds one only with append_newline
    GO = True

    OPTIONS = KinesisStreamsOutput.OPTIONS + OptionTable(
        Option("partition_key", STR, None, "record key whose value is the partition key; a->b for nested keys"),
        Option("data_keys", STR, None, "send only these keys of each record: a,b (a space is part of a key)"),
        Option("append_newline", BOOL, "false", "end each record with a newline"),
        Option("replace_dots", STR, None, "replace dots in key names with this string"),
        Option("aggregation", BOOL, "false", "pack records into KPL aggregated records"),
        Option("experimental_concurrency", INT, "0", "concurrent PutRecords calls",
               unsupported="ignored: use Workers"),
        Option("experimental_concurrency_retries", INT, None, "retries of concurrent calls (Go default 4)",
               unsupported="ignored: use Retry_Limit"),
        Option("http_request_timeout", TIME, None, "timeout of one request", unsupported="ignored: use net.io_timeout"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.key_path = options.partition_key.split("->") if options.partition_key else None
        self.kpl_aggregation = bool(options.aggregation)
        if self.kpl_aggregation and self.simple_aggregation:
            raise PluginConfigError("aggregation", "'aggregation' and 'simple_aggregation' cannot both be on")

    def record_key(self, record: dict[str, Any]) -> str | None:
        """The ``partition_key`` value of ``record``; None when not configured or absent."""
        if self.key_path is None:
            return None
        value: Any = record
        for key in self.key_path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or value == "" or isinstance(value, (dict, list)):
            return None
        return str(value)[:MAX_PARTITION_KEY_CHARS]

    def partition_keys(self, records: list[dict[str, Any]]) -> list[str | None] | None:
        if self.key_path is None:
            return list(random_partition_keys(len(records)))
        return [self.record_key(record) or random_partition_key() for record in records]

    def _pack(
        self, datas: list[bytes], records: list[dict[str, Any]]
    ) -> tuple[list[bytes], list[str | None] | None, int]:
        if not self.kpl_aggregation:
            return super()._pack(datas, records)
        items = [(self.compress(data), self.record_key(record)) for data, record in zip(datas, records, strict=True)]
        entries, too_large = kpl_entries(items, self.LIMITS.max_record_bytes, random_partition_key)
        return [entry.data for entry in entries], [entry.key for entry in entries], too_large
