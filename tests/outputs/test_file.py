"""file appends Fluent Bit's lines: out_file, plain, csv, ltsv, template and msgpack."""

from __future__ import annotations

import msgspec
import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.file import FileOutput, render_template, sanitize_tag
from flb_fast.record import Chunk
from tests.standalone import plugin_for

TS = 1_700_000_000_123_456_789


def chunk(*records: dict, tag: str = "app.web") -> Chunk:
    return Chunk(tag, [TS] * len(records), list(records), 100)


def write(run, chunks: list[Chunk], **options: str) -> FlushResult:
    plugin = plugin_for(FileOutput, **options)

    async def scenario():
        await plugin.start()
        results = [await plugin.flush(c) for c in chunks]
        await plugin.stop()
        return results

    results = run(scenario())
    assert len(set(results)) == 1
    return results[0]


def test_out_file_format_is_tag_time_and_json(run, tmp_path):
    assert write(run, [chunk({"log": "é", "n": 1.0}), chunk({})], path=str(tmp_path)) is FlushResult.OK
    assert (tmp_path / "app.web").read_bytes() == (
        b'app.web: [1700000000.123456789, {"log":"\\u00e9","n":1.0}]\n'
        b"app.web: [1700000000.123456789, {}]\n"
    )


def test_file_names_the_output_and_appends(run, tmp_path):
    (tmp_path / "out.log").write_bytes(b"existing\n")
    write(run, [chunk({"a": 1})], path=str(tmp_path), file="out.log", format="plain")
    assert (tmp_path / "out.log").read_bytes() == b'existing\n{"a":1}\n'


def test_plain_format_is_the_record_as_json(run, tmp_path):
    write(run, [chunk({"a": "x", "b": [1, 2]}, {"c": None})], path=str(tmp_path), file="o", format="plain")
    assert (tmp_path / "o").read_bytes() == b'{"a":"x","b":[1,2]}\n{"c":null}\n'


def test_csv_format_with_column_names_in_an_empty_file(run, tmp_path):
    write(run, [chunk({"a": "x", "b": 2}), chunk({"a": "y", "b": 3.5})], path=str(tmp_path), file="o.csv",
          format="csv", csv_column_names="on")
    assert (tmp_path / "o.csv").read_bytes() == (
        b'timestamp,"a","b"\n'
        b'1700000000.123456789,"x",2\n'
        b'1700000000.123456789,"y",3.500000\n'
    )


def test_csv_delimiter_spellings(run, tmp_path):
    write(run, [chunk({"a": "x", "b": 2})], path=str(tmp_path), file="o", format="csv", delimiter="tab")
    assert (tmp_path / "o").read_bytes() == b'1700000000.123456789\t"x"\t2\n'


def test_an_unrecognised_delimiter_is_ignored_as_in_fluent_bit(run, tmp_path):
    write(run, [chunk({"a": "x"})], path=str(tmp_path), file="o", format="csv", delimiter=";")
    assert (tmp_path / "o").read_bytes() == b'1700000000.123456789,"x"\n'


def test_ltsv_format(run, tmp_path):
    write(run, [chunk({"a": "x", "b": 2})], path=str(tmp_path), file="o", format="ltsv")
    assert (tmp_path / "o").read_bytes() == b'"time":1700000000.123457\t"a":"x"\t"b":2\n'
    write(run, [chunk({"a": "x"})], path=str(tmp_path), file="p", format="ltsv", delimiter="space",
          label_delimiter="comma")
    assert (tmp_path / "p").read_bytes() == b'"time",1700000000.123457 "a","x"\n'


def test_template_format(run, tmp_path):
    write(run, [chunk({"message": "hi", "n": 3})], path=str(tmp_path), file="o", format="template",
          template="{time} {message} n={n} {missing} {open")
    assert (tmp_path / "o").read_bytes() == b"1700000000.123457 hi n=3 {missing} {open\n"


def test_template_placeholders_follow_fluent_bits_brace_rules():
    assert render_template("{a{b} x", 0, {"b": "B"}) == "{aB x\n"
    assert render_template("{message}", 0, {"message": {"k": 1}}) == '{"k"=>1}\n'


def test_default_template_is_time_and_message(run, tmp_path):
    write(run, [chunk({"message": "hi"})], path=str(tmp_path), file="o", format="template")
    assert (tmp_path / "o").read_bytes() == b"1700000000.123457 hi\n"


def test_msgpack_format_is_fluent_bits_event_format(run, tmp_path):
    write(run, [chunk({"a": 1})], path=str(tmp_path), file="o", format="msgpack")
    decoded = msgspec.msgpack.decode((tmp_path / "o").read_bytes())
    ext, metadata = decoded[0]
    assert (ext.code, ext.data, metadata, decoded[1]) == (0, (1700000000).to_bytes(4, "big")
                                                          + (123456789).to_bytes(4, "big"), {}, {"a": 1})


def test_missing_directory_is_an_error_unless_mkdir(run, tmp_path):
    target = tmp_path / "a" / "b"
    assert write(run, [chunk({"a": 1})], path=str(target)) is FlushResult.ERROR
    assert write(run, [chunk({"a": 1})], path=str(target), mkdir="on") is FlushResult.OK
    assert (target / "app.web").read_bytes() == b'app.web: [1700000000.123456789, {"a":1}]\n'


@pytest.mark.parametrize(
    ("tag", "name"),
    [("kube.var.log", "kube.var.log"), ("../../etc/passwd", "_/_/etc/passwd"), ("/abs//x y", "abs/x_y"), ("", "_")],
)
def test_tags_become_safe_relative_file_names(tag, name):
    assert sanitize_tag(tag) == name


def test_a_character_of_several_utf8_bytes_becomes_one_underscore_per_byte():
    """Fluent Bit 4.2.8 (dummy input with Tag nest.é.ü€, file output) wrote the file nest.__._____."""
    assert sanitize_tag("nest.é.ü€") == "nest.__._____"


def test_a_byte_of_a_path_that_is_not_utf8_becomes_one_underscore():
    assert sanitize_tag(b"kube.\xff.log".decode("utf-8", "surrogateescape")) == "kube._.log"


def test_unknown_format_is_a_config_error():
    with pytest.raises(PluginConfigError) as caught:
        plugin_for(FileOutput, format="json_lines")
    assert caught.value.option == "format"
