"""The SigV4 signer of the JSON-protocol calls against botocore's own ``SigV4Auth``: the same
Authorization header for any endpoint, region, service, credentials, headers, body and time."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.outputs.aws.sigv4 import AMZ_DATE_FORMAT, SigV4Signer, amz_date

HEADER_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
# Header values as sent: printable Latin-1, with runs of spaces and tabs botocore's signer collapses.
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF) | st.sampled_from(" \t"),
                       max_size=30)
URLS = st.sampled_from([
    "https://logs.us-east-1.amazonaws.com/",
    "https://firehose.eu-west-3.amazonaws.com.cn/",
    "http://127.0.0.1:4566/",
    "https://127.0.0.1:443/",
    "http://LocalHost:80/",
    "https://[::1]:8443/",
    "https://proxy.example/some path/./a/../logs/",
    "https://host.example/base/?b=2&a=1&a=0",
])
TIMES = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31))


def botocore_authorization(url: str, region: str, service: str, credentials: ReadOnlyCredentials,
                           headers: list[tuple[str, str]], body: bytes, now: datetime.datetime,
                           monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[tuple[str, str]]]:
    """The Authorization header botocore's signer gives the request, and the headers it then carries."""
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: now)
    request = AWSRequest(method="POST", url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    SigV4Auth(credentials, service, region).add_auth(request)
    return request.headers["Authorization"], [(name, value) for name, value in request.headers.items()
                                              if name != "Authorization"]


@settings(max_examples=300, deadline=None)
@given(
    url=URLS,
    region=st.sampled_from(["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"]),
    service=st.sampled_from(["logs", "firehose", "kinesis"]),
    secret=st.text(min_size=1, max_size=40),
    token=st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=60),
    headers=st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=6, unique_by=lambda pair: pair[0].lower()),
    body=st.binary(max_size=200),
    now=TIMES,
)
def test_the_authorization_is_botocores(url: str, region: str, service: str, secret: str, token: str | None,
                                        headers: list[tuple[str, str]], body: bytes, now: datetime.datetime) -> None:
    headers = [(name, value) for name, value in headers
               if name.lower() not in ("authorization", "x-amz-date", "x-amz-security-token", "date", "host",
                                       "x-amz-content-sha256")]
    credentials = ReadOnlyCredentials("AKIDEXAMPLE", secret, token)
    with pytest.MonkeyPatch.context() as monkeypatch:
        theirs, signed_headers = botocore_authorization(url, region, service, credentials, headers, body, now,
                                                        monkeypatch)
    timestamp = now.strftime(AMZ_DATE_FORMAT)
    ours = SigV4Signer(url, region, service).authorization("POST", signed_headers, hashlib.sha256(body).hexdigest(),
                                                           timestamp, credentials)
    assert ours == theirs


def test_the_signing_key_is_derived_again_for_a_new_day_or_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://logs.us-east-1.amazonaws.com/"
    signer = SigV4Signer(url, "us-east-1", "logs")
    headers = [("X-Amz-Target", "Logs_20140328.PutLogEvents"), ("Content-Type", "application/x-amz-json-1.1")]
    for secret, now in [("one", datetime.datetime(2026, 11, 25, 23, 59, 59)),
                        ("one", datetime.datetime(2026, 11, 26, 0, 0, 0)),
                        ("two", datetime.datetime(2026, 11, 26, 0, 0, 1))]:
        credentials = ReadOnlyCredentials("AKID", secret, None)
        theirs, sent = botocore_authorization(url, "us-east-1", "logs", credentials, headers, b"{}", now, monkeypatch)
        ours = signer.authorization("POST", sent, hashlib.sha256(b"{}").hexdigest(), now.strftime(AMZ_DATE_FORMAT),
                                    credentials)
        assert ours == theirs


def test_the_signing_time_is_botocores_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: datetime.datetime(2026, 11, 25, 13, 0, 7))
    assert amz_date() == "20261125T130007Z"
