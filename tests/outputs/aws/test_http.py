"""JSON-protocol calls sent on the loop (outputs/aws/http.py: CloudWatch Logs, Firehose, Kinesis):
every request is the one botocore sends, byte for byte in body and signature; connections are kept alive and reused; answers and
failures come back as botocore's.

The byte comparison runs each call twice with the signing clock pinned: once through the output
(``AwsOutput.call`` / ``flush``) to a capturing HTTP server on 127.0.0.1, once through a plain
botocore client whose ``before-send`` hook captures the request it would put on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.outputs.aws.http import (
    JSON_SERVICES,
    WRITE_PIECE_BYTES,
    invocation_id,
    open_json_api,
    operation_name,
    through_proxy,
)
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.cloudwatch_logs import CloudWatchLogsOutput
from flb_fast.outputs.kinesis_firehose import KinesisFirehoseOutput
from flb_fast.outputs.kinesis_streams import GoKinesisOutput, KinesisStreamsOutput
from tests.fakes.certs import make_certs
from tests.fakes.moto_server import FAKE_CREDENTIALS, MotoServer
from tests.outputs.aws.harness import chunk_of, make_output

PINNED = datetime.datetime(2026, 11, 25, 13, 0, 0)
# Headers botocore signs or sends that must be equal; amz-sdk-invocation-id is a fresh UUID per call.
COMPARED = ("X-Amz-Target", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token", "Authorization", "Content-Length")


class _Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        status, answer = self.server.answers.pop(0) if self.server.answers else (200, b"{}")  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "req-1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


class _CaptureServer(ThreadingHTTPServer):
    address_family = socket.AF_INET


class _CaptureServerV6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def capture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A keep-alive HTTP server recording every request; answers 200 ``{}`` unless told otherwise.
    On 127.0.0.1, or on ``::1`` when a test passes that as the fixture's parameter."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: PINNED)
    monkeypatch.setattr("flb_fast.outputs.aws.sigv4.amz_date", lambda: PINNED.strftime("%Y%m%dT%H%M%SZ"))
    host = getattr(request, "param", "127.0.0.1")
    server = (_CaptureServerV6 if ":" in host else _CaptureServer)((host, 0), _Capture)
    server.requests = []  # type: ignore[attr-defined]
    server.answers = []  # type: ignore[attr-defined]
    netloc = f"[{host}]" if ":" in host else host
    server.url = f"http://{netloc}:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def botocore_request(url: str, method: str, service: str = "logs", **params: Any) -> Any:
    """The request a botocore client (same endpoint, region, credentials) sends for ``method``."""
    import botocore.session
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    client = botocore.session.Session().create_client(
        service, region_name="us-east-1", endpoint_url=url, config=Config(retries={"total_max_attempts": 1})
    )
    captured = []

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield b"{}"

    def before_send(request: Any, **_: Any) -> Any:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())

    client.meta.events.register("before-send", before_send)
    getattr(client, method)(**params)
    return captured[0]


def assert_same_request(ours: tuple[str, dict[str, str], bytes], theirs: Any) -> None:
    path, headers, body = ours
    assert path == "/" and theirs.url.endswith("/")
    assert body == theirs.body
    theirs_headers = {name: value.decode() if isinstance(value, bytes) else value for name, value in theirs.headers.items()}
    assert {name: headers[name] for name in COMPARED} == {name: theirs_headers[name] for name in COMPARED}


def calls_to(capture: Any, operation: str) -> list[tuple[str, dict[str, str], bytes]]:
    """The captured requests of one operation (a stream is created before its first PutLogEvents)."""
    return [request for request in capture.requests if request[1]["X-Amz-Target"].endswith("." + operation)]


def cloudwatch(url: str, **extra: str) -> Any:
    return make_output(
        CloudWatchLogsOutput,
        region="us-east-1",
        endpoint=url,
        log_group_name="group",
        log_stream_name="stream",
        **extra,
    )


MESSAGES = ["plain", 'quote " backslash \\ tab \t newline \n', "é 日本語 😀 \x7f \x01", ""]


def fluent_bit_json(record: dict[str, Any]) -> str:
    """A record's JSON as Fluent Bit's C plugins write it (msgpack2json, json.escape_unicode on):
    every non-ASCII character and DEL as a \\u escape."""
    return json.dumps(record, separators=(",", ":")).replace("\x7f", "\\u007f")


def test_put_log_events_is_the_request_boto3_sends(capture: Any, run: Any) -> None:
    records = [{"log": message, "n": index} for index, message in enumerate(MESSAGES)]
    timestamps = [1_795_611_600_000_000_000 + index * 1_000_000 for index in range(len(records))]
    output = cloudwatch(capture.url)

    async def flush() -> Any:
        await output.start()
        try:
            return await output.flush(chunk_of(records, timestamps=timestamps))
        finally:
            await output.stop()

    run(flush())
    [ours] = calls_to(capture, "PutLogEvents")
    events = [
        {"timestamp": timestamp // 1_000_000, "message": fluent_bit_json(record)}
        for record, timestamp in zip(records, timestamps, strict=True)
    ]
    assert_same_request(ours, botocore_request(capture.url, "put_log_events", logGroupName="group",
                                               logStreamName="stream", logEvents=events))


@pytest.mark.parametrize("capture", ["::1"], indirect=True)
def test_an_ipv6_endpoint_is_sent_the_host_header_the_signature_covers(capture: Any, run: Any) -> None:
    output = cloudwatch(capture.url)

    async def flush() -> Any:
        await output.start()
        try:
            return await output.flush(chunk_of([{"log": "one"}], timestamps=[1_795_611_600_000_000_000]))
        finally:
            await output.stop()

    run(flush())
    [ours] = calls_to(capture, "PutLogEvents")
    assert ours[1]["Host"] == f"[::1]:{capture.server_address[1]}"
    assert_same_request(ours, botocore_request(capture.url, "put_log_events", logGroupName="group",
                                               logStreamName="stream",
                                               logEvents=[{"timestamp": 1_795_611_600_000, "message": '{"log":"one"}'}]))


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("create_log_stream", {"logGroupName": "group", "logStreamName": "stream é"}),
        ("create_log_group", {"logGroupName": "group"}),
        (
            "create_log_group",
            {"logGroupName": "group", "logGroupClass": "INFREQUENT_ACCESS", "tags": {"team": "a", "env": "prod"}},
        ),
        ("put_retention_policy", {"logGroupName": "group", "retentionInDays": 14}),
    ],
)
def test_every_other_call_is_the_request_boto3_sends(capture: Any, run: Any, method: str, params: dict) -> None:
    output = cloudwatch(capture.url)

    async def call() -> Any:
        await output.start()
        try:
            return await output.call(method, **params)
        finally:
            await output.stop()

    run(call())
    [ours] = capture.requests
    assert_same_request(ours, botocore_request(capture.url, method, **params))


def flush_records(output: Any, run: Any, records: list[dict[str, Any]]) -> Any:
    async def flush() -> Any:
        await output.start()
        try:
            return await output.flush(chunk_of(records))
        finally:
            await output.stop()

    return run(flush())


RECORDS = [{"log": message} for message in MESSAGES]


def test_put_record_batch_is_the_request_boto3_sends(capture: Any, run: Any) -> None:
    answer = {"FailedPutCount": 0, "RequestResponses": [{"RecordId": str(n)} for n in range(len(RECORDS))]}
    capture.answers.append((200, json.dumps(answer).encode()))
    flush_records(make_output(KinesisFirehoseOutput, region="us-east-1", endpoint=capture.url,
                              delivery_stream="stream é"), run, RECORDS)
    [ours] = capture.requests
    data = [fluent_bit_json(record).encode() + b"\n" for record in RECORDS]
    theirs = botocore_request(capture.url, "put_record_batch", "firehose", DeliveryStreamName="stream é",
                              Records=[{"Data": item} for item in data])
    assert_same_request(ours, theirs)


def test_a_body_of_several_write_pieces_is_the_request_boto3_sends(capture: Any, run: Any) -> None:
    records = [{"log": f"{n} " + "x" * 300_000} for n in range(4)]
    answer = {"FailedPutCount": 0, "RequestResponses": [{"RecordId": str(n)} for n in range(len(records))]}
    capture.answers.append((200, json.dumps(answer).encode()))
    flush_records(make_output(KinesisFirehoseOutput, region="us-east-1", endpoint=capture.url,
                              delivery_stream="stream"), run, records)
    [ours] = capture.requests
    assert len(ours[2]) > 3 * WRITE_PIECE_BYTES
    data = [json.dumps(record, separators=(",", ":")).encode() + b"\n" for record in records]
    theirs = botocore_request(capture.url, "put_record_batch", "firehose", DeliveryStreamName="stream",
                              Records=[{"Data": item} for item in data])
    assert_same_request(ours, theirs)


def test_put_records_is_the_request_boto3_sends(capture: Any, run: Any) -> None:
    answer = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "s"} for _ in RECORDS]}
    capture.answers.append((200, json.dumps(answer).encode()))
    flush_records(make_output(KinesisStreamsOutput, region="us-east-1", endpoint=capture.url, stream="stream"),
                  run, RECORDS)
    [ours] = capture.requests
    # Partition keys are random: botocore is given the ones sent, and the records sent.
    sent = [(base64.b64decode(item["Data"]), item["PartitionKey"]) for item in json.loads(ours[2])["Records"]]
    assert [json.loads(data) for data, _ in sent] == RECORDS
    theirs = botocore_request(capture.url, "put_records", "kinesis", StreamName="stream",
                              Records=[{"Data": data, "PartitionKey": key} for data, key in sent])
    assert_same_request(ours, theirs)


def test_put_records_with_record_partition_keys_json_escaped_is_the_request_boto3_sends(capture: Any, run: Any) -> None:
    keys = ["plain-key", 'quote " backslash \\', "tab \t", "é 日本語 😀", "\x7f"]
    records = [{"pod": key, "n": "x" * n} for n, key in enumerate(keys)]
    answer = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "s"} for _ in records]}
    capture.answers.append((200, json.dumps(answer).encode()))
    output = make_output(GoKinesisOutput, region="us-east-1", endpoint=capture.url, stream="stream", partition_key="pod")
    flush_records(output, run, records)
    [ours] = capture.requests
    # The Go plugin writes keys sorted (aws/go_json.py).
    data = [json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode() for record in records]
    theirs = botocore_request(capture.url, "put_records", "kinesis", StreamName="stream",
                              Records=[{"Data": item, "PartitionKey": key} for item, key in zip(data, keys, strict=True)])
    assert_same_request(ours, theirs)


def test_a_records_output_reads_each_answer_with_its_failed_count_reader(capture: Any, run: Any) -> None:
    answer = b'{"FailedPutCount": 0, "RequestResponses": [{"RecordId": "1"}]}'
    capture.answers.append((200, answer))
    output = make_output(KinesisFirehoseOutput, region="us-east-1", endpoint=capture.url, delivery_stream="stream")
    read, seen = output._read_answer, []
    output._read_answer = lambda body: seen.append(body) or read(body)
    assert flush_records(output, run, [{"log": "x"}]) == FlushResult.OK
    assert seen == [answer]


def test_a_call_returns_its_answer_as_decode_reads_it_with_the_response_metadata(capture: Any, run: Any) -> None:
    capture.answers.append((200, b'{"FailedPutCount": 0}'))
    output = make_output(KinesisFirehoseOutput, region="us-east-1", endpoint=capture.url, delivery_stream="stream")

    async def call() -> Any:
        await output.start()
        try:
            return await output.call("put_record_batch", body=b"{}", decode=lambda body: {"read": body})
        finally:
            await output.stop()

    answer = run(call())
    assert answer["read"] == b'{"FailedPutCount": 0}'
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == "req-1"


def test_an_error_answer_is_not_given_to_decode(capture: Any, run: Any) -> None:
    from botocore.exceptions import ClientError

    capture.answers.append((400, b'{"__type": "ResourceNotFoundException", "message": "no stream"}'))
    output = make_output(KinesisFirehoseOutput, region="us-east-1", endpoint=capture.url, delivery_stream="stream")
    seen: list[bytes] = []

    async def call() -> Any:
        await output.start()
        try:
            return await output.call("put_record_batch", body=b"{}", decode=seen.append)
        finally:
            await output.stop()

    with pytest.raises(ClientError) as raised:
        run(call())
    assert raised.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "no stream"}
    assert seen == []


def test_log_format_header_is_signed_with_the_request(capture: Any, run: Any) -> None:
    output = cloudwatch(capture.url, log_format="json/emf")

    async def flush() -> Any:
        await output.start()
        try:
            return await output.flush(chunk_of([{"log": "x"}]))
        finally:
            await output.stop()

    run(flush())
    [(_, headers, _)] = calls_to(capture, "PutLogEvents")
    assert headers["x-amzn-logs-format"] == "json/emf"
    assert "x-amzn-logs-format" in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")


def test_an_error_answer_raises_the_client_error_botocore_raises(capture: Any, run: Any) -> None:
    from botocore.exceptions import ClientError

    capture.answers.append(
        (400, b'{"__type": "com.amazonaws.logs#InvalidSequenceTokenException", "message": "bad token"}')
    )
    output = cloudwatch(capture.url)

    async def call() -> Any:
        await output.start()
        try:
            return await output.call("create_log_group", logGroupName="group")
        finally:
            await output.stop()

    with pytest.raises(ClientError) as raised:
        run(call())
    assert raised.value.response["Error"] == {"Code": "InvalidSequenceTokenException", "Message": "bad token"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["ResponseMetadata"]["RequestId"] == "req-1"
    assert raised.value.operation_name == "CreateLogGroup"


def test_an_error_answer_without_a_json_body_is_coded_by_its_status(capture: Any, run: Any) -> None:
    from botocore.exceptions import ClientError

    capture.answers.append((503, b"<html>busy</html>"))
    output = cloudwatch(capture.url, auto_retry_requests="false")

    async def call() -> Any:
        await output.start()
        try:
            return await output.call("create_log_group", logGroupName="group")
        finally:
            await output.stop()

    with pytest.raises(ClientError) as raised:
        run(call())
    assert raised.value.response["Error"] == {"Code": "503", "Message": ""}


def test_one_kept_alive_connection_carries_every_request(capture: Any, run: Any) -> None:
    output = cloudwatch(capture.url)

    async def flush() -> Any:
        await output.start()
        try:
            return [await output.flush(chunk_of([{"n": n}])) for n in range(5)], output._api.connections_opened
        finally:
            await output.stop()

    _results, opened = run(flush())
    assert (len(calls_to(capture, "CreateLogStream")), len(calls_to(capture, "PutLogEvents")), opened) == (1, 5, 1)


def test_a_connection_idle_longer_than_net_keepalive_idle_timeout_is_closed_not_reused(capture: Any, run: Any) -> None:
    output = cloudwatch(capture.url, **{"net.keepalive_idle_timeout": "30"})

    async def flush() -> Any:
        await output.start()
        try:
            await output.flush(chunk_of([{"n": 0}]))
            [connection] = output._api._idle
            connection.idle_since -= 31
            await output.flush(chunk_of([{"n": 1}]))
            return output._api.connections_opened, connection.writer.is_closing(), len(output._api._idle)
        finally:
            await output.stop()

    assert run(flush()) == (2, True, 1)


@pytest.fixture(scope="module")
def moto_tls_keepalive(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = MotoServer(make_certs(tmp_path_factory.mktemp("moto-tls"), "moto"), keep_alive=True)
    yield server
    server.stop()


def cloudwatch_over_tls(server: MotoServer, monkeypatch: pytest.MonkeyPatch, **stream: str) -> Any:
    """A cloudwatch_logs output to group ``group`` of the keep-alive moto over TLS, emptied first;
    ``stream``: its stream option."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    server.reset()
    return make_output(
        CloudWatchLogsOutput,
        region="us-east-1",
        endpoint="127.0.0.1",
        port=server.port,
        **{"tls.ca_file": str(server.certs.ca_file)},
        log_group_name="group",
        auto_create_group="true",
        **stream,
    )


def test_over_tls_one_handshake_serves_every_request_when_the_server_keeps_connections(
    moto_tls_keepalive: MotoServer, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = cloudwatch_over_tls(moto_tls_keepalive, monkeypatch, log_stream_prefix="app-")

    async def flush() -> Any:
        await output.start()
        try:
            results = [await output.flush(chunk_of([{"n": n}])) for n in range(4)]
            return results, output._api.connections_opened
        finally:
            await output.stop()

    results, opened = run(flush())
    assert opened == 1
    events = moto_tls_keepalive.client("logs").get_log_events(logGroupName="group", logStreamName="app-app.log")
    assert [json.loads(event["message"]) for event in events["events"]] == [{"n": n} for n in range(4)]


def test_over_tls_a_body_of_several_write_pieces_arrives_whole(
    moto_tls_keepalive: MotoServer, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = cloudwatch_over_tls(moto_tls_keepalive, monkeypatch, log_stream_name="stream")
    records = [{"n": n, "log": "y" * 200_000} for n in range(4)]

    async def flush() -> Any:
        await output.start()
        try:
            return await output.flush(chunk_of(records)), output._api.connections_opened
        finally:
            await output.stop()

    assert run(flush()) == (FlushResult.OK, 1)
    events = moto_tls_keepalive.client("logs").get_log_events(logGroupName="group", logStreamName="stream")
    assert sum(len(event["message"]) for event in events["events"]) > 3 * WRITE_PIECE_BYTES
    assert [json.loads(event["message"]) for event in events["events"]] == records


def test_a_reused_connection_the_server_closed_is_replaced_at_once(capture: Any, run: Any) -> None:
    output = cloudwatch(capture.url)

    async def flush() -> Any:
        await output.start()
        try:
            await output.flush(chunk_of([{"n": 0}]))
            for connection in output._api._idle:
                connection.writer.transport.abort()
            await asyncio.sleep(0)
            await output.flush(chunk_of([{"n": 1}]))
            return output._api.connections_opened
        finally:
            await output.stop()

    assert run(flush()) == 2
    assert [json.loads(json.loads(body)["logEvents"][0]["message"]) for _, _, body in calls_to(capture, "PutLogEvents")] == [
        {"n": 0},
        {"n": 1},
    ]


def test_the_certificate_is_verified_against_tls_ca_file(
    moto_tls_keepalive: MotoServer, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    other_ca = make_certs(tmp_path, "other").ca_file
    output = make_output(
        CloudWatchLogsOutput,
        region="us-east-1",
        endpoint=f"127.0.0.1:{moto_tls_keepalive.port}",
        **{"tls.ca_file": str(other_ca)},
        log_group_name="group",
        log_stream_name="stream",
        auto_retry_requests="false",
    )

    async def call() -> Any:
        await output.start()
        try:
            return await output.call("create_log_group", logGroupName="group")
        finally:
            await output.stop()

    with pytest.raises(EndpointConnectionError):
        run(call())


def test_an_endpoint_behind_a_proxy_from_the_environment_is_left_to_botocore(
    capture: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", capture.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    output = cloudwatch("http://logs.example.invalid")

    async def call() -> Any:
        await output.start()
        try:
            await output.call("create_log_group", logGroupName="group")
            return output._api
        finally:
            await output.stop()

    assert run(call()) is None
    [(path, headers, body)] = capture.requests
    assert path == "http://logs.example.invalid/" and json.loads(body) == {"logGroupName": "group"}


@pytest.mark.parametrize(
    ("variable", "value", "proxied"),
    [("https_proxy", "http://127.0.0.1:3128", True), ("HTTPS_PROXY", "", False), ("no_proxy", "*", False)],
)
def test_a_proxy_is_found_as_botocore_finds_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, proxied: bool
) -> None:
    from botocore.utils import get_environ_proxies

    for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(variable, value)
    url = "https://logs.us-east-1.amazonaws.com/"
    assert through_proxy(url) is bool(get_environ_proxies(url).get("https")) is proxied


def test_calls_with_keys_in_the_environment_import_neither_botocores_signer_nor_urllib3(tmp_path: Path) -> None:
    """What the agent imports to call its service: no urllib3 (nor its importlib.metadata),
    no botocore signer, chain, config or User-Agent module."""
    probe = (
        "import sys\n"
        "import flb_fast.outputs.cloudwatch_logs\n"
        "from flb_fast.config.common import plugin_table\n"
        "from flb_fast.config.model import Property\n"
        "from flb_fast.outputs.aws.http import open_json_api\n"
        "properties = [Property(key, value, 'probe', 0) for key, value in (('region', 'us-east-1'),"
        " ('log_group_name', 'g'), ('log_stream_name', 's'))]\n"
        "options, _ = plugin_table('output', flb_fast.outputs.cloudwatch_logs.CloudWatchLogsOutput.OPTIONS)"
        ".bind(properties, 'probe')\n"
        "api = open_json_api('logs', options, None, 1)\n"
        "assert api.url == 'https://logs.us-east-1.amazonaws.com/'\n"
        "print(' '.join(sorted(name for name in sys.modules if name.split('.')[0] in ('urllib3', 'dateutil')"
        " or name in ('importlib.metadata', 'http.client', 'email.message', 'botocore.auth', 'botocore.utils',"
        " 'botocore.credentials', 'botocore.config', 'botocore.useragent', 'botocore.compat'))))\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == []


def test_a_call_cancelled_while_waiting_for_the_answer_closes_its_connection(
    capture: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flb_fast.outputs.aws import http

    release = threading.Event()
    closed: list[object] = []
    close = http._Connection.close

    def held(handler: _Capture) -> None:
        handler.server.requests.append(("/", {}, b""))  # type: ignore[attr-defined]
        release.wait(30)

    def counted_close(connection: Any) -> None:
        closed.append(connection)
        close(connection)

    monkeypatch.setattr(_Capture, "do_POST", held)
    monkeypatch.setattr(http._Connection, "close", counted_close)
    output = cloudwatch(capture.url)

    async def call() -> Any:
        await output.start()
        try:
            task = asyncio.ensure_future(output.call("create_log_group", logGroupName="group"))
            while not capture.requests:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return len(closed), output._api._idle
        finally:
            release.set()
            await output.stop()

    assert run(call()) == (1, [])


def test_behind_a_proxy_the_log_format_header_is_still_signed_with_put_log_events(
    capture: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", capture.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    output = cloudwatch("http://logs.example.invalid", log_format="json/emf")
    flush_records(output, run, [{"log": "x"}])
    [(_, headers, body)] = calls_to(capture, "PutLogEvents")
    assert headers["x-amzn-logs-format"] == "json/emf"
    assert "x-amzn-logs-format" in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert json.loads(json.loads(body)["logEvents"][0]["message"]) == {"log": "x"}


@pytest.mark.parametrize("service", sorted(JSON_SERVICES))
def test_each_json_service_is_described_as_its_botocore_model_describes_it(service: str) -> None:
    import botocore.session

    model = botocore.session.Session().get_service_model(service)
    assert JSON_SERVICES[service] == (
        model.service_id, model.signing_name, model.metadata["targetPrefix"], model.metadata["jsonVersion"]
    )


@pytest.mark.parametrize(
    ("service", "method"),
    [("logs", "put_log_events"), ("logs", "create_log_group"), ("logs", "create_log_stream"),
     ("logs", "put_retention_policy"), ("firehose", "put_record_batch"), ("kinesis", "put_records")],
)
def test_operation_names_are_botocores(service: str, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = botocore.session.Session().create_client(service, region_name="us-east-1")
    assert operation_name(method) == client.meta.method_to_api_mapping[method]


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def json_api(**overrides: object) -> Any:
    """What a firehose output in eu-west-1 calls its service with, when not a botocore client."""
    from tests.outputs.aws.test_client import options

    return open_json_api("firehose", options("eu-west-1", **overrides), None, 1)  # type: ignore[arg-type]


def test_without_an_endpoint_the_calls_go_to_the_regions_endpoint_without_a_botocore_client(fake_credentials) -> None:
    fake_credentials.delenv("AWS_ENDPOINT_URL", raising=False)
    fake_credentials.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
    api = json_api()
    assert (api.url, api.region, api.target_prefix) == ("https://firehose.eu-west-1.amazonaws.com/", "eu-west-1",
                                                        "Firehose_20150804")


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FIREHOSE", "AWS_USE_FIPS_ENDPOINT"])
def test_an_endpoint_configured_for_botocore_is_left_to_a_botocore_client(fake_credentials, variable: str) -> None:
    fake_credentials.setenv(variable, "http://127.0.0.1:4566" if "URL" in variable else "true")
    assert json_api() is None


def test_an_endpoint_url_in_the_profile_is_left_to_a_botocore_client(fake_credentials, tmp_path: Path) -> None:
    fake_credentials.delenv("AWS_ENDPOINT_URL", raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\nendpoint_url = http://127.0.0.1:4566\n")
    api_for_plain_profile = json_api()
    fake_credentials.setenv("AWS_CONFIG_FILE", str(config))
    assert api_for_plain_profile is not None and json_api() is None


def test_the_endpoint_option_is_used_whatever_botocore_is_configured_with(fake_credentials) -> None:
    fake_credentials.setenv("AWS_ENDPOINT_URL_FIREHOSE", "http://127.0.0.1:4566")
    api = json_api(endpoint="127.0.0.1", port=5000, tls=False)
    assert api.url == "http://127.0.0.1:5000/"


@settings(max_examples=300)
@given(random=st.binary(min_size=16, max_size=16))
def test_the_invocation_id_is_uuid4s_text_of_the_same_random_bytes(random: bytes) -> None:
    assert invocation_id(random) == str(uuid.UUID(bytes=random, version=4))


def test_each_call_has_a_fresh_version_4_invocation_id() -> None:
    first, second = invocation_id(), invocation_id()
    assert first != second
    assert uuid.UUID(first).version == 4 and str(uuid.UUID(first)) == first
