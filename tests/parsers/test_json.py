"""Format json (FB src/flb_parser_json.c)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast.parsers.common import FieldParser
from tests.parsers.helpers import ns, parser, standard


def test_types_do_not_apply_to_json() -> None:
    assert parser(Name="j", Format="json", Types="n:integer").parse_text('{"n":"5"}') == (-1, {"n": "5"})


def test_non_string_time_is_left_alone() -> None:
    p = parser(Name="j", Format="json", Time_Key="t", Time_Format="%s")
    assert p.parse_text('{"t":1764075600}') == (-1, {"t": 1764075600})


def test_decode_field_as_json_replaces_the_escaped_value_before_time_lookup() -> None:
    p = parser(Name="j", Format="json", Decode_Field_As="json log")
    assert p.parse_text('{"log":"{\\"a\\":1}","s":"x"}') == (-1, {"log": {"a": 1}, "s": "x"})


def test_time_keep_off_removes_a_parsed_time_only() -> None:
    p = parser(Name="j", Format="json", Time_Key="ts", Time_Format="%Y-%m-%d")
    assert p.parse_text('{"ts":"2026-11-25","a":1}') == (ns(2026, 11, 25), {"a": 1})


def test_time_comes_from_the_first_of_repeated_time_keys_and_only_that_one_is_removed() -> None:
    """Fluent Bit 4.2.8, tail of this line -> parser filter (Key_Name log, this parser) -> stdout
    json_lines, printed {"date":1704067200.0,"a":1,"time":"2024-02-02T00:00:00.000"}."""
    p = parser(Name="j", Format="json", Time_Key="time", Time_Format="%Y-%m-%dT%H:%M:%S.%L", Time_Keep="Off")
    line = '{"time":"2024-01-01T00:00:00.000","a":1,"time":"2024-02-02T00:00:00.000"}'
    assert p.parse_text(line) == (ns(2024, 1, 1), {"a": 1, "time": "2024-02-02T00:00:00.000"})


def test_bytes_and_text_inputs_agree() -> None:
    p = parser(Name="j", Format="json")
    assert p.parse_batch([b'{"a":"\\u00e9"}', '{"a":"\u00e9"}']) == [(-1, {"a": "é"}), (-1, {"a": "é"})]


def test_invalid_utf8_inside_a_string_keeps_each_byte_as_u_e000_plus_byte() -> None:
    """Fluent Bit passes the bytes through and its JSON outputs write byte b as U+E000 + b, leaving
    out a lead byte whose sequence would run past the end of its string (see flb_fast/text.py)."""
    lines = [b'{"a":"\xff\xfe bytes","b":"end \xc3"}']
    timestamps, records, failed = parser(Name="j", Format="json").parse_lines(lines, 7, "log")
    assert (timestamps, records, failed) == ([7], [{"a": "\ue0ff\ue0fe bytes", "b": "end "}], 0)


# Deeper than msgspec decodes (it raises RecursionError past its own limit).
DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def test_json_nested_deeper_than_the_decoder_goes_is_kept_unparsed_in_the_batch() -> None:
    timestamps, records, failed = parser(Name="j", Format="json").parse_lines([DEEP, b'{"b":2}'], 7, "log")
    assert (timestamps, records, failed) == ([7, 7], [{"log": DEEP.decode()}, {"b": 2}], 1)


def test_json_nested_deeper_than_the_decoder_goes_is_not_parsed_line_by_line() -> None:
    assert parser(Name="j", Format="json").parse_text(DEEP) is None


def test_decode_field_as_json_leaves_a_field_nested_too_deep_as_text() -> None:
    field = '{"a":' * 100_000 + "1" + "}" * 100_000
    p = parser(Name="j", Format="json", Decode_Field_As="json log")
    assert p.parse_text(msgspec.json.encode({"log": field})) == (-1, {"log": field})


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20),
                    st.floats(allow_nan=False, allow_infinity=False))
_TIMES = st.one_of(st.just("2026-11-25T13:00:00.851160855Z"), st.just("2026-11-25T13:00:00.5195"),
                   st.just("not a time"), st.just("2026-11-25T13:00:00Z"), st.integers(0, 10).map(str))


@pytest.mark.parametrize("name", ["docker", "json"])
@given(lines=st.lists(st.one_of(
    st.builds(lambda body, time: msgspec.json.encode({**body, "time": time}),
              st.dictionaries(st.text(min_size=1, max_size=8), _VALUES, max_size=4), _TIMES),
    st.binary(max_size=30)), max_size=8))
def test_compiled_batch_path_agrees_with_reference_path(name: str, lines: list[bytes]) -> None:
    """Property: tail's compiled path (_core.JsonLinesDecoder) gives the records of the per-line reference."""
    parser = standard(name)
    if getattr(parser, "compiled", None) is None:
        pytest.skip("_core.JsonLinesDecoder not built")
    expected = FieldParser.parse_lines(parser, lines, 7, "log")
    assert parser.parse_lines(lines, 7, "log") == expected
