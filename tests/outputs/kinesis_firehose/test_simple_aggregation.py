"""simple_aggregation as Fluent Bit 4.2 does it (src/aws/flb_aws_aggregation.c): records joined
by newlines into as few Firehose records as fit, one more newline at the end of each."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from functools import partial
from typing import Any

from flb_fast.outputs.aws.aggregation import aggregate_groups, compressed_aggregates, join
from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_firehose import GoFirehoseOutput
from flb_fast.outputs.kinesis_firehose.batch import MAX_RECORD_BYTES
from tests.outputs.aws.harness import chunk_of, flush_all
from tests.outputs.kinesis_firehose.test_kinesis_firehose import delivered, delivery_stream, firehose


def sent_records(fault_proxy: Any) -> list[list[bytes]]:
    """The Firehose records of each PutRecordBatch that went through the proxy."""
    return [
        [base64.b64decode(record["Data"]) for record in json.loads(call.body)["Records"]]
        for call in fault_proxy.calls_to("PutRecordBatch")
    ]


def test_records_are_joined_by_newlines_with_one_more_at_the_end(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url, simple_aggregation="on")
    records = [{"log": f"line {i}", "n": i} for i in range(3)]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    aggregate = b'{"log":"line 0","n":0}\n{"log":"line 1","n":1}\n{"log":"line 2","n":2}\n\n'
    assert sent_records(fault_proxy) == [[aggregate]]
    assert delivered(moto) == [aggregate]


def test_go_firehose_aggregates_without_the_final_newline(moto, run) -> None:
    # amazon-kinesis-firehose-for-fluent-bit appends each newline-terminated record as it is.
    delivery_stream(moto)
    output = firehose(moto.url, GoFirehoseOutput, simple_aggregation="on")
    assert run(flush_all(output, chunk_of([{"n": 0}, {"n": 1}]))) == [FlushResult.OK]
    assert delivered(moto) == [b'{"n":0}\n{"n":1}\n']
    assert output.config_warnings == []


def test_time_key_is_added_to_each_aggregated_record(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, simple_aggregation="on", time_key="time", time_key_format="%Y")
    chunk = chunk_of([{"a": 1}, {"a": 2}], timestamps=[1_700_000_000_000_000_000] * 2)
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert delivered(moto) == [b'{"a":1,"time":"2023"}\n{"a":2,"time":"2023"}\n\n']


def test_log_key_values_are_aggregated_raw(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, simple_aggregation="on", log_key="log")
    chunk = chunk_of([{"log": "first"}, {"other": 1}, {"log": "second"}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert delivered(moto) == [b"first\nsecond\n\n"]
    assert output.ctx.metrics["log_key_missing_records"] == 1


def test_gzip_compresses_the_whole_aggregate_once(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, simple_aggregation="on", compression="gzip", log_key="log")
    assert run(flush_all(output, chunk_of([{"log": "a"}, {"log": "b"}]))) == [FlushResult.OK]
    (data,) = delivered(moto)
    assert data == gzip.compress(b"a\nb\n\n", mtime=0)


def test_an_aggregate_filling_the_record_size_exactly_is_one_record_without_the_final_newline(
    moto, fault_proxy, run
) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url, simple_aggregation="on", log_key="log")
    half = MAX_RECORD_BYTES // 2 - 1  # each record takes its size plus a newline
    chunk = chunk_of([{"log": "a" * half}, {"log": "b" * half}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    aggregate = b"a" * half + b"\n" + b"b" * half + b"\n"
    assert len(aggregate) == MAX_RECORD_BYTES
    assert sent_records(fault_proxy) == [[aggregate]]


def test_one_byte_over_the_record_size_starts_a_second_aggregate(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url, simple_aggregation="on", log_key="log")
    half = MAX_RECORD_BYTES // 2 - 1
    chunk = chunk_of([{"log": "a" * half}, {"log": "b" * (half + 1)}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert sent_records(fault_proxy) == [[b"a" * half + b"\n\n", b"b" * (half + 1) + b"\n\n"]]


def test_a_record_as_large_as_the_record_size_with_its_newline_is_discarded(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url, simple_aggregation="on", log_key="log")
    largest = MAX_RECORD_BYTES - 2  # with its newline, one byte under the record size
    chunk = chunk_of([{"log": "x" * (largest + 1)}, {"log": "y" * largest}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert sent_records(fault_proxy) == [[b"y" * largest + b"\n\n"]]
    assert output.ctx.metrics["too_large_records"] == 1


def test_a_partly_failed_batch_resends_only_the_failed_aggregates(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url, simple_aggregation="on", log_key="log")
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecordBatch", "partial", failing=(1,))
    size = MAX_RECORD_BYTES // 4
    chunk = chunk_of([{"log": letter * size} for letter in "abcdef"])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    first, retry = sent_records(fault_proxy)
    assert len(first) == 2 and retry == [first[1]]
    lines = [line for data in delivered(moto) for line in data.split(b"\n") if line]
    assert sorted(lines) == [letter.encode() * size for letter in "abcdef"]


def test_groups_cut_where_the_next_record_would_not_fit() -> None:
    # Sizes count each record's newline.
    assert aggregate_groups([4, 4, 3], [8, 8, 8]) == ([[0, 1], [2]], 0)
    assert aggregate_groups([4, 5, 3], [8, 8, 8]) == ([[0], [1, 2]], 0)


def test_each_aggregate_keeps_the_limit_of_its_first_record() -> None:
    assert aggregate_groups([4, 4, 4], [8, 12, 12]) == ([[0, 1], [2]], 0)
    assert aggregate_groups([4, 4, 4], [12, 8, 8]) == ([[0, 1, 2]], 0)


def test_records_too_large_alone_are_discarded_and_the_rest_kept_in_order() -> None:
    assert aggregate_groups([8, 7, 2], [8, 8, 8]) == ([[1], [2]], 1)


def test_the_final_newline_is_added_only_when_there_is_room() -> None:
    assert join([b"ab\n", b"c\n"], 6, final_newline=True) == b"ab\nc\n\n"
    assert join([b"ab\n", b"c\n"], 5, final_newline=True) == b"ab\nc\n"
    assert join([b"ab\n", b"c\n"], 6, final_newline=False) == b"ab\nc\n"


def test_an_aggregate_that_compresses_over_the_limit_is_halved_not_truncated() -> None:
    stored = partial(zlib.compress, level=0)  # real zlib that stores, so it only grows
    bodies = [bytes([65 + i]) * 40 + b"\n" for i in range(4)]
    packed, dropped = compressed_aggregates(bodies, 100, False, stored)
    assert dropped == 0
    assert [zlib.decompress(data) for data in packed] == [b"".join(bodies[:2]), b"".join(bodies[2:])]
    assert all(len(data) <= 100 for data in packed)


def test_a_single_record_that_compresses_over_the_limit_is_dropped_and_counted() -> None:
    stored = partial(zlib.compress, level=0)
    packed, dropped = compressed_aggregates([b"x" * 95 + b"\n", b"y" * 10 + b"\n"], 100, False, stored)
    assert dropped == 1
    assert [zlib.decompress(data) for data in packed] == [b"y" * 10 + b"\n"]
