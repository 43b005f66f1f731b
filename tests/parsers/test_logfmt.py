"""Format logfmt (FB src/flb_parser_logfmt.c)."""

from __future__ import annotations

from tests.parsers.helpers import ns, parser


def test_bare_keys_are_true_and_empty_quotes_are_empty_strings() -> None:
    assert parser(Name="f", Format="logfmt").parse_text('a=1 b="x y" c d= e=""') == (
        -1, {"a": "1", "b": "x y", "c": True, "d": True, "e": ""})


def test_quoted_values_are_unescaped() -> None:
    assert parser(Name="f", Format="logfmt").parse_text(r'msg="say \"hi\"\n"') == (-1, {"msg": 'say "hi"\n'})


def test_parsing_stops_at_a_line_end() -> None:
    assert parser(Name="f", Format="logfmt").parse_text("a=1\nb=2") == (-1, {"a": "1"})


def test_no_bare_keys_rejects_a_key_without_value() -> None:
    assert parser(Name="f", Format="logfmt", Logfmt_No_Bare_Keys="On").parse_text("a=1 b") is None


def test_time_and_types() -> None:
    p = parser(Name="f", Format="logfmt", Time_Format="%Y-%m-%dT%H:%M:%SZ", Types="n:integer flag:bool")
    assert p.parse_text("time=2026-11-25T13:00:00Z n=3 flag=true") == (ns(2026, 11, 25, 13), {"n": 3, "flag": True})


def test_garbage_only_does_not_parse() -> None:
    assert parser(Name="f", Format="logfmt").parse_text(' = "" ') is None
