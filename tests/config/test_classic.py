"""The classic reader: Fluent Bit's fluent-bit.conf syntax, every value with its exact file:line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flb_fast.config.classic import read_classic
from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Property
from tests.config.files import write
from tests.fakes.process import honour_file_modes


def error_of(path: str) -> str:
    with pytest.raises(ConfigError) as error:
        read_classic(path)
    return str(error.value)


def test_sections_keep_their_properties_in_file_order_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [SERVICE]
            Flush 1

        [INPUT]
            Name  tail
            Path  /var/log/containers/*.log
    """)
    document = read_classic(path)
    assert [(s.kind, s.file, s.line) for s in document.sections] == [("service", path, 1), ("input", path, 4)]
    assert document.sections[1].properties == [
        Property("Name", "tail", path, 5),
        Property("Path", "/var/log/containers/*.log", path, 6),
    ]


def test_section_names_are_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [input]
            Name dummy
        [Multiline_Parser]
            name x
    """)
    assert [s.kind for s in read_classic(path).sections] == ["input", "multiline_parser"]


def test_value_is_the_rest_of_the_line_trimmed_and_may_contain_spaces(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[FILTER]\n    Rename    _HOSTNAME     hostname   \n")
    assert read_classic(path).sections[0].properties == [Property("Rename", "_HOSTNAME     hostname", path, 2)]


def test_a_tab_separates_key_and_value_like_a_space(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name\ttail\n")
    assert read_classic(path).sections[0].properties == [Property("Name", "tail", path, 2)]


def test_duplicate_keys_are_all_kept_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [INPUT]
            Name            systemd
            Systemd_Filter  _SYSTEMD_UNIT=docker.service
            Systemd_Filter  _SYSTEMD_UNIT=kubelet.service
    """)
    properties = read_classic(path).sections[0].properties
    assert [(p.value, p.line) for p in properties if p.key == "Systemd_Filter"] == [
        ("_SYSTEMD_UNIT=docker.service", 3),
        ("_SYSTEMD_UNIT=kubelet.service", 4),
    ]


def test_comment_lines_and_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        # top comment
        [INPUT]

            # indented comment
          # comment at another indentation
            Name dummy
    """)
    assert read_classic(path).sections[0].properties == [Property("Name", "dummy", path, 6)]


def test_a_hash_after_a_value_is_part_of_the_value(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    Match kube.* # not a comment\n")
    assert read_classic(path).sections[0].properties[0].value == "kube.* # not a comment"


def test_crlf_line_endings_are_read_as_lf(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_bytes(b"[INPUT]\r\n    Name dummy\r\n    Tag t\r\n")
    assert read_classic(str(path)).sections[0].properties == [
        Property("Name", "dummy", str(path), 2),
        Property("Tag", "t", str(path), 3),
    ]


def test_tab_indentation_is_accepted_when_used_throughout(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n\tName dummy\n[OUTPUT]\n\tName null\n")
    assert [s.get("name") for s in read_classic(path).sections] == ["dummy", "null"]


def test_mixing_tab_and_space_indentation_is_an_error_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n[OUTPUT]\n\tName null\n")
    assert error_of(path) == f"{path}:4: invalid indentation level: inconsistent use of tab and space"


def test_an_extra_indentation_level_is_an_error_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n      Tag t\n")
    assert error_of(path) == f"{path}:3: invalid indentation level: extra indentation level found"


def test_a_lower_indentation_level_is_an_error_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n  Tag t\n")
    assert error_of(path) == f"{path}:3: invalid indentation level: indentation level is too low"


def test_an_unindented_entry_is_an_error_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\nName dummy\n")
    assert error_of(path) == f"{path}:2: invalid indentation level: key/value entries must be indented"


def test_double_indentation_is_group_content_kept_in_the_section(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n        Tag t\n")
    assert read_classic(path).sections[0].properties[1] == Property("Tag", "t", path, 3)


def test_a_key_without_value_is_an_error_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n    Tag\n")
    assert error_of(path) == f"{path}:3: 'Tag': key has an empty value"


def test_a_key_followed_only_by_spaces_is_an_empty_value_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n    Tag    \n")
    assert error_of(path) == f"{path}:3: 'Tag': key has an empty value"


def test_an_entry_before_any_section_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_text("# no section yet\n    Name dummy\n")
    assert error_of(str(path)) == f"{path}:2: 'Name': key/value entry outside of a section"


def test_a_header_without_closing_bracket_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT\n    Name dummy\n")
    assert error_of(path) == f"{path}:1: bad header definition (expected [SECTION])"


def test_an_indented_group_header_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[MULTILINE_PARSER]\n    name x\n    [RULE] \n")
    assert error_of(path) == f"{path}:3: nested groups inside a section are not supported by flb_fast"


def test_a_section_without_keys_is_a_warning_at_its_header(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n\n[OUTPUT]\n    Name null\n")
    assert [str(w) for w in read_classic(path).warnings] == [f"{path}:1: section [INPUT] has no keys"]


def test_set_defines_a_variable_with_its_place(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "@SET region=us-east-1\n@set  name = value with spaces \n")
    assert read_classic(path).variables == [("region", "us-east-1", path, 1), ("name", "value with spaces", path, 2)]


def test_set_without_equals_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "@SET region\n")
    assert error_of(path) == f"{path}:1: invalid @SET parameter 'region' (expected @SET KEY=VALUE)"


def test_set_from_a_file_uri_reads_the_file_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc123\n")
    path = write(tmp_path / "f.conf", f"@SET token=file://{secret}\n")
    assert read_classic(path).variables == [("token", "abc123", path, 1)]


def test_an_unknown_command_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "@FOO bar\n[INPUT]\n    Name dummy\n")
    assert [str(w) for w in read_classic(path).warnings] == [
        f"{path}:1: unknown command '@FOO': ignored (known: @INCLUDE, @SET)"
    ]


def test_include_reads_the_file_relative_to_the_including_file_at_that_point(tmp_path: Path) -> None:
    main = write(tmp_path / "etc" / "main.conf", """
        [SERVICE]
            Flush 1
        @INCLUDE inputs.conf
        [OUTPUT]
            Name null
    """)
    included = write(tmp_path / "etc" / "inputs.conf", "[INPUT]\n    Name dummy\n")
    document = read_classic(main)
    assert [(s.kind, s.file, s.line) for s in document.sections] == [
        ("service", main, 1),
        ("input", included, 1),
        ("output", main, 4),
    ]
    assert document.sections[1].properties == [Property("Name", "dummy", included, 2)]


def test_include_is_case_insensitive(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@include inputs.conf\n")
    write(tmp_path / "inputs.conf", "[INPUT]\n    Name dummy\n")
    assert [s.kind for s in read_classic(main).sections] == ["input"]


def test_entries_after_an_include_still_belong_to_the_section_before_it(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[INPUT]\n    Name dummy\n@INCLUDE vars.conf\n    Tag t\n")
    write(tmp_path / "vars.conf", "@SET a=b\n")
    document = read_classic(main)
    assert [(p.key, p.line) for p in document.sections[0].properties] == [("Name", 2), ("Tag", 4)]


def test_include_glob_reads_every_match_in_name_order(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@INCLUDE conf.d/*.conf\n")
    write(tmp_path / "conf.d" / "b.conf", "[OUTPUT]\n    Name null\n")
    write(tmp_path / "conf.d" / "a.conf", "[INPUT]\n    Name dummy\n")
    write(tmp_path / "conf.d" / "ignored.txt", "[FILTER]\n    Name grep\n")
    assert [s.get("name") for s in read_classic(main).sections] == ["dummy", "null"]


def test_include_glob_without_match_is_an_error(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[SERVICE]\n    Flush 1\n@INCLUDE conf.d/*.conf\n")
    assert error_of(main) == f"{main}:3: no file matches @INCLUDE pattern 'conf.d/*.conf'"


def test_include_of_a_missing_file_is_an_error_at_the_include_line(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[SERVICE]\n    Flush 1\n\n@INCLUDE missing.conf\n")
    assert error_of(main) == f"{main}:4: cannot open included file 'missing.conf': No such file or directory"


def test_include_of_an_unreadable_file_is_an_error_at_the_include_line(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@INCLUDE secret.conf\n")
    secret = write(tmp_path / "secret.conf", "[INPUT]\n    Name dummy\n")
    os.chmod(secret, 0)
    # The real command, refused the file as a plain user would be even when the tests run as root.
    result = subprocess.run([sys.executable, "-m", "flb_fast", "-c", str(main), "--dry-run"], capture_output=True,
                            text=True, preexec_fn=honour_file_modes, timeout=120)
    assert result.returncode != 0
    assert f"[error] [config] {main}:1: cannot open config file '{secret}': Permission denied" in result.stderr


def test_include_of_a_directory_is_an_error_at_the_include_line(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    main = write(tmp_path / "main.conf", "@INCLUDE conf.d\n")
    assert error_of(main) == f"{main}:1: cannot open config file '{tmp_path / 'conf.d'}': Is a directory"


def test_recursive_include_is_an_error_naming_the_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@INCLUDE a.conf\n")
    a = write(tmp_path / "a.conf", "[INPUT]\n    Name dummy\n@INCLUDE main.conf\n")
    assert error_of(main) == f"{a}:3: file already included: '{tmp_path / 'main.conf'}'"


def test_an_error_in_an_included_file_names_that_file_and_line(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[SERVICE]\n    Flush 1\n@INCLUDE bad.conf\n")
    bad = write(tmp_path / "bad.conf", "[INPUT]\n    Name dummy\n    Tag\n")
    assert error_of(main) == f"{bad}:3: 'Tag': key has an empty value"


def test_indentation_is_fixed_per_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[INPUT]\n    Name dummy\n@INCLUDE tabs.conf\n")
    write(tmp_path / "tabs.conf", "[OUTPUT]\n\tName null\n")
    assert [s.get("name") for s in read_classic(main).sections] == ["dummy", "null"]


def test_values_are_kept_raw_for_the_loader_to_expand(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    region ${AWS_REGION}\n")
    assert read_classic(path).sections[0].properties[0].value == "${AWS_REGION}"


def test_a_file_that_is_not_utf8_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_bytes(b"[INPUT]\n    Name \xff\n")
    assert error_of(str(path)) == f"{path}: config file is not valid UTF-8 (byte offset 17)"


def test_include_from_a_subdirectory_is_relative_to_that_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@INCLUDE sub/a.conf\n")
    write(tmp_path / "sub" / "a.conf", "@INCLUDE b.conf\n")
    b = write(tmp_path / "sub" / "b.conf", "[INPUT]\n    Name dummy\n")
    assert [s.file for s in read_classic(main).sections] == [b]


def test_include_falls_back_to_the_top_level_configs_directory_as_fluent_bit(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "@INCLUDE sub/a.conf\n")
    write(tmp_path / "sub" / "a.conf", "@INCLUDE c.conf\n")
    c = write(tmp_path / "c.conf", "[INPUT]\n    Name dummy\n")
    assert [s.file for s in read_classic(main).sections] == [c]


def test_include_falls_back_to_the_working_directory_as_fluent_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = write(tmp_path / "etc" / "main.conf", "@INCLUDE extra.conf\n")
    write(tmp_path / "work" / "extra.conf", "[INPUT]\n    Name dummy\n")
    monkeypatch.chdir(tmp_path / "work")
    assert [s.file for s in read_classic(main).sections] == ["extra.conf"]


def test_a_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_bytes(b"\xef\xbb\xbf[INPUT]\n    Name dummy\n")
    assert [(s.kind, s.line) for s in read_classic(str(path)).sections] == [("input", 1)]


def test_only_a_line_feed_ends_a_line_as_with_fgets(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_bytes(b"[OUTPUT]\n    Name null\n    Match a\rb\n    Alias x\n")
    properties = read_classic(str(path)).sections[0].properties
    assert [(p.key, p.value, p.line) for p in properties] == [("Name", "null", 2), ("Match", "a\rb", 3), ("Alias", "x", 4)]
