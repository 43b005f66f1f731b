"""decode_cri_lines: CRI lines as Fluent Bit's built-in `cri` multiline parser reads them
(src/multiline/flb_ml_parser_cri.c)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flb_fast._core import decode_cri_lines

READ_TIME = 1_700_000_000_000_000_000
NEW_YEAR_2024_NS = 1704067200 * 10**9


def test_a_full_line_becomes_time_stream_flag_and_log_in_that_order():
    assert decode_cri_lines([b"2024-01-01T00:00:00.123456789Z stdout F hello world"], READ_TIME) == (
        [NEW_YEAR_2024_NS + 123456789],
        [{"time": "2024-01-01T00:00:00.123456789Z", "stream": "stdout", "_p": "F", "log": "hello world"}],
        [],
        0,
    )


def test_partial_lines_are_listed_by_index_for_the_tail_to_join():
    lines = [
        b"2024-01-01T00:00:00.1Z stderr P first half ",
        b"2024-01-01T00:00:00.2Z stderr F second half",
        b"2024-01-01T00:00:00.3Z stdout P another",
    ]
    timestamps, records, partials, failed = decode_cri_lines(lines, READ_TIME)
    assert partials == [0, 2]
    assert [record["log"] for record in records] == ["first half ", "second half", "another"]
    assert [record["_p"] for record in records] == ["P", "F", "P"]
    assert [record["stream"] for record in records] == ["stderr", "stderr", "stdout"]
    assert failed == 0


def test_the_zone_of_the_time_is_applied():
    timestamps, _, _, _ = decode_cri_lines([b"2024-01-01T02:00:00.5+02:00 stdout F x"], READ_TIME)
    assert timestamps == [NEW_YEAR_2024_NS + 500000000]


def test_the_log_keeps_spaces_and_text_that_looks_like_a_cri_prefix():
    _, records, _, _ = decode_cri_lines([b"2024-01-01T00:00:00.1Z stdout F  a stdout F b  "], READ_TIME)
    assert records[0]["log"] == " a stdout F b  "


def test_the_time_is_everything_before_the_first_stream_marker_as_the_lazy_regex_takes_it():
    timestamps, records, _, failed = decode_cri_lines([b"not a time stdout F x"], READ_TIME)
    assert records == [{"time": "not a time", "stream": "stdout", "_p": "F", "log": "x"}]
    assert timestamps == [2085892096 * 10**9]  # 1900-01-00 as a 32-bit event time, as Fluent Bit's
    assert failed == 0


def test_an_empty_log_is_decoded_not_packed_raw_as_fluent_bit_4284_does():
    assert decode_cri_lines([b"2024-01-01T00:00:00.1Z stdout F "], READ_TIME)[1] == [
        {"time": "2024-01-01T00:00:00.1Z", "stream": "stdout", "_p": "F", "log": ""}
    ]


def test_a_line_that_is_not_cri_becomes_a_log_record_with_the_read_time():
    lines = [
        b"plain text",
        b"2024-01-01T00:00:00.1Z stdout F",
        b"2024-01-01T00:00:00.1Z stdlog F x",
        b"",
        b" stdout F x",
    ]
    assert decode_cri_lines(lines, READ_TIME) == (
        [READ_TIME] * 5,
        [{"log": line.decode()} for line in lines],
        [],
        5,
    )


def test_a_time_without_fraction_keeps_its_seconds_as_the_lenient_cri_parser_does():
    timestamps, _, _, _ = decode_cri_lines([b"2024-01-01T00:00:10Z stdout F x"], READ_TIME)
    assert timestamps == [NEW_YEAR_2024_NS + 10 * 10**9]


def test_a_time_that_stops_matching_gives_the_fields_read_up_to_there_as_the_lenient_cri_parser():
    # flb_ml_parser_cri.c: time_strict off (recorded: tests/data/fluent-bit/multiline_cri_quirks).
    lines = [b"2024-13-02T03:04:05.5Z stdout F x", b"2024-01-02T25:04:05.5Z stdout F x",
             b"1970-01-01T00:00:00.0Z stdout F x"]
    timestamps, _, _, _ = decode_cri_lines(lines, READ_TIME)
    assert timestamps == [1703980800 * 10**9, 1704153600 * 10**9, READ_TIME]


def test_invalid_utf8_in_the_log_keeps_each_byte_as_u_e000_plus_byte():
    _, records, _, _ = decode_cri_lines([b"2024-01-01T00:00:00.1Z stdout F bad \xff\xfe bytes \xc3"], READ_TIME)
    assert records[0]["log"] == "bad \ue0ff\ue0fe bytes "


def test_bytearray_lines_are_accepted():
    _, records, _, _ = decode_cri_lines([bytearray(b"2024-01-01T00:00:00.1Z stdout F x")], READ_TIME)
    assert records[0]["log"] == "x"


@given(
    st.lists(
        st.binary(max_size=80) | st.sampled_from([b"x stdout F ", b" stderr P y", b"2024-01-01T00:00:00.1Z stdout F"]),
        max_size=20,
    )
)
def test_hostile_lines_never_crash_and_each_gives_one_record(lines):
    timestamps, records, partials, failed = decode_cri_lines(lines, READ_TIME)
    assert len(timestamps) == len(records) == len(lines)
    assert all(records[i]["_p"] == "P" for i in partials)
    assert failed == sum(1 for record in records if list(record) == ["log"])
