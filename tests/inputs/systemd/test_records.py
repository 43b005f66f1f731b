"""Journal fields become a record as systemd.c's systemd_enumerate_data_store builds it."""

from __future__ import annotations

from flb_fast.inputs.systemd.records import RecordShaper, TagComposer


def shape(fields, strip=False, lower=False, max_fields=8000):
    return RecordShaper(strip, lower, max_fields).record(fields)[0]


def test_fields_are_string_members_in_journal_order():
    assert shape({"_PID": "1", "MESSAGE": "m"}) == {"_PID": "1", "MESSAGE": "m"}
    assert list(shape({"B": "1", "A": "2"})) == ["B", "A"]


def test_a_repeated_field_is_an_array_of_its_values():
    assert shape({"MESSAGE": ["a", "b", "c"]}) == {"MESSAGE": ["a", "b", "c"]}


def test_keys_that_meet_after_stripping_become_one_array_where_the_second_appeared():
    record = shape({"_COMM": "trusted", "FOO": "x", "COMM": "user"}, strip=True)
    assert list(record.items()) == [("FOO", "x"), ("COMM", ["trusted", "user"])]


def test_strip_underscores_drops_one_underscore_then_lowercase_applies():
    assert shape({"__X": "1", "_Y_Z": "2"}, strip=True, lower=True) == {"_x": "1", "y_z": "2"}


def test_max_fields_counts_every_value_taken():
    assert shape({"A": "1", "B": ["2", "3"], "C": "4"}, max_fields=2) == {"A": "1", "B": "2"}
    assert shape({"A": "1", "B": ["2", "3"], "C": "4"}, max_fields=3) == {"A": "1", "B": ["2", "3"]}


def test_size_is_the_bytes_of_the_field_assignments_taken():
    assert RecordShaper(True, True, 2).record({"_A": "xy", "B": ["1", "2"]})[1] == len("_A=xy") + len("B=1")


def test_a_star_in_the_tag_is_the_systemd_unit_or_unknown():
    tags = TagComposer("pre.*.post")
    assert tags.tag_for({"_SYSTEMD_UNIT": "kubelet.service"}) == "pre.kubelet.service.post"
    assert tags.tag_for({"_SYSTEMD_UNIT": ["a.service", "b.service"]}) == "pre.a.service.post"
    assert tags.tag_for({}) == "pre.unknown.post"
    assert TagComposer("fixed").tag_for({"_SYSTEMD_UNIT": "x"}) == "fixed"
