"""YAML ``processors: logs:`` on the running engine: an input's run on each batch before it is
counted, filtered and routed; an output's on that output's own copy of each chunk. As observed
with Fluent Bit 4.2.8 (tests/data/processors/README.md): input counters count what the processors
let through, an output's processors change nothing another output receives, processors have no
counters of their own in the metrics, and a re-emitting filter in an input's processors puts its
records back into that input after its own stage (in an output's, through its emitter input)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigErrors
from flb_fast.config.loader import load_config
from flb_fast.engine.engine import Engine
from flb_fast.engine.pipeline import build
from tests.engine.test_engine import counters, until
from tests.filters.emitting import delivered, drive

DATA = Path(__file__).parents[1] / "data" / "processors"

INSERT = "- name: content_modifier\n  action: insert\n  key: added\n  value: v1\n"
DELETE = "- name: content_modifier\n  action: delete\n  key: secret\n"
EDIT = "- name: edit\n"


def processors(units: str) -> str:
    """A pipeline item's processors list, as the lines under ``- name: ...`` (indented 6)."""
    return f"      processors:\n        logs:\n{textwrap.indent(units, ' ' * 10)}" if units else ""


def yaml_pipeline(tmp_path, input_units: str = "", outputs: str = "", filters: bool = True, flush: float = 3600):
    text = textwrap.dedent(f"""\
    service:
      flush: {flush}
      grace: 5
    pipeline:
      inputs:
        - name: manual
          tag: app
    """) + processors(input_units) + ("  filters:\n    - name: edit\n      match: '*'\n" if filters else "") + \
        "  outputs:\n" + outputs
    path = tmp_path / "fluent-bit.yaml"
    path.write_text(text)
    config, _ = load_config(str(path))
    return build(config)[0]


def output(units: str = "") -> str:
    return "    - name: scripted\n      match: '*'\n" + processors(units)


def deliver_all(run, built, records: list[dict]) -> None:
    async def scenario():
        engine = Engine(built)
        await engine.start()
        built.inputs[0].plugin.push(records)
        await until(lambda: engine.pending_filtering == 0)
        engine.flush()
        await until(lambda: engine.pending_deliveries == 0 and engine.pending_filtering == 0)
        await engine.stop()

    run(scenario())


def received(built, index: int) -> list[dict]:
    return built.outputs[index].plugin.delivered_records()


def test_input_processors_run_before_the_filters_and_the_input_counts_what_they_let_through(run, pipeline, tmp_path):
    built = yaml_pipeline(tmp_path, INSERT + EDIT, output())
    deliver_all(run, built, [{"n": 1}, {"n": 2, "drop": True}])
    assert received(built, 0) == [{"n": 1, "added": "v1"}]
    assert built.filters[0].plugin.seen == ["1"]
    assert counters(built, "input", "manual.0") == {"records": 1, "bytes": 20}


def test_an_outputs_processors_change_only_what_that_output_receives(run, pipeline, tmp_path):
    built = yaml_pipeline(tmp_path, outputs=output(DELETE) + output())
    deliver_all(run, built, [{"n": 1, "secret": "s"}])
    assert received(built, 0) == [{"n": 1}]
    assert received(built, 1) == [{"n": 1, "secret": "s"}]


def test_an_output_whose_processors_drop_every_record_flushes_nothing_and_the_chunk_is_released(
        run, pipeline, tmp_path):
    built = yaml_pipeline(tmp_path, outputs=output(EDIT) + output(), filters=False)
    deliver_all(run, built, [{"n": 1, "drop": True}])
    assert built.outputs[0].plugin.flushes == []
    assert received(built, 1) == [{"n": 1, "drop": True}]
    assert counters(built, "output", "scripted.0")["proc_records"] == 0


def test_processors_have_no_counters_in_the_metrics(pipeline, tmp_path):
    built = yaml_pipeline(tmp_path, INSERT, output(INSERT))
    assert [unit.name for unit in built.processors] == ["content_modifier.0", "content_modifier.1"]
    assert list(built.metrics.snapshot()["filter"]) == ["edit.0"]


def test_multiline_in_an_inputs_processors_joins_as_fluent_bit_and_the_input_counts_the_joined_records(
        run, pipeline, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA", str(DATA.parent / "filters" / "multiline"))
    text = (DATA / "multiline.yaml").read_text()
    stdout = "    - name: stdout\n      match: '*'\n      format: json_lines\n      json_date_key: false\n"
    assert stdout in text
    path = tmp_path / "fluent-bit.yaml"
    path.write_text(text.replace(stdout, output()))
    built = build(load_config(str(path))[0])[0]
    want = [json.loads(line) for line in (DATA / "multiline.expected.jsonl").read_text().splitlines()]
    drive(run, built, lambda _: None, lambda b: len(received(b, 0)) >= len(want))
    assert received(built, 0) == want
    assert counters(built, "input", "tail.0")["records"] == 7
    assert counters(built, "input", "emitter_for_multiline.0") == {"records": 0, "bytes": 0}


def test_rewrite_tag_in_an_inputs_processors_puts_records_back_after_its_own_stage(run, pipeline, tmp_path):
    rewrite = "- name: rewrite_tag\n  rule: $m ^x$ new false\n"
    built = yaml_pipeline(tmp_path, rewrite + INSERT, output())
    deliver_all(run, built, [{"m": "x", "n": 1}, {"m": "y", "n": 2}])
    assert sorted((tag, record["n"], record) for tag, record in delivered(built)) == [
        ("app", 2, {"m": "y", "n": 2, "added": "v1"}), ("new", 1, {"m": "x", "n": 1, "added": "v1"})]
    assert sorted(built.filters[0].plugin.seen) == ["1", "2"]
    assert counters(built, "input", "manual.0")["records"] == 2
    assert counters(built, "input", "emitter_for_rewrite_tag.0")["records"] == 0


def test_stopping_emits_what_a_multiline_processor_still_holds_into_its_input(run, pipeline, tmp_path):
    multiline = "- name: multiline\n  multiline.key_content: log\n  multiline.parser: java\n  flush_ms: 60000\n"
    built = yaml_pipeline(tmp_path, multiline, output())
    lines = [{"log": "java.lang.IllegalStateException: boom"}, {"log": "    at a.B.c(B.java:1)"}]
    drive(run, built, lambda b: b.inputs[0].plugin.push(lines), lambda _: True)
    assert received(built, 0) == [{"log": "java.lang.IllegalStateException: boom\n    at a.B.c(B.java:1)"}]


def test_rewrite_tag_in_an_outputs_processors_re_emits_through_its_emitter_input(run, pipeline, tmp_path):
    rewrite = "- name: rewrite_tag\n  rule: $m ^(x)$ re.$1 false\n"
    first = output(rewrite).replace("match: '*'", "match: app")
    built = yaml_pipeline(tmp_path, outputs=first + output(), filters=False, flush=0.05)
    drive(run, built, lambda b: b.inputs[0].plugin.push([{"m": "x"}]), lambda b: len(received(b, 1)) >= 2)
    assert received(built, 0) == []
    assert sorted(delivered(built, 1)) == [("app", {"m": "x"}), ("re.x", {"m": "x"})]
    assert counters(built, "input", "emitter_for_rewrite_tag.0")["records"] == 1


@pytest.mark.parametrize(("name", "message"), [
    ("nosuch", "unknown processor plugin 'nosuch' (known: content_modifier, or any filter plugin)"),
    ("labels", "processor plugin 'labels' is a Fluent Bit plugin that flb_fast does not support yet"),
])
def test_an_unknown_processor_is_a_config_error_naming_what_a_processor_can_be(pipeline, tmp_path, name, message):
    with pytest.raises(ConfigErrors) as caught:
        yaml_pipeline(tmp_path, f"- name: {name}\n", output())
    assert [error.message for error in caught.value.errors] == [message]
