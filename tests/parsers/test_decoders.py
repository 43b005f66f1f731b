"""Decode_Field / Decode_Field_As with try_next / do_next (FB src/flb_parser_decoder.c, docs: parsers/decoders)."""

from __future__ import annotations

from tests.parsers.helpers import parser


def json_parser(**decoders: str):  # type: ignore[no-untyped-def]
    return parser(Name="d", Format="json", **decoders)


def test_decode_field_json_appends_the_map_and_keeps_the_field() -> None:
    assert json_parser(Decode_Field="json log").parse_text('{"log":"{\\"status\\": \\"up\\"}","s":1}') == (
        -1, {"log": '{"status": "up"}', "s": 1, "status": "up"})


def test_decode_field_as_escaped() -> None:
    assert json_parser(Decode_Field_As="escaped log").parse_text('{"log":"a\\\\nb"}') == (-1, {"log": "a\nb"})


def test_escaped_utf8_decodes_unicode_escapes() -> None:
    assert json_parser(Decode_Field_As="escaped_utf8 log").parse_text('{"log":"caf\\\\u00e9 \\\\x41"}') == (
        -1, {"log": "café A"})


def test_try_next_falls_back_when_json_fails() -> None:
    from flb_fast.config.model import Property, Section
    from flb_fast.parsers import create_parser

    section = Section("parser", [Property("Name", "d"), Property("Format", "json"),
                                 Property("Decode_Field_As", "json log try_next"),
                                 Property("Decode_Field_As", "escaped log")])
    p = create_parser(section)
    assert p.parse_text('{"log":"not json\\\\t!"}') == (-1, {"log": "not json\t!"})
    assert p.parse_text('{"log":"{\\"a\\":1}"}') == (-1, {"log": {"a": 1}})


def test_do_next_chains_escaped_then_json() -> None:
    from flb_fast.config.model import Property, Section
    from flb_fast.parsers import create_parser

    section = Section("parser", [Property("Name", "d"), Property("Format", "json"),
                                 Property("Decode_Field_As", "escaped_utf8 log do_next"),
                                 Property("Decode_Field_As", "json log")])
    assert create_parser(section).parse_text('{"log":"{\\"k\\":\\"v\\"}"}') == (-1, {"log": {"k": "v"}})


def test_without_action_a_failed_rule_stops() -> None:
    from flb_fast.config.model import Property, Section
    from flb_fast.parsers import create_parser

    section = Section("parser", [Property("Name", "d"), Property("Format", "json"),
                                 Property("Decode_Field_As", "json log"), Property("Decode_Field_As", "escaped log")])
    assert create_parser(section).parse_text('{"log":"x\\\\ty"}') == (-1, {"log": "x\\ty"})


def test_mysql_quoted_strips_quotes() -> None:
    assert json_parser(Decode_Field_As="mysql_quoted q").parse_text('{"q":"\'it\\\\\'s\'"}') == (-1, {"q": "it's"})


def test_non_string_values_are_not_decoded() -> None:
    assert json_parser(Decode_Field_As="json log").parse_text('{"log":5}') == (-1, {"log": 5})
