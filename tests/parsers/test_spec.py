"""A bad [PARSER] section stops start-up with the parser and file:line named (FB parser_conf_file errors)."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import ConfigError
from tests.parsers.helpers import parser


def test_bad_regex_names_parser_and_regex_line() -> None:
    with pytest.raises(ConfigError) as info:
        parser(Name="broken", Format="regex", Regex="^(?<a>x")
    assert (info.value.file, info.value.line, info.value.option) == ("parsers.conf", 4, "regex")
    assert "parser 'broken'" in str(info.value) and str(info.value).startswith("parsers.conf:4:")


def test_unknown_format() -> None:
    with pytest.raises(ConfigError) as info:
        parser(Name="p", Format="xml")
    assert info.value.line == 3 and "unknown format 'xml'" in info.value.message


def test_regex_format_without_regex() -> None:
    with pytest.raises(ConfigError, match="needs a 'Regex'"):
        parser(Name="p", Format="regex")


def test_missing_name() -> None:
    with pytest.raises(ConfigError, match="without a 'Name'"):
        parser(Format="json")


def test_bad_time_offset() -> None:
    with pytest.raises(ConfigError) as info:
        parser(Name="p", Format="json", Time_Format="%Y", Time_Offset="nine")
    assert info.value.option == "time_offset" and info.value.line == 5


def test_unknown_decoder() -> None:
    with pytest.raises(ConfigError, match="unknown decoder 'yaml'"):
        parser(Name="p", Format="json", Decode_Field="yaml log")


def test_bad_boolean() -> None:
    with pytest.raises(ConfigError) as info:
        parser(Name="p", Format="json", Time_Keep="sometimes")
    assert info.value.line == 4


def test_empty_value_means_unset_as_in_get_parser_key() -> None:
    assert parser(Name="p", Format="json", Time_Format=" ").time is None


def test_unknown_time_directive_is_warned_about_with_file_and_line(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    root = logging.getLogger("flb_fast")
    propagate, root.propagate = root.propagate, True  # log.setup() may have turned it off
    try:
        with caplog.at_level(logging.WARNING, logger="flb_fast"):
            parser(Name="p", Format="json", Time_Format="%Y-%m-%d %Q")
    finally:
        root.propagate = propagate
    assert "parsers.conf:4: parser 'p': Time_Format directive %Q" in caplog.text
