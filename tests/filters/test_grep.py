"""The grep filter (FB plugins/filter_grep; docs: pipeline/filters/grep)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigError, PluginConfigError
from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build
from flb_fast.filters.grep import GrepFilter
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import assert_case, cases
from tests.standalone import plugin_for


def grep(**props: str | list[str]) -> GrepFilter:
    return plugin_for(GrepFilter, Name="grep", **props)


def kept(run: Runner, filt: GrepFilter, records: list[dict]) -> list[dict]:
    chunk = run(filt.filter(Chunk("app", [1] * len(records), records, 0)))
    return chunk.records


@pytest.mark.parametrize("case", cases("grep"))
def test_recorded_fluent_bit_case(run: Runner, case: str) -> None:
    assert_case(run, "grep", case)


def test_a_bad_regex_is_a_config_error_at_its_own_line() -> None:
    with pytest.raises(PluginConfigError, match="could not compile regex pattern") as error:
        grep(Regex=["log ok", "log (unclosed", "log fine"])
    assert (error.value.option, error.value.prop.line) == ("Regex", 3)  # test.conf line 1 is Name


def test_a_rule_without_a_regex_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError, match="expected field and regular expression"):
        grep(Exclude="log")


def test_a_bad_record_accessor_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError, match="invalid record accessor"):
        grep(Regex="$log['x' ^a")


def test_regex_and_exclude_together_with_and_or_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError, match="Both 'regex' and 'exclude' are set."):
        grep(Logical_Op="OR", Regex="log a", Exclude="log b")


def test_an_unknown_logical_op_warns_and_uses_legacy(run: Runner) -> None:
    filt = grep(Logical_Op="XOR", Regex="log ^a")
    assert filt.config_warnings == [("logical_op", "unknown Logical_Op 'XOR': legacy is used (legacy, AND or OR)")]
    assert kept(run, filt, [{"log": "a"}, {"log": "b"}]) == [{"log": "a"}]


def test_legacy_rules_apply_in_config_order_across_regex_and_exclude(run: Runner) -> None:
    records = [{"a": "x", "b": "y"}]
    assert kept(run, plugin_for(GrepFilter, Name="grep", Regex="a x", Exclude="b y"), records) == records
    assert kept(run, plugin_for(GrepFilter, Name="grep", Exclude="b y", Regex="a x"), records) == []


def test_onigmo_syntax_is_accepted(run: Runner) -> None:
    assert kept(run, grep(Regex=r"log ^(?<word>\h+)$"), [{"log": "beef"}, {"log": "xyz"}]) == [{"log": "beef"}]


def test_the_agent_refuses_a_bad_rule_naming_its_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "fluent-bit.conf"
    conf.write_text(
        "[INPUT]\n    Name dummy\n[FILTER]\n    Name grep\n    Match *\n"
        "    Regex log [a-\n    Regex log ok\n[OUTPUT]\n    Name null\n    Match *\n"
    )
    with pytest.raises(ConfigError) as error:
        build(load_config(str(conf))[0])
    assert str(error.value).startswith(f"{conf}:6: 'Regex': grep.0: could not compile regex pattern '[a-'")
