"""The opensearch and es outputs against the tests' OpenSearch-API server: what each answer means
for each document, authentication, and the request's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.opensearch import ElasticsearchOutput, OpenSearchOutput, cloud_host
from flb_fast.record import Chunk
from tests.fakes.certs import make_certs
from tests.fakes.opensearch_server import OpenSearchServer, Signer
from tests.fakes.ports import free_port
from tests.standalone import plugin_for

T0 = 1_796_544_000_000_000_000  # 2026-12-06T08:00:00Z


def chunk(count: int = 3) -> Chunk:
    return Chunk("app.web", [T0 + i * 1_000_000_000 for i in range(count)], [{"n": i} for i in range(count)], 10)


@pytest.fixture
def server() -> Iterator[OpenSearchServer]:
    started = OpenSearchServer().start()
    yield started
    started.stop()


def output(server: OpenSearchServer, cls=OpenSearchOutput, **options: str):
    return plugin_for(cls, host="127.0.0.1", port=str(server.port), suppress_type_name="on", **options)


def flushes(run, plugin, batch: Chunk, times: int = 1) -> list[FlushResult]:
    """Start ``plugin``, flush ``batch`` ``times`` times (a retry is the same chunk again), stop it."""

    async def go() -> list[FlushResult]:
        await plugin.start()
        try:
            return [await plugin.flush(batch) for _ in range(times)]
        finally:
            await plugin.stop()

    return run(go())


def flush(run, plugin, batch: Chunk) -> FlushResult:
    [result] = flushes(run, plugin, batch)
    return result


def test_every_document_is_one_action_and_one_document_line(run, server):
    assert flush(run, output(server), chunk(2)) is FlushResult.OK
    assert server.requests[0].body == (
        b'{"create":{"_index":"fluent-bit"}}\n{"@timestamp":"2026-12-06T08:00:00.000Z","n":0}\n'
        b'{"create":{"_index":"fluent-bit"}}\n{"@timestamp":"2026-12-06T08:00:01.000Z","n":1}\n'
    )
    assert server.requests[0].path == "/_bulk"
    assert server.requests[0].headers["Content-Type"] == "application/x-ndjson"
    assert server.requests[0].headers["User-Agent"] == "Fluent-Bit"


def test_a_retry_sends_only_the_documents_the_cluster_was_too_busy_for(run, server):
    plugin = output(server)
    server.item_status[1] = 429
    assert flushes(run, plugin, chunk(3), times=2) == [FlushResult.RETRY, FlushResult.OK]
    assert [[doc["n"] for doc in request.documents] for request in server.requests] == [[0, 2], [1]]
    assert plugin.ctx.metrics["retried_documents"] == 1


def test_a_version_conflict_means_the_document_is_there_already(run, server):
    server.item_status[0] = 409
    plugin = output(server)
    assert flush(run, plugin, chunk(2)) is FlushResult.OK
    assert len(server.requests) == 1


def test_a_document_the_cluster_refuses_for_good_is_counted_not_resent(run, server):
    server.item_status[1] = 400
    plugin = output(server)
    assert flush(run, plugin, chunk(3)) is FlushResult.OK
    assert len(server.requests) == 1
    assert plugin.ctx.metrics["rejected_records"] == 1


def test_a_failed_request_is_retried_whole(run, server):
    server.reject_requests = 1
    plugin = output(server)
    assert flushes(run, plugin, chunk(2), times=2) == [FlushResult.RETRY, FlushResult.OK]
    assert [doc["n"] for doc in server.documents] == [0, 1]


def test_an_unreachable_cluster_is_a_retry(run):
    plugin = plugin_for(OpenSearchOutput, host="127.0.0.1", port=str(free_port()))
    assert flush(run, plugin, chunk(1)) is FlushResult.RETRY


def test_an_answer_cut_at_buffer_size_that_reports_no_errors_is_a_success(run, server):
    plugin = output(server, buffer_size="40")
    assert flush(run, plugin, chunk(3)) is FlushResult.OK
    assert len(server.requests) == 1


def test_an_unreadable_answer_is_a_retry(run, server):
    server.item_status[0] = 429
    plugin = output(server, buffer_size="40")
    assert flush(run, plugin, chunk(3)) is FlushResult.RETRY


def test_basic_auth_sends_the_user_and_password(run):
    server = OpenSearchServer(user="elastic", password="s3cret").start()
    try:
        assert flush(run, output(server, http_user="elastic", http_passwd="s3cret"), chunk(1)) is FlushResult.OK
        assert flush(run, output(server, http_user="elastic", http_passwd="wrong"), chunk(1)) is FlushResult.RETRY
        assert [request.status for request in server.requests] == [200, 401]
    finally:
        server.stop()


def test_es_sends_its_api_key(run, server):
    assert flush(run, output(server, ElasticsearchOutput, http_api_key="a2V5OnNlY3JldA=="), chunk(1)) is FlushResult.OK
    assert server.requests[0].headers["Authorization"] == "ApiKey a2V5OnNlY3JldA=="


def test_es_cloud_auth_is_basic_auth(run):
    server = OpenSearchServer(user="elastic", password="pass:word").start()
    try:
        plugin = output(server, ElasticsearchOutput, cloud_auth="elastic:pass:word")
        assert flush(run, plugin, chunk(1)) is FlushResult.OK
    finally:
        server.stop()


def test_gzip_compresses_the_body(run, server):
    assert flush(run, output(server, compress="gzip"), chunk(2)) is FlushResult.OK
    request = server.requests[0]
    assert request.headers["Content-Encoding"] == "gzip"
    assert [doc["n"] for doc in request.documents] == [0, 1]


def test_tls_with_the_clusters_ca(run, tmp_path):
    certs = make_certs(tmp_path, "opensearch")
    server = OpenSearchServer(tls=certs).start()
    try:
        trusted = output(server, tls="on", **{"tls.ca_file": str(certs.ca_file)})
        untrusted = output(server, tls="on")
        unverified = output(server, tls="on", **{"tls.verify": "off"})
        assert flush(run, trusted, chunk(1)) is FlushResult.OK
        assert flush(run, untrusted, chunk(1)) is FlushResult.RETRY
        assert flush(run, unverified, chunk(1)) is FlushResult.OK
    finally:
        server.stop()
    assert len(server.documents) == 2


def test_path_and_pipeline_make_the_uri(run, server):
    assert flush(run, output(server, path="/search", pipeline="geoip"), chunk(1)) is FlushResult.OK
    assert server.requests[0].path == "/search/_bulk/?pipeline=geoip"


def test_aws_auth_signs_with_sigv4_as_botocore_does(run, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-value")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    signer = Signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-value", "eu-west-1", "aoss")
    server = OpenSearchServer(signer=signer).start()
    try:
        plugin = output(server, aws_auth="on", aws_region="eu-west-1", aws_service_name="aoss", compress="gzip")
        assert flush(run, plugin, chunk(2)) is FlushResult.OK
        request = server.requests[0]
    finally:
        server.stop()
    assert server.signature_failures == []
    assert request.headers["Host"] == "127.0.0.1"  # no port: Amazon OpenSearch refuses a signed host:port
    assert request.headers["User-Agent"] == "aws-fluent-bit-plugin"
    assert "x-amz-content-sha256" in request.headers["Authorization"]


def test_a_wrong_signature_is_refused_by_the_server(run, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = OpenSearchServer(signer=Signer("AKIDEXAMPLE", "the-secret", None, "us-east-1", "es")).start()
    try:
        plugin = output(server, aws_auth="on", aws_region="us-east-1")
        assert flush(run, plugin, chunk(1)) is FlushResult.RETRY
    finally:
        server.stop()
    assert server.signature_failures


def test_update_without_an_id_skips_the_record_and_counts_it(run, server):
    plugin = output(server, write_operation="upsert", id_key="id")
    batch = Chunk("t", [T0, T0], [{"id": "a", "v": 1}, {"v": 2}], 10)
    assert flush(run, plugin, batch) is FlushResult.OK
    assert server.requests[0].body == (
        b'{"update":{"_index":"fluent-bit","_id":"a"}}\n'
        b'{"doc_as_upsert":true,"doc":{"@timestamp":"2026-12-06T08:00:00.000Z","id":"a","v":1}}\n'
    )
    assert plugin.ctx.metrics["rejected_records"] == 1


def test_cloud_id_names_the_cluster_host():
    encoded = "dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRhYmMxMjMkZGVmNDU2"  # us-east-1.aws.found.io$abc123$def456
    assert cloud_host(f"my-deployment:{encoded}") == ("abc123.us-east-1.aws.found.io", 443)


def test_cloud_id_with_a_port():
    import base64

    encoded = base64.b64encode(b"example.com:9243$es-id$kb-id").decode()
    assert cloud_host(f"name:{encoded}") == ("es-id.example.com", 9243)


@pytest.mark.parametrize(
    ("options", "option", "message"),
    [
        ({"write_operation": "merge"}, "write_operation", "wrong Write_Operation"),
        ({"write_operation": "update"}, "write_operation", "id_key or generate_id must be set"),
        ({"aws_auth": "on"}, "aws_region", "aws_region not set"),
        ({"compress": "zstd"}, "compress", "unknown compression"),
        ({"id_key": "$log["}, "id_key", "invalid record accessor"),
    ],
)
def test_config_errors_name_their_option(options, option, message):
    with pytest.raises(PluginConfigError) as error:
        plugin_for(OpenSearchOutput, **options)
    assert error.value.option == option
    assert message in error.value.message


def test_es_runs_two_workers_by_default():
    assert ElasticsearchOutput.default_workers == 2
    assert OpenSearchOutput.default_workers == 1


def test_trace_output_prints_the_request(run, server, capsys):
    assert flush(run, output(server, trace_output="on"), chunk(1)) is FlushResult.OK
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == {"create": {"_index": "fluent-bit"}}




def test_upstream_connections_count_the_kept_alive_connection(run, server):
    plugin = output(server)

    async def go() -> tuple[int, int]:
        await plugin.start()
        try:
            await plugin.flush(chunk(1))
            return plugin.upstream_connections()
        finally:
            await plugin.stop()

    assert run(go()) == (1, 0)
