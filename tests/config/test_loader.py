"""load_config / load_parsers_file: sections given their meaning, variables expanded, paths resolved."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigError
from flb_fast.config.loader import load_parsers_file
from flb_fast.config.model import Property


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def test_parsers_file_classic_returns_parser_and_multiline_sections_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "parsers.conf", r"""
        [PARSER]
            Name        docker
            Format      json
            Time_Key    time

        [MULTILINE_PARSER]
            name   java
            type   regex
            rule   "start_state" "/^\d+ .*/" "cont"
            rule   "cont" "/^\s+at .*/" "cont"
    """)
    parsers, multiline = load_parsers_file(path)
    assert [(s.kind, s.file, s.line) for s in parsers] == [("parser", path, 1)]
    assert parsers[0].properties == [
        Property("Name", "docker", path, 2),
        Property("Format", "json", path, 3),
        Property("Time_Key", "time", path, 4),
    ]
    assert [(s.kind, s.line) for s in multiline] == [("multiline_parser", 6)]
    assert multiline[0].properties[2:] == [
        Property("rule", r'"start_state" "/^\d+ .*/" "cont"', path, 9),
        Property("rule", r'"cont" "/^\s+at .*/" "cont"', path, 10),
    ]


def test_parsers_file_yaml_rules_become_classic_rule_properties(tmp_path: Path) -> None:
    path = write(tmp_path / "parsers.yaml", r"""
        parsers:
          - name: docker
            format: json
        multiline_parsers:
          - name: java
            type: regex
            rules:
              - state: start_state
                regex: '/^\d+ "quoted" .*/'
                next_state: cont
    """)
    parsers, multiline = load_parsers_file(path)
    assert parsers[0].properties == [Property("name", "docker", path, 2), Property("format", "json", path, 3)]
    assert multiline[0].properties == [
        Property("name", "java", path, 5),
        Property("type", "regex", path, 6),
        Property("rule", r'"start_state" "/^\d+ \"quoted\" .*/" "cont"', path, 8),
    ]


def test_parsers_file_skips_other_known_sections(tmp_path: Path) -> None:
    path = write(tmp_path / "parsers.conf", """
        [SERVICE]
            Flush 1
        [PARSER]
            Name json
            Format json
    """)
    parsers, multiline = load_parsers_file(path)
    assert [s.get("name") for s in parsers] == ["json"]
    assert multiline == []


def test_parsers_file_unknown_section_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "parsers.conf", """
        [PARSER]
            Name json
            Format json

        [PARSERS]
            Name other
    """)
    with pytest.raises(ConfigError) as error:
        load_parsers_file(path)
    assert str(error.value) == f"{path}:5: unknown section 'parsers'"


def test_parsers_file_missing_is_an_error_naming_it(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.conf")
    with pytest.raises(ConfigError) as error:
        load_parsers_file(path)
    assert str(error.value) == f"cannot open config file '{path}': No such file or directory"
