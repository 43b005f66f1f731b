"""flb_fast.log: Fluent Bit's line format, and no secret in any line the agent writes."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.log import REDACTED, FluentBitFormatter, _secret_patterns, plugin_logger, redact, setup

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDxK7abc+def/ghi=="
ACCESS_KEY_ID = "ASIAQWERTYUIOPASDFGH"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SIGNATURE = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
# What CloudWatch Logs answers a request it could not verify: the canonical request it expected.
SIGNATURE_ERROR = (
    "InvalidSignatureException: The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"
    "The Canonical String for this request should have been\n'POST\n/\n\n"
    "content-type:application/x-amz-json-1.1\nhost:logs.us-east-1.amazonaws.com\nx-amz-date:20261206T090000Z\n"
    f"x-amz-security-token:{SESSION_TOKEN}\nx-amz-target:Logs_20140328.PutLogEvents\n\n"
    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
    "9b2f0b8f3c1e4b7d4f6a1e0c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b'\n\n"
    "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261206T090000Z\n"
    "20261206/us-east-1/logs/aws4_request\n5d1c4e2b9f7a3c8e6b0d4f2a1c9e7b5d3f1a8c6e4b2d0f9a7c5e3b1d9f7a5c3e'"
)
SECRETS = (SESSION_TOKEN, ACCESS_KEY_ID, SECRET_KEY, SIGNATURE)


@pytest.fixture
def log_file(tmp_path: Path, agent_logging: None) -> Path:
    path = tmp_path / "agent.log"
    setup("info", str(path))
    return path


def test_a_signature_error_echoing_the_canonical_request_is_logged_without_the_session_token(log_file: Path) -> None:
    plugin_logger("output", "cloudwatch_logs", "cloudwatch_logs.0").error("PutLogEvents to g/s: %s", SIGNATURE_ERROR)
    text = log_file.read_text()
    assert SESSION_TOKEN not in text
    assert f"\nx-amz-security-token:{REDACTED}\nx-amz-target:Logs_20140328.PutLogEvents\n" in text
    assert "] [error] [output:cloudwatch_logs:cloudwatch_logs.0] PutLogEvents to g/s: InvalidSignatureException" in text
    assert "\n20261206/us-east-1/logs/aws4_request\n" in text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (f"Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20261206/us-east-1/logs/aws4_request, "
         f"SignedHeaders=host;x-amz-date, Signature={SIGNATURE}",
         f"Authorization: AWS4-HMAC-SHA256 Credential={REDACTED}/20261206/us-east-1/logs/aws4_request, "
         f"SignedHeaders=host;x-amz-date, Signature={REDACTED}"),
        (f"https://b.s3.amazonaws.com/k?X-Amz-Credential={ACCESS_KEY_ID}%2F20261206&X-Amz-Security-Token="
         f"{SESSION_TOKEN}&X-Amz-Signature={SIGNATURE}",
         f"https://b.s3.amazonaws.com/k?X-Amz-Credential={REDACTED}&X-Amz-Security-Token={REDACTED}"
         f"&X-Amz-Signature={REDACTED}"),
        (f'{{"AccessKeyId": "{ACCESS_KEY_ID}", "SecretAccessKey": "{SECRET_KEY}", "SessionToken": "{SESSION_TOKEN}"}}',
         f'{{"AccessKeyId": "{REDACTED}", "SecretAccessKey": "{REDACTED}", "SessionToken": "{REDACTED}"}}'),
        (f"aws_secret_access_key = {SECRET_KEY}", f"aws_secret_access_key = {REDACTED}"),
        (f"unable to use {SECRET_KEY} here", f"unable to use {REDACTED} here"),
        ("GET /api/v1/pods Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
         f"GET /api/v1/pods Authorization: Bearer {REDACTED}"),
    ],
)
def test_credentials_signatures_and_bearer_tokens_are_redacted(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "docker id 3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e",
        "commit 0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e",
        "pod uid 6c1d0e6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a in namespace kube-system",
        "log group /aws/containerinsights/my-cluster/application, stream ip-10-0-1-23.ec2.internal",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_exception_text_is_redacted_too(log_file: Path) -> None:
    try:
        raise RuntimeError(f"credentials {ACCESS_KEY_ID} refused: {SIGNATURE_ERROR}")
    except RuntimeError:
        plugin_logger("output", "s3", "s3.0").exception("upload failed")
    text = log_file.read_text()
    assert "RuntimeError: credentials" in text
    assert not any(secret in text for secret in SECRETS)


def test_libraries_loggers_and_python_warnings_are_written_in_the_same_format_and_redacted(log_file: Path) -> None:
    logging.getLogger("botocore.credentials").warning("Refreshing credentials %s failed", ACCESS_KEY_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"request refused (x-amz-security-token:{SESSION_TOKEN})", UserWarning, stacklevel=1)
    text = log_file.read_text()
    assert f"] [ warn] [botocore.credentials] Refreshing credentials {REDACTED} failed\n" in text
    assert "] [ warn] [py.warnings] " in text
    assert not any(secret in text for secret in SECRETS)


def test_libraries_warnings_follow_a_log_level_of_error(tmp_path: Path, agent_logging: None) -> None:
    path = tmp_path / "agent.log"
    setup("error", str(path))
    logging.getLogger("botocore.credentials").warning("not shown")
    logging.getLogger("botocore.credentials").error("shown")
    assert [line.split("] ", 2)[2] for line in path.read_text().splitlines()] == ["[botocore.credentials] shown"]


def test_a_line_starts_with_the_local_time_and_its_nanoseconds_as_fluent_bit_4_2(log_file: Path) -> None:
    """flb_log.c prints ``%02i.%03ld`` of tv_nsec: ``[2026/12/06 17:11:36.146647690] [ warn] ...``."""
    record = logging.LogRecord("flb_fast.engine", logging.WARNING, __file__, 1, "started", None, None)
    record.created = time.mktime((2026, 12, 6, 17, 11, 36, 0, 0, -1)) + 0.25
    assert FluentBitFormatter().format(record) == "[2026/12/06 17:11:36.250000000] [ warn] started"


def every_pattern(text: str) -> str:
    """``text`` through every secret pattern, the words in it or not."""
    for pattern in _secret_patterns():
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def test_a_line_pausing_an_input_is_written_as_it_is() -> None:
    line = "tail.0 paused (mem buf overlimit - event of size 1248146B exceeded limit 5000000 to 5256350B)"
    assert redact(line) == line


def test_outside_ascii_a_word_matched_without_its_letters_is_still_redacted() -> None:
    # "ſ" (long s) matches "s" in the patterns' case-insensitive search, though "ſignature" is not "signature".
    assert redact("X-Amz-\u017fignature=0123456789abcdef0123") == f"X-Amz-\u017fignature={REDACTED}"


PIECES = ["token", "KEY", "Credential", "signaTure", "bearer ", "Basic ", "AKIA", "ASIA", "aws_session_token",
          "secret_access_key", "access_key_id", "x-amz-security-token", ": ", "=", '"', " ", "/", "+", "a", "Z", "0",
          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "QWERTYUIOPASDFGH", "0123456789abcdef", "\u017f", "\u212a"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_redacting_is_every_pattern_whether_the_line_holds_their_words_or_not(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert redact(text) == every_pattern(text)
