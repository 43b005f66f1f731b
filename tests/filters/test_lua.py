"""The lua filter (FB plugins/filter_lua; docs: data-pipeline/filters/lua).

The recorded cases (tests/data/filters/lua, re-recorded with its record.py) are what Fluent Bit
4.2.8 printed for the same records, options and scripts: among them the documentation's examples.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flb_fast.config.errors import ConfigError, PluginConfigError
from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build
from flb_fast.filters.lua import LuaFilter
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.e2e.agent import Agent, lines
from tests.standalone import plugin_for

DATA = Path(__file__).resolve().parent.parent / "data" / "filters" / "lua"
CASES: dict[str, dict[str, Any]] = json.loads((DATA / "cases.json").read_text())
# The timestamp record.py gives every record (dummy's Start_time_sec / Start_time_nsec).
START_NS = 1700000000_123456789
LOGGER = "flb_fast"


def make_filter(**options: str) -> LuaFilter:
    return plugin_for(LuaFilter, Name="lua", Match="*", **options)


def run_filter(run: Runner, filt: LuaFilter, records: list[dict[str, Any]], tag: str = "app.log") -> Chunk | None:
    return run(filt.filter(Chunk(tag, [START_NS] * len(records), records, 100)))


def lua(code: str, **options: str) -> LuaFilter:
    return make_filter(call="cb", code=code, **options)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def script_names(lines: list[str]) -> list[str]:
    """Messages with a script's folder left out: Lua names a file by its path, shortened to its end
    ("...ipts/error.lua") when long, so only the file name is the same from one checkout to another."""
    return [re.sub(r"\S*/([\w.]+\.lua:)", r"\1", line) for line in lines]


@pytest.mark.parametrize("name", sorted(CASES))
def test_records_are_those_fluent_bit_printed(
    name: str, run: Runner, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    for key, value in case.get("env", {}).items():
        monkeypatch.setenv(key, value)
    options = {key: str(DATA / value) if key == "script" else value for key, value in case["options"].items()}
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        chunk = run_filter(run, make_filter(**options), json.loads(json.dumps(case["records"])))
    printed = [json.loads(line) for line in (DATA / "expected" / f"{name}.jsonl").read_text().splitlines()]
    got = [] if chunk is None else list(zip(chunk.timestamps, chunk.records, strict=True))
    # Fluent Bit's json_lines prints the time as seconds with six decimals.
    assert [(round(ts / 1000), record) for ts, record in got] == [
        (round(line.pop("date") * 1e6), line) for line in printed
    ]
    # Fluent Bit names an inline script "(null)" in this message; flb_fast names it fluentbit.lua,
    # the chunk name both give it in Lua's own error messages.
    expected_errors = (DATA / "expected" / f"{name}.errors").read_text().replace("(null)", "fluentbit.lua")
    assert script_names(errors(caplog)) == script_names(expected_errors.splitlines())


def test_a_shared_dict_changed_by_the_script_changes_only_that_record(run: Runner) -> None:
    pod = {"pod_name": "web-1", "labels": {"app": "web"}}
    filt = lua("function cb(tag, ts, r) if r.log == 'a' then r.kubernetes.labels.app = 'changed' end "
               "return 2, ts, r end")
    chunk = run_filter(run, filt, [{"log": "a", "kubernetes": pod}, {"log": "b", "kubernetes": pod}])
    assert chunk is not None
    assert chunk.records == [
        {"log": "a", "kubernetes": {"pod_name": "web-1", "labels": {"app": "changed"}}},
        {"log": "b", "kubernetes": {"pod_name": "web-1", "labels": {"app": "web"}}},
    ]
    assert pod == {"pod_name": "web-1", "labels": {"app": "web"}}


def test_a_shared_dict_the_script_leaves_alone_comes_back_as_the_same_object(run: Runner) -> None:
    pod = {"pod_name": "web-1", "labels": {"app": "web"}, "ratio": 0.5}
    filt = lua("function cb(tag, ts, r) r.seen = true if r.log == 'b' then r.kubernetes.pod_name = 'x' end "
               "return 2, ts, r end")
    chunk = run_filter(run, filt, [{"log": "a", "kubernetes": pod}, {"log": "b", "kubernetes": pod},
                                   {"log": "c", "kubernetes": pod}])
    assert chunk is not None
    assert chunk.records == [
        {"log": "a", "kubernetes": pod, "seen": True},
        {"log": "b", "kubernetes": {"pod_name": "x", "labels": {"app": "web"}, "ratio": 0.5}, "seen": True},
        {"log": "c", "kubernetes": pod, "seen": True},
    ]
    assert chunk.records[0]["kubernetes"] is pod and chunk.records[2]["kubernetes"] is pod
    assert pod == {"pod_name": "web-1", "labels": {"app": "web"}, "ratio": 0.5}


def test_a_shared_dict_lua_would_change_comes_back_as_lua_changes_it(run: Runner) -> None:
    """null values leave a map and integral floats become integers (Fluent Bit's conversion), so such
    a dict is not handed back as it was even when the script leaves it alone."""
    shared = {"gone": None, "two": 2.0, "big": 2**60}
    chunk = run_filter(run, lua("function cb(tag, ts, r) return 2, ts, r end"), [{"m": shared}, {"m": shared}])
    assert chunk is not None
    assert chunk.records == [{"m": {"two": 2, "big": 2**60}}] * 2
    assert all(record["m"] is not shared for record in chunk.records)


def test_a_dict_met_twice_in_one_record_arrives_twice(run: Runner) -> None:
    shared = {"k": "v"}
    chunk = run_filter(run, lua("function cb(tag, ts, r) r.a.k = 'changed' return 2, ts, r end"),
                       [{"a": shared, "b": shared, "c": {"x": shared, "y": [shared]}}])
    assert chunk is not None
    assert chunk.records == [{"a": {"k": "changed"}, "b": {"k": "v"}, "c": {"x": {"k": "v"}, "y": [{"k": "v"}]}}]


def test_kept_records_are_the_original_dicts(run: Runner) -> None:
    record = {"log": "a"}
    chunk = run_filter(run, lua("function cb(tag, ts, r) r.log = 'ignored' return 0, ts, r end"), [record])
    assert chunk is not None and chunk.records[0] is record and record == {"log": "a"}


def test_dropping_every_record_drops_the_chunk(run: Runner) -> None:
    assert run_filter(run, lua("function cb(tag, ts, r) return -1, ts, r end"), [{"a": 1}, {"b": 2}]) is None


def test_split_records_take_the_new_time_and_keep_their_place(run: Runner) -> None:
    filt = lua("function cb(tag, ts, r) if r.n == 2 then return 1, 1700000001.5, {{n = 21}, {n = 22}} end "
               "return 0, ts, r end")
    chunk = run_filter(run, filt, [{"n": 1}, {"n": 2}, {"n": 3}])
    assert chunk is not None
    assert chunk.records == [{"n": 1}, {"n": 21}, {"n": 22}, {"n": 3}]
    assert chunk.timestamps == [START_NS, 1700000001_500000000, 1700000001_500000000, START_NS]


def test_a_returned_time_that_is_not_finite_counts_as_zero(run: Runner) -> None:
    chunk = run_filter(run, lua("function cb(tag, ts, r) return 1, 1/0, r end"), [{"a": 1}])
    assert chunk is not None and chunk.timestamps == [0] and chunk.records == [{"a": 1}]


def test_the_function_gets_the_tag_and_the_time_as_a_number(run: Runner) -> None:
    chunk = run_filter(run, lua("function cb(tag, ts, r) r.tag = tag r.ts = ts return 2, ts, r end"), [{}], "kube.x")
    assert chunk is not None and chunk.records == [{"tag": "kube.x", "ts": 1700000000.123456789}]


def test_an_error_keeps_only_that_record_unchanged_and_logs_the_script_line(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    script = str(DATA / "scripts" / "error.lua")
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        chunk = run_filter(run, make_filter(script=script, call="cb"), [{"msg": "no request"}, {"request": {"path": "/"}}])
    assert chunk is not None
    assert chunk.records == [{"msg": "no request"}, {"request": {"path": "/"}, "path": "/"}]
    [message] = errors(caplog)
    head, tail = "error code 2: ", ":3: attempt to index field 'request' (a nil value)"
    assert message.startswith(head) and message.endswith(tail)
    # Lua names the script by its path, shortened to its last characters ("...") past 60: how much
    # shows depends on where the checkout is.
    assert script.endswith(message[len(head):-len(tail)].removeprefix("..."))


def test_control_characters_quotes_and_backslashes_survive_the_round_trip(run: Runner) -> None:
    text = 'a"b\\c\n\t\x01\x7f end'
    chunk = run_filter(run, lua("function cb(tag, ts, r) r.copy = r.text return 2, ts, r end"), [{"text": text}])
    assert chunk is not None and chunk.records == [{"text": text, "copy": text}]


def test_large_records_long_strings_and_nested_arrays_come_back_whole(run: Runner) -> None:
    record = {f"key{number}": f"value {number} é" for number in range(300)}
    record.update({"long": "x漢" * 50_000, "numbers": list(range(5_000)), "nested": [[1, [2, []]], {}, [{"a": []}]]})
    chunk = run_filter(run, lua("function cb(tag, ts, r) r.added = true return 2, ts, r end"), [record])
    assert chunk is not None and chunk.records == [{**record, "added": True}]


def test_numbers_that_hold_an_integer_come_back_as_ints_the_others_as_floats(run: Runner) -> None:
    filt = lua("function cb(tag, ts, r) r.three = 3.0 r.half = 2.5 r.big = 2^53 r.huge = 2^64 r.negzero = -0.0 "
               "r.sum = r.int + r.float return 2, ts, r end")
    chunk = run_filter(run, filt, [{"int": 7, "float": 0.25}])
    assert chunk is not None
    [record] = chunk.records
    assert {key: (type(value), value) for key, value in record.items()} == {
        "int": (int, 7), "float": (float, 0.25), "three": (int, 3), "half": (float, 2.5), "big": (int, 2**53),
        "huge": (float, 2.0**64), "negzero": (int, 0), "sum": (float, 7.25),
    }


def test_a_new_time_holds_for_a_record_lua_writes_again_without_doubt(run: Runner) -> None:
    """An array with a hole has the length Lua's # gives (LuaJIT's own view, asked again)."""
    filt = lua("function cb(tag, ts, r) r.list[4] = 4 return 1, 1700000001.5, r end")
    chunk = run_filter(run, filt, [{"list": [1, 2]}])
    assert chunk is not None and chunk.records == [{"list": [1, 2, None, 4]}]
    assert chunk.timestamps == [1700000001_500000000]


def test_keys_that_are_not_text_become_text_and_functions_are_left_out(run: Runner) -> None:
    filt = lua("function cb(tag, ts, r) r.m = {[-1] = 'neg', [0] = 'zero', [true] = 'yes'} r.f = print "
               "r.list = {1, print, 3} return 2, ts, r end")
    chunk = run_filter(run, filt, [{"a": 1}])
    assert chunk is not None and chunk.records == [
        {"a": 1, "m": {"-1": "neg", "0": "zero", "true": "yes"}, "list": [1, None, 3]}
    ]


def test_a_table_that_holds_itself_keeps_the_record_and_logs_an_error(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    filt = lua("function cb(tag, ts, r) if r.n == 1 then r.self = r end r.seen = true return 2, ts, r end")
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        chunk = run_filter(run, filt, [{"n": 1}, {"n": 2}])
    assert chunk is not None and chunk.records == [{"n": 1}, {"n": 2, "seen": True}]
    assert errors(caplog) == ["invalid table returned at cb(), fluentbit.lua"]


def test_a_record_lua_cannot_hold_passes_unchanged_and_is_logged(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(120):
        inner["x"] = {}
        inner = inner["x"]
    surrogate = {"text": "\ud800"}
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        chunk = run_filter(run, lua("function cb(tag, ts, r) r.seen = true return 2, ts, r end"),
                           [deep, surrogate, {"n": 1}])
    assert chunk is not None and chunk.records == [deep, surrogate, {"n": 1, "seen": True}]
    assert chunk.records[0] is deep and chunk.records[1] is surrogate
    assert errors(caplog) == [
        "record with a record nested deeper than 100 levels passed unchanged",
        "record with text that is not valid UTF-8 passed unchanged",
    ]


def test_more_keys_than_the_key_dictionary_holds_still_arrive(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flb_fast.filters.lua.MAX_DICT_KEYS", 3)
    filt = lua("function cb(tag, ts, r) r['new' .. r.n] = r.n return 2, ts, r end")
    for chunk_number in range(3):
        records = [{"n": n, f"k{chunk_number}_{n}": "v"} for n in range(4)]
        chunk = run_filter(run, filt, [dict(record) for record in records])
        assert chunk is not None and chunk.records == [{**record, f"new{record['n']}": record["n"]} for record in records]


def test_a_chunk_runs_a_slice_at_a_time_with_every_result_in_place(
    run: Runner, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flb_fast.filters.lua.SLICE_BYTES", 40)
    filt = lua("function cb(tag, ts, r) "
               "if r.n % 5 == 0 then return -1, ts, r end "
               "if r.n % 5 == 1 then return 0, ts, r end "
               "if r.n % 5 == 2 then return 1, ts + 1, {{n = r.n, part = 1}, {n = r.n, part = 2}} end "
               "if r.n % 5 == 3 then error('three') end "
               "r.seen = true return 2, ts, r end")
    records = [{"n": n} for n in range(20)]
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        chunk = run_filter(run, filt, [dict(record) for record in records])
    expected: list[tuple[int, dict[str, Any]]] = []
    for n in range(20):
        if n % 5 == 1 or n % 5 == 3:
            expected.append((START_NS, {"n": n}))
        elif n % 5 == 2:
            expected += [(START_NS + 1_000_000_000, {"n": n, "part": part}) for part in (1, 2)]
        elif n % 5 == 4:
            expected.append((START_NS, {"n": n, "seen": True}))
    assert chunk is not None
    got = list(zip(chunk.timestamps, chunk.records, strict=True))
    # The new time goes through a double: its nanoseconds are near, not exact.
    assert [(round(ts, -4), record) for ts, record in got] == [(round(ts, -4), record) for ts, record in expected]
    assert len(errors(caplog)) == 4 and all(message.endswith(": three") for message in errors(caplog))


def test_lua_memory_stays_bounded_over_many_chunks(run: Runner) -> None:
    """The tables buffer.decode makes are garbage collected as the chunks go by."""
    filt = lua("function cb(tag, ts, r) r.cluster = 'prod' return 2, ts, r end")

    def lua_kib() -> float:
        return filt._lua.execute(b"return collectgarbage('count')")

    records = [{"log": "x" * 200, "kubernetes": {"pod_name": f"web-{n}", "labels": {"app": "web"}}} for n in range(500)]
    run_filter(run, filt, [dict(record) for record in records])
    after_one = lua_kib()
    for _ in range(40):
        run_filter(run, filt, [dict(record) for record in records])
    # 40 chunks of garbage would be about 40 times the first chunk's.
    assert lua_kib() < 4 * after_one


def test_a_five_parameter_function_gets_empty_group_and_metadata(run: Runner) -> None:
    filt = lua("function cb(tag, ts, group, meta, r) r.g = next(group) == nil r.m = next(meta) == nil "
               "return 1, ts, {x = 1}, r end")
    assert [option for option, _ in filt.config_warnings] == ["call"]
    chunk = run_filter(run, filt, [{"a": 1}])
    assert chunk is not None and chunk.records == [{"a": 1, "g": True, "m": True}]


def test_flb_env_holds_the_hostname(run: Runner) -> None:
    import socket

    chunk = run_filter(run, lua("function cb(tag, ts, r) r.host = FLB_ENV.HOSTNAME return 2, ts, r end"), [{}])
    assert chunk is not None and chunk.records == [{"host": socket.gethostname()}]


def test_protected_mode_off_is_supported_without_a_warning() -> None:
    """A Lua error then ends the agent (tests/e2e/test_lua_protected_mode.py runs it)."""
    filt = lua("function cb(tag, ts, r) return 0, ts, r end", protected_mode="off")
    assert filt.config_warnings == []


@pytest.mark.parametrize(
    ("options", "option", "message"),
    [
        ({"call": "cb"}, "script", "no script path defined"),
        ({"code": "function cb() end"}, "call", "function name defined by 'call' is not set"),
        ({"code": "function other() end", "call": "cb"}, "call", "function cb is not found"),
        ({"code": "function cb( end", "call": "cb"}, "code",
         "error loading script: [string \"fluentbit.lua\"]:1: <name> or '...' expected near 'end'"),
        ({"code": "error('boom at load')", "call": "cb"}, "code",
         "invalid lua content: [string \"fluentbit.lua\"]:1: boom at load"),
        ({"script": "/nonexistent/filter.lua", "call": "cb"}, "script", "cannot access script '/nonexistent/filter.lua'"),
    ],
)
def test_a_script_that_cannot_run_is_a_config_error(options: dict[str, str], option: str, message: str) -> None:
    with pytest.raises(PluginConfigError) as info:
        make_filter(**options)
    assert (info.value.option, info.value.message) == (option, message)


def test_a_syntax_error_in_a_script_file_names_the_config_line_and_the_script_line(tmp_path: Path) -> None:
    (tmp_path / "bad.lua").write_text("function cb(tag, ts, r)\n  return 1, ts r\nend\n")
    conf = tmp_path / "fluent-bit.conf"
    conf.write_text(textwrap.dedent("""\
        [INPUT]
            Name dummy
        [FILTER]
            Name lua
            Match *
            Script bad.lua
            Call cb
        [OUTPUT]
            Name null
            Match *
        """))
    config, _ = load_config(str(conf))
    with pytest.raises(ConfigError) as info:
        build(config)
    assert str(conf) + ":6" in str(info.value)
    # Lua shortens a long chunk name to its end ("...ata/bad.lua"), in Fluent Bit as here.
    assert "bad.lua:2: 'end' expected (to close 'function' at line 1) near 'r'" in str(info.value)


def test_a_relative_script_is_found_next_to_the_config_file(
    tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mark.lua").write_text("function cb(tag, ts, r) r.marked = true return 2, ts, r end\n")
    conf = tmp_path / "conf" / "fluent-bit.conf"
    conf.write_text("[INPUT]\n    Name dummy\n[FILTER]\n    Name lua\n    Match *\n    Script mark.lua\n"
                    "    Call cb\n[OUTPUT]\n    Name null\n    Match *\n")
    monkeypatch.chdir(tmp_path)
    config, _ = load_config(str(conf))
    pipeline, _ = build(config)
    chunk = run_filter(run, pipeline.filters[0].plugin, [{"a": 1}])
    assert chunk is not None and chunk.records == [{"a": 1, "marked": True}]


def test_the_agent_runs_a_script_and_logs_a_lua_error_with_its_line(tmp_path: Path) -> None:
    """The real command: the error logged in Fluent Bit's format with the script's line, that record
    delivered unchanged, the others of the same chunk modified."""
    (tmp_path / "count.lua").write_text(
        "calls = 0\n"
        "function cb(tag, ts, r)\n"
        "  calls = calls + 1\n"
        "  if calls == 2 then error('second record') end\n"
        "  r.call = calls\n"
        "  return 2, ts, r\n"
        "end\n"
    )
    config = textwrap.dedent(f"""\
        [SERVICE]
            Flush 0.2
        [INPUT]
            Name dummy
            Tag app
            Dummy {{"n": 1}}
            Copies 3
            Samples 1
        [FILTER]
            Name lua
            Match *
            Script count.lua
            Call cb
        [OUTPUT]
            Name file
            Match *
            Path {tmp_path / "out"}
            Mkdir true
            Format plain
        """)
    with Agent(tmp_path, config) as agent:
        agent.wait_for(lambda: len(lines(tmp_path / "out" / "app")) >= 3, "3 records written")
        result = agent.stop()
    assert result.returncode == 0
    assert [json.loads(line) for line in lines(tmp_path / "out" / "app")] == [
        {"n": 1, "call": 1}, {"n": 1}, {"n": 1, "call": 3}
    ]
    [error] = [line for line in result.stderr.splitlines() if "[error]" in line]
    assert error.endswith("[error] [filter:lua:lua.0] error code 2: count.lua:4: second record")
