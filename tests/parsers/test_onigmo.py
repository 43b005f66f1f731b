"""Onigmo (Ruby syntax) patterns as users write them in parsers.conf (FB src/flb_regex.c: ONIG_SYNTAX_RUBY)."""

from __future__ import annotations

import pytest

from flb_fast.parsers.onigmo import compile_onigmo, split_delimiters


def test_named_groups_use_ruby_spelling() -> None:
    assert compile_onigmo(r"^(?<a>\w+) (?'b'\d+)$").match("x 1").groupdict() == {"a": "x", "b": "1"}


def test_slash_delimited_pattern_with_options_as_flb_regex_check_option_reads_it() -> None:
    assert split_delimiters("/^abc$/i") == ("^abc$", "i")
    assert compile_onigmo("/^ABC$/i").match("abc")


def test_slash_prefixed_path_with_other_letters_stays_literal() -> None:
    assert split_delimiters("/var/log/foo") == ("/var/log/foo", "")


def test_ruby_m_option_lets_dot_match_newline() -> None:
    assert compile_onigmo("/a.b/m").search("a\nb")
    assert not compile_onigmo("/a.b/").search("a\nb")


def test_caret_and_dollar_are_line_anchors_in_ruby() -> None:
    assert compile_onigmo(r"^second$").search("first\nsecond\nthird")


def test_hex_digit_escape() -> None:
    assert compile_onigmo(r"^\h+$").match("09afAF")
    assert not compile_onigmo(r"^\h+$").match("xyz")
    assert compile_onigmo(r"^[\h-]+$").match("ab-12")


def test_posix_bracket_classes() -> None:
    assert compile_onigmo(r"^[[:alpha:][:digit:]]+$").match("abc123")
    assert not compile_onigmo(r"^[[:alpha:]]+$").match("abc1")


def test_mid_pattern_inline_option_applies_to_rest_of_group() -> None:
    regex = compile_onigmo(r"^a(?i)b(c)$")
    assert regex.match("aBC") and not regex.match("ABC")


def test_atomic_groups_and_possessive_quantifiers() -> None:
    assert not compile_onigmo(r"^(?>a+)a$").match("aaa")
    assert not compile_onigmo(r"^a++a$").match("aaa")


def test_backreference_by_name() -> None:
    assert compile_onigmo(r"^(?<q>['\"]).*\k<q>$").match("'x'")


def test_digit_class_is_ascii_only_as_in_ruby() -> None:
    assert not compile_onigmo(r"^\d$").match("\u0663")


@pytest.mark.parametrize("pattern", [r"\p{Alpha}", r"(?<a>x)(?<a>y)", r"[a-z&&[^aeiou]]", r"(?~abc)", r"(unclosed"])
def test_patterns_re_cannot_express_are_errors(pattern: str) -> None:
    with pytest.raises(ValueError):
        compile_onigmo(pattern)
