"""The nest filter (FB plugins/filter_nest; docs: pipeline/filters/nest)."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.filters.nest import NestFilter
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import assert_case, cases
from tests.standalone import plugin_for


def nest(**props: str | list[str]) -> NestFilter:
    return plugin_for(NestFilter, Name="nest", **props)


def nested(run: Runner, filt: NestFilter, records: list[dict]) -> list[dict]:
    return run(filt.filter(Chunk("app", [1] * len(records), records, 0))).records


@pytest.mark.parametrize("case", cases("nest"))
def test_recorded_fluent_bit_case(run: Runner, case: str) -> None:
    assert_case(run, "nest", case)


def test_lifting_the_shared_pod_map_leaves_it_and_the_other_records_unchanged(run: Runner) -> None:
    shared = {"pod_name": "web-1", "labels": {"app": "web"}}
    records = [{"log": "a", "kubernetes": shared}, {"log": "b", "kubernetes": shared}]
    filt = nest(Operation="lift", Nested_under="kubernetes", Add_prefix="k8s_")
    first, second = nested(run, filt, records[:1]) + [records[1]]
    assert first == {"log": "a", "k8s_pod_name": "web-1", "k8s_labels": {"app": "web"}}
    assert second == {"log": "b", "kubernetes": shared} and shared == {"pod_name": "web-1", "labels": {"app": "web"}}


def test_records_of_one_chunk_lifting_shared_and_own_maps_each_get_their_own_entries(run: Runner) -> None:
    web, db = {"pod_name": "web-1"}, {"pod_name": "db-1", "host": "n2"}
    records = [{"log": "a", "kubernetes": web}, {"log": "b", "kubernetes": db}, {"log": "c", "kubernetes": web},
               {"log": "d", "kubernetes": "not a map"}, {"log": "e", "kubernetes": {"pod_name": "own"}}]
    filt = nest(Operation="lift", Nested_under="kubernetes", Remove_prefix="pod_")
    out = nested(run, filt, records)
    out[0]["name"] = "changed"
    assert out == [{"log": "a", "name": "changed"}, {"log": "b", "name": "db-1", "host": "n2"},
                   {"log": "c", "name": "web-1"}, {"log": "d", "kubernetes": "not a map"}, {"log": "e", "name": "own"}]
    assert web == {"pod_name": "web-1"} and db == {"pod_name": "db-1", "host": "n2"}


def test_nesting_under_a_key_that_stays_replaces_it_at_the_end(run: Runner) -> None:
    filt = nest(Operation="nest", Wildcard="a", Nest_under="b")
    assert nested(run, filt, [{"b": 1, "a": 2, "c": 3}]) == [{"c": 3, "b": {"a": 2}}]


def test_lifted_keys_that_exist_move_after_the_others_with_their_lifted_values(run: Runner) -> None:
    filt = nest(Operation="lift", Nested_under="m")
    [record] = nested(run, filt, [{"x": 1, "m": {"x": 2, "y": 3}, "z": 4}])
    assert list(record.items()) == [("z", 4), ("x", 2), ("y", 3)]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"Operation": "Nest", "Wildcard": "a", "Nest_under": "b"}, "Key \"operation\" has invalid value 'Nest'"),
        ({"Wildcard": "a", "Nest_under": "b"}, "Key \"operation\" has invalid value ''"),
        ({"Operation": "lift", "Nested_under": "a", "Add_prefix": "x", "Remove_prefix": "y"},
         "Add_prefix and Remove_prefix are exclusive"),
    ],
)
def test_bad_settings_are_config_errors(props: dict[str, str], message: str) -> None:
    with pytest.raises(PluginConfigError, match=message):
        nest(**props)


def test_without_nest_under_records_pass_unchanged_with_a_warning(run: Runner) -> None:
    filt = nest(Operation="nest", Wildcard="a")
    assert filt.config_warnings == [("operation", "no 'Nest_under' for Operation nest: records pass unchanged")]
    assert nested(run, filt, [{"a": 1}]) == [{"a": 1}]
