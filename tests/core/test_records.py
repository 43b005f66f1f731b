"""records_body and records_batch_end (_core/records.pxi): PutRecordBatch / PutRecords requests in
one pass, checked against the Python references (outputs/aws/records.py ``reference_batch_body``:
base64 and ``json.dumps`` from the standard library; ``split_batches`` over ``record_sizes``) on
generated records."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.outputs.aws.records import Limits, batch_head, key_json, record_sizes, reference_batch_body, split_batches

pytestmark = pytest.mark.skipif(
    not hasattr(_core, "records_batch_end"), reason="flb_fast._core is not built with the records section"
)

HEAD = batch_head("StreamName", "stream é")
# Keys written as they are (printable ASCII) and keys json.dumps escapes: quote, backslash,
# control characters, DEL, non-ASCII, a surrogate pair, a lone surrogate.
KEYS = ["k", "pod-7d4b9c6f5-x2x4z", "a\"b", "a\\b", "tab\t", "\x7f", "é", "日本", "😀", "\udc80", ""]
_records = st.lists(
    st.tuples(st.binary(max_size=40), st.one_of(st.sampled_from(KEYS), st.text(max_size=8))), max_size=12
)


@settings(max_examples=300)
@given(records=_records, keyed=st.booleans(), data=st.data())
def test_the_body_is_the_reference_body_byte_for_byte(records: list[tuple[bytes, str]], keyed: bool, data) -> None:
    datas = [record[0] for record in records]
    keys = [record[1] for record in records] if keyed else None
    start = data.draw(st.integers(0, len(records)))
    end = data.draw(st.integers(start, len(records)))
    assert _core.records_body(HEAD, datas, keys, start, end, key_json) == reference_batch_body(
        HEAD, datas, keys, start, end
    )


def test_data_of_every_length_modulo_three_is_padded_as_base64_pads_it() -> None:
    datas = [b"x" * size for size in range(7)]
    body = _core.records_body(HEAD, datas, None, 0, len(datas), key_json)
    assert [record["Data"] for record in json.loads(body)["Records"]] == [
        "", "eA==", "eHg=", "eHh4", "eHh4eA==", "eHh4eHg=", "eHh4eHh4"
    ]


def test_only_the_range_given_is_written() -> None:
    body = _core.records_body(HEAD, [bytes([n]) for n in range(5)], [f"k{n}" for n in range(5)], 1, 3, key_json)
    assert json.loads(body)["Records"] == [{"Data": "AQ==", "PartitionKey": "k1"}, {"Data": "Ag==", "PartitionKey": "k2"}]


def test_an_empty_range_is_an_empty_records_list() -> None:
    assert _core.records_body(HEAD, [], [], 0, 0, key_json) == HEAD + b"]}"


def test_a_range_outside_the_records_is_refused() -> None:
    with pytest.raises(IndexError):
        _core.records_body(HEAD, [b"x"], None, 0, 2, key_json)


def test_keys_not_one_per_record_are_refused() -> None:
    with pytest.raises(ValueError):
        _core.records_body(HEAD, [b"x", b"y"], ["k"], 0, 2, key_json)
    with pytest.raises(ValueError):
        _core.records_batch_end([b"x", b"y"], ["k"], 0, 500, 100)


def test_a_batch_start_outside_the_records_is_refused() -> None:
    with pytest.raises(IndexError):
        _core.records_batch_end([b"x"], None, 1, 500, 100)


def test_a_partition_key_that_is_not_text_is_refused() -> None:
    with pytest.raises(TypeError):
        _core.records_batch_end([b"x"], [7], 0, 500, 100)


def batches(datas: list[bytes], keys: list[str] | None, limits: Limits) -> list[tuple[int, int]]:
    ranges, start = [], 0
    while start < len(datas):
        end = _core.records_batch_end(datas, keys, start, limits.max_records, limits.max_request_bytes)
        ranges.append((start, end))
        start = end
    return ranges


@settings(max_examples=300)
@given(
    records=st.lists(st.tuples(st.binary(max_size=40), st.one_of(st.none(), st.sampled_from(KEYS))), max_size=60),
    keyed=st.booleans(),
    max_records=st.integers(1, 8),
    max_request_bytes=st.integers(40, 120),
)
def test_batches_end_where_split_batches_ends_them(
    records: list[tuple[bytes, str | None]], keyed: bool, max_records: int, max_request_bytes: int
) -> None:
    datas = [record[0] for record in records]
    keys = [record[1] for record in records] if keyed else None
    limits = Limits(max_records, max_request_bytes, 40, keyed)
    assert outcome(batches, datas, keys, limits) == outcome(
        lambda *_: split_batches(record_sizes(datas, keys), limits)
    )


def outcome(function, *args):
    """What ``function`` returns, or the type of what it raises (a key with a lone surrogate has
    no UTF-8 size: both refuse it)."""
    try:
        return function(*args)
    except UnicodeEncodeError as exc:
        return type(exc)
