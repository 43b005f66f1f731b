"""Option tables and Fluent Bit's value rules (flb_utils_size_to_bytes, flb_utils_bool, times, lists)."""

from __future__ import annotations

import msgspec
import pytest

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Property
from flb_fast.config.options import (
    BOOL,
    CLIST,
    INT,
    SIZE,
    STR,
    TIME,
    Option,
    OptionTable,
    Repeated,
    field_name,
    parse_binary_size,
    parse_bool,
    parse_clist,
    parse_size,
    parse_slist,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5MB", 5_000_000), ("5M", 5_000_000), ("5mb", 5_000_000), ("32k", 32_000), ("32KB", 32_000),
        ("1.5M", 1_500_000), ("2G", 2_000_000_000), ("2GB", 2_000_000_000), ("100", 100), ("0", 0),
        ("false", 0), ("FALSE", 0),
    ],
)
def test_sizes_use_decimal_units_as_fluent_bit_4(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["5XB", "5MX", "5KBB", "abc", "", "MB"])
def test_bad_sizes_are_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2MB", 2 * 1024**2), ("4k", 4096), ("4KiB", 4096), ("1.5M", 1536 * 1024), ("1G", 1024**3), ("100", 100),
     ("false", 0)],
)
def test_binary_sizes_use_binary_units_as_flb_utils_size_to_binary_bytes(text: str, expected: int) -> None:
    """multiline_buffer_limit is read this way: '4k' is 4096 bytes (recorded: Fluent Bit cut a record at 4096)."""
    assert parse_binary_size(text) == expected


@pytest.mark.parametrize("text", ["5XB", "5KIX", "5KBB", "abc", "", "MB"])
def test_bad_binary_sizes_are_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_binary_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("on", True), ("On", True), ("true", True), ("TRUE", True), ("yes", True),
     ("off", False), ("Off", False), ("false", False), ("no", False), ("NO", False)],
)
def test_booleans_as_flb_utils_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["1", "0", "enabled", ""])
def test_other_booleans_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid boolean"):
        parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", 10.0), ("2.5", 2.5), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("7d", 604800.0), ("1H", 3600.0)],
)
def test_times_in_seconds_with_optional_unit(text: str, expected: float) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["abc", "10x", "", "-5"])
def test_bad_times_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid time"):
        parse_time(text)


def test_comma_lists_are_trimmed_and_skip_empty_entries() -> None:
    assert parse_clist("docker, cri") == ["docker", "cri"]
    assert parse_clist(" /a/*.log ,/b/*.log,, ") == ["/a/*.log", "/b/*.log"]


@pytest.mark.parametrize(
    ("name", "field"),
    [("DB.sync", "db_sync"), ("K8S-Logging.Parser", "k8s_logging_parser"), ("Mem_Buf_Limit", "mem_buf_limit")],
)
def test_field_names_follow_one_rule(name: str, field: str) -> None:
    assert field_name(name) == field


TABLE = OptionTable(
    Option("Path", STR, None, "files to read"),
    Option("Mem_Buf_Limit", SIZE, "0", "memory limit"),
    Option("Refresh_Interval", TIME, "60", "rescan interval"),
    Option("Skip_Long_Lines", BOOL, "off", "skip long lines"),
    Option("multiline.parser", CLIST, None, "multiline parsers"),
    Option("Retries", INT, "3", "retries"),
    Option("Parsers_File", STR, None, "parsers files", multi=True),
)


def bind(*properties: Property):
    return TABLE.bind(properties, "[INPUT] tail")


def test_bind_gives_defaults_as_fluent_bit_writes_them_converted() -> None:
    options, warnings = bind()
    assert (options.path, options.mem_buf_limit, options.refresh_interval, options.skip_long_lines) == (
        None, 0, 60.0, False)
    assert (options.multiline_parser, options.retries, options.parsers_file) == (None, 3, [])
    assert warnings == []


def test_bind_converts_values_and_matches_names_case_insensitively() -> None:
    options, _ = bind(
        Property("PATH", "/var/log/*.log", "f.conf", 2),
        Property("mem_buf_limit", "5MB", "f.conf", 3),
        Property("Skip_Long_Lines", "On", "f.conf", 4),
        Property("Multiline.Parser", "docker, cri", "f.conf", 5),
    )
    assert (options.path, options.mem_buf_limit, options.skip_long_lines, options.multiline_parser) == (
        "/var/log/*.log", 5_000_000, True, ["docker", "cri"])


def test_bind_last_value_wins_for_a_single_option() -> None:
    options, _ = bind(Property("Retries", "1"), Property("retries", "7"))
    assert options.retries == 7


def test_bind_collects_every_value_of_a_multi_option_in_order() -> None:
    options, _ = bind(Property("Parsers_File", "a.conf"), Property("parsers_file", "b.conf"))
    assert options.parsers_file == ["a.conf", "b.conf"]


def test_bind_keeps_repeated_values_in_config_order_across_options_with_their_lines() -> None:
    table = OptionTable(Option("Regex", STR, None, "keep", multi=True), Option("Exclude", STR, None, "drop", multi=True))
    first, second, third = Property("Regex", "a x", "f.conf", 3), Property("Exclude", "b y", "f.conf", 4), Property(
        "regex", "c z", "f.conf", 5
    )
    options, _ = table.bind([first, second, third], "[FILTER] grep")
    assert options.sequence == (
        Repeated("regex", "a x", first), Repeated("exclude", "b y", second), Repeated("regex", "c z", third)
    )


def test_bind_result_is_frozen() -> None:
    options, _ = bind()
    with pytest.raises(AttributeError):
        options.retries = 1  # type: ignore[misc]
    assert isinstance(options, msgspec.Struct)


def test_bind_unknown_option_is_a_warning_with_file_and_line() -> None:
    _, warnings = bind(Property("Pathh", "/x", "f.conf", 7))
    assert [(w.file, w.line, w.option, str(w)) for w in warnings] == [
        ("f.conf", 7, "Pathh", "f.conf:7: unknown option 'Pathh' for [INPUT] tail: ignored")
    ]


@pytest.mark.parametrize(
    ("prop", "message"),
    [
        (Property("Mem_Buf_Limit", "5XB", "f.conf", 4),
         "f.conf:4: 'Mem_Buf_Limit': [INPUT] tail: invalid size unit in '5XB' (expected K, KB, M, MB, G or GB)"),
        (Property("Refresh_Interval", "abc", "f.conf", 5),
         "f.conf:5: 'Refresh_Interval': [INPUT] tail: invalid time 'abc' (expected seconds, optionally with s, m, h or d)"),
        (Property("Skip_Long_Lines", "maybe", "f.conf", 6),
         "f.conf:6: 'Skip_Long_Lines': [INPUT] tail: invalid boolean 'maybe' (expected on/off, true/false or yes/no)"),
        (Property("Retries", "two", "f.conf", 8), "f.conf:8: 'Retries': [INPUT] tail: invalid integer 'two'"),
    ],
)
def test_bind_bad_value_is_an_error_naming_file_line_and_option(prop: Property, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        bind(prop)
    assert (error.value.file, error.value.line, error.value.option) == (prop.file, prop.line, prop.key)
    assert str(error.value) == message


def test_tables_combine_and_refuse_a_duplicate_option() -> None:
    combined = OptionTable(Option("a", STR, None, "a")) + OptionTable(Option("b", STR, None, "b"))
    assert [option.name for option in combined] == ["a", "b"]
    with pytest.raises(ValueError, match="declared twice"):
        OptionTable(Option("a", STR, None, "a")) + OptionTable(Option("A", STR, None, "again"))


def test_help_lines_show_name_type_default_and_meaning() -> None:
    table = OptionTable(Option("Mem_Buf_Limit", SIZE, "0", "memory limit"),
                        Option("Parsers_File", STR, None, "parsers files", multi=True))
    assert table.help_lines() == [
        "  Mem_Buf_Limit  size (default: 0)\n                 memory limit",
        "  Parsers_File   string, may repeat\n                 parsers files",
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b", ["a", "b"]),
        ("  a   b  ", ["a", "b"]),
        ('key "hello world"', ["key", "hello world"]),
        ('log "say \\"hi\\""', ["log", 'say "hi"']),
        ('x "open to the end', ["x", "open to the end"]),
        ('x "', ["x"]),
        ('a"b c', ['a"b', "c"]),
        ("x 'single quotes'", ["x", "'single", "quotes'"]),
    ],
)
def test_space_separated_lists_read_double_quoted_words_as_flb_slist_split_tokens(text: str, words: list[str]) -> None:
    assert parse_slist(text) == words


def test_a_prefix_option_takes_every_key_that_starts_with_its_name_in_order():
    table = OptionTable(Option("parser_firstline", STR, None, "first"),
                        Option("parser_", STR, None, "more", multi=True, prefix=True))
    props = [Property("Parser_Firstline", "a", "f.conf", 1), Property("Parser_2", "c", "f.conf", 2),
             Property("Parser_1", "b", "f.conf", 3)]
    options, warnings = table.bind(props, "[INPUT] tail")
    assert (options.parser_firstline, options.parser_) == ("a", ["c", "b"])
    assert warnings == []
    assert "parser_9" in table
