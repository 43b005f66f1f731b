"""kinesis_firehose and firehose against moto (delivering to S3) and the fault proxy."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_firehose import GoFirehoseOutput, KinesisFirehoseOutput
from flb_fast.outputs.kinesis_firehose.batch import MAX_RECORD_BYTES
from tests.outputs.aws.harness import chunk_of, flush_all, make_output

BUCKET = "firehose-dest"
STREAM = "logs-stream"


def delivery_stream(moto: Any, name: str = STREAM) -> None:
    moto.client("s3").create_bucket(Bucket=BUCKET)
    moto.client("firehose").create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
        },
    )


def delivered(moto: Any) -> list[bytes]:
    """Each PutRecordBatch that moto accepted, as the bytes of its S3 object."""
    s3 = moto.client("s3")
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return [s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys]


def json_records(objects: list[bytes]) -> list[dict[str, Any]]:
    """The records of delivered objects: one JSON document per line."""
    return [json.loads(line) for data in objects for line in data.splitlines() if line]


def firehose(endpoint: str, cls: type = KinesisFirehoseOutput, **options: Any) -> Any:
    return make_output(cls, **{"region": "us-east-1", "endpoint": endpoint, "delivery_stream": STREAM, **options})


def test_records_arrive_as_json_lines(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url)
    records = [{"log": f"line {i}", "n": i} for i in range(3)]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    assert delivered(moto) == [b'{"log":"line 0","n":0}\n{"log":"line 1","n":1}\n{"log":"line 2","n":2}\n']


def test_time_key_and_log_key(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, time_key="time", time_key_format="%Y")
    chunk = chunk_of([{"a": 1}], timestamps=[1_700_000_000_000_000_000])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert delivered(moto) == [b'{"a":1,"time":"2023"}\n']


def test_gzip_compresses_each_record(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, compression="gzip", log_key="log")
    assert run(flush_all(output, chunk_of([{"log": "hello"}]))) == [FlushResult.OK]
    assert gzip.decompress(delivered(moto)[0]) == b"hello\n"


def test_go_data_keys_and_replace_dots(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, GoFirehoseOutput, data_keys="a.b,c", replace_dots="_")
    assert run(flush_all(output, chunk_of([{"a.b": 1, "c": 2, "d": 3}]))) == [FlushResult.OK]
    assert delivered(moto) == [b'{"a_b":1,"c":2}\n']


def test_go_data_keys_entries_are_the_keys_as_written_between_the_commas(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, GoFirehoseOutput, data_keys=" a, c ")
    assert run(flush_all(output, chunk_of([{"a": 1, "c": 2, " c": 3}]))) == [FlushResult.OK]
    assert delivered(moto) == [b'{" c":3,"a":1}\n']


def test_go_records_are_written_as_the_go_plugin_writes_them(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, GoFirehoseOutput)
    assert run(flush_all(output, chunk_of([{"z": 1.0, "a": "<&>"}]))) == [FlushResult.OK]
    assert delivered(moto) == [b'{"a":"\\u003c\\u0026\\u003e","z":1}\n']


def test_more_than_500_records_go_in_several_requests_and_all_arrive(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url)
    assert run(flush_all(output, chunk_of([{"n": i} for i in range(1201)]))) == [FlushResult.OK]
    objects = delivered(moto)
    assert len(objects) == 3
    assert sorted(r["n"] for r in json_records(objects)) == list(range(1201))


def test_a_record_over_the_size_limit_is_discarded_and_counted(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, log_key="log")
    largest = MAX_RECORD_BYTES - 1  # with its newline
    chunk = chunk_of([{"log": "x" * (largest + 1)}, {"log": "y" * largest}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    assert delivered(moto) == [b"y" * largest + b"\n"]
    assert output.ctx.metrics["too_large_records"] == 1


def test_go_a_record_over_the_size_limit_is_cut_to_it_with_the_go_plugins_suffix(moto, run) -> None:
    delivery_stream(moto)
    output = firehose(moto.url, GoFirehoseOutput, log_key="log")
    chunk = chunk_of([{"log": "x" * MAX_RECORD_BYTES}, {"log": "y"}])
    assert run(flush_all(output, chunk)) == [FlushResult.OK]
    cut = b"x" * (MAX_RECORD_BYTES - len(b"[Truncated...]")) + b"[Truncated...]"
    assert delivered(moto) == [cut + b"y\n"]
    assert output.ctx.metrics["truncated_records"] == 1


def test_a_partial_failure_retries_only_the_failed_records(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url)
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecordBatch", "partial", failing=(1, 3))
    chunk = chunk_of([{"n": i} for i in range(5)])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    retry = fault_proxy.calls_to("PutRecordBatch")[1]
    assert len(json.loads(retry.body)["Records"]) == 2
    assert sorted(r["n"] for r in json_records(delivered(moto))) == [0, 1, 2, 3, 4]
    assert output.ctx.metrics["failed_records"] == 2
    assert output.ctx.metrics["throttled_requests"] == 1


def test_after_a_partial_failure_the_unsent_batches_follow_the_failed_records(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url)
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecordBatch", "partial", failing=(499,))
    chunk = chunk_of([{"n": i} for i in range(700)])
    assert run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    sizes = [len(json.loads(call.body)["Records"]) for call in fault_proxy.calls_to("PutRecordBatch")]
    assert sizes == [500, 201]
    assert sorted(r["n"] for r in json_records(delivered(moto))) == list(range(700))


def test_throttling_and_server_errors_are_retried_without_loss(moto, fault_proxy, run) -> None:
    delivery_stream(moto)
    output = firehose(fault_proxy.url)
    output.backoff = OutputBackoff(base_seconds=0.01)
    fault_proxy.add("PutRecordBatch", "throttle")
    fault_proxy.add("PutRecordBatch", "error500")
    chunk = chunk_of([{"n": i} for i in range(3)])
    assert run(flush_all(output, chunk, chunk, chunk)) == [FlushResult.RETRY, FlushResult.RETRY, FlushResult.OK]
    assert json_records(delivered(moto)) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_missing_delivery_stream_is_retried(moto, run) -> None:
    output = firehose(moto.url)
    assert run(flush_all(output, chunk_of([{"a": 1}]))) == [FlushResult.RETRY]


@pytest.mark.parametrize(
    ("options", "option"), [({"delivery_stream": ""}, "delivery_stream"), ({"compression": "lz4"}, "compression")]
)
def test_invalid_options_are_config_errors(options: dict[str, str], option: str) -> None:
    with pytest.raises(PluginConfigError) as error:
        firehose("http://127.0.0.1:1", **options)
    assert error.value.option == option
