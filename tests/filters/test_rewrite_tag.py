"""rewrite_tag on the real engine: the tags and records Fluent Bit 4.2.8 produced for the same rules
(tests/data/filters/rewrite_tag, see its README), the emitter input the re-emitted records enter
through, the filters they pass, the emission cycle that must not loop, and config errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigErrors
from flb_fast.engine.engine import Engine
from flb_fast.filters.rewrite_tag import split_rule
from tests.engine.test_engine import config, counters, section, until
from tests.filters.emitting import delivered, drive

DATA = Path(__file__).parents[1] / "data" / "filters" / "rewrite_tag"
MANUAL = section("INPUT", Name="manual", Tag="app.logs")
SCRIPTED = section("OUTPUT", Name="scripted", Match="*")


def rewrite(*rules: str, match: str = "app.*", **options: str) -> str:
    lines = "".join(f"    Rule {rule}\n" for rule in rules)
    return section("FILTER", Name="rewrite_tag", Match=match, **options) + lines


def by_tag(built) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for tag, record in delivered(built):
        found.setdefault(tag, []).append(record)
    return found


def push(*records: dict):
    return lambda built: built.inputs[0].plugin.push(list(records))


def test_the_recorded_rules_give_fluent_bits_tags_and_records(run, pipeline):
    records = [json.loads(line) for line in (DATA / "in.log").read_text().splitlines()]
    rules = [line.strip()[len("Rule "):] for line in (DATA / "rules.conf").read_text().splitlines()
             if line.strip().startswith("Rule ")]
    want = json.loads((DATA / "rules.expected.json").read_text())
    built, _ = pipeline(config(MANUAL, rewrite(*rules), SCRIPTED, flush=0.05))
    drive(run, built, push(*records), lambda b: len(delivered(b)) >= sum(map(len, want.values())))
    assert by_tag(built) == want


def test_a_rule_is_four_fields_the_last_taking_the_rest_and_quotes_group_a_field():
    assert split_rule('$msg ^(slow) (request)$ five.$1.$2 on') == ["$msg", "^(slow)", "(request)$", "five.$1.$2 on"]
    assert split_rule('$msg "^(hello world)$"  out.$1   true') == ["$msg", "^(hello world)$", "out.$1", "true"]
    assert split_rule("$msg ^x$ out") == ["$msg", "^x$", "out"]


def test_only_true_on_and_yes_keep_the_original_record(run, pipeline):
    built, warnings = pipeline(config(MANUAL, rewrite("$n ^1$ one 1", "$n ^2$ two yes"), SCRIPTED, flush=0.05))
    drive(run, built, push({"n": "1"}, {"n": "2"}), lambda b: len(delivered(b)) >= 3)
    assert by_tag(built) == {"app.logs": [{"n": "2"}], "one": [{"n": "1"}], "two": [{"n": "2"}]}
    assert [w.message for w in warnings] == [
        "rewrite_tag.0: keep '1' is not true, on or yes: the original record is not kept (as in Fluent Bit)"]


def test_re_emitted_records_pass_every_filter_matching_their_new_tag_from_the_first(run, pipeline):
    built, _ = pipeline(config(MANUAL, section("FILTER", Name="edit", Match="*"),
                               rewrite("$level ^(error)$ alert.$1 false"),
                               section("FILTER", Name="edit", Match="*"), SCRIPTED, flush=0.05))
    drive(run, built, push({"n": 1, "level": "error"}, {"n": 2, "level": "info"}), lambda b: len(delivered(b)) >= 2)
    before, after = built.filters[0].plugin, built.filters[2].plugin
    assert sorted(before.seen) == ["1", "1", "2"]
    assert sorted(after.seen) == ["1", "2"]
    assert by_tag(built) == {"alert.error": [{"n": 1, "level": "error"}], "app.logs": [{"n": 2, "level": "info"}]}


def test_the_emitter_is_an_input_with_its_own_name_counters_and_limit(run, pipeline):
    built, _ = pipeline(config(MANUAL, rewrite("$level ^(error)$ alert true"), SCRIPTED, flush=0.05))
    drive(run, built, push({"level": "error"}, {"level": "info"}), lambda b: len(delivered(b)) >= 3)
    emitter = built.inputs[1]
    assert (emitter.name, emitter.plugin_name, emitter.mem_buf_limit) == ("emitter_for_rewrite_tag.0", "emitter",
                                                                         10_000_000)
    assert counters(built, "input", "manual.0")["records"] == 2
    assert counters(built, "input", "emitter_for_rewrite_tag.0")["records"] == 1
    assert counters(built, "filter", "rewrite_tag.0") == {"drop_records": 0, "add_records": 0, "emit_records": 1}


def test_emitter_name_and_mem_buf_limit_configure_the_emitter(pipeline):
    built, _ = pipeline(config(MANUAL, rewrite("$a b c true", Emitter_Name="re_emitted",
                                               Emitter_Mem_Buf_Limit="1M"), SCRIPTED))
    assert [(i.name, i.mem_buf_limit) for i in built.inputs] == [("manual.0", 0), ("re_emitted", 1_000_000)]


def test_a_kept_record_and_its_re_emitted_copy_share_nothing(run, pipeline):
    shared = {"labels": {"app": "web"}}
    built, _ = pipeline(config(MANUAL, rewrite("$level ^(error)$ alert true"), SCRIPTED, flush=0.05))
    drive(run, built, push({"level": "error", "kubernetes": shared}), lambda b: len(delivered(b)) >= 2)
    (original,), (copy,) = by_tag(built)["app.logs"], by_tag(built)["alert"]
    assert original == copy
    assert copy["kubernetes"] is not shared and copy["kubernetes"]["labels"] is not shared["labels"]


def test_a_rule_re_emitting_into_its_own_match_does_not_loop(run, pipeline, logs):
    built, _ = pipeline(config(section("INPUT", Name="manual", Tag="a"), rewrite("$m ^x$ b.$TAG true", match="*"),
                               SCRIPTED, flush=0.05))
    drive(run, built, push({"m": "x"}), lambda b: len(delivered(b)) >= 2)
    assert by_tag(built) == {"a": [{"m": "x"}], "b.a": [{"m": "x"}]}
    assert counters(built, "filter", "rewrite_tag.0")["emit_records"] == 1
    assert "[filter:rewrite_tag:rewrite_tag.0] 'Match' may cause infinite loop." in logs
    assert sum("emitter cycle detected" in line for line in logs) == 1


def test_the_emitter_over_its_limit_pauses_the_inputs_it_re_emits_for(run, pipeline):
    built, _ = pipeline(config(MANUAL, rewrite("$m ^x$ alert false", Emitter_Mem_Buf_Limit="10"),
                               section("OUTPUT", Name="gated", Match="alert"), flush=3600, grace=0.2))
    source, emitter = built.inputs[0].plugin, built.inputs[1].plugin
    drive(run, built, push({"m": "x"}, {"m": "x"}, {"m": "x"}), lambda _: emitter.paused and source.paused)
    assert source.calls[:2] == ["start", "pause"]


@pytest.mark.parametrize("keep", ["false", "true"])
def test_the_input_is_acknowledged_only_once_the_re_emitted_records_are_delivered_too(run, pipeline, keep):
    built, _ = pipeline(config(MANUAL, rewrite(f"$n ^1$ moved {keep}"), section("OUTPUT", Name="scripted",
                               Match="app.*"), section("OUTPUT", Name="gated", Match="moved"), flush=0.05))
    source, gated = built.inputs[0].plugin, built.outputs[1].plugin
    seen = []

    async def scenario():
        engine = Engine(built)
        await engine.start()
        try:
            source.push([{"n": "1"}], positions=["a:10"])
            await until(lambda: gated.started)
            await asyncio.sleep(0.1)
            seen.append(list(source.acknowledged))
            gated.gate.set()
            await until(lambda: source.acknowledged)
            seen.append(list(source.acknowledged))
        finally:
            await engine.stop()

    run(scenario())
    assert seen == [[], ["a:10"]]


@pytest.mark.parametrize(("rule", "message"), [
    ("$a b c", "invalid rule '$a b c': expected $key regex new_tag keep"),
    ("$a (b c true", "could not compile regex pattern '(b'"),
    ("$a[ b c true", "invalid record accessor key '$a['"),
])
def test_a_bad_rule_stops_start_up_at_its_line(pipeline, rule, message):
    with pytest.raises(ConfigErrors) as caught:
        pipeline(config(MANUAL, rewrite(rule), SCRIPTED))
    (error,) = caught.value.errors
    assert message in str(error)
    assert error.line == 12


def test_rewrite_tag_without_rules_is_a_config_error(pipeline):
    with pytest.raises(ConfigErrors, match="at least one 'Rule'"):
        pipeline(config(MANUAL, rewrite(), SCRIPTED))


def test_a_filesystem_emitter_is_accepted_with_a_warning_that_it_buffers_in_memory(pipeline):
    built, warnings = pipeline(config(MANUAL, rewrite("$a b c true", **{"Emitter_Storage.type": "filesystem"}),
                                      SCRIPTED))
    assert [(w.line, w.message) for w in warnings] == [
        (12, "rewrite_tag.0: option 'emitter_storage.type' is not supported yet by flb_fast: chunks are buffered "
             "in memory")]
