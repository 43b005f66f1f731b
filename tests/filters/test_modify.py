"""The modify filter (FB plugins/filter_modify; docs: pipeline/filters/modify)."""

from __future__ import annotations

import re

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.filters.modify import ModifyFilter, split_quoted
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import assert_case, cases
from tests.standalone import plugin_for


def modify(**props: str | list[str]) -> ModifyFilter:
    return plugin_for(ModifyFilter, Name="modify", **props)


def modified(run: Runner, filt: ModifyFilter, records: list[dict]) -> list[dict]:
    return run(filt.filter(Chunk("app", [1] * len(records), records, 0))).records


@pytest.mark.parametrize("case", cases("modify"))
def test_recorded_fluent_bit_case(run: Runner, case: str) -> None:
    assert_case(run, "modify", case)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("a b", ["a", "b"]),
        ("a   b", ["a", "b"]),
        ('msg "hello world"', ["msg", "hello world"]),
        ("msg 'it is'", ["msg", "it is"]),
        (r'msg "say \"hi\" \\ \n"', ["msg", r'say "hi" \ \n']),
        ("a b c d e", ["a", "b", "c", "d e"]),
        ('msg "open', None),
    ],
)
def test_values_split_at_spaces_with_quotes_as_flb_utils_split_quoted(line: str, words: list[str] | None) -> None:
    assert split_quoted(line, 3) == words


def test_rules_apply_in_config_order_across_kinds(run: Runner) -> None:
    filt = modify(Rename="a A", Copy="A B", Hard_rename="A C")
    assert modified(run, filt, [{"a": "1", "z": "2"}]) == [{"C": "1", "B": "1", "z": "2"}]


def test_conditions_anywhere_in_the_section_gate_every_rule(run: Runner) -> None:
    filt = modify(Set="x 1", Condition="Key_value_equals level error")
    records = [{"level": "error"}, {"level": "info"}]
    assert modified(run, filt, records) == [{"level": "error", "x": "1"}, {"level": "info"}]


def test_three_words_rename_the_first_to_the_third_with_a_warning(run: Runner) -> None:
    filt = modify(Set="msg hello world")
    assert modified(run, filt, [{"msg": "m", "k": 1}]) == [{"world": "m", "k": 1}]
    assert filt.config_warnings == [
        ("Set", "'Set msg hello world' has three words: it renames 'msg' to 'world', as Fluent Bit does; "
                "quote a value that holds spaces")
    ]


def test_hard_copy_of_a_key_onto_itself_leaves_the_record(run: Runner) -> None:
    assert modified(run, modify(Hard_copy="a a"), [{"a": "1", "b": "2"}]) == [{"a": "1", "b": "2"}]


def test_hard_rename_replaces_the_existing_target_in_the_source_position(run: Runner) -> None:
    assert modified(run, modify(Hard_rename="a b"), [{"b": "old", "a": "new", "c": 1}]) == [{"b": "new", "c": 1}]


def test_renaming_and_copying_a_shared_nested_map_never_changes_it(run: Runner) -> None:
    shared = {"pod_name": "web-1", "labels": {"app": "web"}}
    records = [{"log": "a", "kubernetes": shared}, {"log": "b", "kubernetes": shared}]
    filt = modify(Condition="Key_value_equals log a", Rename="kubernetes k8s", Copy="k8s meta", Set="log x")
    assert modified(run, filt, records) == [
        {"log": "x", "k8s": shared, "meta": shared},
        {"log": "b", "kubernetes": shared},
    ]
    assert shared == {"pod_name": "web-1", "labels": {"app": "web"}}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"Set": "a b c d"}, "Invalid config for Set"),
        ({"Rename": "a"}, "Invalid operation Rename : a in configuration"),
        ({"Remove": "a b"}, "Invalid operation Remove : a b in configuration"),
        ({"Condition": "Key_is_nice a"}, "Invalid config for Condition : Key_is_nice a"),
        ({"Condition": "Key_value_matches a"}, "Unable to create regex for condition Key_value_matches a"),
        ({"Condition": "A_key_matches (x"}, "Unable to create regex(key) from (x"),
        ({"Remove_regex": "[a-"}, "Unable to create regex(key) from [a-"),
        ({"Set": 'a "b'}, "Invalid config for Set"),
    ],
)
def test_bad_rules_are_config_errors(props: dict[str, str], message: str) -> None:
    with pytest.raises(PluginConfigError, match=re.escape(message)):
        modify(**props)


def test_a_bad_rule_is_reported_at_its_own_line() -> None:
    with pytest.raises(PluginConfigError) as error:
        modify(Remove_regex=["^ok", "[bad", "^fine"])
    assert (error.value.option, error.value.prop.line) == ("Remove_regex", 3)
