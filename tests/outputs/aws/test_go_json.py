"""The AWS Go plugins' JSON (``Name cloudwatch``, ``firehose``, ``kinesis``), checked against
what their libraries wrote for the same records: jsoniter 1.1.12 for records, encoding/json for
``log_key`` values that are not strings (tests/data/outputs/go_json, recorded by
``python -m tools.record_go_json``)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import msgspec
import pytest

from flb_fast.outputs.aws.go_json import MAX_KEPT_MAPS, GoJsonError, go_float, go_json, go_log_key_json, go_string

DATA = Path(__file__).resolve().parents[2] / "data" / "outputs" / "go_json"
RECORDS: list[dict[str, Any]] = msgspec.msgpack.decode((DATA / "records.msgpack").read_bytes())


def _expected(name: str) -> list[bytes | None]:
    """Each recorded line: the bytes written, or None where the library refused."""
    return [None if line.startswith("error: ") else base64.b64decode(line)
            for line in (DATA / name).read_text().splitlines()]


def _ours(write: Any, value: Any) -> bytes | None:
    try:
        return write(value)
    except GoJsonError:
        return None


def test_records_are_written_byte_for_byte_as_jsoniter_wrote_them() -> None:
    expected = _expected("records.expected")
    assert len(expected) == len(RECORDS) > 100
    assert [_ours(go_json, record) for record in RECORDS] == expected


def test_log_key_values_are_written_as_the_plugins_encode_log_key_wrote_them() -> None:
    values = [record["log"] for record in RECORDS if "log" in record]
    expected = _expected("log_key.expected")
    assert len(expected) == len(values) > 5
    ours = [value.encode() if isinstance(value, str) else _ours(go_log_key_json, value) for value in values]
    assert ours == expected


def test_keys_are_sorted_at_every_depth() -> None:
    assert go_json({"b": 1, "a": {"d": 2, "c": [{"f": 3, "e": 4}]}}) == b'{"a":{"c":[{"e":4,"f":3}],"d":2},"b":1}'


def test_keys_sort_as_their_text_not_as_their_escaped_json() -> None:
    # '<' (0x3C) sorts before 'A' (0x41) although its JSON starts with a backslash (0x5C).
    assert go_json({"A": 1, "<": 2}) == b'{"\\u003c":2,"A":1}'


def test_strings_escape_html_characters_and_line_separators() -> None:
    assert go_string("<a href='x'>&</a>\u2028\u2029") == '"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e\\u2028\\u2029"'


def test_strings_write_control_characters_as_go_does_and_del_as_it_is() -> None:
    assert go_string("\b\f\n\r\t\x00\x7f") == '"\\u0008\\u000c\\n\\r\\t\\u0000\x7f"'


def test_a_lone_surrogate_is_the_replacement_character() -> None:
    assert go_string("a\udcffb") == '"a\\ufffdb"'


def test_bytes_are_text_with_one_replacement_character_per_invalid_byte() -> None:
    assert go_json({"b": b"a\xe2\x80z"}) == b'{"b":"a\\ufffd\\ufffdz"}'


@pytest.mark.parametrize(
    ("value", "jsoniter", "encoding_json"),
    [
        (3.0, "3", "3"),
        (-0.0, "-0", "-0"),
        (0.1, "0.1", "0.1"),
        (1e20, "100000000000000000000", "100000000000000000000"),
        (1e21, "1e+21", "1e+21"),
        (1e-6, "0.000001", "0.000001"),
        (1.5e-7, "1.5e-07", "1.5e-7"),
        (1e-300, "1e-300", "1e-300"),
        (-123456789.125, "-123456789.125", "-123456789.125"),
    ],
)
def test_floats_are_go_s_shortest_form(value: float, jsoniter: str, encoding_json: str) -> None:
    assert go_float(value) == jsoniter
    assert go_float(value, trim_exponent=True) == encoding_json


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_are_refused(value: float) -> None:
    with pytest.raises(GoJsonError, match="unsupported value"):
        go_json({"v": value})


def test_a_map_is_refused_as_a_log_key_value_alone_or_inside_a_list() -> None:
    for value in ({"a": 1}, [1, {"a": 1}]):
        with pytest.raises(GoJsonError, match="unsupported type"):
            go_log_key_json(value)


def test_a_map_records_share_is_written_once_a_call_and_the_record_itself_is_not_kept() -> None:
    pod = {"pod_name": "web", "labels": {"b": "2", "a": "1"}}
    memo: dict[int, str] = {}
    records = [{"log": str(n), "kubernetes": pod} for n in range(3)]
    written = [go_json(record, memo) for record in records]
    assert written == [go_json(record) for record in records]
    assert written[0] == b'{"kubernetes":{"labels":{"a":"1","b":"2"},"pod_name":"web"},"log":"0"}'
    assert set(memo) == {id(pod), id(pod["labels"])}


def test_a_call_keeps_at_most_max_kept_maps() -> None:
    memo: dict[int, str] = {}
    maps = [{"n": n} for n in range(MAX_KEPT_MAPS + 5)]
    for inner in maps:
        go_json({"m": inner}, memo)
    assert len(memo) == MAX_KEPT_MAPS
