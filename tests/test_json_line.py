"""A line's first JSON object, as Fluent Bit's JSON parser reads a line that is not one JSON value
(recorded: tests/data/fluent-bit/docker_trailing_garbage, parser_filter_json_trailing_bytes)."""

from __future__ import annotations

from flb_fast.json_line import first_json_object


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
