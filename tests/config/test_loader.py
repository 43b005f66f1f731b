"""load_config / load_parsers_file: sections given their meaning, variables expanded, paths resolved."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigError
from flb_fast.config.loader import load_config, load_parsers_file
from flb_fast.config.model import Property
from tests.config.files import write


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


DATA = Path(__file__).resolve().parent.parent / "data" / "config"


def values(section) -> list[tuple[str, str]]:
    return [(p.key, p.value) for p in section.properties]


def test_sections_go_to_their_lists_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [INPUT]
            Name dummy
        [OUTPUT]
            Name null
        [INPUT]
            Name tail
        [FILTER]
            Name kubernetes
        [PARSER]
            Name p
        [MULTILINE_PARSER]
            Name m
    """)
    config, warnings = load_config(path)
    assert config.path == path
    assert [s.get("name") for s in config.inputs] == ["dummy", "tail"]
    assert [s.get("name") for s in config.filters] == ["kubernetes"]
    assert [s.get("name") for s in config.outputs] == ["null"]
    assert [s.get("name") for s in config.parsers] == ["p"]
    assert [s.get("name") for s in config.multiline_parsers] == ["m"]
    assert config.service.properties == []
    assert warnings == []


def test_several_service_sections_are_one_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[SERVICE]\n    Flush 5\n[SERVICE]\n    Grace 30\n    Flush 2\n")
    config, _ = load_config(path)
    assert (config.service.file, config.service.line) == (path, 1)
    assert values(config.service) == [("Flush", "5"), ("Grace", "30"), ("Flush", "2")]
    assert config.service.get("flush") == "2"


def test_variable_from_set_is_expanded_keeping_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        @SET group=my-group
        [OUTPUT]
            Name            cloudwatch_logs
            log_group_name  /aws/${group}/application
    """)
    config, warnings = load_config(path)
    assert config.outputs[0].properties[1] == Property("log_group_name", "/aws/my-group/application", path, 4)
    assert warnings == []


def test_variable_from_the_environment_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTER_NAME", "prod")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    Name x\n    group /${CLUSTER_NAME}/${AWS_REGION}/app\n")
    assert load_config(path)[0].outputs[0].get("group") == "/prod/eu-west-1/app"


def test_set_takes_precedence_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "from-env")
    path = write(tmp_path / "f.conf", "@SET REGION=from-set\n[OUTPUT]\n    Name x\n    region ${REGION}\n")
    assert load_config(path)[0].outputs[0].get("region") == "from-set"


def test_set_applies_to_values_before_it_and_in_other_files(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[OUTPUT]\n    Name x\n    region ${REGION}\n@INCLUDE vars.conf\n")
    write(tmp_path / "vars.conf", "@SET REGION=us-west-2\n")
    assert load_config(main)[0].outputs[0].get("region") == "us-west-2"


def test_the_last_set_of_a_variable_wins(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "@SET A=1\n@SET A=2\n[OUTPUT]\n    Name x\n    v ${A}\n")
    assert load_config(path)[0].outputs[0].get("v") == "2"


def test_undefined_variable_is_empty_with_a_warning_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLB_FAST_UNSET", raising=False)
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    Name x\n    prefix ${FLB_FAST_UNSET}-node\n")
    config, warnings = load_config(path)
    assert config.outputs[0].properties[1] == Property("prefix", "-node", path, 3)
    assert [str(w) for w in warnings] == [f"{path}:3: variable ${{FLB_FAST_UNSET}} is used but not set"]
    assert warnings[0].option == "prefix"


def test_an_empty_environment_variable_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY_ONE", "")
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    Name x\n    v a${EMPTY_ONE}b\n")
    config, warnings = load_config(path)
    assert config.outputs[0].get("v") == "ab"
    assert len(warnings) == 1


def test_hostname_defaults_to_the_host_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSTNAME", raising=False)
    path = write(tmp_path / "f.conf", "[OUTPUT]\n    Name x\n    v ${HOSTNAME}\n")
    assert load_config(path)[0].outputs[0].get("v") == socket.gethostname()


def test_variables_are_not_expanded_in_keys_or_section_names(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "@SET K=v\n[OUTPUT]\n    Name x\n    ${K} ${K}\n")
    assert values(load_config(path)[0].outputs[0])[1] == ("${K}", "v")


def test_parsers_file_is_resolved_relative_to_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    write(conf / "parsers.conf", "[PARSER]\n    Name p\n")
    write(conf / "more" / "extra.conf", "[PARSER]\n    Name q\n")
    absolute = write(tmp_path / "abs.conf", "[PARSER]\n    Name r\n")
    path = write(conf / "f.conf", f"""
        [SERVICE]
            Parsers_File parsers.conf
            parsers_file more/extra.conf
            Parsers_File {absolute}
    """)
    config, _ = load_config(path)
    assert config.parsers_files == [
        Property("Parsers_File", str(conf / "parsers.conf"), path, 2),
        Property("parsers_file", str(conf / "more" / "extra.conf"), path, 3),
        Property("Parsers_File", absolute, path, 4),
    ]


def test_a_missing_parsers_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[SERVICE]\n    Flush 1\n    Parsers_File nope.conf\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}:3: 'Parsers_File': cannot open parsers file '{tmp_path / 'nope.conf'}'"


@pytest.mark.parametrize("section", ["PLUGINS", "UPSTREAM", "plugins"])
def test_unsupported_sections_are_a_warning_and_ignored(tmp_path: Path, section: str) -> None:
    path = write(tmp_path / "f.conf", f"[{section}]\n    Path /x.so\n[INPUT]\n    Name dummy\n")
    config, warnings = load_config(path)
    assert [s.get("name") for s in config.inputs] == ["dummy"]
    assert [str(w) for w in warnings] == [
        f"{path}:1: [{section.upper()}] is not supported by flb_fast: section ignored"
    ]


def test_an_unknown_section_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n\n[OUTPUTS]\n    Name null\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}:4: unknown section 'outputs'"


def test_yaml_loads_into_the_same_model_as_classic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "us-east-1")
    write(tmp_path / "parsers.conf", "[PARSER]\n    Name p\n")
    classic = write(tmp_path / "f.conf", """
        @SET group=g
        [SERVICE]
            Flush         5
            Parsers_File  parsers.conf
        [INPUT]
            Name          tail
            Path          /var/log/a.log
            Path          /var/log/b.log
        [OUTPUT]
            Name          cloudwatch_logs
            Match         *
            region        ${REGION}
            log_group_name ${group}
    """)
    yaml_path = write(tmp_path / "f.yaml", """
        env:
          group: g
        service:
          Flush: 5
          Parsers_File: parsers.conf
        pipeline:
          inputs:
            - Name: tail
              Path: [/var/log/a.log, /var/log/b.log]
          outputs:
            - Name: cloudwatch_logs
              Match: '*'
              region: ${REGION}
              log_group_name: ${group}
    """)
    from_classic, classic_warnings = load_config(classic)
    from_yaml, yaml_warnings = load_config(yaml_path)
    for kind in ("service",):
        assert values(getattr(from_yaml, kind)) == values(getattr(from_classic, kind))
    for kind in ("inputs", "outputs"):
        assert [values(s) for s in getattr(from_yaml, kind)] == [values(s) for s in getattr(from_classic, kind)]
    assert [p.value for p in from_yaml.parsers_files] == [p.value for p in from_classic.parsers_files]
    assert classic_warnings == yaml_warnings == []


def test_yaml_parsers_in_the_main_file_are_config_parsers(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        parsers:
          - name: json
            format: json
        multiline_parsers:
          - name: m
            rules:
              - {state: start_state, regex: '/x/', next_state: cont}
    """)
    config, _ = load_config(path)
    assert [s.get("name") for s in config.parsers] == ["json"]
    assert config.multiline_parsers[0].get("rule") == '"start_state" "/x/" "cont"'


def test_yaml_unsupported_sections_are_warnings(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "plugins:\n  - /x.so\n")
    assert [str(w) for w in load_config(path)[1]] == [
        f"{path}:1: [PLUGINS] is not supported by flb_fast: section ignored"
    ]


def test_yml_extension_is_yaml_too(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yml", "pipeline:\n  inputs:\n    - name: dummy\n")
    assert [s.get("name") for s in load_config(path)[0].inputs] == ["dummy"]


CONTAINER_INSIGHTS_ENV = {
    "HTTP_SERVER": "On", "HTTP_PORT": "2020", "READ_FROM_HEAD": "Off", "READ_FROM_TAIL": "On",
    "AWS_REGION": "us-west-2", "CLUSTER_NAME": "demo", "HOST_NAME": "ip-10-0-0-1",
}


def test_container_insights_config_loads_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CONTAINER_INSIGHTS_ENV.items():
        monkeypatch.setenv(name, value)
    directory = DATA / "container-insights"
    path = str(directory / "fluent-bit.conf")
    config, warnings = load_config(path)
    assert warnings == []
    assert config.service.get("flush") == "5" and config.service.get("http_port") == "2020"
    assert [(s.plugin_name, os.path.basename(s.file), s.line) for s in config.inputs] == [
        ("tail", "application-log.conf", 1), ("tail", "application-log.conf", 15),
        ("tail", "application-log.conf", 26), ("systemd", "dataplane-log.conf", 1),
        ("tail", "dataplane-log.conf", 11), ("systemd", "host-log.conf", 1),
        ("systemd", "host-log.conf", 9), ("systemd", "host-log.conf", 23),
    ]
    assert [s.plugin_name for s in config.filters] == ["kubernetes", "modify", "aws", "aws", "grep", "modify"]
    assert [s.plugin_name for s in config.outputs] == ["cloudwatch_logs"] * 3
    assert config.outputs[0].find("log_group_name") == Property(
        "log_group_name", "/aws/containerinsights/demo/application", str(directory / "application-log.conf"), 56
    )
    assert config.inputs[0].get("exclude_path").startswith("/var/log/containers/cloudwatch-agent*, ")
    assert config.parsers_files == [Property("Parsers_File", str(directory / "parsers.conf"), path, 6)]
    parsers, multiline = load_parsers_file(config.parsers_files[0].value)
    assert [s.get("name") for s in parsers] == ["syslog", "container_firstline", "cwagent_firstline"]
    assert multiline == []


def test_container_insights_without_its_environment_warns_for_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CONTAINER_INSIGHTS_ENV:
        monkeypatch.delenv(name, raising=False)
    config, warnings = load_config(str(DATA / "container-insights" / "fluent-bit.conf"))
    assert config.service.get("http_server") == ""
    assert {w.message for w in warnings} == {
        f"variable ${{{name}}} is used but not set" for name in CONTAINER_INSIGHTS_ENV
    }


def test_parsers_file_falls_back_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "work" / "parsers.conf", "[PARSER]\n    Name p\n")
    path = write(tmp_path / "etc" / "f.conf", "[SERVICE]\n    Parsers_File parsers.conf\n")
    monkeypatch.chdir(tmp_path / "work")
    assert [p.value for p in load_config(path)[0].parsers_files] == [str(tmp_path / "work" / "parsers.conf")]


def test_parsers_file_next_to_the_config_wins_over_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "work" / "parsers.conf", "[PARSER]\n    Name p\n")
    write(tmp_path / "etc" / "parsers.conf", "[PARSER]\n    Name q\n")
    path = write(tmp_path / "etc" / "f.conf", "[SERVICE]\n    Parsers_File parsers.conf\n")
    monkeypatch.chdir(tmp_path / "work")
    assert [p.value for p in load_config(path)[0].parsers_files] == [str(tmp_path / "etc" / "parsers.conf")]
