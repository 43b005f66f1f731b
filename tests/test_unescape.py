"""unescape_utf8 reads backslash escapes as Fluent Bit's flb_unescape_string_utf8 does (the records of
tests/data/fluent-bit/parser_logfmt_escapes and kube_merge_log_numbers come from it)."""

from __future__ import annotations

import pytest

from flb_fast.unescape import unescape_utf8


@pytest.mark.parametrize(("text", "expected"), [
    ('\\"\\\'\\\\\\/\\n\\b\\t\\f\\r\\v\\a', "\"'\\/\n\b\t\f\r\v\a"),
    ("\\101\\18\\777", "A\x018\u01ff"),
    ("\\x41\\xe9\\x", "A\u00e9x"),
    ("\\U0001F600\\U", "\U0001f600U"),
    ("\\u00e9\\u41", "\u00e9\ufffd"),
    ("\\u", "\0"),
])
def test_each_kind_of_escape_is_read_as_fluent_bit_reads_it(text: str, expected: str) -> None:
    assert unescape_utf8(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("\\ud83d\\ude00", "\U0001f600"),
    ("\\ud800x", "\ufffdx"),
    ("\\udc00", "\ufffd"),
    ("\\ud83d\\u0041z", "\ufffdz"),
])
def test_a_surrogate_pair_is_one_character_and_any_other_surrogate_is_a_replacement(text: str, expected: str) -> None:
    assert unescape_utf8(text) == expected


def test_a_backslash_before_another_character_is_dropped_and_one_at_the_end_is_kept() -> None:
    assert unescape_utf8("\\q\\\u00e9 end\\") == "q\u00e9 end\\"


def test_a_nul_ends_the_text() -> None:
    assert unescape_utf8("a\\tb\0c\\t") == "a\tb"


def test_a_code_point_past_unicode_is_its_low_byte_as_json_outputs_write_it() -> None:
    assert unescape_utf8("\\U110041") == "A"
    assert unescape_utf8("\\U110080") == "\ue080"
