"""Invalid UTF-8 as Fluent Bit 4.2.8's JSON outputs write it (each pair checked on the binary;
recorded as a whole in tests/data/fluent-bit/tail_invalid_utf8_edges)."""

from __future__ import annotations

import pytest

from flb_fast.text import INVALID_UTF8, decode


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"bad \xff\xfe bytes", "bad \ue0ff\ue0fe bytes"),
        (b"a\xc3b", "a\ue0c3b"),
        (b"a\xe2bc", "a\ue0e2bc"),
        (b"a\x80", "a\ue080"),
        (b"a\xf0\x9f\x98b", "a\ue0f0\ue09f\ue098b"),
        (b"a\xed\xa0\x80", "a\ue0ed\ue0a0\ue080"),
        (b"a\xf4\x90\x80\x80", "a\ue0f4\ue090\ue080\ue080"),
        (b"a\xffbcdef", "a\ue0ffbcdef"),
        (b"a\xf8bcde", "a\ue0f8bcde"),
    ],
)
def test_each_byte_of_an_invalid_sequence_becomes_u_e000_plus_byte(raw: bytes, text: str) -> None:
    assert decode(raw) == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"a\xc3", "a"),
        (b"a\xe2b", "ab"),
        (b"a\xe2\x82", "a\ue082"),
        (b"a\xf0bc", "abc"),
        (b"a\xf0\x9f\x98", "a\ue09f\ue098"),
        (b"a\xffbcde", "abcde"),
        (b"a\xf8bcd", "abcd"),
    ],
)
def test_a_lead_byte_whose_sequence_runs_past_the_end_is_left_out(raw: bytes, text: str) -> None:
    assert decode(raw) == text


@pytest.mark.parametrize(("raw", "text"), [(b"a\xc0\x80", "a\x00"), (b"a\xe0\x80\x80b", "a\x00b"), (b"a\xc1\xbf", "a\x7f")])
def test_an_overlong_sequence_decodes_to_its_code_point(raw: bytes, text: str) -> None:
    assert decode(raw) == text


def test_valid_utf8_is_untouched_and_the_handler_serves_bytes_decode() -> None:
    assert decode("café ☃ 😀".encode()) == "café ☃ 😀"
    assert b"x\xffyzzzzz".decode("utf-8", INVALID_UTF8) == "x\ue0ffyzzzzz"
