"""Format regex options (FB src/flb_parser_regex.c, docs: data-pipeline/parsers/regular-expression)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.parsers.helpers import ns, parser, standard


def test_skip_empty_values_off_keeps_empty_and_missing_captures_as_empty_strings() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<a>\w*) (?<b>x)?(?<c>\d*)$", Skip_Empty_Values="Off")
    assert p.parse_text(" 1") == (-1, {"a": "", "b": "", "c": "1"})


def test_skip_empty_values_default_drops_them() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<a>\w*) (?<b>x)?(?<c>\d*)$")
    assert p.parse_text(" 1") == (-1, {"c": "1"})


def test_regex_searches_rather_than_anchors() -> None:
    assert parser(Name="t", Format="regex", Regex=r"id=(?<id>\d+)").parse_text("x id=7 y") == (-1, {"id": "7"})


def test_types_cast_captures() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<n>\S+) (?<f>\S+) (?<b>\S+) (?<h>\S+) (?<s>\S+)$",
               Types="n:integer f:float b:bool h:hex s:string")
    assert p.parse_text("42ms 1.5e3 TRUE 0x1f 007") == (-1, {"n": 42, "f": 1500.0, "b": True, "h": 31, "s": "007"})


def test_bool_that_does_not_cast_stays_a_string_and_is_counted() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<b>\S+)$", Types="b:bool")
    assert p.parse_text("maybe") == (-1, {"b": "maybe"})
    assert p.counters["cast_errors"] == 1


def test_time_key_and_time_keep() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<ts>\S+) (?<msg>.*)$", Time_Key="ts",
               Time_Format="%Y-%m-%dT%H:%M:%S", Time_Keep="On")
    assert p.parse_text("2026-11-25T13:00:00 hi") == (ns(2026, 11, 25, 13), {"ts": "2026-11-25T13:00:00", "msg": "hi"})


def test_time_key_defaults_to_time() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<time>\S+) (?<msg>.*)$", Time_Format="%Y-%m-%d")
    assert p.parse_text("2026-11-25 hi") == (ns(2026, 11, 25), {"msg": "hi"})


def test_time_key_without_time_format_leaves_the_field_as_text() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<time>\S+)$", Time_Key="time")
    assert p.parse_text("2026-11-25") == (-1, {"time": "2026-11-25"})


def test_invalid_time_with_time_keep_still_drops_the_field() -> None:
    """flb_parser_regex.c cb_results returns before packing the field when the lookup fails."""
    p = parser(Name="t", Format="regex", Regex=r"^(?<time>\S+) (?<m>\S+)$", Time_Format="%Y-%m-%d", Time_Keep="On")
    assert p.parse_text("garbage x") == (-1, {"m": "x"})
    assert p.counters["time_errors"] == 1


def test_time_system_timezone_uses_host_zone(monkeypatch: object) -> None:
    import time as time_module

    p = parser(Name="t", Format="regex", Regex=r"^(?<time>.+)$", Time_Format="%Y-%m-%d %H:%M:%S",
               Time_System_Timezone="On", Time_Offset="+0900")
    expected = int(time_module.mktime((2026, 11, 25, 13, 0, 0, 0, 0, -1))) * 1_000_000_000
    assert p.parse_text("2026-11-25 13:00:00") == (expected, {})


def test_decoders_apply_to_regex_fields() -> None:
    p = parser(Name="t", Format="regex", Regex=r"^(?<log>.*)$", Decode_Field_As="escaped log")
    assert p.parse_text(r"a\tb") == (-1, {"log": "a\tb"})


_NGINX_LINE = st.builds(
    lambda ip, path, code, size, agent: f'{ip} - - [25/Nov/2026:13:00:00 +0000] "GET {path} HTTP/1.1" {code} {size} '
                                        f'"-" "{agent}"',
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){3}\Z"), st.from_regex(r"\A/[a-z0-9/?=&]{0,30}\Z"),
    st.sampled_from(["200", "301", "404", "500"]), st.integers(0, 10**6).map(str),
    st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"'), max_size=40))


@given(st.one_of(_NGINX_LINE, st.text(max_size=80)))
def test_nginx_fast_path_agrees_with_plain_re(line: str) -> None:
    """Property: our parser equals a direct re.search + groupdict reference on the same translation."""
    reference = re.compile(
        r'^(?P<remote>[^ ]*) (?P<host>[^ ]*) (?P<user>[^ ]*) \[(?P<time>[^\]]*)\] "(?P<method>\S+)(?: +(?P<path>'
        r'[^\"]*?)(?: +\S*)?)?" (?P<code>[^ ]*) (?P<size>[^ ]*)(?: "(?P<referer>[^\"]*)" "(?P<agent>[^\"]*)")',
        re.MULTILINE | re.ASCII)
    match = reference.search(line)
    result = standard("nginx").parse_text(line)
    if match is None:
        assert result is None
    else:
        assert result is not None
        expected = {key: value for key, value in match.groupdict().items() if value and key != "time"}
        assert result[1] == expected
