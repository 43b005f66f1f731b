"""Record encoding shared by the AWS outputs."""

from __future__ import annotations

import json

from flb_fast.outputs.aws.encode import ENCODE_SLICE_RECORDS, RecordEncoder, format_time

TS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z


def test_whole_records_are_json_in_key_order() -> None:
    assert RecordEncoder().encode({"z": 1, "a": "é", "m": [1, None]}, TS) == '{"z":1,"a":"é","m":[1,null]}'.encode()


def test_log_key_string_values_are_sent_raw() -> None:
    assert RecordEncoder(log_key="log").encode({"log": 'say "hi"\n', "x": 1}, TS) == b'say "hi"\n'


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


def test_data_keys_keep_only_the_listed_keys() -> None:
    assert RecordEncoder(data_keys=["b", "c"]).encode({"a": 1, "b": 2, "c": 3}, TS) == b'{"b":2,"c":3}'


def test_replace_dots_rewrites_nested_keys() -> None:
    record = {"a.b": {"c.d": 1}, "l": [{"e.f": 2}]}
    assert RecordEncoder(replace_dots="_").encode(record, TS) == b'{"a_b":{"c_d":1},"l":[{"e_f":2}]}'


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
