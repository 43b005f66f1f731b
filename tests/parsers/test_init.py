"""build_registry: bundled parsers.conf, Parsers_File / -R files, then the config's own sections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flb_fast.parsers
from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Config, Property
from flb_fast.parsers import DEFAULT_PARSERS_FILE, build_registry
from tests.parsers.helpers import section

STANDARD = ["apache", "apache2", "apache_error", "nginx", "k8s-nginx-ingress", "json", "logfmt", "docker",
            "docker-daemon", "syslog-rfc5424", "syslog-rfc3164-local", "syslog-rfc3164", "mongodb", "envoy",
            "istio-envoy-proxy", "cri", "kube-custom", "kmsg-netfilter-log"]


def test_standard_parsers_are_available_without_any_parsers_file() -> None:
    registry = build_registry(Config())
    assert registry.names() == STANDARD
    assert registry.multiline_names() == ["go", "java", "python", "ruby"]


def test_every_bundled_parser_compiles_under_its_name() -> None:
    registry = build_registry(Config())
    assert [registry.get(name).name for name in STANDARD] == STANDARD  # type: ignore[union-attr]


def test_every_built_in_multiline_parser_compiles_under_its_name() -> None:
    registry = build_registry(Config())
    names = ["go", "java", "python", "ruby"]
    assert [registry.get_multiline(name).name for name in names] == names


def test_a_tail_config_without_multiline_leaves_the_multiline_engine_unimported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from flb_fast.cli import main\n"
        f"code = main(['-i', 'tail', '-p', 'path={tmp_path}/*.log', '-p', 'docker_mode=on', '-o', 'null', '--dry-run'])\n"
        "print(code, [name for name in ('flb_fast.parsers.multiline', 'flb_fast.parsers.onigmo') if name in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout == "0 []\n", result.stderr


def test_a_copy_of_the_bundled_file_is_compiled_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "parsers.conf"
    copy.write_bytes(Path(DEFAULT_PARSERS_FILE).read_bytes())
    made: list[str] = []
    create = flb_fast.parsers.create_parser
    monkeypatch.setattr(flb_fast.parsers, "create_parser", lambda sec: made.append(sec.get("name")) or create(sec))
    registry = build_registry(Config(parsers_files=[Property("parsers_file", str(copy))]))
    assert (registry.names(), made) == (STANDARD, [])
    assert registry.get("nginx") is registry.get("nginx")
    assert made == ["nginx"]


def test_a_parsers_file_that_differs_from_the_bundled_one_is_compiled_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / "parsers.conf"
    edited.write_bytes(Path(DEFAULT_PARSERS_FILE).read_bytes() + b"\n")
    made: list[str] = []
    create = flb_fast.parsers.create_parser
    monkeypatch.setattr(flb_fast.parsers, "create_parser", lambda sec: made.append(sec.get("name")) or create(sec))
    build_registry(Config(parsers_files=[Property("parsers_file", str(edited))]))
    assert made == STANDARD


def test_bundled_file_keeps_fluent_bit_attribution() -> None:
    text = Path(DEFAULT_PARSERS_FILE).read_text()
    assert "Apache License, Version 2.0" in text and "The Fluent Bit Authors" in text


def test_a_users_parser_replaces_the_bundled_one_of_that_name(tmp_path: Path) -> None:
    extra = tmp_path / "parsers.conf"
    extra.write_text("[PARSER]\n    Name   nginx\n    Format json\n")
    registry = build_registry(Config(parsers_files=[Property("parsers_file", str(extra), "fluent-bit.conf", 3)]))
    assert registry.get("nginx").format == "json"  # type: ignore[union-attr]
    assert registry.names() == [*dict.fromkeys(["nginx", *STANDARD])]


def test_the_first_user_definition_of_a_name_wins_and_later_ones_are_skipped(tmp_path: Path) -> None:
    """flb_parser_create: "parser named '...' already exists, skip"."""
    extra = tmp_path / "parsers.conf"
    extra.write_text("[PARSER]\n    Name mine\n    Format logfmt\n")
    config = Config(parsers_files=[Property("parsers_file", str(extra), "fluent-bit.conf", 3)],
                    parsers=[section(Name="mine", Format="ltsv")])
    assert build_registry(config).get("mine").format == "logfmt"  # type: ignore[union-attr]


def test_bad_parser_in_a_parsers_file_names_its_file_and_line(tmp_path: Path) -> None:
    extra = tmp_path / "bad.conf"
    extra.write_text("[PARSER]\n    Name  bad\n    Format regex\n    Regex ^(?<x>\n")
    with pytest.raises(ConfigError) as info:
        build_registry(Config(parsers_files=[Property("parsers_file", str(extra), "fluent-bit.conf", 3)]))
    assert info.value.file == str(extra) and info.value.line == 4


def test_multiline_parser_section_is_registered(tmp_path: Path) -> None:
    extra = tmp_path / "ml.conf"
    extra.write_text('[MULTILINE_PARSER]\n    name  multiline-regex-test\n    type  regex\n    flush_timeout 1000\n'
                     '    rule  "start_state"  "/([a-zA-Z]+ \\d+ \\d+\\:\\d+\\:\\d+)(.*)/"  "cont"\n'
                     '    rule  "cont"         "/^\\s+at.*/"                               "cont"\n')
    registry = build_registry(Config(parsers_files=[Property("parsers_file", str(extra))]))
    ml = registry.get_multiline("multiline-regex-test")
    assert ml is not None and ml.flush_timeout_ms == 1000 and len(ml.rules) == 2


def test_yaml_parsers_file(tmp_path: Path) -> None:
    """YAML parsers files (parsers: / multiline_parsers: with rules:) build the same parsers."""
    extra = tmp_path / "parsers.yaml"
    extra.write_text(
        "parsers:\n"
        "  - name: kv\n"
        "    format: logfmt\n"
        "    types: n:integer\n"
        "multiline_parsers:\n"
        "  - name: ml\n"
        "    type: regex\n"
        "    rules:\n"
        "      - state: start_state\n"
        "        regex: '/^\\d+ start \"x\"/'\n"
        "        next_state: cont\n"
        "      - state: cont\n"
        "        regex: '/^\\s+more/'\n"
        "        next_state: cont\n")
    registry = build_registry(Config(parsers_files=[Property("parsers_file", str(extra))]))
    assert registry.get("kv").parse_text("n=5 a=b") == (-1, {"n": 5, "a": "b"})  # type: ignore[union-attr]
    ml = registry.get_multiline("ml")
    assert [rule.regex.pattern for rule in ml.rules] == ['^\\d+ start "x"', "^\\s+more"]
