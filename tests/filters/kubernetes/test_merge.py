"""Merge_Log on records in place: Fluent Bit's pack_map_content, rule by rule."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.filters.kubernetes.merge import (
    RecordProcessor,
    attach,
    json_object,
    merge_json_logs,
    merge_parsed_logs,
    trim_value,
)
from flb_fast.filters.kubernetes.meta import NO_PROPS, Props
from flb_fast.jsmn import read_object
from flb_fast.parsers.base import ParserRegistry
from flb_fast.record import Chunk
from tests.parsers.helpers import ns
from tests.parsers.helpers import parser as make_parser


def options(**overrides) -> SimpleNamespace:
    values = {"merge_log": True, "merge_log_key": None, "merge_log_trim": True, "keep_log": True, "merge_parser": None}
    values.update(overrides)
    return SimpleNamespace(**values)


def apply(records: list[dict], props: Props = NO_PROPS, **overrides) -> Chunk | None:
    chunk = Chunk("t", [7] * len(records), records, 0)
    kept = RecordProcessor(options(**overrides), ParserRegistry()).apply(chunk, {"pod_name": "p"}, None, props)
    return chunk if kept else None


def ordered(record: dict) -> str:
    return json.dumps(record)


@pytest.mark.parametrize(
    ("value", "trimmed"),
    [
        ("abc\n", "abc"),
        ("abc\n\n", "abc"),
        ("abc\\n", "abc"),
        ("abc\\r\\n\n", "abc"),
        ("abc\r", "abc\r"),
        ("\n", "\n"),
        ("a\n", "a"),
        ("plain", "plain"),
        ("ends in n", "ends in n"),
    ],
)
def test_trim_value_drops_what_value_trim_size_drops(value: str, trimmed: str) -> None:
    assert trim_value(value) == trimmed


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ('{"a":1}', {"a": 1}),
        ('{"a":1}\n', {"a": 1}),
        (' \t{"a":1}\r\n', {"a": 1}),
        ("{}", {}),
        ("[1]", None),
        ('"s"', None),
        ("12", None),
        ('{"a":1}{"b":2}', None),
        ('{"a":', None),
        ('{"a":01,"b":1e300,"c":"x\ty"}', {"a": 1, "b": 1, "c": "x\ty"}),
        ('{"a":1.5,"b":1e+3,"s":"e5"}', {"a": 1.5, "b": 1000.0, "s": "e5"}),
        ('{"a":18446744073709551616}', {"a": 18446744073709551616.0}),
        ("", None),
        (None, None),
        (5, None),
    ],
)
def test_json_object_accepts_exactly_one_object(log, expected) -> None:
    assert json_object(log) == expected
    assert repr(json_object(log)) == repr(expected)


def _json_members(values):
    """JSON objects of up to three members whose keys may repeat, written from ``values``."""
    return st.lists(st.tuples(st.sampled_from(["a", "b", "c", "e1"]), values), max_size=3).map(
        lambda members: "{" + ",".join(f'"{k}":{v}' for k, v in members) + "}")


# Number literals where msgspec and jsmn's reader may part (exponents with and without a sign,
# leading zeros, integers around and past 64 bits), inside JSON objects and arrays.
_number_literal = st.one_of(
    st.integers(min_value=-(1 << 70), max_value=1 << 70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(st.integers(0, 99), st.sampled_from(["e", "E", "e+", "e-", "E+", "."]), st.integers(0, 400)).map(
        lambda t: f"{t[0]}{t[1]}{t[2]}"),
    st.sampled_from(["01", "-0", "-0.0", "1.", "0x10", "tru", "nul", "9223372036854775808", "-9223372036854775809"]),
)
_json_like = st.recursive(
    _number_literal | st.sampled_from(['"e5"', '"a\tb"', '"\\ud800"', "true", "null"]),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        _json_members(inner),
    ),
    max_leaves=8,
)


@settings(max_examples=400)
@given(_json_members(_json_like))
def test_json_object_reads_every_log_as_fluent_bits_jsmn_reader_does(log: str) -> None:
    """msgspec's fast reading is kept only where it equals the reader's (tests/test_jsmn.py),
    the order of the keys included."""
    assert repr(json_object(log)) == repr(read_object(log))


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ('{"a":1,"b":2,"a":3}', {"b": 2, "a": 3}),
        ('{"t":"10:00:00","a":1,"t":"11:00"}', {"a": 1, "t": "11:00"}),
        ('{"a":{"x":1,"y":2,"x":3},"b":1}', {"a": {"y": 2, "x": 3}, "b": 1}),
        ('{"k":"v\\":x","k":"w"}', {"k": "w"}),
        ('{"a" : 1,\n "b" :2, "a"\t:3}', {"b": 2, "a": 3}),
        ('{"u":"http://x","t":"10:00:00","u":"y"}', {"t": "10:00:00", "u": "y"}),
    ],
)
def test_a_key_repeated_in_the_log_is_merged_at_its_last_place(log, expected) -> None:
    """As Fluent Bit 4.2.8 writes it (recorded: tests/data/fluent-bit/kube_merge_log_repeated_keys);
    msgspec alone would keep the first place."""
    assert ordered(json_object(log)) == ordered(expected)


def test_a_quote_before_a_colon_inside_a_string_is_no_repeated_key() -> None:
    assert ordered(json_object('{"k":"a\\": b","n":1}')) == ordered({"k": 'a": b', "n": 1})


def test_merged_keys_follow_the_record_keys_and_precede_kubernetes() -> None:
    out = apply([{"log": '{"b":2,"a":1}\n', "stream": "stdout"}])
    assert ordered(out.records[0]) == ordered(
        {"log": '{"b":2,"a":1}\n', "stream": "stdout", "b": 2, "a": 1, "kubernetes": {"pod_name": "p"}}
    )


def test_an_empty_object_adds_no_merge_log_key_but_still_counts_as_merged() -> None:
    out = apply([{"log": "{}", "stream": "stdout"}], merge_log_key="data", keep_log=False)
    assert out.records == [{"stream": "stdout", "kubernetes": {"pod_name": "p"}}]


def test_only_top_level_string_values_are_trimmed() -> None:
    out = apply([{"log": '{"a":"x\\n","n":{"b":"y\\n"},"l":["z\\n"]}'}], merge_log_key="data")
    assert out.records[0]["data"] == {"a": "x", "n": {"b": "y\n"}, "l": ["z\n"]}


def test_a_log_that_is_already_a_map_is_merged_untrimmed() -> None:
    out = apply([{"log": {"a": "x\n"}, "stream": "stdout"}], merge_log_key="data")
    assert out.records[0] == {
        "log": {"a": "x\n"},
        "stream": "stdout",
        "data": {"a": "x\n"},
        "kubernetes": {"pod_name": "p"},
    }


def test_a_merged_key_that_exists_replaces_the_value_in_place() -> None:
    out = apply([{"log": '{"stream":"custom","x":1}', "stream": "stdout"}])
    assert ordered(out.records[0]) == ordered(
        {"log": '{"stream":"custom","x":1}', "stream": "custom", "x": 1, "kubernetes": {"pod_name": "p"}}
    )


def test_records_without_a_log_key_only_get_metadata() -> None:
    out = apply([{"message": "{}"}])
    assert out.records == [{"message": "{}", "kubernetes": {"pod_name": "p"}}]


def test_merge_log_off_leaves_json_alone() -> None:
    out = apply([{"log": '{"a":1}'}], merge_log=False)
    assert out.records == [{"log": '{"a":1}', "kubernetes": {"pod_name": "p"}}]


def test_exclude_per_stream_drops_only_that_stream_and_its_timestamps() -> None:
    records = [{"log": "o", "stream": "stdout"}, {"log": "e", "stream": "stderr"}, {"log": "n"}]
    out = apply(records, Props(stderr_exclude=True))
    assert [r["log"] for r in out.records] == ["o", "n"]
    assert out.timestamps == [7, 7]


def test_records_without_a_stream_are_excluded_only_when_both_streams_are() -> None:
    assert apply([{"log": "n"}], Props(stdout_exclude=True)) is not None
    assert apply([{"log": "n"}], Props(stdout_exclude=True, stderr_exclude=True)) is None


# The compiled loop against its Python twin, on generated logs (where the extension is built).
needs_core = pytest.mark.skipif(
    not hasattr(_core, "kube_merge_json_logs"), reason="flb_fast._core is not built for this Python"
)
_log_text = st.one_of(
    st.text(alphabet=st.sampled_from(list(' \t\r\n{}[]":,\\nr0a1é')), max_size=24),
    st.dictionaries(
        st.text(max_size=4), st.one_of(st.text(alphabet="ab\n\\nré☃😀", max_size=6), st.integers(), st.none()), max_size=4
    ).map(lambda d: json.dumps(d) + "\n"),
    st.dictionaries(st.text(max_size=3), st.text(alphabet="x\n", max_size=3), max_size=3),
    st.lists(_number_literal, min_size=1, max_size=3).map(lambda n: '{"n":[' + ",".join(n) + "]}"),
    # Keys that may repeat, at the top and nested, and quotes before colons inside strings,
    # in one-byte and wider strs.
    _json_members(st.sampled_from(['1', '"x\\n"', '"a\\": b"', '"☃\\" :"', '{"a":1,"a":2}', '[{"p":1,"p":2}]'])),
    st.none(),
    st.integers(),
)


@needs_core
@settings(max_examples=300)
@given(
    logs=st.lists(_log_text, max_size=8),
    key=st.sampled_from([None, "data"]),
    trim=st.booleans(),
    keep_log=st.booleans(),
)
def test_the_compiled_merge_matches_the_python_twin(logs, key, trim, keep_log) -> None:
    def records() -> list[dict]:
        return [{"log": json.loads(json.dumps(log)), "stream": "stdout"} for log in logs]

    compiled, python = records(), records()
    assert _core.kube_merge_json_logs(compiled, key, trim, keep_log) == merge_json_logs(python, key, trim, keep_log)
    assert [ordered(r) for r in compiled] == [ordered(r) for r in python]


@needs_core
@given(st.text(alphabet="ab\\nr\n\r", max_size=12))
def test_the_compiled_trim_matches_the_python_twin(value: str) -> None:
    assert _core.kube_trim_value(value) == trim_value(value)


@pytest.mark.parametrize("merge", [merge_json_logs, _core.kube_merge_json_logs])
def test_a_merged_key_the_record_has_replaces_it_after_the_records_keys(merge) -> None:
    """Fluent Bit 4.2.8 (recorded: tests/data/fluent-bit/kube_merge_log_collisions)."""
    records = [{"log": '{"stream":"merged","a":1}', "stream": "stdout", "time": "t0"},
               {"log": '{"time":"t","log":"inner","b":2}', "stream": "stdout", "time": "t1"}]
    merge(records, None, False, True)
    assert [ordered(r) for r in records] == [
        ordered({"log": '{"stream":"merged","a":1}', "time": "t0", "stream": "merged", "a": 1}),
        ordered({"stream": "stdout", "time": "t", "log": "inner", "b": 2}),
    ]


def test_a_merged_kubernetes_key_gives_way_to_the_metadata_map_at_the_end() -> None:
    chunk = apply([{"log": '{"kubernetes":"x","c":3}', "stream": "stdout"}])
    assert chunk is not None
    assert ordered(chunk.records[0]) == ordered(
        {"log": '{"kubernetes":"x","c":3}', "stream": "stdout", "c": 3, "kubernetes": {"pod_name": "p"}})


# A regex parser with a time (Merge_Parser or an annotation's), its lines and near misses.
_TIMED = make_parser(Name="timed", Format="regex", Regex=r"^(?<time>\S+) (?<level>\w+) (?<msg>.*)$",
                     Time_Format="%Y-%m-%d", Time_Keep="Off")
_parsed_log = st.one_of(
    st.builds(lambda day, level, msg: f"2026-11-{day:02d} {level} {msg}",
              st.integers(0, 31), st.sampled_from(["info", "x", ""]), st.text(alphabet="ab \n\\nr", max_size=6)),
    _log_text,
)


@needs_core
@settings(max_examples=300)
@given(
    logs=st.lists(_parsed_log, max_size=8),
    picked=st.lists(st.booleans(), min_size=8, max_size=8),
    key=st.sampled_from([None, "data"]),
    trim=st.booleans(),
    keep_log=st.booleans(),
)
def test_the_compiled_parsed_merge_matches_the_python_twin(logs, picked, key, trim, keep_log) -> None:
    indexes = [index for index in range(len(logs)) if picked[index]]

    def records() -> list[dict]:
        return [{"log": json.loads(json.dumps(log)), "stream": "stdout"} for log in logs]

    compiled, python = records(), records()
    compiled_times, python_times = [7] * len(logs), [7] * len(logs)
    assert _core.kube_merge_parsed_logs(compiled, compiled_times, indexes, _TIMED.parse_batch, key, trim, keep_log,
                                        99) == merge_parsed_logs(python, python_times, indexes, _TIMED.parse_batch,
                                                                 key, trim, keep_log, 99)
    assert [ordered(r) for r in compiled] == [ordered(r) for r in python]
    assert compiled_times == python_times


def test_a_parsed_log_sets_the_time_and_merges_trimmed_while_a_map_log_keeps_its_time() -> None:
    records = [{"log": "2026-11-25 info done\n", "stream": "stdout"}, {"log": {"k": "v\n"}, "stream": "stdout"},
               {"log": "no match", "stream": "stdout"}]
    timestamps = [7, 7, 7]
    assert _core.kube_merge_parsed_logs(records, timestamps, [0, 1, 2], _TIMED.parse_batch, None, True, False, 99) == 2
    assert [ordered(r) for r in records] == [ordered({"stream": "stdout", "level": "info", "msg": "done"}),
                                             ordered({"stream": "stdout", "k": "v\n"}),
                                             ordered({"log": "no match", "stream": "stdout"})]
    assert timestamps == [ns(2026, 11, 25), 7, 7]


def test_one_parser_for_both_streams_reads_every_record_whatever_its_stream() -> None:
    registry = ParserRegistry()
    registry.add(_TIMED)
    records = [{"log": "2026-11-25 info a", "stream": "stdout"}, {"log": "2026-11-25 warn b", "stream": "stderr"},
               {"log": "2026-11-25 info c"}]
    chunk = Chunk("t", [7] * 3, records, 0)
    assert RecordProcessor(options(), registry).apply(chunk, None, None, Props(stdout_parser="timed",
                                                                              stderr_parser="timed"))
    assert [ordered(r) for r in chunk.records] == [ordered({"log": "2026-11-25 info a", "stream": "stdout",
                                                            "level": "info", "msg": "a"}),
                                                   ordered({"log": "2026-11-25 warn b", "stream": "stderr",
                                                            "level": "warn", "msg": "b"}),
                                                   ordered({"log": "2026-11-25 info c", "level": "info", "msg": "c"})]


@needs_core
@settings(max_examples=200)
@given(
    keys=st.lists(st.lists(st.sampled_from(["a", "kubernetes", "kubernetes_namespace", "b"]), unique=True), max_size=5),
    kube=st.sampled_from([None, {"pod_name": "p"}]),
    namespace=st.sampled_from([None, {"name": "n"}]),
)
def test_the_compiled_attach_matches_the_python_twin(keys, kube, namespace) -> None:
    assume(kube is not None or namespace is not None)  # the filter attaches nothing otherwise
    compiled = [{key: index for index, key in enumerate(names)} for names in keys]
    python = [dict(record) for record in compiled]
    _core.kube_attach(compiled, kube, namespace)
    attach(python, kube, namespace)
    assert [ordered(r) for r in compiled] == [ordered(r) for r in python]


@needs_core
@pytest.mark.parametrize(
    "log",
    [
        '{"a" : 1,\n "b" :2, "a"\t:3}',
        '{"u":"http://x","t":"10:00:00","u":"y"}',
        '{"é":"☃:","é":2}',
        # Past 255 rounds of sixteen bytes, where the compiled count sums its lanes.
        "{" + ",".join(f'"k{n}" : {n}' for n in range(600)) + ',"k0":"last"}',
    ],
)
def test_the_compiled_merge_places_a_repeated_key_last(log: str) -> None:
    record = {"log": log}
    _core.kube_merge_json_logs([record], None, False, False)
    assert ordered(record) == ordered(read_object(log))
