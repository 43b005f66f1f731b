"""Batching of the record-stream outputs at the edges of their limits: exactly at, one over."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.outputs.aws import records
from flb_fast.outputs.aws.records import (
    Limits,
    batch_body,
    batch_end,
    batch_head,
    failed_count_reader,
    record_sizes,
    split_batches,
)
from flb_fast.outputs.kinesis_firehose.batch import LIMITS as FIREHOSE
from flb_fast.outputs.kinesis_streams.batch import LIMITS as KINESIS


def test_firehose_limits_are_the_documented_ones() -> None:
    assert FIREHOSE == Limits(500, 4_194_304, 1_024_000, key_counts=False)


def test_kinesis_limits_are_the_documented_ones() -> None:
    assert KINESIS == Limits(500, 5_242_880, 1_048_576, key_counts=True)


def test_exactly_500_records_make_one_request() -> None:
    assert split_batches([1] * 500, FIREHOSE) == [(0, 500)]


def test_501_records_make_two_requests() -> None:
    assert split_batches([1] * 501, FIREHOSE) == [(0, 500), (500, 501)]


def test_records_filling_exactly_the_request_size_make_one_request() -> None:
    size = FIREHOSE.max_request_bytes // 8
    assert split_batches([size] * 8, FIREHOSE) == [(0, 8)]


def test_one_byte_over_the_request_size_starts_a_second_request() -> None:
    size = FIREHOSE.max_request_bytes // 8
    assert split_batches([size] * 7 + [size + 1], FIREHOSE) == [(0, 7), (7, 8)]


def test_kinesis_counts_partition_keys_in_record_and_request_sizes() -> None:
    assert record_sizes([b"x" * 10, b"y"], ["key", "\u00e9"]) == [13, 3]
    assert record_sizes([b"x" * 10], None) == [10]
    size = KINESIS.max_request_bytes // 5
    assert split_batches([size] * 5, KINESIS) == [(0, 5)]
    assert split_batches([size] * 4 + [size + 1], KINESIS) == [(0, 4), (4, 5)]


def one_step_per_entry(sizes: list[int], limits: Limits) -> list[tuple[int, int]]:
    """The batches by definition: an entry starts a new request when the current one holds
    ``max_records`` entries or would pass ``max_request_bytes`` with it."""
    batches, start, request_bytes = [], 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= limits.max_records or request_bytes + size > limits.max_request_bytes):
            batches.append((start, index))
            start, request_bytes = index, 0
        request_bytes += size
    return batches + ([(start, len(sizes))] if start < len(sizes) else [])


@settings(max_examples=300)
@given(
    sizes=st.lists(st.integers(0, 40), max_size=60),
    max_records=st.integers(1, 8),
    max_request_bytes=st.integers(40, 120),
)
def test_batches_are_as_long_as_the_limits_allow(sizes: list[int], max_records: int, max_request_bytes: int) -> None:
    limits = Limits(max_records, max_request_bytes, 40, False)
    assert split_batches(sizes, limits) == one_step_per_entry(sizes, limits)


def test_the_next_request_ends_where_split_batches_ends_it_from_the_start_given() -> None:
    size = KINESIS.max_request_bytes // 5 - 1
    datas = [b"x" * size] * 12
    keys = ["k"] * 12
    assert batch_end(datas, keys, 0, KINESIS) == 5
    assert batch_end(datas, keys, 10, KINESIS) == 12
    assert batch_end(datas, [("k" * 2)] * 12, 0, KINESIS) == 4
    assert batch_end(datas, [("k" * 2)] * 12, 0, FIREHOSE) == 4


def test_firehose_does_not_count_keys_in_the_request_size() -> None:
    size = FIREHOSE.max_request_bytes // 4
    assert batch_end([b"x" * size] * 5, ["key"] * 5, 0, FIREHOSE) == 4


@functools.cache
def operation_model(service: str, operation: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service).operation_model(operation)


def botocore_body(service: str, operation: str, params: dict[str, Any]) -> bytes:
    """The body botocore's own JSON serialiser writes for ``operation`` with ``params``."""
    import botocore.serialize

    request = botocore.serialize.create_serializer("json").serialize_to_request(params, operation_model(service, operation))
    return request["body"]


_DATAS = st.lists(st.binary(max_size=30), min_size=1, max_size=6)


@settings(max_examples=100)
@given(datas=_DATAS, name=st.text(min_size=1, max_size=10))
def test_a_put_record_batch_body_is_the_one_botocore_serialises(datas: list[bytes], name: str) -> None:
    params = {"DeliveryStreamName": name, "Records": [{"Data": data} for data in datas]}
    body = batch_body(batch_head("DeliveryStreamName", name), datas, None, 0, len(datas))
    assert body == botocore_body("firehose", "PutRecordBatch", params)


@settings(max_examples=100)
@given(data=st.data(), datas=_DATAS, name=st.text(min_size=1, max_size=10))
def test_a_put_records_body_is_the_one_botocore_serialises(data: st.DataObject, datas: list[bytes], name: str) -> None:
    keys = data.draw(st.lists(st.text(min_size=1, max_size=10), min_size=len(datas), max_size=len(datas)))
    params = {"StreamName": name, "Records": [{"Data": d, "PartitionKey": k} for d, k in zip(datas, keys, strict=True)]}
    body = batch_body(batch_head("StreamName", name), datas, keys, 0, len(datas))
    assert body == botocore_body("kinesis", "PutRecords", params)


@settings(max_examples=100)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=40), keyed=st.booleans(), max_records=st.integers(1, 8))
def test_without_the_compiled_part_requests_end_at_the_same_records(sizes: list[int], keyed: bool, max_records: int) -> None:
    limits = Limits(max_records, 100, 40, keyed)
    datas = [b"x" * size for size in sizes]
    keys = [f"k{index}" for index in range(len(sizes))]
    compiled = [batch_end(datas, keys, start, limits) for start in range(len(datas))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(records, "_records_batch_end", None)
        assert [batch_end(datas, keys, start, limits) for start in range(len(datas))] == compiled


def test_an_answer_failing_no_record_is_read_as_its_failed_count_alone() -> None:
    read = failed_count_reader("FailedPutCount")
    answer = b'{"FailedPutCount": 0, "Encrypted": false, "RequestResponses": [{"RecordId": "a"}, {"RecordId": "b"}]}'
    assert read(answer) == {"FailedPutCount": 0}


def test_a_kinesis_answer_failing_no_record_is_read_as_its_failed_count_alone() -> None:
    read = failed_count_reader("FailedRecordCount")
    answer = b'{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}'
    assert read(answer) == {"FailedRecordCount": 0}


def test_an_answer_failing_records_is_parsed_whole() -> None:
    read = failed_count_reader("FailedPutCount")
    answer = b'{"FailedPutCount": 1, "RequestResponses": [{"RecordId": "a"}, {"ErrorCode": "E", "ErrorMessage": "m"}]}'
    assert read(answer) == {
        "FailedPutCount": 1, "RequestResponses": [{"RecordId": "a"}, {"ErrorCode": "E", "ErrorMessage": "m"}]
    }


@pytest.mark.parametrize(
    "answer",
    [b'{"RequestResponses": []}', b'{"FailedPutCount": "0"}', b'{"FailedPutCount": 0.0}',
     b'{"FailedPutCount": false}', b'{"FailedPutCount": null}', b'{"FailedRecordCount": 0}', b"[0]"],
)
def test_an_answer_without_an_integer_failed_count_is_parsed_whole_as_json_parses_it(answer: bytes) -> None:
    assert failed_count_reader("FailedPutCount")(answer) == json.loads(answer)


def test_an_answer_that_is_not_json_raises_jsons_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        failed_count_reader("FailedPutCount")(b'{"FailedPutCount": 0')
