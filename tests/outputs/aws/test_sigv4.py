"""SigV4 signatures of the JSON-protocol calls (outputs/aws/sigv4.py): the headers botocore's own
``SigV4Auth.add_auth`` gives the same request, in the same order, on random requests."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.outputs.aws.credentials import FrozenCredentials
from flb_fast.outputs.aws.sigv4 import Signer, amz_date, canonical_endpoint

_header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
# Extra header names the outputs could send besides their own (distinct, case-insensitively).
_extra_names = st.lists(
    st.sampled_from(["x-amzn-logs-format", "X-Custom", "Expect", "x-amzn-trace-id", "Accept", "TE", "x-amz-meta-a"]),
    unique_by=str.lower, max_size=3,
)
_urls = st.sampled_from([
    "https://logs.us-east-1.amazonaws.com/",
    "https://LOGS.eu-west-3.amazonaws.com:443/",
    "http://127.0.0.1:4566/",
    "http://localhost:80/",
    "https://firehose.cn-north-1.amazonaws.com.cn:8443/",
    "http://127.0.0.1:4566/base/../api/./v1/",
    "https://example.com/a%20b/c d/",
    "https://example.com/?b=2&a=1",
    "http://[::1]:5000/",
    "https://[fe80::1]/",
])
_times = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31))


def botocore_headers(url: str, headers: dict[str, str], body: bytes, credentials: FrozenCredentials, region: str,
                     service: str, now: datetime.datetime, monkeypatch: Any) -> list[tuple[str, str]]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: now)
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, service, region).add_auth(request)
    return list(request.headers.items())


@settings(max_examples=300)
@given(
    url=_urls,
    region=st.sampled_from(["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"]),
    service=st.sampled_from(["logs", "firehose", "kinesis"]),
    extra=_extra_names.flatmap(lambda names: st.tuples(*(st.tuples(st.just(n), _header_text) for n in names))),
    value=_header_text,
    body=st.binary(max_size=64),
    token=st.one_of(st.none(), st.just(""), st.text(alphabet="abcXYZ019+/=", min_size=1, max_size=30)),
    now=_times,
)
def test_the_headers_are_those_botocores_signer_adds(
    url: str, region: str, service: str, extra: tuple[tuple[str, str], ...], value: str, body: bytes,
    token: str | None, now: datetime.datetime,
) -> None:
    credentials = FrozenCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, None)
    headers = {"X-Amz-Target": f"Svc.Op{value}", "Content-Type": "application/x-amz-json-1.1",
               "User-Agent": f"agent  {value}", **dict(extra)}
    ours = dict(headers)
    Signer(url, region, service).sign(ours, hashlib.sha256(body).hexdigest(), credentials, now)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert list(ours.items()) == botocore_headers(url, headers, body, credentials, region, service, now,
                                                      monkeypatch)


def test_a_plain_endpoint_is_read_without_botocores_signer() -> None:
    assert canonical_endpoint("https://logs.us-east-1.amazonaws.com/") == ("/", "", "logs.us-east-1.amazonaws.com")
    assert canonical_endpoint("http://127.0.0.1:4566/") == ("/", "", "127.0.0.1:4566")
    assert canonical_endpoint("https://Host.example:443") == ("/", "", "host.example")


def test_an_endpoint_with_a_path_query_or_ipv6_address_is_read_from_botocores_signer() -> None:
    assert canonical_endpoint("http://127.0.0.1:4566/a/../b c/?z=1&a=2") == ("/b%20c/", "a=2&z=1", "127.0.0.1:4566")
    assert canonical_endpoint("http://[::1]:5000/") == ("/", "", "[::1]:5000")


def test_one_signer_signs_as_botocore_across_dates_and_rotated_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = Signer("https://logs.us-east-1.amazonaws.com/", "us-east-1", "logs")
    old = FrozenCredentials("AKIDEXAMPLE", "old-secret", None, None)
    new = FrozenCredentials("AKIDOTHER", "new-secret", "token", None)
    headers = {"X-Amz-Target": "Logs_20140328.PutLogEvents", "Content-Type": "application/x-amz-json-1.1"}
    for credentials, now in [
        (old, datetime.datetime(2026, 12, 6, 23, 59, 59)),
        (old, datetime.datetime(2026, 12, 7, 0, 0, 0)),
        (new, datetime.datetime(2026, 12, 7, 0, 0, 1)),
        (old, datetime.datetime(2026, 12, 7, 0, 0, 2)),
    ]:
        ours = dict(headers)
        signer.sign(ours, hashlib.sha256(b"{}").hexdigest(), credentials, now)
        assert list(ours.items()) == botocore_headers("https://logs.us-east-1.amazonaws.com/", headers, b"{}",
                                                      credentials, "us-east-1", "logs", now, monkeypatch)


def test_the_date_signed_is_the_system_clocks_second_as_botocore_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.auth import SIGV4_TIMESTAMP

    for seconds in (1_795_611_599.999, 1_795_611_600.0, 1_795_611_600.5, 1_795_611_601.25, 4_102_444_800.0):
        monkeypatch.setattr("flb_fast.outputs.aws.sigv4.time.time", lambda seconds=seconds: seconds)
        expected = datetime.datetime.fromtimestamp(int(seconds), datetime.UTC).strftime(SIGV4_TIMESTAMP)
        assert amz_date() == expected
