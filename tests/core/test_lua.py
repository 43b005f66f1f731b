"""lua_encode_records, lua_decode_results (_core/lua.pxi): records in LuaJIT's string.buffer
serialization format, checked against LuaJIT's own buffer.decode / buffer.encode through lupa."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.filters.lua import lua_runtime

pytestmark = pytest.mark.skipif(
    not hasattr(_core, "lua_encode_records"), reason="flb_fast._core is not built with the lua section"
)

MAX_KEYS = 4096
START_NS = 1700000000_123456789

# Lua's side, with buffers set up as batch.lua's: the map keys as their dict, the array and map marks
# as their metatables (in lua.pxi's order). reencode decodes every record and writes it back as
# batch.lua writes a record returned with code 2; encode_value writes the value of a one-key record.
LUA_SIDE = b"""
local buffer = require("string.buffer")
local METATABLES = {{type = 1}, {type = 2}}
local function buffers(keys)
  local options = {dict = keys, metatable = METATABLES}
  return buffer.new(options), buffer.new(options)
end
local function reencode(payload, count, keys)
  local input, output = buffers(keys)
  input:set(payload)
  for _ = 1, count do
    input:decode()
    output:encode(2):encode(input:decode())
  end
  return output:get()
end
local function encode_value(payload, keys)
  local input, output = buffers(keys)
  input:set(payload)
  input:decode()
  local _, value = next(input:decode())
  return output:encode(value):get()
end
return reencode, encode_value
"""


@pytest.fixture(scope="module")
def lua() -> tuple[Any, Any, Any]:
    runtime = lua_runtime()
    reencode, encode_value = runtime.execute(LUA_SIDE)
    return runtime, reencode, encode_value


def typed(value: Any) -> Any:
    """``value`` with every scalar's type beside it: 1, 1.0 and True are equal in Python, not here."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def encode(records: list[dict[str, Any]], keys: list[str] | None = None) -> tuple[bytes, list[str]]:
    keys = [] if keys is None else keys
    index = {key: position for position, key in enumerate(keys)}
    payload, passed, failed, _, _, _ = _core.lua_encode_records(
        records, [START_NS] * len(records), False, False, index, keys, MAX_KEYS, False
    )
    assert (passed, failed) == (list(range(len(records))), [])
    return payload, keys


def through_lua(lua: tuple[Any, Any, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    runtime, reencode, _ = lua
    payload, keys = encode(records)
    results = reencode(payload, len(records), runtime.table_from([key.encode() for key in keys]))
    entries, _ = _core.lua_decode_results(results, len(records), [], {}, keys, {}, MAX_KEYS, None, None)
    out = []
    for entry in entries:
        assert type(entry) is tuple and entry[0] is None
        out.extend(entry[1])
    return out


def lua_bytes_of(lua: tuple[Any, Any, Any], value: Any) -> tuple[bytes, bytes]:
    """(our encoding of ``value``, LuaJIT's encoding of what it decoded from ours)."""
    runtime, _, encode_value = lua
    payload, keys = encode([{"v": value}])
    # The time (9 bytes), the record's mark and one-entry map header (4 bytes), the key (2 bytes).
    ours = payload[9 + 4 + 2:]
    return ours, encode_value(payload, runtime.table_from([key.encode() for key in keys]))


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalar = st.one_of(
    _text,
    st.booleans(),
    st.integers(-(2**53), 2**53),
    # Floats that stay floats: not integral, or integral past 2**63 (no int64 holds them).
    st.integers(-(2**40), 2**40).map(lambda number: number + 0.5),
    st.floats(-1, 1, exclude_min=True, exclude_max=True).filter(bool),
    st.floats(min_value=2.0**63, allow_infinity=False),
)
_value = st.recursive(
    _scalar,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=15,
)
# Values whose serialized form has one order: no map with more than one key.
_ordered_value = st.recursive(
    _scalar,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(_text, children, max_size=1),
    max_leaves=30,
)


@settings(max_examples=100)
@given(st.lists(st.dictionaries(_text, _value, max_size=5), min_size=1, max_size=3))
def test_records_come_back_from_lua_exactly_as_they_went(lua: tuple[Any, Any, Any], records: list[dict]) -> None:
    assert typed(through_lua(lua, records)) == typed(records)


@settings(max_examples=200)
@given(_ordered_value)
def test_a_value_is_written_as_luajit_writes_it(lua: tuple[Any, Any, Any], value: Any) -> None:
    ours, luajits = lua_bytes_of(lua, value)
    assert ours == luajits


@pytest.mark.parametrize(
    "length",
    # A string's length + 0x20 is one byte up to 0xdf, two up to 0x1fdf, five past it.
    [0, 0xDF - 0x20, 0xDF - 0x20 + 1, 0x1FDF - 0x20, 0x1FDF - 0x20 + 1, 100_000],
)
def test_strings_of_every_length_form_are_written_as_luajit_writes_them(
    lua: tuple[Any, Any, Any], length: int
) -> None:
    ours, luajits = lua_bytes_of(lua, "é" * (length // 2) + "x" * (length % 2))
    assert ours == luajits
    assert through_lua(lua, [{"v": "é" * (length // 2)}]) == [{"v": "é" * (length // 2)}]


@pytest.mark.parametrize("size", [0, 1, 0xDE, 0xDF, 0xE0, 0x1FDF, 0x1FE0, 20_000])
def test_large_arrays_and_maps_come_back_whole(lua: tuple[Any, Any, Any], size: int) -> None:
    array = list(range(size))
    ours, luajits = lua_bytes_of(lua, array)
    assert ours == luajits
    record = {f"k{number}": number + 0.5 for number in range(size)}
    record["array"] = array
    assert typed(through_lua(lua, [record])) == typed([record])


def test_numbers_from_lua_are_ints_when_they_hold_one(lua: tuple[Any, Any, Any]) -> None:
    runtime, _, _ = lua
    write = runtime.eval(b"""function()
      local output = require("string.buffer").new({metatable = {{type = 1}, {type = 2}}})
      return output:encode(2):encode({a = 3.0, b = 2.5, c = 2^53, d = 2^63, e = -2^63, f = -0.0, g = 1/0,
                                      h = 1e300}):get()
    end""")
    [(_, [record])], _ = _core.lua_decode_results(write(), 1, [], {}, [], {}, MAX_KEYS, None, None)
    assert typed(record) == typed(
        {"a": 3, "b": 2.5, "c": 2**53, "d": 2.0**63, "e": -(2**63), "f": 0, "g": float("inf"), "h": 1e300}
    )


def test_invalid_utf8_from_lua_is_read_as_fluent_bits_outputs_write_it(lua: tuple[Any, Any, Any]) -> None:
    runtime, _, _ = lua
    write = runtime.eval(b"""function()
      return require("string.buffer").new():encode(2):encode({cut = "a\\195", ff = "a\\255b", mid = "\\169\\195"}):get()
    end""")
    [(_, [record])], _ = _core.lua_decode_results(write(), 1, [], {}, [], {}, MAX_KEYS, None, None)
    assert record == {"cut": "a", "ff": "ab", "mid": "\ue0a9"}


def test_new_keys_join_the_dictionary_up_to_its_bound() -> None:
    keys: list[str] = ["a"]
    index = {"a": 0}
    payload, _, _, _, _, _ = _core.lua_encode_records(
        [{"a": 1, "b": 2, "c": 3}], [START_NS], False, False, index, keys, 2, False
    )
    assert keys == ["a", "b"] and index == {"a": 0, "b": 1}
    # The keys as dict entries 0 and 1, the last one as text.
    assert payload[9:].startswith(b"\x0e\x01\x09\x03\x0f\x00") and b"\x0f\x01" in payload and b"\x21c" in payload


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\ud800", "text that is not valid UTF-8"),
        (object(), "a value of type object"),
        (2**1100, "an integer too large for a Lua number"),
    ],
)
def test_a_record_lua_cannot_hold_is_left_out_with_the_reason(value: Any, reason: str) -> None:
    payload, passed, failed, _, _, _ = _core.lua_encode_records(
        [{"v": value}, {"v": 1}], [START_NS] * 2, False, False, {}, [], MAX_KEYS, False
    )
    assert passed == [1] and failed == [(0, reason)]
    assert payload == _core.lua_encode_records([{"v": 1}], [START_NS], False, False, {}, [], MAX_KEYS, False)[0]


def test_a_record_nested_deeper_than_luajit_reads_is_left_out() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    _, passed, failed, _, _, _ = _core.lua_encode_records([deep], [START_NS], False, False, {}, [], MAX_KEYS, False)
    assert passed == [] and failed == [(0, "a record nested deeper than 100 levels")]


def test_values_several_records_share_are_found_once() -> None:
    pod = {"pod_name": "web-1", "labels": {"app": "web"}}
    lone = {"x": 1}
    changing = {"ratio": 2.0}
    records = [{"k": pod, "m": lone, "c": changing}, {"k": pod, "c": changing}, {"k": pod, "c": changing}]
    _, _, _, shared, shared_payload, _ = _core.lua_encode_records(
        records, [START_NS] * 3, False, False, {}, [], MAX_KEYS, True
    )
    # An integral float comes back an int: that value cannot come back as it was.
    assert shared == [pod]
    assert len(_core.lua_split_values(shared_payload, 1)) == 1


def test_records_go_a_slice_at_a_time_up_to_the_byte_bound() -> None:
    records = [{"log": "x" * 100} for _ in range(10)]
    stamps = [START_NS] * 10
    one = len(_core.lua_encode_records(records[:1], stamps[:1], False, False, {"log": 0}, ["log"], MAX_KEYS, False)[0])
    payload, passed, _, _, _, end = _core.lua_encode_records(
        records, stamps, False, False, {"log": 0}, ["log"], MAX_KEYS, False, None, 2, 2 * one + 1
    )
    # The third record takes the slice past the bound: it is the last.
    assert (passed, end, len(payload)) == ([2, 3, 4], 5, 3 * one)
    assert _core.lua_encode_records(records, stamps, False, False, {}, [], MAX_KEYS, False, None, 5)[5] == 10
