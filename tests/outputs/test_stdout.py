"""stdout prints Fluent Bit's bytes: the msgpack print format and the JSON formats."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.stdout import StdoutOutput
from flb_fast.record import Chunk
from tests.standalone import plugin_for

TS = 1_700_000_000_123_456_789


def chunk(*records: dict, tag: str = "app.web") -> Chunk:
    return Chunk(tag, [TS + index for index in range(len(records))], list(records), 100)


def render(records: list[dict], **options: str) -> bytes:
    return plugin_for(StdoutOutput, **options).render(chunk(*records))


def test_msgpack_format_prints_fluent_bits_human_readable_lines():
    records = [{"log": "hello", "n": 3, "f": 1.5, "ok": True, "none": None, "list": [1, "a"], "map": {"k": "v"}},
               {}]
    assert render(records) == (
        b'[0] app.web: [[1700000000.123456789, {}], {"log"=>"hello", "n"=>3, "f"=>1.500000, "ok"=>true, '
        b'"none"=>nil, "list"=>[1, "a"], "map"=>{"k"=>"v"}}]\n'
        b"[1] app.web: [[1700000000.123456790, {}], {}]\n"
    )


def test_msgpack_format_prints_strings_raw():
    assert render([{"log": 'say "hi"\nå'}]) == '[0] app.web: [[1700000000.123456789, {}], {"log"=>"say "hi"\nå"}]\n'.encode()


def test_json_lines_puts_the_date_first_as_a_double():
    assert render([{"log": "a"}, {"log": "b"}], format="json_lines") == (
        b'{"date":1700000000.123457,"log":"a"}\n{"date":1700000000.123457,"log":"b"}\n'
    )


def test_json_is_one_array_followed_by_a_newline():
    assert render([{"a": 1}, {"b": 2}], format="json") == (
        b'[{"date":1700000000.123457,"a":1},{"date":1700000000.123457,"b":2}]\n'
    )


def test_json_stream_concatenates_objects():
    assert render([{"a": 1}, {"b": 2}], format="json_stream") == (
        b'{"date":1700000000.123457,"a":1}{"date":1700000000.123457,"b":2}\n'
    )


@pytest.mark.parametrize(
    ("date_format", "value"),
    [
        ("double", b"1700000000.123457"),
        ("epoch", b"1700000000"),
        ("epoch_ms", b"1700000000123"),
        ("iso8601", b'"2023-11-14T22:13:20.123456Z"'),
        ("java_sql_timestamp", b'"2023-11-14 22:13:20.123456"'),
        ("EPOCH_MILLIS", b"1700000000123"),
    ],
)
def test_json_date_formats(date_format, value):
    assert render([{"a": 1}], format="json_lines", json_date_format=date_format) == b'{"date":' + value + b',"a":1}\n'


def test_json_date_key_can_be_renamed_or_turned_off():
    assert render([{"a": 1}], format="json_lines", json_date_key="@timestamp") == (
        b'{"@timestamp":1700000000.123457,"a":1}\n'
    )
    assert render([{"a": 1}], format="json_lines", json_date_key="off") == b'{"a":1}\n'


def test_a_record_with_its_own_date_key_keeps_it():
    assert render([{"a": 1, "date": "mine"}], format="json_lines") == b'{"a":1,"date":"mine"}\n'


def test_an_empty_record_still_gets_the_date():
    assert render([{}], format="json_lines") == b'{"date":1700000000.123457}\n'


def test_whole_seconds_print_with_one_decimal():
    plugin = plugin_for(StdoutOutput, format="json_lines")
    assert plugin.render(Chunk("t", [1_700_000_000_000_000_000], [{}], 1)) == b'{"date":1700000000.0}\n'


def test_floats_print_as_fluent_bit_prints_them():
    records = [{"i": 3.0, "f": 0.1 + 0.2, "big": 1e20, "neg": -2.5, "nested": [{"x": 1.0}]}]
    assert render(records, format="json_lines", json_date_key="off") == (
        b'{"i":3.0,"f":0.3,"big":1e+20,"neg":-2.5,"nested":[{"x":1.0}]}\n'
    )


def test_strings_escape_control_characters_and_non_ascii_as_fluent_bit_does():
    records = [{"log": 'tab\there "q" back\\slash \x01 \x7f é € 😀'}]
    assert render(records, format="json_lines", json_date_key="off") == (
        b'{"log":"tab\\there \\"q\\" back\\\\slash \\u0001 \\u007f \\u00e9 \\u20ac \\ud83d\\ude00"}\n'
    )


def test_unknown_format_is_a_config_error():
    with pytest.raises(PluginConfigError) as caught:
        plugin_for(StdoutOutput, format="yaml")
    assert caught.value.option == "format"


def test_unknown_json_date_format_is_a_config_error():
    with pytest.raises(PluginConfigError) as caught:
        plugin_for(StdoutOutput, json_date_format="rfc822")
    assert caught.value.option == "json_date_format"


def test_flush_writes_to_standard_output(run, capfd):
    plugin = plugin_for(StdoutOutput, format="json_lines")

    async def scenario():
        await plugin.start()
        result = await plugin.flush(chunk({"a": 1}))
        await plugin.stop()
        return result

    assert run(scenario()) is FlushResult.OK
    assert capfd.readouterr().out == '{"date":1700000000.123457,"a":1}\n'


def test_a_lone_surrogate_is_written_as_the_replacement_character():
    assert render([{"log": "bad \udcff end"}], format="json_lines", json_date_key="off") == (
        b'{"log":"bad \\ufffd end"}\n'
    )


def test_msgpack_format_writes_undecodable_bytes_back_and_never_fails_on_surrogates():
    assert render([{"log": "raw \udcff", "odd": "\ud800"}]) == (
        b'[0] app.web: [[1700000000.123456789, {}], {"log"=>"raw ?", "odd"=>"?"}]\n'
    )
    assert render([{"log": "raw \udcff"}]) == b'[0] app.web: [[1700000000.123456789, {}], {"log"=>"raw \xff"}]\n'
