"""The fast CloudWatch Logs endpoint answers botocore's own client as the service does, and the
cloudwatch_logs output delivers to it over kept-alive TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.cloudwatch_logs import CloudWatchLogsOutput
from tests.fakes.certs import CertFiles, make_certs
from tests.fakes.cloudwatch_logs_server import CloudWatchLogsServer
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.outputs.aws.harness import chunk_of, flush_all, make_output


@pytest.fixture
def certs(tmp_path: Path) -> CertFiles:
    return make_certs(tmp_path / "tls", "cloudwatch")


@pytest.fixture
def server(certs: CertFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudWatchLogsServer]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with CloudWatchLogsServer(tls=certs) as running:
        yield running


def client(server: CloudWatchLogsServer, certs: CertFiles, secret: str = "testing") -> Any:
    import botocore.session

    return botocore.session.Session().create_client(
        "logs", region_name="us-east-1", endpoint_url=server.url, verify=str(certs.ca_file),
        aws_access_key_id="testing", aws_secret_access_key=secret, aws_session_token="testing",
    )


def error_code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"]


def test_groups_streams_and_events_are_created_described_and_counted(server, certs) -> None:
    logs = client(server, certs)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="app-1")
    logs.create_log_stream(logGroupName="g", logStreamName="other")
    events = [{"timestamp": 1_000 + index, "message": f"line {index}"} for index in range(3)]
    logs.put_log_events(logGroupName="g", logStreamName="app-1", logEvents=events)
    described = logs.describe_log_streams(logGroupName="g", logStreamNamePrefix="app")
    assert [stream["logStreamName"] for stream in described["logStreams"]] == ["app-1"]
    assert server.groups == {"g": {"app-1": 3, "other": 0}}
    assert server.stats()["events"] == 3


def test_missing_and_existing_resources_are_answered_with_the_services_errors(server, certs) -> None:
    logs = client(server, certs)
    event = [{"timestamp": 1, "message": "x"}]
    assert error_code(logs.put_log_events, logGroupName="g", logStreamName="s", logEvents=event) == (
        "ResourceNotFoundException")
    logs.create_log_group(logGroupName="g")
    assert error_code(logs.create_log_group, logGroupName="g") == "ResourceAlreadyExistsException"
    assert error_code(logs.put_log_events, logGroupName="g", logStreamName="s", logEvents=event) == (
        "ResourceNotFoundException")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert error_code(logs.create_log_stream, logGroupName="g", logStreamName="s") == "ResourceAlreadyExistsException"


def test_a_batch_out_of_time_order_or_over_a_limit_is_refused(server, certs) -> None:
    logs = client(server, certs)
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    unordered = [{"timestamp": 2, "message": "b"}, {"timestamp": 1, "message": "a"}]
    too_big = [{"timestamp": 1, "message": "x" * 600_000}, {"timestamp": 1, "message": "y" * 600_000}]
    for events in (unordered, too_big):
        assert error_code(logs.put_log_events, logGroupName="g", logStreamName="s", logEvents=events) == (
            "InvalidParameterException")
    assert server.stats()["events"] == 0


def test_a_request_signed_with_the_wrong_secret_is_refused_and_counted(server, certs) -> None:
    logs = client(server, certs, secret="wrong")
    assert error_code(logs.create_log_group, logGroupName="g") == "InvalidSignatureException"
    assert server.stats()["signature_failures"] == 1
    assert server.groups == {}


def test_the_output_delivers_every_record_over_one_kept_alive_tls_connection(server, certs) -> None:
    pod = {"pod_name": "web-1", "labels": {"app": "web"}}
    records = [{"log": f"{index} " + "x" * 900, "kubernetes": pod} for index in range(3000)]
    output = make_output(
        CloudWatchLogsOutput, region="us-east-1", endpoint="127.0.0.1", port=server.port,
        **{"tls.ca_file": str(certs.ca_file)}, log_group_name="g", log_stream_prefix="p-", auto_create_group="true",
    )
    results = asyncio.run(flush_all(output, chunk_of(records[:1500], "app"), chunk_of(records[1500:], "app")))
    stats = server.stats()
    assert results == [FlushResult.OK, FlushResult.OK]
    assert server.groups == {"g": {"p-app": 3000}}
    # The first CreateLogStream finds no group: the group is created, then the stream; each chunk's
    # 1,500 events of about 1 KB then take two requests under the 1 MiB limit.
    assert stats["calls"] == {"CreateLogGroup": 1, "CreateLogStream": 2, "PutLogEvents": 4}
    assert (stats["connections"], stats["signature_failures"]) == (1, 0)
