"""Format ltsv (FB src/flb_parser_ltsv.c, http://ltsv.org)."""

from __future__ import annotations

from tests.parsers.helpers import ns, parser


def test_fields_split_on_tabs() -> None:
    p = parser(Name="l", Format="ltsv")
    assert p.parse_text("host:127.0.0.1\tident:-\treq:GET / HTTP/1.1\tstatus:200") == (
        -1, {"host": "127.0.0.1", "ident": "-", "req": "GET / HTTP/1.1", "status": "200"})


def test_a_repeated_label_keeps_its_last_value_at_its_last_place() -> None:
    # Recorded: tests/data/fluent-bit/parser_filter_repeated_keys.
    assert list(parser(Name="l", Format="ltsv").parse_text("a:1\tb:2\ta:3")[1].items()) == [("b", "2"), ("a", "3")]


def test_time_and_types() -> None:
    p = parser(Name="l", Format="ltsv", Time_Key="time", Time_Format="%d/%b/%Y:%H:%M:%S %z", Types="size:integer")
    assert p.parse_text("time:25/Nov/2026:13:00:00 +0000\tsize:12") == (ns(2026, 11, 25, 13), {"size": 12})


def test_invalid_time_fails_the_whole_line() -> None:
    p = parser(Name="l", Format="ltsv", Time_Format="%Y")
    assert p.parse_text("time:never\ta:1") is None


def test_label_without_colon_stops_and_nothing_parsed_fails() -> None:
    assert parser(Name="l", Format="ltsv").parse_text("just words") is None
    assert parser(Name="l", Format="ltsv").parse_text("a:1\tb c:2") == (-1, {"a": "1"})
