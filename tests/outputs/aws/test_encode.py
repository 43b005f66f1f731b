"""Record encoding shared by the AWS outputs."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.outputs.aws.encode import ENCODE_SLICE_RECORDS, RecordEncoder, format_time

TS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z


def test_whole_records_are_fluent_bits_json_in_key_order() -> None:
    assert RecordEncoder().encode({"z": 1, "a": "é", "m": [1, None]}, TS) == b'{"z":1,"a":"\\u00e9","m":[1,null]}'


def test_log_key_string_values_are_sent_raw() -> None:
    assert RecordEncoder(log_key="log").encode({"log": 'say "hi"\n', "x": 1}, TS) == b'say "hi"\n'


def test_log_key_strings_of_fluent_bits_kinesis_plugins_are_their_json_without_the_quotes() -> None:
    """firehose_api.c / kinesis_api.c strip the first and last character of the value's JSON
    (Fluent Bit 4.2.8 sent these to the tests' Firehose endpoint: tools/generated.py firehose)."""
    encoder = RecordEncoder(log_key="log", log_key_json=True)
    assert encoder.encode({"log": 'caf\u00e9 qu"ote\ttab'}, TS) == b'caf\\u00e9 qu\\"ote\\ttab'


def test_log_key_other_values_are_json() -> None:
    assert RecordEncoder(log_key="log").encode({"log": {"a": [1]}}, TS) == b'{"a":[1]}'


def test_log_key_missing_is_none() -> None:
    assert RecordEncoder(log_key="log").encode({"x": 1}, TS) is None


def test_time_key_is_appended_as_the_last_key() -> None:
    encoded = RecordEncoder(time_key="time").encode({"a": 1}, TS)
    assert encoded == b'{"a":1,"time":"2023-11-14T22:13:20"}'


def test_time_key_on_an_empty_record() -> None:
    assert json.loads(RecordEncoder(time_key="t").encode({}, TS)) == {"t": "2023-11-14T22:13:20"}


def test_time_key_format_fractions() -> None:
    assert format_time(TS, "%H:%M:%S.%3N") == "22:13:20.123"
    assert format_time(TS, "%S.%9N") == "20.123456789"
    assert format_time(TS, "%S.%L") == "20.123456789"


def test_go_data_keys_keep_only_the_listed_keys() -> None:
    assert RecordEncoder(data_keys=["c", "b"], go=True).encode({"c": 3, "a": 1, "b": 2}, TS) == b'{"b":2,"c":3}'


def test_go_replace_dots_rewrites_keys_of_nested_maps_not_of_maps_in_lists() -> None:
    record = {"a.b": {"c.d": 1}, "l": [{"e.f": 2}]}
    assert RecordEncoder(replace_dots="_", go=True).encode(record, TS) == b'{"a_b":{"c_d":1},"l":[{"e.f":2}]}'


def test_go_time_key_is_sorted_with_the_other_keys() -> None:
    encoded = RecordEncoder(time_key="b", go=True).encode({"c": 1, "a": 2}, TS)
    assert encoded == b'{"a":2,"b":"2023-11-14T22:13:20","c":1}'


def test_go_time_key_is_set_before_data_keys_which_may_leave_it_out() -> None:
    assert RecordEncoder(time_key="t", data_keys=["a"], go=True).encode({"a": 1, "b": 2}, TS) == b'{"a":1}'


def test_go_time_key_format_reads_l_as_milliseconds_and_f_as_microseconds() -> None:
    encoded = RecordEncoder(time_key="t", time_key_format="%H:%M:%S.%L|%f", go=True).encode({}, TS)
    assert encoded == b'{"t":"22:13:20.123|123456"}'


def test_go_time_key_replaces_a_key_of_the_same_name() -> None:
    assert RecordEncoder(time_key="t", go=True).encode({"t": "old"}, TS) == b'{"t":"2023-11-14T22:13:20"}'


def test_go_records_are_written_as_the_go_plugins_write_them() -> None:
    record = {"z": 3.0, "a": "<é>", "m": {"y": 1e21, "x": None}}
    assert RecordEncoder(go=True).encode_all([record], [TS]) == [
        '{"a":"\\u003cé\\u003e","m":{"x":null,"y":1e+21},"z":3}'.encode()
    ]


def test_go_a_record_the_go_plugins_cannot_write_is_none_and_counted_as_refused() -> None:
    encoder = RecordEncoder(go=True)
    assert encoder.encode_all([{"a": float("nan")}, {"a": 1}], [TS, TS]) == [None, b'{"a":1}']
    assert encoder.take_refused() == (1, "unsupported value: nan")
    assert encoder.take_refused() == (0, "unsupported value: nan")


def test_go_log_key_string_is_sent_as_it_is_and_a_map_is_refused() -> None:
    encoder = RecordEncoder(log_key="log", go=True)
    assert encoder.encode({"log": " a<b\n"}, TS) == b" a<b\n"
    assert encoder.encode({"log": [1.5e-7, "<"]}, TS) == b'[1.5e-7,"\\u003c"]'
    assert encoder.encode({"log": {"k": 1}}, TS) is None
    assert encoder.take_refused() == (1, "json: unsupported type: map[interface {}]interface {}")


def test_undecodable_text_is_still_encoded() -> None:
    encoded = RecordEncoder().encode({"log": "bad \udcff byte"}, TS)
    assert json.loads(encoded) == {"log": "bad \udcff byte"}
    assert encoded.isascii()


def test_unsupported_values_are_encoded_as_their_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    assert RecordEncoder().encode({"v": Opaque()}, TS) == b'{"v":"opaque"}'


def test_log_key_values_are_always_valid_utf8() -> None:
    assert RecordEncoder(log_key="log").encode({"log": b"\xffok"}, TS) == "\ufffdok".encode()
    assert RecordEncoder(log_key="log").encode({"log": "x\udcffy"}, TS) == b"x?y"


def test_records_encoded_together_are_each_record_encoded_alone() -> None:
    records = [{"log": "line\nwith newline"}, {}, {"a": "é", "n": [1, {"b": None}]}, {"log": "bad \udcff byte"}]
    for encoder in (RecordEncoder(), RecordEncoder(log_key="log"), RecordEncoder(time_key="t")):
        assert encoder.encode_all(records, [TS] * len(records)) == [encoder.encode(record, TS) for record in records]
    many = [{"n": n} for n in range(ENCODE_SLICE_RECORDS * 2 + 3)]
    assert RecordEncoder().encode_all(many, [TS] * len(many)) == [RecordEncoder().encode(record, TS) for record in many]


def test_a_suffix_follows_every_non_empty_encoding() -> None:
    records = [{"log": "a"}, {"log": ""}, {"x": 1}, {"log": {"k": "é"}}]
    for encoder in (RecordEncoder(), RecordEncoder(log_key="log"), RecordEncoder(time_key="t")):
        plain = encoder.encode_all(records, [TS] * len(records))
        suffixed = encoder.encode_all(records, [TS] * len(records), b"\n")
        assert suffixed == [data + b"\n" if data else data for data in plain]


compiled = pytest.mark.skipif(not hasattr(_core, "records_json"), reason="flb_fast._core is not built")
# Fluent Bit's JSON of a value, as the output hands it to the compiled writer.
ENCODE = RecordEncoder().encode_value

_text = st.text(alphabet=st.characters(), max_size=12)
_scalar = st.one_of(
    _text, st.integers(-(2**70), 2**70), st.floats(), st.none(), st.booleans(), st.just("\udcff lone surrogate")
)
_value = st.recursive(
    _scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=2).map(tuple),
        st.dictionaries(_text, children, max_size=3),
    ),
    max_leaves=12,
)


@st.composite
def _records_sharing_containers(draw: st.DrawFn) -> list[dict[Any, Any]]:
    """Records whose values are fresh, or one of a few maps and lists they all may reference."""
    pool = draw(st.lists(st.one_of(st.dictionaries(_text, _value, max_size=3), st.lists(_value, max_size=3)),
                         min_size=1, max_size=4))
    pool += [{"inner": pool[0], "list": [pool[-1]]}]
    value = st.one_of(_value, st.sampled_from(pool))
    keys = st.one_of(_text, st.just(1))
    return draw(st.lists(st.dictionaries(keys, value, max_size=5), max_size=12))


def write(records: list[Any], suffix: bytes = b"") -> list[bytes]:
    """``_core.records_json`` as ``RecordEncoder.encode_all`` calls it."""
    encoder = RecordEncoder()
    return _core.records_json(records, encoder.encode_value, lambda index: encoder.encode(records[index], TS), suffix)


@compiled
@settings(max_examples=300)
@given(records=_records_sharing_containers(), suffix=st.sampled_from([b"", b"\n"]))
def test_the_compiled_writer_writes_records_as_the_python_path(records: list[dict[Any, Any]], suffix: bytes) -> None:
    assert write(records, suffix) == RecordEncoder().encode_slices(records, suffix)


# Runs of characters Fluent Bit writes as they are, of every length around the 8- and 16-byte steps
# the compiled writer copies them in, between characters it must escape or encode.
_long_text = st.lists(
    st.one_of(st.text("ab/ {}:z~", min_size=1, max_size=40),
              st.sampled_from(['"', "\\", "\x00", "\x1f", "\n", "\x7f", "\x80", "é", "ÿ", "日", "😀"])),
    max_size=6,
).map("".join)


@compiled
@settings(max_examples=300)
@given(texts=st.lists(_long_text, min_size=1, max_size=8))
def test_strings_of_every_length_with_escapes_anywhere_are_written_as_the_python_path(texts: list[str]) -> None:
    records = [{text: text} for text in texts]
    assert write(records, b"") == RecordEncoder().encode_slices(records, b"")


# Strings longer than the compiled writer's segment (_JSON_SEGMENT_CHARS), with characters to
# escape or encode on either side of each segment's end.
LONG_TEXTS = ["a" * 2047 + "\u00e9" + "b" * 2047 + "\U0001F600" + '"' * 3 + "c" * 5000,
              "\u65e5" * 4100 + "\x7f", "x" * 2048 + "\\" + "\n" * 2049]


@compiled
def test_strings_longer_than_a_segment_are_written_as_the_python_path() -> None:
    records = [{"log": text, text[:3]: [text]} for text in LONG_TEXTS]
    assert write(records, b"") == RecordEncoder().encode_slices(records, b"")


@compiled
def test_fluent_bits_rendering_escapes_non_ascii_and_del_and_writes_its_floats() -> None:
    records = [{"t": "caf\u00e9 \U0001F600 \x7f", "f": [1e20, 3.0, 0.1, 9.5e18, -math.nan]}]
    expected = [b'{"t":"caf\\u00e9 \\ud83d\\ude00 \\u007f","f":[1e+20,3.0,0.1,9.5e+18,-nan]}']
    assert write(records, b"") == RecordEncoder().encode_slices(records) == expected


@compiled
def test_records_sharing_maps_are_written_as_records_with_equal_distinct_maps() -> None:
    labels = {"app": "web é", "tier": 'a"b\n\x7f'}
    pod = {"pod_name": "web-1", "labels": labels, "ports": [80, {"name": "http 😀"}]}
    records = [{"log": f"line {i}\n", "kubernetes": pod, "also": labels if i % 2 else [pod]} for i in range(50)]
    assert write(records) == write(copy.deepcopy(records)) == [ENCODE(record) for record in records]


@compiled
def test_more_shared_maps_than_the_memo_keeps_are_each_written_the_same() -> None:
    pods = [{"pod_name": f"p{n}", "labels": {"n": n}} for n in range(_core.JSON_MEMO_ENTRIES + 4)]
    records = [{"log": str(index), "kubernetes": pods[index % len(pods)]} for index in range(3 * len(pods))]
    assert write(records) == [ENCODE(record) for record in records]


@compiled
def test_shared_maps_past_the_memo_bytes_are_each_written_the_same() -> None:
    # Each map is 0.6 MB of JSON: the memo has room for one.
    pods = [{"blob": "x" * 600_000, "n": n} for n in range(3)]
    assert 2 * 600_000 > _core.JSON_MEMO_BYTES
    records = [{"kubernetes": pods[index % 3], "i": index} for index in range(9)]
    assert write(records) == [ENCODE(record) for record in records]


@compiled
def test_a_record_the_writer_gives_up_on_is_the_fallbacks() -> None:
    shared = {"bad": "lone \udcff"}
    records = [{"a": shared}, {"ok": 1}, {"b": shared}, {2: "int key"}, {"f": 1.5, "big": 2**80}]
    assert write(records, b"\n") == [RecordEncoder().encode(record, TS) + b"\n" for record in records]  # type: ignore[operator]


def test_data_keys_and_replace_dots_without_go_are_refused() -> None:
    with pytest.raises(ValueError, match="need go"):
        RecordEncoder(data_keys=["a"])
    with pytest.raises(ValueError, match="need go"):
        RecordEncoder(replace_dots="_")
