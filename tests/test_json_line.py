"""A line's JSON object, as Fluent Bit's JSON parser (yyjson 0.12 with its flags) reads it (recorded:
tests/data/fluent-bit/docker_trailing_garbage, parser_filter_json_trailing_bytes, docker_json_quirks*)."""

from __future__ import annotations

from flb_fast.json_line import MISSING, decode_json_object, first_json_object, read_json_object, string_value_span


def test_unreadable_bytes_after_the_object_are_ignored() -> None:
    assert first_json_object(b'{"msg":"garbage after"}garbage{') == {"msg": "garbage after"}


def test_a_closing_brace_after_the_object_is_ignored() -> None:
    assert first_json_object(b'{"a":1} }') == {"a": 1}


def test_a_nul_after_the_object_is_ignored() -> None:
    assert first_json_object(b'{"a":1}\x00') == {"a": 1}


def test_an_unfinished_value_after_the_object_is_ignored() -> None:
    assert first_json_object(b'{"a":1} {"b"') == {"a": 1}


def test_a_second_object_makes_no_record() -> None:
    assert first_json_object(b'{"a":1} {"b":2}') is None


def test_a_second_value_of_any_kind_makes_no_record() -> None:
    assert first_json_object(b'{"a":1} 123') is None


def test_a_line_that_does_not_start_with_a_value_makes_no_record() -> None:
    assert first_json_object(b'garbage {"a":1}') is None


def test_a_line_that_starts_with_another_value_makes_no_record() -> None:
    assert first_json_object(b'[1, 2] x') is None


def test_an_invalid_object_makes_no_record() -> None:
    assert first_json_object(b'{"a":1,}') is None


def test_nan_is_not_json() -> None:
    assert first_json_object(b'{"a":NaN} x') is None


def test_invalid_utf8_inside_the_object_is_kept_as_fluent_bit_writes_it() -> None:
    assert first_json_object(b'{"a":"x\x80y"} z') == {"a": "x\ue080y"}


def test_a_lone_surrogate_escape_becomes_the_replacement_character() -> None:
    assert first_json_object(b'{"a":"\\ud800"} x') == {"a": "\ufffd"}


def test_a_high_surrogate_escape_takes_the_next_escape_along() -> None:
    assert first_json_object(b'{"a":"\\ud83d\\ud83d\\ude00","b":"\\ud800\\u0041","c":"\\ud83d\\u12x"}') == {
        "a": "\ufffd\ufffd", "b": "\ufffd", "c": "\ufffdx"}


def test_a_pair_of_surrogate_escapes_is_its_character() -> None:
    assert first_json_object(b'{"a":"\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_a_short_unicode_escape_is_kept_as_text_and_the_byte_after_it_dropped() -> None:
    assert first_json_object(b'{"a":"\\u12 x","b":"\\uZZZZ","c":"\\u12","d":"\\u1\\n"}') == {
        "a": "\\u12x", "b": "\\uZZZ", "c": "\\u12", "d": "\\u1n"}


def test_the_byte_dropped_after_a_short_escape_may_leave_the_rest_of_a_character() -> None:
    # yyjson drops one byte of "\xc3\xa9": "\xa9" stays, written as U+E000 + byte.
    assert first_json_object(b'{"a":"\\u1\xc3\xa9"}') == {"a": "\\u1\ue0a9"}


def test_other_escapes_make_no_json() -> None:
    assert first_json_object(b'{"a":"\\x41"}') is None


def test_raw_control_characters_in_a_string_are_kept() -> None:
    assert first_json_object(b'{"a":"x\ty\x01"}') == {"a": "x\ty\x01"}


def test_integers_past_64_bits_are_doubles_and_others_stay_whole() -> None:
    assert first_json_object(b'{"a":-9223372036854775808,"b":18446744073709551615,"c":18446744073709551616,'
                             b'"d":-9223372036854775809}') == {
        "a": -9223372036854775808, "b": 18446744073709551615, "c": 1.8446744073709552e19, "d": -9.223372036854776e18}


def test_a_number_past_a_double_makes_no_json() -> None:
    assert first_json_object(b'{"a":1e400}') is None
    assert first_json_object(b'{"a":[1,-1e400]}') is None


def test_numbers_the_grammar_leaves_half_read_make_no_json() -> None:
    assert [first_json_object(line) for line in (b'{"a":01}', b'{"a":1.}', b'{"a":1e}', b'{"a":.5}')] == [None] * 4


def test_a_repeated_key_keeps_the_last_value_at_the_last_place() -> None:
    assert list(first_json_object(b'{"a":1,"b":2,"a":3}').items()) == [("b", 2), ("a", 3)]


def test_the_first_time_key_is_read_and_may_be_left_out() -> None:
    line = b'{"time":"t1","x":1,"time":"t2"}'
    assert read_json_object(line, "time") == ({"x": 1, "time": "t2"}, "t1")
    assert read_json_object(line, "time", without=True) == ({"x": 1, "time": "t2"}, "t1")
    assert read_json_object(b'{"time":"t1","x":1}', "time", without=True) == ({"x": 1}, "t1")
    assert read_json_object(b'{"x":1}', "time") == ({"x": 1}, MISSING)


def test_msgspec_reads_what_it_reads_the_same_and_the_reference_reader_the_rest() -> None:
    assert decode_json_object(b'{"a":1,"time":"t"}', "time") == ({"a": 1, "time": "t"}, "t")
    assert decode_json_object(b'{"a":[99999999999999999999]}') == ({"a": [1e20]}, MISSING)
    assert decode_json_object(b'{"a":{"b":1,"b":2}}') == ({"a": {"b": 2}}, MISSING)
    assert decode_json_object(b'[1]') == ([1], MISSING)


def test_the_span_of_a_string_value_is_found_in_the_bytes_of_the_line() -> None:
    line = b'{"a":{"log":1},"log" : "\xc3\xa9x","t":1e400}'
    start, end = string_value_span(line, "log")
    assert line[start:end] == b'"\xc3\xa9x"'


def test_a_value_that_is_no_string_has_no_span() -> None:
    assert string_value_span(b'{"log":1,"log":"x"}', "log") is None
    assert string_value_span(b'{"a":"x"}', "log") is None
    assert string_value_span(b'nope', "log") is None
