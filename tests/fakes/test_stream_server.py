"""The fast Firehose / Kinesis endpoint answers botocore's own clients as the services do, and the
kinesis_firehose and kinesis_streams outputs deliver to it over kept-alive TLS, retrying only
the records it fails."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flb_fast.outputs.aws.backoff import OutputBackoff
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_firehose import KinesisFirehoseOutput
from flb_fast.outputs.kinesis_streams import KinesisStreamsOutput
from tests.fakes.certs import CertFiles, make_certs
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.stream_server import MAX_RECORDS, RECORD_ID_CHARS, StreamServer
from tests.outputs.aws.harness import chunk_of, flush_all, make_output


@pytest.fixture
def certs(tmp_path: Path) -> CertFiles:
    return make_certs(tmp_path / "tls", "streams")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def server(certs: CertFiles, environment: None) -> Iterator[StreamServer]:
    with StreamServer(tls=certs, streams=["s"]) as running:
        yield running


def client(service: str, server: StreamServer, certs: CertFiles, secret: str = "testing") -> Any:
    import botocore.session

    return botocore.session.Session().create_client(
        service, region_name="us-east-1", endpoint_url=server.url, verify=str(certs.ca_file),
        aws_access_key_id="testing", aws_secret_access_key=secret, aws_session_token="testing",
    )


def error_code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"]


def test_put_record_batch_is_answered_with_a_record_id_per_record_and_counted(server, certs) -> None:
    answer = client("firehose", server, certs).put_record_batch(
        DeliveryStreamName="s", Records=[{"Data": b"a\n"}, {"Data": b"b\nc\n"}]
    )
    assert answer["FailedPutCount"] == 0
    assert [len(result["RecordId"]) for result in answer["RequestResponses"]] == [RECORD_ID_CHARS] * 2
    assert {key: server.stats()[key] for key in ("records", "events", "calls")} == {
        "records": 2, "events": 3, "calls": {"PutRecordBatch": 1}}


def test_put_records_is_answered_with_a_sequence_number_and_shard_per_record(server, certs) -> None:
    answer = client("kinesis", server, certs).put_records(
        StreamName="s", Records=[{"Data": b"a\n", "PartitionKey": "k"}]
    )
    assert answer["FailedRecordCount"] == 0
    assert answer["Records"][0]["ShardId"] == "shardId-000000000000"
    assert len(answer["Records"][0]["SequenceNumber"]) == 56


def test_what_the_services_refuse_is_refused(server, certs) -> None:
    firehose = client("firehose", server, certs)
    kinesis = client("kinesis", server, certs)
    assert error_code(firehose.put_record_batch, DeliveryStreamName="other", Records=[{"Data": b"x"}]) == (
        "ResourceNotFoundException")
    too_many = [{"Data": b"x"}] * (MAX_RECORDS + 1)
    assert error_code(firehose.put_record_batch, DeliveryStreamName="s", Records=too_many) == (
        "InvalidArgumentException")
    assert error_code(firehose.put_record_batch, DeliveryStreamName="s", Records=[{"Data": b"x" * 1_024_001}]) == (
        "InvalidArgumentException")
    assert error_code(kinesis.put_records, StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k" * 257}]) == (
        "ValidationException")
    assert server.stats()["records"] == 0


def test_a_request_signed_with_the_wrong_secret_is_refused_and_counted(server, certs) -> None:
    firehose = client("firehose", server, certs, secret="wrong")
    assert error_code(firehose.put_record_batch, DeliveryStreamName="s", Records=[{"Data": b"x"}]) == (
        "InvalidSignatureException")
    assert server.stats()["signature_failures"] == 1


def test_every_nth_record_fails_with_the_services_throttling_code(certs, environment) -> None:
    with StreamServer(tls=certs, streams=["s"], fail_every=2) as server:
        answer = client("kinesis", server, certs).put_records(
            StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 3
        )
    assert answer["FailedRecordCount"] == 1
    assert [result.get("ErrorCode") for result in answer["Records"]] == [
        None, "ProvisionedThroughputExceededException", None]


def stream_output(cls: type, server: StreamServer, certs: CertFiles) -> Any:
    name = "delivery_stream" if cls is KinesisFirehoseOutput else "stream"
    output = make_output(cls, region="us-east-1", endpoint=server.url, **{"tls.ca_file": str(certs.ca_file), name: "s"})
    output.backoff = OutputBackoff(base_seconds=0.01)
    return output


@pytest.mark.parametrize("cls", [KinesisFirehoseOutput, KinesisStreamsOutput])
def test_the_outputs_deliver_every_record_over_one_kept_alive_tls_connection(cls, server, certs) -> None:
    records = [{"log": f"{index} " + "x" * 900} for index in range(1200)]
    results = asyncio.run(flush_all(stream_output(cls, server, certs), chunk_of(records)))
    stats = server.stats()
    assert results == [FlushResult.OK]
    assert (stats["records"], stats["events"], stats["connections"], stats["signature_failures"]) == (1200, 1200, 1, 0)
    assert sum(stats["calls"].values()) == 3  # 500 + 500 + 200 records


@pytest.mark.parametrize("cls", [KinesisFirehoseOutput, KinesisStreamsOutput])
def test_failed_records_alone_are_retried_until_each_record_arrived_once(cls, certs, environment) -> None:
    records = [{"n": index} for index in range(700)]
    with StreamServer(tls=certs, streams=["s"], fail_every=3) as server:
        output = stream_output(cls, server, certs)
        chunk = chunk_of(records)
        results = asyncio.run(flush_all(output, *[chunk] * 12))
        stats = server.stats()
    assert results[:2] == [FlushResult.RETRY, FlushResult.RETRY]
    assert results[-1] == FlushResult.OK
    # Each record arrived once: 700 accepted, and every failure was retried.
    assert stats["records"] == 700
    assert output.ctx.metrics["failed_records"] == stats["failed"]


def test_the_failed_records_go_first_in_the_retry(certs, environment) -> None:
    with StreamServer(tls=certs, streams=["s"], fail_every=500) as server:
        sent: list[list[bytes]] = []
        handle = server.handle

        def recording(path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
            sent.append([base64.b64decode(record["Data"]) for record in json.loads(raw)["Records"]])
            return handle(path, headers, raw)

        server.handle = recording  # type: ignore[method-assign]
        output = stream_output(KinesisFirehoseOutput, server, certs)
        chunk = chunk_of([{"n": index} for index in range(700)])
        assert asyncio.run(flush_all(output, chunk, chunk)) == [FlushResult.RETRY, FlushResult.OK]
    assert [len(request) for request in sent] == [500, 201]
    assert sent[1][0] == b'{"n":499}\n'
    assert sent[1][1] == b'{"n":500}\n'
