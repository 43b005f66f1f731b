"""Journal fields become a record as systemd.c's systemd_enumerate_data_store builds it: the
Python reference (records.py), and the compiled reader's shaping (_core.journal_records) checked
against it on generated entries."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.inputs.systemd.records import RecordShaper, TagComposer


def shape(datas, strip=False, lower=False, max_fields=8000):
    return RecordShaper(strip, lower, max_fields).record(datas)[0]


def test_fields_are_string_members_in_journal_order():
    assert shape([b"_PID=1", b"MESSAGE=m"]) == {"_PID": "1", "MESSAGE": "m"}
    assert list(shape([b"B=1", b"A=2"])) == ["B", "A"]


def test_a_repeated_field_is_an_array_of_its_values_where_its_second_value_was():
    record = shape([b"MESSAGE=a", b"X=1", b"MESSAGE=b", b"Y=2", b"MESSAGE=c"])
    assert list(record.items()) == [("X", "1"), ("MESSAGE", ["a", "b", "c"]), ("Y", "2")]


def test_keys_that_meet_after_stripping_become_one_array_where_the_second_appeared():
    record = shape([b"_COMM=trusted", b"FOO=x", b"COMM=user"], strip=True)
    assert list(record.items()) == [("FOO", "x"), ("COMM", ["trusted", "user"])]


def test_strip_underscores_drops_one_underscore_then_lowercase_applies():
    assert shape([b"__X=1", b"_Y_Z=2"], strip=True, lower=True) == {"_x": "1", "y_z": "2"}


def test_values_that_are_not_utf8_are_written_as_fluent_bits_json_writes_them():
    assert shape([b"MESSAGE=a\xff\xfe bytes", b"CUT=x\xc3", b"OK=caf\xc3\xa9"]) == {
        "MESSAGE": "a\ue0ff\ue0fe bytes", "CUT": "x", "OK": "café"}


def test_the_value_is_everything_after_the_first_equals_sign():
    assert shape([b"A==b=c", b"EMPTY="]) == {"A": "=b=c", "EMPTY": ""}


def test_max_fields_counts_every_value_taken():
    datas = [b"A=1", b"B=2", b"B=3", b"C=4"]
    assert shape(datas, max_fields=2) == {"A": "1", "B": "2"}
    assert shape(datas, max_fields=3) == {"A": "1", "B": ["2", "3"]}


def test_a_field_without_equals_sign_is_left_out_and_counted():
    assert RecordShaper(False, False, 8000).record([b"A=1", b"BROKEN", b"C=2"]) == ({"A": "1", "C": "2"}, 6, 1)


def test_size_is_the_bytes_of_the_field_assignments_taken():
    assert RecordShaper(True, True, 2).record([b"_A=xy", b"B=1", b"B=2"])[1] == len("_A=xy") + len("B=1")


def test_a_star_in_the_tag_is_the_systemd_unit_or_unknown():
    tags = TagComposer("pre.*.post")
    assert tags.tag_for(b"kubelet.service") == "pre.kubelet.service.post"
    assert tags.tag_for(None) == "pre.unknown.post"
    assert TagComposer("fixed").tag_for(b"x") == "fixed"


# Field names as journald writes them, the ones Strip_Underscores and Lowercase touch, names that
# differ only in case, and arbitrary bytes; values of any bytes, some repeating.
_NAMES = st.one_of(st.sampled_from([b"MESSAGE", b"_PID", b"PID", b"__CURSOR", b"_", b"", b"Msg", b"MSG", b"\xc3\xa9"]),
                   st.binary(max_size=6))
_VALUES = st.one_of(st.sampled_from([b"", b"6", b"kubelet.service", b"=", b"\xff", b"a\xc3"]), st.binary(max_size=80))
_DATAS = st.one_of(st.builds(lambda name, value: name + b"=" + value, _NAMES, _VALUES),
                   st.binary(max_size=8).filter(lambda data: b"=" not in data))


@settings(max_examples=400)
@given(entries=st.lists(st.lists(_DATAS, max_size=12), max_size=6), strip=st.booleans(), lower=st.booleans(),
       max_fields=st.integers(0, 14))
def test_the_compiled_records_are_the_references(entries, strip, lower, max_fields):
    """Several entries in a row: the compiled shaping keeps the texts of the previous entry."""
    shaper = RecordShaper(strip, lower, max_fields)
    compiled = _core.journal_records(entries, strip, lower, max_fields)
    expected = [shaper.record(datas) for datas in entries]
    assert [(list(record.items()), size, broken) for record, size, broken in compiled] == [
        (list(record.items()), size, broken) for record, size, broken in expected]
