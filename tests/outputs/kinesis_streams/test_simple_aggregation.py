"""simple_aggregation for Kinesis as Fluent Bit 4.2 does it: records joined by newlines into as
few Kinesis records as fit, without Firehose's extra final newline; the partition key counts."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_streams import GoKinesisOutput, KinesisStreamsOutput
from flb_fast.outputs.kinesis_streams.batch import MAX_RECORD_BYTES
from tests.outputs.aws.harness import chunk_of, flush_all
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream, kinesis

RANDOM_KEY_BYTES = 32
ROOM = MAX_RECORD_BYTES - RANDOM_KEY_BYTES  # what an aggregate may hold beside its random key


def sent_records(fault_proxy: Any) -> list[list[bytes]]:
    """The Kinesis records of each PutRecords that went through the proxy."""
    return [
        [base64.b64decode(record["Data"]) for record in json.loads(call.body)["Records"]]
        for call in fault_proxy.calls_to("PutRecords")
    ]


def test_records_are_joined_by_newlines_under_one_random_key(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, simple_aggregation="on")
    assert run(flush_all(output, chunk_of([{"n": i} for i in range(3)]))) == [FlushResult.OK]
    (record,) = arrived(moto)
    assert record["data"] == b'{"n":0}\n{"n":1}\n{"n":2}\n'
    assert len(record["key"]) == RANDOM_KEY_BYTES


def test_simple_aggregation_is_no_longer_reported_as_unsupported() -> None:
    for cls in (KinesisStreamsOutput, GoKinesisOutput):
        assert kinesis("http://127.0.0.1:1", cls, simple_aggregation="on").config_warnings == []


def test_gzip_compresses_the_whole_aggregate_once(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, simple_aggregation="on", compression="gzip", log_key="log")
    assert run(flush_all(output, chunk_of([{"log": "a"}, {"log": "b"}]))) == [FlushResult.OK]
    assert [record["data"] for record in arrived(moto)] == [gzip.compress(b"a\nb\n", mtime=0)]


def test_go_partition_key_of_the_first_record_keys_the_aggregate(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, simple_aggregation="on", partition_key="pod")
    assert run(flush_all(output, chunk_of([{"pod": "web-1"}, {"pod": "web-2"}]))) == [FlushResult.OK]
    assert arrived(moto) == [{"data": b'{"pod":"web-1"}\n{"pod":"web-2"}\n', "key": "web-1"}]


def test_an_aggregate_filling_the_record_with_its_key_exactly_is_one_record(moto, fault_proxy, run) -> None:
    create_stream(moto)
    output = kinesis(fault_proxy.url, simple_aggregation="on", log_key="log")
    half = ROOM // 2 - 1
    chunk = chunk_of([{"log": "a" * half}, {"log": "b" * half}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert sent_records(fault_proxy) == [[b"a" * half + b"\n" + b"b" * half + b"\n"]]
    (request,) = [json.loads(call.body) for call in fault_proxy.calls_to("PutRecords")]
    (entry,) = request["Records"]
    assert len(base64.b64decode(entry["Data"])) + len(entry["PartitionKey"]) == MAX_RECORD_BYTES


def test_one_byte_over_starts_a_second_aggregate(moto, fault_proxy, run) -> None:
    create_stream(moto)
    output = kinesis(fault_proxy.url, simple_aggregation="on", log_key="log")
    half = ROOM // 2 - 1
    chunk = chunk_of([{"log": "a" * half}, {"log": "b" * (half + 1)}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert sent_records(fault_proxy) == [[b"a" * half + b"\n", b"b" * (half + 1) + b"\n"]]


def test_a_record_filling_the_room_with_its_newline_is_discarded(moto, fault_proxy, run) -> None:
    create_stream(moto)
    output = kinesis(fault_proxy.url, simple_aggregation="on", log_key="log")
    largest = ROOM - 2
    chunk = chunk_of([{"log": "x" * (largest + 1)}, {"log": "y" * largest}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert sent_records(fault_proxy) == [[b"y" * largest + b"\n"]]
    assert output.ctx.metrics["too_large_records"] == 1
