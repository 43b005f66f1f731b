"""Format logfmt (FB src/flb_parser_logfmt.c)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast.parsers.common import FieldParser
from tests.parsers.helpers import ns, parser


def test_bare_keys_are_true_and_empty_quotes_are_empty_strings() -> None:
    assert parser(Name="f", Format="logfmt").parse_text('a=1 b="x y" c d= e=""') == (
        -1, {"a": "1", "b": "x y", "c": True, "d": True, "e": ""})


def test_a_repeated_key_keeps_its_last_value_at_its_last_place() -> None:
    # Fluent Bit's record holds both; its JSON writer keeps the last where it stands (recorded:
    # tests/data/fluent-bit/parser_filter_repeated_keys).
    p = parser(Name="f", Format="logfmt")
    assert list(p.parse_text("level=info msg=one level=warn")[1].items()) == [("msg", "one"), ("level", "warn")]
    _, records, _ = p.parse_lines([b"level=info msg=one level=warn"], 7, "log")
    assert list(records[0].items()) == [("msg", "one"), ("level", "warn")]


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


_LOGFMT_PIECES = st.sampled_from(['a=1', 'b="x y"', 'c', 'd=', 'e=""', 'msg="say \\"hi\\"\\n"', 'ts=2026-11-25T13:00:00Z',
                                  'ts=never', 'n=42', 'ok=true', ' ', '\n', '\r\n', '"', '=', '\\', 'caf\u00e9=\u2603',
                                  'k="unterminated', '\x7f=\x01'])
_LOGFMT_LINES = st.one_of(st.lists(_LOGFMT_PIECES, max_size=8).map(" ".join), st.text(max_size=30),
                          st.binary(max_size=20).map(lambda raw: raw.decode("utf-8", "replace")))
_CONFIGS = [
    {},
    {"Time_Key": "ts", "Time_Format": "%Y-%m-%dT%H:%M:%SZ"},
    {"Time_Key": "ts", "Time_Format": "%Y-%m-%dT%H:%M:%SZ", "Time_Keep": "On", "Types": "n:integer ok:bool"},
    {"Logfmt_No_Bare_Keys": "On"},
    {"Decode_Field_As": "escaped msg"},
]


@pytest.mark.parametrize("config", _CONFIGS)
@given(lines=st.lists(_LOGFMT_LINES, max_size=6), invalid_utf8=st.booleans())
def test_compiled_batch_agrees_with_python_path(config: dict[str, str], lines: list[str], invalid_utf8: bool) -> None:
    """Property: _core.parse_logfmt_lines gives the Python scanner's records, times and failures."""
    p = parser(Name="f", Format="logfmt", **config)
    if p.compiled is None:
        pytest.skip("_core.parse_logfmt_lines not built")
    # A stray continuation byte: Fluent Bit writes it as U+E080 wherever it is in a string. (A lead
    # byte near a string's end is left out, which depends on where each string ends: per token
    # in the compiled scanner, as Fluent Bit; per line in the Python path.)
    raw = [line.encode() + (b"\x80" if invalid_utf8 else b"") for line in lines]
    assert p.parse_lines(raw, 7, "log") == FieldParser.parse_lines(p, raw, 7, "log")
