"""The record_modifier filter (FB plugins/filter_record_modifier; docs: pipeline/filters/record-modifier)."""

from __future__ import annotations

import re

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.filters.record_modifier import RecordModifierFilter
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import assert_case, cases
from tests.standalone import plugin_for

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def record_modifier(**props: str | list[str]) -> RecordModifierFilter:
    return plugin_for(RecordModifierFilter, Name="record_modifier", **props)


def modified(run: Runner, filt: RecordModifierFilter, records: list[dict]) -> list[dict]:
    return run(filt.filter(Chunk("app", [1] * len(records), records, 0))).records


@pytest.mark.parametrize("case", cases("record_modifier"))
def test_recorded_fluent_bit_case(run: Runner, case: str) -> None:
    assert_case(run, "record_modifier", case)


def test_uuid_key_adds_a_fresh_random_uuid_last(run: Runner) -> None:
    first, second = modified(run, record_modifier(Uuid_key="id", Record="a 1"), [{"log": "x"}, {"log": "y"}])
    assert list(first) == ["log", "a", "id"] and UUID4.match(first["id"]) and UUID4.match(second["id"])
    assert first["id"] != second["id"]


def test_a_record_with_more_than_two_words_is_skipped_with_a_warning(run: Runner) -> None:
    filt = record_modifier(Record=["msg hello world", "ok yes"])
    assert modified(run, filt, [{}]) == [{"ok": "yes"}]
    assert filt.config_warnings == [
        ("record", "invalid record parameters, expects 'KEY VALUE' (quote a value with spaces): "
                   "'msg hello world' is skipped")
    ]


def test_a_record_with_one_word_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError, match=r"property 'record' expects 2 values \(only 1 were found\)"):
        record_modifier(Record="lonely")


def test_remove_key_and_allowlist_key_are_exclusive() -> None:
    with pytest.raises(PluginConfigError, match="exclusive"):
        record_modifier(Remove_key="a", Whitelist_key="b")


def test_a_shared_nested_map_is_kept_as_is(run: Runner) -> None:
    shared = {"pod_name": "web-1"}
    records = [{"kubernetes": shared, "drop": 1}, {"kubernetes": shared, "drop": 2}]
    out = modified(run, record_modifier(Remove_key="drop", Record="kubernetes replaced"), records[:1])
    assert out == [{"kubernetes": "replaced"}] and records[1]["kubernetes"] is shared and shared == {"pod_name": "web-1"}
