"""The parser filter (FB plugins/filter_parser; docs: data-pipeline/filters/parser)."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.model import Config
from flb_fast.filters.parser import ParserFilter
from flb_fast.parsers import build_registry
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.parsers.helpers import ns, section
from tests.standalone import plugin_for

REGISTRY = build_registry(
    Config(
        parsers=[
            section(
                Name="dummy_test", Format="regex", Regex=r"^(?<INT>[^ ]+) (?<FLOAT>[^ ]+) (?<BOOL>[^ ]+) (?<STRING>.+)$"
            ),
            section(Name="kv", Format="logfmt"),
        ]
    )
)
NGINX = '10.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"'
NGINX_FIELDS = {
    "remote": "10.0.0.1",
    "host": "-",
    "user": "-",
    "method": "GET",
    "path": "/",
    "code": "200",
    "size": "5",
    "referer": "-",
    "agent": "curl",
}


def make_filter(**props: str | list[str]) -> ParserFilter:
    return plugin_for(ParserFilter, parsers=REGISTRY, Name="parser", **props)


def run_filter(run: Runner, filt: ParserFilter, records: list[dict]) -> Chunk:
    chunk = Chunk("app", [7] * len(records), records, 100)
    result = run(filt.filter(chunk))
    assert result is chunk
    return result


def test_parsed_record_replaces_the_original_and_takes_its_time(run: Runner) -> None:
    chunk = run_filter(run, make_filter(Key_Name="log", Parser="nginx"), [{"log": NGINX, "stream": "stdout"}])
    assert (chunk.timestamps, chunk.records) == ([ns(2026, 11, 25, 13)], [NGINX_FIELDS])


def test_reserve_data_keeps_other_fields_after_parsed_ones(run: Runner) -> None:
    chunk = run_filter(
        run, make_filter(Key_Name="log", Parser="nginx", Reserve_Data="On"), [{"stream": "stdout", "log": NGINX}]
    )
    assert chunk.records == [{**NGINX_FIELDS, "stream": "stdout"}]


def test_preserve_key_keeps_the_parsed_field(run: Runner) -> None:
    chunk = run_filter(
        run, make_filter(Key_Name="log", Parser="nginx", Preserve_Key="On"), [{"stream": "stdout", "log": NGINX}]
    )
    assert chunk.records == [{**NGINX_FIELDS, "log": NGINX}]


def test_a_kept_field_the_parsed_record_has_too_comes_after_the_parsed_ones(run: Runner) -> None:
    # Fluent Bit's record holds it twice; its JSON writer keeps the last, where it stands (recorded:
    # tests/data/fluent-bit/parser_filter_repeated_keys).
    chunk = run_filter(run, make_filter(Key_Name="log", Parser="kv", Reserve_Data="On", Preserve_Key="On"),
                       [{"log": "stream=parsed log=inner x=1", "stream": "stdout"}])
    assert list(chunk.records[0].items()) == [
        ("x", "1"), ("log", "stream=parsed log=inner x=1"), ("stream", "stdout")]


def test_several_parsers_are_tried_in_order(run: Runner) -> None:
    chunk = run_filter(
        run,
        make_filter(Key_Name="data", Parser=["nginx", "dummy_test", "kv"]),
        [{"data": "100 0.5 true This is an example"}, {"data": "a=1"}, {"data": NGINX}],
    )
    assert chunk.records == [
        {"INT": "100", "FLOAT": "0.5", "BOOL": "true", "STRING": "This is an example"},
        {"a": "1"},
        NGINX_FIELDS,
    ]
    assert chunk.timestamps == [7, 7, ns(2026, 11, 25, 13)]


def test_unparsable_or_missing_field_leaves_the_record_untouched(run: Runner) -> None:
    records = [{"log": "@@@"}, {"other": 1}, {"log": 5}]
    chunk = run_filter(run, make_filter(Key_Name="log", Parser="nginx"), [dict(r) for r in records])
    assert (chunk.timestamps, chunk.records) == ([7, 7, 7], records)


def test_record_accessor_key_name(run: Runner) -> None:
    chunk = run_filter(
        run,
        make_filter(Key_Name="$kubernetes['raw']", Parser="kv", Reserve_Data="On"),
        [{"kubernetes": {"raw": "x=1"}}],
    )
    assert chunk.records == [{"x": "1", "kubernetes": {"raw": "x=1"}}]


def test_unescape_key(run: Runner) -> None:
    chunk = run_filter(run, make_filter(Key_Name="log", Parser="kv", Unescape_Key="On"), [{"log": "a=1\\tb=2"}])
    assert chunk.records == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize(
    "props,option",
    [
        ({"Parser": "nginx"}, "key_name"),
        ({"Key_Name": "log"}, "parser"),
        ({"Key_Name": "log", "Parser": "missing"}, "parser"),
    ],
)
def test_configuration_errors_name_the_option(props: dict[str, str], option: str) -> None:
    with pytest.raises(PluginConfigError) as info:
        make_filter(**props)
    assert info.value.option == option
