"""content_modifier: every action on the record Fluent Bit 4.2.8 was given, with its recorded result
(tests/data/processors/content_modifier, see its README), failures leaving the chunk as it was,
and the config errors Fluent Bit gives."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.processors.content_modifier import ContentModifierProcessor
from flb_fast.record import Chunk
from tests.standalone import plugin_for

DATA = Path(__file__).parents[1] / "data" / "processors" / "content_modifier"
CASES = json.loads((DATA / "cases.json").read_text())
EXPECTED = json.loads((DATA / "expected.json").read_text())


def modify(records: list[dict], **options: str) -> list[dict]:
    processor = plugin_for(ContentModifierProcessor, **options)
    chunk = Chunk("app", [1] * len(records), records, 10)
    result = asyncio.run(processor.filter(chunk))
    assert result is chunk
    return result.records


@pytest.mark.parametrize("case", CASES["cases"], ids=[case["tag"] for case in CASES["cases"]])
def test_each_action_gives_the_record_fluent_bit_gave(case):
    (record,) = modify([json.loads(json.dumps(CASES["record"]))], **case["processor"])
    assert list(record.items()) == list(EXPECTED[case["tag"]].items())


def test_a_record_that_fails_leaves_the_whole_chunk_unchanged(caplog):
    records = modify([{"n": "1"}, {"n": "x"}, {"n": "2"}], action="convert", key="n", converted_type="int")
    assert records == [{"n": "1"}, {"n": "x"}, {"n": "2"}]
    assert "failed to process chunk" in caplog.text


def test_an_action_never_changes_a_map_another_record_shares():
    shared = {"app": "web"}
    records = modify([{"labels": shared, "s": "a"}], action="upsert", key="s", value="b")
    assert records == [{"labels": {"app": "web"}, "s": "b"}]
    assert shared == {"app": "web"}


def test_a_metadata_context_is_accepted_with_a_warning_and_changes_nothing():
    processor = plugin_for(ContentModifierProcessor, action="delete", key="s", context="metadata")
    assert [option for option, _ in processor.config_warnings] == ["context"]
    chunk = Chunk("app", [1], [{"s": 1}], 10)
    assert asyncio.run(processor.filter(chunk)).records == [{"s": 1}]


@pytest.mark.parametrize(("options", "option", "message"), [
    ({"key": "k"}, "action", "no 'action' defined"),
    ({"action": "append", "key": "k"}, "action", "unknown action 'append'"),
    ({"action": "delete"}, "key", "key is required for action 'delete'"),
    ({"action": "insert", "key": "k"}, "value", "value is required for action 'insert'"),
    ({"action": "extract", "key": "k"}, "pattern", "for 'extract' action, a regular expression in 'pattern' is required"),
    ({"action": "convert", "key": "k"}, "converted_type", "converted_type is required for action 'convert'"),
    ({"action": "convert", "key": "k", "converted_type": "float"}, "converted_type", "unsupported converted_type 'float'"),
    ({"action": "delete", "key": "k", "context": "labels"}, "context", "unknown logs context 'labels'"),
    ({"action": "extract", "key": "k", "pattern": "(?<a>"}, "pattern", "invalid regex pattern '(?<a>'"),
])
def test_bad_options_are_config_errors_naming_the_option(options, option, message):
    with pytest.raises(PluginConfigError) as caught:
        plugin_for(ContentModifierProcessor, **options)
    assert caught.value.option == option
    assert message in caught.value.message
