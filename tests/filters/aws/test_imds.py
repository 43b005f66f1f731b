"""The IMDS client speaks IMDSv2 (token, renewal on 401) and IMDSv1, and falls back on IMDSv1."""

from __future__ import annotations

import asyncio
import logging

import pytest

from flb_fast.filters.aws.imds import (
    VERSION_1,
    VERSION_2,
    ImdsClient,
    ImdsError,
    endpoint_from_env,
)
from tests.fakes.imds_server import IDENTITY_DOCUMENT, ImdsServer

LOG = logging.LoggerAdapter(logging.getLogger("test.imds"), {})


def client(imds: ImdsServer, version: int = VERSION_2, timeout: float = 1.0) -> ImdsClient:
    return ImdsClient(version, LOG, imds.host, imds.port, timeout)


def test_an_expired_token_is_renewed_and_the_request_repeated(run, imds):
    imds_client = client(imds)

    async def scenario():
        await imds_client.get("/latest/meta-data/instance-id/")
        first_token = imds_client.token
        imds.expire_tokens()
        imds.clear_requests()
        value = await imds_client.get("/latest/meta-data/ami-id/")
        return value, imds_client.token != first_token

    assert run(scenario()) == (IDENTITY_DOCUMENT["imageId"], True)
    assert imds.requests() == [
        ("GET", "/latest/meta-data/ami-id/", "token", 401),
        ("PUT", "/latest/api/token", "ttl=21600", 200),
        ("GET", "/latest/meta-data/ami-id/", "token", 200),
    ]


def test_a_token_put_that_is_never_answered_falls_back_on_imdsv1_after_the_timeout(run, imds):
    imds.state.token_mode = "silent"
    imds_client = client(imds, timeout=0.5)
    assert run(imds_client.get("/latest/meta-data/instance-id/")) == IDENTITY_DOCUMENT["instanceId"]
    assert imds_client.version == VERSION_1
    assert [(method, path) for method, path, _, _ in imds.requests()] == [
        ("PUT", "/latest/api/token"), ("GET", "/"), ("GET", "/latest/meta-data/instance-id/"),
    ]


def test_an_unknown_path_is_an_error_with_status_404(run, imds):
    with pytest.raises(ImdsError) as caught:
        run(client(imds).get("/latest/meta-data/nothing/"))
    assert caught.value.status == 404


def test_imdsv1_against_tokens_required_is_an_error_with_status_401(run, imds):
    imds.state.tokens = "required"
    with pytest.raises(ImdsError) as caught:
        run(client(imds, VERSION_1).get("/latest/meta-data/instance-id/"))
    assert caught.value.status == 401


def test_a_peer_that_is_not_http_is_an_error_without_status(run):
    async def scenario():
        async def answer(reader, writer):
            writer.write(b"SSH-2.0-OpenSSH\r\n")
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await ImdsClient(VERSION_1, LOG, "127.0.0.1", port).get("/")
        finally:
            server.close()
            await server.wait_closed()

    with pytest.raises(ImdsError) as caught:
        run(scenario())
    assert caught.value.status is None


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [(None, ("169.254.169.254", 80)), ("http://127.0.0.1:1338", ("127.0.0.1", 1338)),
     ("http://[fd00:ec2::254]", ("fd00:ec2::254", 80)), ("127.0.0.1:9", ("127.0.0.1", 9))],
)
def test_the_endpoint_is_the_sdks_variable_or_the_link_local_address(monkeypatch, value, endpoint):
    if value is None:
        monkeypatch.delenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", raising=False)
    else:
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", value)
    assert endpoint_from_env() == endpoint
