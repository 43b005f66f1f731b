"""kinesis_streams and kinesis against moto and the fault proxy."""

from __future__ import annotations

import json
import zlib
from typing import Any

from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_streams import GoKinesisOutput, KinesisStreamsOutput
from tests.outputs.aws.harness import chunk_of, flush_all, make_output
from tests.standalone import config_warnings_for

STREAM = "logs"


def create_stream(moto: Any, name: str = STREAM) -> None:
    moto.client("kinesis").create_stream(StreamName=name, ShardCount=1)


def arrived(moto: Any, name: str = STREAM) -> list[dict[str, Any]]:
    """Records of the one shard in sequence order: data and partition key."""
    kinesis = moto.client("kinesis")
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        records.extend({"data": r["Data"], "key": r["PartitionKey"]} for r in page["Records"])
        if not page["Records"]:
            return records
        iterator = page["NextShardIterator"]


def kinesis(endpoint: str, cls: type = KinesisStreamsOutput, **options: Any) -> Any:
    return make_output(cls, **{"region": "us-east-1", "endpoint": endpoint, "stream": STREAM, **options})


def test_records_arrive_in_order_as_lines_with_random_partition_keys(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url)
    assert run(flush_all(output, chunk_of([{"n": i} for i in range(1200)]))) == [FlushResult.OK]
    records = arrived(moto)
    assert [r["data"] for r in records] == [f'{{"n":{i}}}\n'.encode() for i in range(1200)]
    assert len({r["key"] for r in records}) == 1200


def test_go_partition_key_reads_nested_keys_and_falls_back_to_random(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, partition_key="kubernetes->pod_name", append_newline="on")
    chunk = chunk_of([{"kubernetes": {"pod_name": "web-1"}}, {"other": 1}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    first, second = arrived(moto)
    assert first == {"data": b'{"kubernetes":{"pod_name":"web-1"}}\n', "key": "web-1"}
    assert second["data"] == b'{"other":1}\n'
    assert len(second["key"]) == 32


def test_go_a_record_over_the_size_limit_with_its_key_is_cut_to_fit_with_the_go_plugins_suffix(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, partition_key="k", log_key="log")
    assert run(flush_all(output, chunk_of([{"k": "key", "log": "x" * 1024 * 1024}]))) == [FlushResult.OK]
    [record] = arrived(moto)
    assert record == {"data": b"x" * (1024 * 1024 - 3 - 14) + b"[Truncated...]", "key": "key"}
    assert output.ctx.metrics["truncated_records"] == 1


def test_a_partial_failure_retries_only_the_failed_records(moto, fault_proxy, run) -> None:
    create_stream(moto)
    output = kinesis(fault_proxy.url)
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecords", "partial", failing=(0, 2))
    chunk = chunk_of([{"n": i} for i in range(4)])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    retry = fault_proxy.calls_to("PutRecords")[1]
    assert len(json.loads(retry.body)["Records"]) == 2
    assert [r["data"] for r in arrived(moto)] == [b'{"n":1}\n', b'{"n":3}\n', b'{"n":0}\n', b'{"n":2}\n']


def test_dropped_connections_are_retried_without_loss(moto, fault_proxy, run) -> None:
    create_stream(moto)
    output = kinesis(fault_proxy.url, auto_retry_requests="off")
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecords", "drop")
    chunk = chunk_of([{"n": 1}])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    assert [r["data"] for r in arrived(moto)] == [b'{"n":1}\n']


def test_zlib_compresses_each_record(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, compression="zlib")
    assert run(flush_all(output, chunk_of([{"n": 1}]))) == [FlushResult.OK]
    assert [zlib.decompress(r["data"]) for r in arrived(moto)] == [b'{"n":1}']


def test_options_not_supported_yet_are_config_warnings_naming_what_to_use_instead() -> None:
    assert config_warnings_for(GoKinesisOutput, region="us-east-1", stream=STREAM, experimental_concurrency="2",
                               http_request_timeout="5s") == [
        "test.conf:3: [OUTPUT] kinesis: option 'experimental_concurrency' is not supported yet by flb_fast: "
        "ignored: use Workers",
        "test.conf:4: [OUTPUT] kinesis: option 'http_request_timeout' is not supported yet by flb_fast: "
        "ignored: use net.io_timeout",
    ]
    assert config_warnings_for(GoKinesisOutput, region="us-east-1", stream=STREAM, experimental_concurrency="0") == []
