"""Fluent Bit's endpoint / port / tls options as a boto3 endpoint URL."""

from __future__ import annotations

import pytest

from flb_fast.outputs.aws.endpoint import default_endpoint, endpoint_url


def test_no_endpoint_lets_boto3_resolve_it() -> None:
    assert endpoint_url(None, None, True) is None


def test_a_host_uses_https_on_443_by_default() -> None:
    assert endpoint_url("logs.example.com", None, True) == "https://logs.example.com"


def test_a_host_with_port_option() -> None:
    assert endpoint_url("logs.example.com", 8443, True) == "https://logs.example.com:8443"


def test_a_host_with_tls_off_uses_http() -> None:
    assert endpoint_url("127.0.0.1", 5000, False) == "http://127.0.0.1:5000"
    assert endpoint_url("127.0.0.1", None, False) == "http://127.0.0.1"


def test_a_host_with_its_own_port() -> None:
    assert endpoint_url("127.0.0.1:4566", None, False) == "http://127.0.0.1:4566"


def test_a_url_is_kept_and_takes_the_port_option_if_it_has_none() -> None:
    assert endpoint_url("http://127.0.0.1:5000/", None, True) == "http://127.0.0.1:5000"
    assert endpoint_url("https://vpce.example.com", 444, True) == "https://vpce.example.com:444"


@pytest.mark.parametrize("service", ["logs", "firehose", "kinesis"])
@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-west-3", "ap-southeast-7", "mx-central-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1",
     "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1", "us-east-9", "xx-nowhere-1"],
)
def test_the_default_endpoint_is_botocores(service: str, region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = botocore.session.Session().create_client(service, region_name=region)
    assert default_endpoint(service, region) == client.meta.endpoint_url
