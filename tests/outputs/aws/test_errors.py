"""AWS errors mapped to what the output does next."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from flb_fast.outputs.aws.errors import Outcome, classify


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ServiceUnavailableException", "ProvisionedThroughputExceededException", "SlowDown"]
)
def test_throttling_backs_off(code: str) -> None:
    assert classify(client_error(code)) is Outcome.BACKOFF


def test_server_errors_back_off() -> None:
    assert classify(client_error("Whatever", 502)) is Outcome.BACKOFF


def test_network_errors_back_off() -> None:
    assert classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) is Outcome.BACKOFF
    assert classify(ReadTimeoutError(endpoint_url="http://127.0.0.1:1")) is Outcome.BACKOFF


def test_missing_resources_are_created() -> None:
    assert classify(client_error("ResourceNotFoundException")) is Outcome.NOT_FOUND


def test_invalid_requests_are_not_retried() -> None:
    assert classify(client_error("InvalidParameterException")) is Outcome.INVALID


def test_credential_problems_are_retried() -> None:
    assert classify(client_error("ExpiredTokenException", 400)) is Outcome.RETRY
