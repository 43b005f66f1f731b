"""decode_json_lines / JsonLinesDecoder: Fluent Bit's json-format parsers (flb_parser_json.c) on
Docker json-file lines and application JSON, checked against exact records and json.loads."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast import json_line
from flb_fast._core import JsonLinesDecoder, decode_json_lines, json_shape, parse_time_rfc3339
from flb_fast.json_line import first_json_object
from flb_fast.text import INVALID_UTF8

READ_TIME = 1_700_000_000_000_000_000
DOCKER_LINE = b'{"log":"GET / 200\\n","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}'


def docker(lines: list[bytes], time_keep: bool = True) -> tuple[list[int], list[dict], int]:
    return decode_json_lines(lines, READ_TIME, "log", "time", time_keep)


def one(line: bytes) -> dict:
    _, records, _ = docker([line])
    return records[0]


def test_a_docker_line_becomes_its_object_with_the_time_of_its_time_field():
    assert docker([DOCKER_LINE]) == (
        [1704067200123456789],
        [{"log": "GET / 200\n", "stream": "stdout", "time": "2024-01-01T00:00:00.123456789Z"}],
        0,
    )


def test_time_keep_off_removes_the_parsed_time_key():
    assert docker([DOCKER_LINE], time_keep=False) == (
        [1704067200123456789],
        [{"log": "GET / 200\n", "stream": "stdout"}],
        0,
    )


def test_keys_keep_the_order_of_the_line():
    record = one(b'{"z":"1","a":"2","time":"2024-01-01T00:00:00.1Z","m":"3"}')
    assert list(record) == ["z", "a", "time", "m"]


def test_an_unparsable_time_keeps_the_key_gets_the_read_time_and_is_counted():
    decoder = JsonLinesDecoder("log", "time", False)
    line = b'{"log":"x","time":"yesterday"}'
    assert decoder.decode([line, line], READ_TIME) == (
        [READ_TIME, READ_TIME],
        [{"log": "x", "time": "yesterday"}] * 2,
        0,
    )
    assert decoder.time_errors == 2


def test_a_time_without_fraction_does_not_match_the_docker_format():
    decoder = JsonLinesDecoder("log", "time", True)
    assert decoder.decode([b'{"time":"2024-01-01T00:00:00Z"}'], READ_TIME)[0] == [READ_TIME]
    assert decoder.time_errors == 1


# Times of one batch: a few dates and clocks (canonical or not, in range or not), each with fractions or
# other endings, so that consecutive lines share, change or break the date and clock the decoder keeps.
_HEADS = ["2024-01-01T00:00:00.", "2024-01-01T00:00:01.", "2024-02-31T23:59:60.", "2024-1-01T00:00:00.",
          "2024-13-01T00:00:00.", "2300-01-01T00:00:00.", "1960-06-30T12:00:00.", "2024-01-01T00:00:00Z"]
_ENDINGS = ["", "5", "123456789Z", "1234567891234", "000000000", "x", "+02:00", "9" * 50]


@given(st.lists(st.tuples(st.sampled_from(_HEADS), st.sampled_from(_ENDINGS)), min_size=1, max_size=12))
def test_each_time_of_a_batch_reads_as_on_its_own(times):
    texts = [head + ending for head, ending in times]
    lines = [json.dumps({"log": "x", "time": text}).encode() for text in texts]
    decoder = JsonLinesDecoder("log", "time", True)
    timestamps, _, _ = decoder.decode(lines, READ_TIME)
    alone = [parse_time_rfc3339(text) for text in texts]
    assert timestamps == [READ_TIME if ns in (-1, 0) else ns for ns in alone]
    assert decoder.time_errors == alone.count(-1)


def test_a_non_string_time_is_an_invalid_time():
    decoder = JsonLinesDecoder("log", "time", False)
    assert decoder.decode([b'{"log":"x","time":1704067200}'], READ_TIME) == (
        [READ_TIME],
        [{"log": "x", "time": 1704067200}],
        0,
    )
    assert decoder.time_errors == 1


def test_a_time_of_exactly_the_epoch_gets_the_read_time_as_in_tail():
    decoder = JsonLinesDecoder("log", "time", True)
    assert decoder.decode([b'{"time":"1970-01-01T00:00:00.0Z"}'], READ_TIME)[0] == [READ_TIME]
    assert decoder.time_errors == 0


def test_without_time_key_every_record_gets_the_read_time_and_keeps_its_keys():
    line = b'{"log":"x","time":"2024-01-01T00:00:00.5Z"}'
    assert decode_json_lines([line], READ_TIME, "log", None, False) == (
        [READ_TIME],
        [{"log": "x", "time": "2024-01-01T00:00:00.5Z"}],
        0,
    )


def test_another_time_format_is_read_by_the_given_time_parser():
    def epoch_seconds(text: str) -> int:
        return int(text) * 1_000_000_000 if text.isdigit() else -1

    decoder = JsonLinesDecoder("log", "ts", False, epoch_seconds)
    timestamps, records, failed = decoder.decode([b'{"ts":"100","a":"b"}', b'{"ts":"soon","a":"c"}'], READ_TIME)
    assert (timestamps, records, failed) == ([100_000_000_000, READ_TIME], [{"a": "b"}, {"ts": "soon", "a": "c"}], 0)
    assert decoder.time_errors == 1


def test_a_line_that_is_not_json_becomes_the_key_with_the_raw_line_and_the_read_time():
    assert docker([b"plain text line", DOCKER_LINE]) == (
        [READ_TIME, 1704067200123456789],
        [
            {"log": "plain text line"},
            {"log": "GET / 200\n", "stream": "stdout", "time": "2024-01-01T00:00:00.123456789Z"},
        ],
        1,
    )


def test_json_that_is_not_an_object_is_a_failed_line():
    lines = [b"[1,2]", b'"text"', b"12", b"null", b""]
    assert docker(lines) == (
        [READ_TIME] * 5,
        [{"log": "[1,2]"}, {"log": '"text"'}, {"log": "12"}, {"log": "null"}, {"log": ""}],
        5,
    )


def test_malformed_objects_are_failed_lines():
    lines = [b'{"a":"b"', b'{"a" "b"}', b'{"a":"b",}', b'{"a":"\\x"}']
    timestamps, records, failed = docker(lines)
    assert failed == 4
    assert records == [{"log": line.decode()} for line in lines]


@pytest.mark.parametrize("trailing", [b" garbage", b"   ", b" }", b" ]", b",", b' {"a"', b" tru", b" -", b' x"y',
                                      b' garbage{"a":1}', b", {\"a\":1}", b" [1 junk"])
def test_bytes_after_the_object_that_are_no_json_value_are_ignored(trailing: bytes) -> None:
    """Fluent Bit 4.2.8 reads the object and stops at what is not JSON (recorded: docker_trailing_garbage)."""
    assert docker([b'{"log":"x\\n","stream":"stdout","time":"2024-03-01T10:00:00.5Z"}' + trailing]) == (
        [1709287200_500000000], [{"log": "x\n", "stream": "stdout", "time": "2024-03-01T10:00:00.5Z"}], 0)


@pytest.mark.parametrize("trailing", [b" 123", b" {}", b'{"log":"y"}', b' "s" junk', b" true", b" 12x", b" [ ]",
                                      b" 1}"])
def test_a_second_json_value_after_the_object_fails_the_line(trailing: bytes) -> None:
    """Two values are not one record for Fluent Bit: the line stays whole with the read time."""
    line = b'{"log":"x"}' + trailing
    assert docker([line]) == ([READ_TIME], [{"log": line.decode()}], 1)


def test_a_nested_object_with_bytes_after_it_parses_too() -> None:
    assert one(b'  {"log":{"a":[1,2]}} garbage') == {"log": {"a": [1, 2]}}


def test_the_key_of_failed_lines_is_configurable():
    assert decode_json_lines([b"oops"], READ_TIME, "message", None, True)[1] == [{"message": "oops"}]


def test_whitespace_around_tokens_is_allowed():
    assert one(b' \t{ "a" : "b" , "c":"d" } ') == {"a": "b", "c": "d"}


def test_an_empty_object_is_an_empty_record():
    assert docker([b"{}"]) == ([READ_TIME], [{}], 0)


def test_short_escapes_are_unescaped():
    assert one(b'{"log":"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t"}') == {"log": 'q" b\\ s/ \b\f\n\r\t'}


def test_unicode_escapes_and_surrogate_pairs_become_their_characters():
    assert one(b'{"log":"\\u00e9\\u20AC\\ud83d\\ude00 \\u0000"}') == {"log": "é€😀 \x00"}


def test_escaped_keys_are_unescaped():
    assert one(b'{"k\\u00e9y":"v"}') == {"kéy": "v"}


def test_lone_surrogate_escapes_become_replacement_characters_as_yyjson_reads_them():
    # yyjson read_uni_esc (YYJSON_READ_REPLACE_INVALID_UNICODE): a high surrogate takes the \\u
    # escape after it along, one U+FFFD for both when that is no low surrogate (recorded:
    # tests/data/fluent-bit/docker_json_quirks).
    assert one(b'{"a":"x\\ud800y","b":"\\udc00","c":"\\ud800\\u0041","d":"\\ud83d\\ud83d\\ude00"}') == {
        "a": "x\ufffdy",
        "b": "\ufffd",
        "c": "\ufffd",
        "d": "\ufffd\ufffd",
    }


def test_a_unicode_escape_with_fewer_than_four_hex_digits_is_kept_and_eats_the_next_byte():
    assert one(b'{"a":"x\\u12 y","b":"\\uZZZZ","c":"\\u12\\n"}') == {"a": "x\\u12y", "b": "\\uZZZ", "c": "\\u12n"}


def test_raw_control_characters_in_strings_are_kept_in_nested_lines_too():
    assert one(b'{"log":"a\tb\x01","attrs":{"k":[1]}}') == {"log": "a\tb\x01", "attrs": {"k": [1]}}


def test_a_number_past_a_double_makes_the_line_no_json():
    assert docker([b'{"a":1e400}', b'{"a":[-1e400]}'])[1:] == ([{"log": '{"a":1e400}'}, {"log": '{"a":[-1e400]}'}], 2)


def test_a_repeated_key_keeps_its_last_value_at_its_last_place():
    # Fluent Bit's record holds both; its JSON writer keeps the last, where it stands.
    assert list(one(b'{"log":"first","a":1,"log":"second"}').items()) == [("a", 1), ("log", "second")]
    assert list(one(b'{"x":{"p":1,"q":2,"p":3},"y":[]}')["x"].items()) == [("q", 2), ("p", 3)]


def test_with_repeated_time_keys_the_first_gives_the_time_and_only_it_is_removed():
    line = b'{"log":"x","time":"2024-01-01T00:00:00.5Z","time":"2025-01-01T00:00:00.5Z"}'
    nested = b'{"log":{},"time":"2024-01-01T00:00:00.5Z","time":"2025-01-01T00:00:00.5Z"}'
    assert docker([line, nested], time_keep=False) == (
        [1704067200500000000, 1704067200500000000],
        [{"log": "x", "time": "2025-01-01T00:00:00.5Z"}, {"log": {}, "time": "2025-01-01T00:00:00.5Z"}],
        0,
    )


def test_invalid_utf8_keeps_each_byte_as_u_e000_plus_byte():
    # Fluent Bit passes the bytes through and its JSON outputs write byte b as U+E000 + b
    # (recorded: docker_invalid_utf8); the oracle is the stdlib decoder with flb_fast.text's handler.
    line = b'{"log":"bad \xff\xfe end \xed\xa0\x80","stream":"stdout"}'
    assert one(line) == json.loads(line.decode("utf-8", INVALID_UTF8)) == {
        "log": "bad \ue0ff\ue0fe end \ue0ed\ue0a0\ue080", "stream": "stdout"}


def test_invalid_utf8_in_a_nested_object_is_kept_too():
    assert one(b'{"log":{"msg":"\xc3("}}') == {"log": {"msg": "\ue0c3("}}


def test_invalid_utf8_in_a_line_that_is_not_json_is_kept_in_the_raw_record():
    assert docker([b"raw \xff line"])[1] == [{"log": "raw \ue0ff line"}]


def test_numbers_booleans_and_null_are_decoded():
    assert one(b'{"i":-12,"z":0,"f":1.5,"e":2E-3,"t":true,"n":false,"x":null,"big":123456789012345678901,'
               b'"u":18446744073709551615,"low":-9223372036854775809}') == {
        "i": -12,
        "z": 0,
        "f": 1.5,
        "e": 0.002,
        "t": True,
        "n": False,
        "x": None,
        "big": 1.2345678901234568e20,  # past uint64: a double, as yyjson reads it
        "u": 18446744073709551615,
        "low": -9.223372036854775808e18,
    }


def test_nested_objects_and_arrays_are_decoded_in_full():
    line = b'{"log":"x","data":{"a":[1,{"b":"c"}],"d":{}},"time":"2024-01-01T00:00:00.5Z"}'
    assert docker([line], time_keep=False) == (
        [1704067200500000000],
        [{"log": "x", "data": {"a": [1, {"b": "c"}], "d": {}}}],
        0,
    )


def test_bytearray_and_memoryview_lines_are_accepted():
    assert docker([bytearray(b'{"a":"b"}'), memoryview(b'{"c":"d"}')])[1] == [{"a": "b"}, {"c": "d"}]


def escape_json_string(text: str, rng: random.Random) -> str:
    """A JSON string literal with each character written raw or escaped at random."""
    out = ['"']
    short = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "/": "\\/"}
    for char in text:
        code = ord(char)
        must_escape = char in '"\\' or code < 0x20
        choice = rng.random()
        if char in short and (must_escape or choice < 0.3):
            out.append(short[char] if choice < 0.6 or char not in '"\\\n\r\t\b\f' else f"\\u{code:04x}")
        elif must_escape or choice < 0.2:
            if code > 0xFFFF:
                high, low = divmod(code - 0x10000, 0x400)
                out.append(f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


@given(
    record=st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6),
    seed=st.integers(0, 2**32),
    spacing=st.sampled_from(["", " ", "\t", " \r\n "]),
)
def test_flat_objects_with_random_escaping_decode_like_json_loads(record, seed, spacing):
    rng = random.Random(seed)
    items = [f"{escape_json_string(k, rng)}{spacing}:{spacing}{escape_json_string(v, rng)}" for k, v in record.items()]
    line = ("{" + spacing + ("," + spacing).join(items) + spacing + "}").encode()
    timestamps, records, failed = decode_json_lines([line], READ_TIME, "log", None, True)
    assert (records, failed) == ([json.loads(line)], 0)


@given(
    record=st.dictionaries(st.text(max_size=20), st.text(st.sampled_from('ab"\\/\n\u00e9\u2603\U0001f600 '), max_size=120)
                           | st.text(max_size=200), max_size=4),
    seed=st.integers(0, 2**32),
)
def test_long_strings_scanned_sixteen_bytes_at_a_time_decode_like_json_loads(record, seed):
    """Runs of plain bytes longer than the scanner's blocks, quotes and backslashes anywhere in a
    block, and bytes beyond ASCII before and after them."""
    rng = random.Random(seed)
    items = [f"{escape_json_string(k, rng)}:{escape_json_string(v, rng)}" for k, v in record.items()]
    line = ("{" + ",".join(items) + "}").encode()
    timestamps, records, failed = decode_json_lines([line], READ_TIME, "log", None, True)
    assert (records, failed) == ([json.loads(line)], 0)


@given(
    record=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=5,
    )
)
def test_any_json_object_decodes_like_json_loads(record):
    line = json.dumps(record).encode()
    assert decode_json_lines([line], READ_TIME, "log", None, True)[1] == [json.loads(line)]


@given(
    st.lists(
        st.binary(max_size=60)
        | st.lists(
            st.sampled_from(
                [
                    b"{",
                    b"}",
                    b'"',
                    b"\\",
                    b"\\u",
                    b"d83d",
                    b"dc00",
                    b":",
                    b",",
                    b"1",
                    b"e",
                    b"\xff",
                    b"\xc3",
                    b" ",
                    b"a",
                ]
            ),
            max_size=30,
        ).map(b"".join),
        max_size=20,
    )
)
def test_hostile_lines_never_crash_and_each_gives_one_record(lines):
    timestamps, records, failed = decode_json_lines(lines, READ_TIME, "log", "time", False)
    assert len(timestamps) == len(records) == len(lines)
    assert all(type(record) is dict for record in records)
    assert 0 <= failed <= len(lines)
    for line, record in zip(lines, records, strict=True):
        if record == {"log": line.decode("utf-8", "replace")}:
            continue
        assert all(type(key) is str for key in record)


_JSON_PIECES = [b"{", b"}", b"[", b"]", b'"', b'"k"', b'"log"', b'"time"', b":", b",", b" ", b"\t", b"\\", b"\\u",
                b"d83d", b"dc00", b"12", b"ZZ", b"\\n", b"\\x", b"1", b"-0", b"1e400", b"18446744073709551616",
                b"0.5", b"true", b"null", b"\x01", b"\xff", b"\xc3", b"\xc3\xa9", b"a"]


@given(st.lists(st.lists(st.sampled_from(_JSON_PIECES), max_size=40).map(b"".join), min_size=1, max_size=12))
def test_the_compiled_decoder_reads_every_line_as_the_reference_reader(lines):
    """_core's scanner and msgspec path against json_line (yyjson's rules), record for record, key
    order included; a line the reference reads no object from is the raw line under the key."""
    _, records, _ = decode_json_lines(lines, READ_TIME, "log", None, True)
    for line, record in zip(lines, records, strict=True):
        expected = first_json_object(line)
        if expected is None:
            expected = {"log": line.decode("utf-8", INVALID_UTF8)}
        assert json.dumps(record) == json.dumps(expected)


@given(st.lists(st.sampled_from(_JSON_PIECES), max_size=40).map(b"".join))
def test_colons_keys_and_long_numbers_are_found_alike_compiled_and_in_python(line):
    value = first_json_object(line)
    assert json_shape(line, value) == json_line.json_shape(line, value)
