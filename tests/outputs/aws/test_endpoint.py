"""Fluent Bit's endpoint / port / tls options as a boto3 endpoint URL."""

from __future__ import annotations

from flb_fast.outputs.aws.endpoint import endpoint_url


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
