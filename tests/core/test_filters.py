"""grep_keep, modify_rule, nest_lift (_core/filters.pxi): the filters' chunk loops in C, checked
against each filter's Python path on generated records (nested maps, arrays, maps shared between
records, values of every type)."""

from __future__ import annotations

import copy
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.filters import grep, modify, nest
from flb_fast.record import Chunk
from tests.standalone import plugin_for

pytestmark = pytest.mark.skipif(
    not hasattr(_core, "grep_keep"), reason="flb_fast._core is not built with the filters section"
)

KEYS = ["log", "level", "kubernetes", "k_app", "tags", "x"]
_scalar = st.one_of(
    st.sampled_from(["", "info", "debug", "GET /healthz", "kube-probe/1.30", "web", "Web", "x y"]),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, width=16),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["app", "labels", "k_x", "log", "0"]), inner,
                                                     max_size=3)
    ),
    max_leaves=6,
)
_record = st.dictionaries(st.sampled_from(KEYS), _value, max_size=5)


def _with_shared(records: list[dict], shared: dict, every: int) -> list[dict]:
    """Every ``every``-th record holds the same ``kubernetes`` map, as the kubernetes filter attaches it."""
    for index, record in enumerate(records):
        if every and index % every == 0:
            record["kubernetes"] = shared
    return records


def _ordered(records: list[dict]) -> list[list]:
    return [list(record.items()) for record in records]


_RULES = [
    "log ^GET", "level ^debug$", "$kubernetes['labels']['app'] ^web$", "$kubernetes['app'] [Ww]eb",
    "$tags[0] info", "$tags[1] ^$", "x .", "k_app ^kube-probe/", "$log['app'] web", "$TAG x",
]


@settings(max_examples=300)
@given(
    records=st.lists(_record, max_size=8),
    shared=st.dictionaries(st.sampled_from(["app", "labels", "log"]), _value, max_size=3),
    every=st.integers(0, 3),
    rules=st.lists(st.tuples(st.sampled_from(_RULES), st.booleans()), min_size=1, max_size=4),
    logical_op=st.sampled_from(["legacy", "AND", "OR"]),
)
def test_grep_keep_matches_the_python_path(records, shared, every, rules, logical_op) -> None:
    records = _with_shared(records, shared, every)
    if logical_op != "legacy":
        # AND / OR take rules of one kind only.
        rules = [(rule, rules[0][1]) for rule, _ in rules]
    regex = [rule for rule, exclude in rules if not exclude]
    exclude = [rule for rule, exclude in rules if exclude]
    filt = plugin_for(grep.GrepFilter, Name="grep", Regex=regex, Exclude=exclude, Logical_Op=logical_op)
    # Regex rules first, then Exclude ones: the order plugin_for writes them in, which the Python path follows too.
    python = filt._keep_legacy(records) if filt.logical_op == grep.LEGACY else filt._keep_and_or(records)
    assert _core.grep_keep(records, *filt._columns) == python


@settings(max_examples=300)
@given(
    records=st.lists(_record, max_size=8),
    kind=st.sampled_from(["set", "add", "remove", "rename"]),
    key=st.sampled_from(KEYS),
    val=st.sampled_from(KEYS + ["message"]),
    selected=st.one_of(st.none(), st.lists(st.integers(0, 7), unique=True, max_size=8)),
)
def test_modify_rule_matches_the_python_path(records, kind, key, val, selected) -> None:
    every = range(len(records)) if selected is None else sorted(i for i in selected if i < len(records))
    compiled, python = copy.deepcopy(records), copy.deepcopy(records)
    modify._Rule(kind, key, val, None).apply_all(compiled, every)
    with mock.patch.object(modify, "_core_rule", None):
        modify._Rule(kind, key, val, None).apply_all(python, every)
    assert _ordered(compiled) == _ordered(python)


@settings(max_examples=300)
@given(
    records=st.lists(_record, max_size=8),
    shared=st.dictionaries(st.sampled_from(["app", "k_x", "log", "labels"]), _value, max_size=4),
    every=st.integers(0, 3),
    prefix=st.sampled_from([{}, {"Add_prefix": "k_"}, {"Remove_prefix": "k_"}, {"Remove_prefix": "zz"}]),
)
def test_nest_lift_matches_the_python_path_and_leaves_shared_maps_unchanged(records, shared, every, prefix) -> None:
    records = _with_shared(records, shared, every)
    before = copy.deepcopy(shared)
    filt = plugin_for(nest.NestFilter, Name="nest", Operation="lift", Nested_under="kubernetes", **prefix)
    compiled = [dict(record) for record in records]
    python = [dict(record) for record in records]
    filt._lift_all(compiled)
    with mock.patch.object(nest, "_core_lift", None):
        filt._lift_all(python)
    assert _ordered(compiled) == _ordered(python)
    assert shared == before


def test_a_lifted_record_changed_afterwards_leaves_the_others_of_its_chunk_alone(run) -> None:
    shared = {"pod_name": "web-1"}
    records = [{"log": "a", "kubernetes": shared}, {"log": "b", "kubernetes": shared}]
    filt = plugin_for(nest.NestFilter, Name="nest", Operation="lift", Nested_under="kubernetes", Add_prefix="k_")
    first, second = run(filt.filter(Chunk("t", [1, 2], records, 0))).records
    first["k_pod_name"] = "changed"
    assert second == {"log": "b", "k_pod_name": "web-1"} and shared == {"pod_name": "web-1"}
