"""Output ``kinesis_firehose`` (Fluent Bit's C plugin) and ``firehose`` (the AWS Go plugin).

Records go out as JSON (or the ``log_key`` value) ended by a newline, as both Fluent Bit plugins
send them, with PutRecordBatch, one per Firehose record or,
with ``simple_aggregation``, newline-separated in as few records as fit (``outputs.aws.aggregation``);
a partly failed batch is retried for its failed records only (see ``outputs.aws.records``).
"""

from __future__ import annotations

from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.outputs.aws.options import AWS_COMMON_OPTIONS
from flb_fast.outputs.aws.records import RECORD_OPTIONS, RecordsOutput
from flb_fast.outputs.kinesis_firehose.batch import LIMITS


class KinesisFirehoseOutput(RecordsOutput):
    name = "kinesis_firehose"
    description = "Send logs to Amazon Kinesis Firehose"
    SERVICE = "firehose"
    API = "PutRecordBatch"
    METHOD = "put_record_batch"
    NAME_FIELD = "DeliveryStreamName"
    FAILED_COUNT_FIELD = "FailedPutCount"
    RESULTS_FIELD = "RequestResponses"
    LIMITS = LIMITS
    STREAM_OPTION = "delivery_stream"
    RECORD_NEWLINE = True
    AGGREGATE_FINAL_NEWLINE = True

    OPTIONS = (
        AWS_COMMON_OPTIONS
        + OptionTable(Option("delivery_stream", STR, None, "name of the Firehose delivery stream"))
        + RECORD_OPTIONS
        + OptionTable(
            Option("simple_aggregation", BOOL, "false", "pack newline-separated records into each Firehose record")
        )
    )


class GoFirehoseOutput(KinesisFirehoseOutput):
    """``Name firehose``: the AWS Go plugin's options as well as the C plugin's."""

    name = "firehose"
    description = "Send logs to Amazon Data Firehose (AWS Go plugin options)"
    AGGREGATE_FINAL_NEWLINE = False
    GO = True

    OPTIONS = KinesisFirehoseOutput.OPTIONS + OptionTable(
        Option("data_keys", STR, None, "send only these keys of each record: a,b (a space is part of a key)"),
        Option("replace_dots", STR, None, "replace dots in key names with this string"),
    )
