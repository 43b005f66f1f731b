"""flb_fast.jsmn: Merge_Log's reading of a log, as Fluent Bit 4.2.8 merged each of these logs
(recorded: tests/data/fluent-bit/kube_merge_log_numbers and kube_merge_log_repeated_keys)."""

from __future__ import annotations

import math

import pytest

from flb_fast.jsmn import read_object, read_ordered


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ('{"a":1e300,"b":1E5,"f":-1e5,"g":1e}', {"a": 1, "b": 1, "f": -1, "g": 1}),
        ('{"c":1e+3,"d":1E-2,"e":1.5e3,"h":1e5.0}', {"c": 1000.0, "d": 0.01, "e": 1500.0, "h": 100000.0}),
        ('{"a":01,"b":007,"c":-01,"d":00}', {"a": 1, "b": 7, "c": -1, "d": 0}),
        ('{"e":0x10,"f":1abc,"g":1.2.3,"h":-}', {"e": 0, "f": 1, "g": 1.2, "h": 0}),
        ('{"a":-0x10,"b":0x1.8p1,"c":1E+2,"d":-9e-1}', {"a": 0, "b": 3.0, "c": 100.0, "d": -0.9}),
        ('{"a":-Infinity,"b":-inf}', {"a": 0, "b": 0}),
        ('{"a":1.}', {"a": 1.0}),
    ],
)
def test_a_number_is_strtod_with_a_dot_or_signed_exponent_else_strtoull_of_its_leading_digits(log, expected) -> None:
    assert repr(read_object(log)) == repr(expected)


def test_minus_zero_is_the_integer_0_and_minus_zero_point_zero_a_negative_double() -> None:
    value = read_object('{"a":-0,"b":-0.0}')
    assert repr(value) == "{'a': 0, 'b': -0.0}"


def test_an_integer_past_64_bits_is_a_double_and_uint64_stays_whole() -> None:
    assert read_object(
        '{"b":9223372036854775808,"c":18446744073709551615,"d":18446744073709551616,'
        '"e":-9223372036854775808,"f":-9223372036854775809}'
    ) == {"b": 9223372036854775808, "c": 18446744073709551615, "d": 1.8446744073709552e19,
          "e": -9223372036854775808, "f": -9.223372036854776e18}
    assert type(read_object('{"d":18446744073709551616}')["d"]) is float


def test_a_double_out_of_range_is_infinite_or_zero() -> None:
    value = read_object('{"e":1.7976931348623157e309,"f":4.9e-330}')
    assert math.isinf(value["e"]) and value["f"] == 0.0


def test_a_hexadecimal_double_out_of_range_is_infinite() -> None:
    value = read_object('{"a":0x1.p99999,"b":-0x1.p99999}')
    assert value == {"a": math.inf, "b": -math.inf}


def test_a_primitive_is_read_by_its_first_character() -> None:
    assert read_object('{"t":tru,"f":fals,"n":nul,"x":trueish,"y":nan}') == {
        "t": True, "f": False, "n": None, "x": True, "y": None}


@pytest.mark.parametrize("log", ['{"b":.5}', '{"b":+5}', '{"a":NaN}', '{"a":1\u00e9}'])
def test_a_value_that_starts_no_primitive_or_holds_a_byte_outside_printable_ascii_is_not_merged(log) -> None:
    assert read_object(log) is None


def test_raw_control_characters_in_strings_are_kept() -> None:
    assert read_object('{"s":"a\tb","r":"c\rd","u":"e\x01f","n":"new\nline"}') == {
        "s": "a\tb", "r": "c\rd", "u": "e\x01f", "n": "new\nline"}


def test_surrogate_escapes_pair_or_become_the_replacement_character() -> None:
    assert read_object(r'{"s":"\ud800x","t":"\u00e9","v":"\ud83d\ude00","w":"\udc00","x":"\ud83d\u0041z"}') == {
        "s": "\ufffdx", "t": "\u00e9", "v": "\U0001f600", "w": "\ufffd", "x": "\ufffdz"}


def test_nested_values_follow_the_same_number_rules() -> None:
    assert read_object('{"o":{"x":1e3,"y":[01,1e2,2.5,-0]},"l":[[1e1]]}') == {
        "o": {"x": 1, "y": [1, 1, 2.5, 0]}, "l": [[1]]}


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ('{"a":1,,"b":2}', {"a": 1, "b": 2}),
        ('{"a":1,}', {"a": 1}),
        ('{,"a":1}', {"a": 1}),
        ('{"a":[1 2]}', {"a": [1, 2]}),
        ('{"a":1 "b":2}', {"a": 1}),
        ('{"a":1:2}', {"a": 1}),
        ('{"k":{"x":1 "y":2},"b":3}', {"k": {"x": 1}, "y": 2}),
        (' {"a":2} \t\r\n', {"a": 2}),
        ('{"a":1}\x00xyz', {"a": 1}),
    ],
)
def test_a_map_holds_as_many_pairs_as_jsmn_counted_keys(log, expected) -> None:
    assert read_object(log) == expected


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ('{"a":1,"b":2,"a":3}', [("b", 2), ("a", 3)]),
        ('{"a":1,"a":2,"a":3,"b":4}', [("a", 3), ("b", 4)]),
        ('{"a":{"x":1,"y":2,"x":3},"b":1}', [("a", [("y", 2), ("x", 3)]), ("b", 1)]),
        ('{"a":[{"p":1,"q":0,"p":2}],"z":0}', [("a", [[("q", 0), ("p", 2)]]), ("z", 0)]),
    ],
)
def test_a_repeated_key_holds_its_last_value_at_its_last_place_at_every_depth(log, expected) -> None:
    assert pairs(read_object(log)) == expected


@pytest.mark.parametrize(
    "log",
    ['{"a":1,"b":2,"a":3}', '{"a":{"x":1,"y":2,"x":3},"b":[{"p":1,"q":0,"p":"\\u00e9\\n"}]}',
     ' {"level":"debug","msg":"a\\"b","n":-0.0,"level":"warn","e":1.5E+3} '],
)
def test_read_ordered_answers_as_read_object_for_a_standard_text_with_a_repeated_key(log) -> None:
    assert pairs(read_ordered(log)) == pairs(read_object(log))


def pairs(value):
    """A decoded value with each dict as its (key, value) pairs in order: dict equality ignores it."""
    if isinstance(value, dict):
        return [(key, pairs(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [pairs(item) for item in value]
    return value


@pytest.mark.parametrize(
    "log",
    ['{"a" 1}', '{"a":1} {"b":2}', '{"a":1}x', '{"a":1}}', '{"a":[1,2}', '{"s":"\\q"}', '{"a":}', '{"a"}', "[1]",
     '{"a":1', '{"a":"x\x00y"}', ""],
)
def test_a_log_jsmn_refuses_or_that_is_not_one_object_is_not_merged(log) -> None:
    assert read_object(log) is None
