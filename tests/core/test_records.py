"""records_body (_core/records.pxi): PutRecordBatch / PutRecords bodies in one pass, checked
against the Python reference (outputs/aws/records.py ``reference_batch_body``: base64 and
``json.dumps`` from the standard library) on generated entries."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.outputs.aws.records import Entry, batch_head, key_json, reference_batch_body

pytestmark = pytest.mark.skipif(
    not hasattr(_core, "records_body"), reason="flb_fast._core is not built with the records section"
)

HEAD = batch_head("StreamName", "stream é")
# Keys written as they are (printable ASCII) and keys json.dumps escapes: quote, backslash,
# control characters, DEL, non-ASCII, a surrogate pair, a lone surrogate.
KEYS = ["k", "pod-7d4b9c6f5-x2x4z", "a\"b", "a\\b", "tab\t", "\x7f", "é", "日本", "😀", "\udc80", ""]
_entries = st.lists(
    st.builds(Entry, st.binary(max_size=40), st.one_of(st.sampled_from(KEYS), st.text(max_size=8))), max_size=12
)


@settings(max_examples=300)
@given(entries=_entries, keyed=st.booleans())
def test_the_body_is_the_reference_body_byte_for_byte(entries: list[Entry], keyed: bool) -> None:
    assert _core.records_body(HEAD, entries, 0, len(entries), keyed, key_json) == reference_batch_body(
        HEAD, entries, keyed
    )


def test_data_of_every_length_modulo_three_is_padded_as_base64_pads_it() -> None:
    entries = [Entry(b"x" * size, None) for size in range(7)]
    body = _core.records_body(HEAD, entries, 0, len(entries), False, key_json)
    assert [record["Data"] for record in json.loads(body)["Records"]] == [
        "", "eA==", "eHg=", "eHh4", "eHh4eA==", "eHh4eHg=", "eHh4eHh4"
    ]


def test_only_the_range_given_is_written() -> None:
    entries = [Entry(bytes([n]), f"k{n}") for n in range(5)]
    body = _core.records_body(HEAD, entries, 1, 3, True, key_json)
    assert body == reference_batch_body(HEAD, entries[1:3], True)


def test_an_empty_range_is_an_empty_records_list() -> None:
    assert _core.records_body(HEAD, [], 0, 0, True, key_json) == HEAD + b"]}"


def test_a_range_outside_the_entries_is_refused() -> None:
    with pytest.raises(IndexError):
        _core.records_body(HEAD, [Entry(b"x", None)], 0, 2, False, key_json)
