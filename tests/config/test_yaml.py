"""The YAML reader: Fluent Bit's YAML shape into the same sections as the classic format."""

from __future__ import annotations

from pathlib import Path

import pytest

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Property
from flb_fast.config.yaml import read_yaml, translate_key
from tests.config.files import write


def error_of(path: str) -> str:
    with pytest.raises(ConfigError) as error:
        read_yaml(path)
    return str(error.value)


def test_service_and_pipeline_become_sections_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        service:
          flush: 1
          log_level: info
        pipeline:
          inputs:
            - name: tail
              tag: kube.*
          filters:
            - name: kubernetes
              match: kube.*
          outputs:
            - name: stdout
              match: '*'
    """)
    sections = read_yaml(path).sections
    assert [(s.kind, s.line) for s in sections] == [("service", 2), ("input", 6), ("filter", 9), ("output", 12)]
    assert sections[0].properties == [Property("flush", "1", path, 2), Property("log_level", "info", path, 3)]
    assert sections[1].properties == [Property("name", "tail", path, 6), Property("tag", "kube.*", path, 7)]
    assert sections[3].properties[1] == Property("match", "*", path, 13)


def test_scalars_stay_the_text_written(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        service:
          http_server: on
          flush: 1.50
          grace: "05"
    """)
    assert [p.value for p in read_yaml(path).sections[0].properties] == ["on", "1.50", "05"]


def test_several_pipeline_sections_are_merged_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          inputs:
            - name: dummy
        pipeline:
          inputs:
            - name: tail
    """)
    assert [s.get("name") for s in read_yaml(path).sections] == ["dummy", "tail"]


def test_a_list_value_becomes_repeated_properties_each_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          filters:
            - name: modify
              rename:
                - _HOSTNAME hostname
                - MESSAGE message
    """)
    assert read_yaml(path).sections[0].properties[1:] == [
        Property("rename", "_HOSTNAME hostname", path, 5),
        Property("rename", "MESSAGE message", path, 6),
    ]


def test_parsers_and_multiline_parsers_become_parser_sections(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", r"""
        parsers:
          - name: json
            format: json
        multiline_parsers:
          - name: java
            type: regex
            flush_timeout: 1000
            rules:
              - state: start_state
                regex: '/^\d+ .*/'
                next_state: cont
              - state: cont
                regex: '/^\s+at .*/'
                next_state: cont
    """)
    parsers, multiline = read_yaml(path).sections
    assert (parsers.kind, parsers.line) == ("parser", 2)
    assert (multiline.kind, multiline.line) == ("multiline_parser", 5)
    assert multiline.properties[3:] == [
        Property("rule", r'"start_state" "/^\d+ .*/" "cont"', path, 9),
        Property("rule", r'"cont" "/^\s+at .*/" "cont"', path, 12),
    ]


def test_a_quote_in_a_rule_regex_is_escaped_for_the_classic_rule_form(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        multiline_parsers:
          - name: m
            rules:
              - {state: start_state, regex: '/"log":"x/', next_state: cont}
    """)
    assert read_yaml(path).sections[0].properties[1].value == r'"start_state" "/\"log\":\"x/" "cont"'


def test_a_rule_missing_a_field_is_an_error_at_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        multiline_parsers:
          - name: m
            rules:
              - state: start_state
                regex: '/x/'
    """)
    assert error_of(path) == f"{path}:4: 'rules': rule needs next_state"


def test_env_defines_variables_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        env:
          FLUSH_INTERVAL: 2
          REGION: us-east-1
    """)
    assert read_yaml(path).variables == [("FLUSH_INTERVAL", "2", path, 2), ("REGION", "us-east-1", path, 3)]


def test_includes_are_read_relative_to_the_including_file(tmp_path: Path) -> None:
    main = write(tmp_path / "etc" / "main.yaml", """
        includes:
          - inputs.yaml
        pipeline:
          outputs:
            - name: null
    """)
    inputs = write(tmp_path / "etc" / "inputs.yaml", """
        pipeline:
          inputs:
            - name: dummy
    """)
    sections = read_yaml(main).sections
    assert [(s.kind, s.file, s.line) for s in sections] == [("input", inputs, 3), ("output", main, 5)]


def test_an_include_of_a_missing_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    main = write(tmp_path / "main.yaml", """
        service:
          flush: 1
        includes:
          - nope.yaml
    """)
    assert error_of(main) == f"{main}:4: cannot open included file 'nope.yaml': No such file or directory"


def test_a_recursive_include_is_an_error(tmp_path: Path) -> None:
    main = write(tmp_path / "main.yaml", "includes: [main.yaml]\n")
    assert error_of(main) == f"{main}:1: file already included: '{main}'"


def test_camel_case_keys_are_translated_to_snake_case(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        service:
          logLevel: debug
          Mem_Buf_Limit: 5MB
          storage.path: /tmp/x
    """)
    assert [p.key for p in read_yaml(path).sections[0].properties] == ["log_level", "Mem_Buf_Limit", "storage.path"]


@pytest.mark.parametrize(
    ("key", "translated"),
    [("logLevel", "log_level"), ("httpServer", "http_server"), ("log_level", "log_level"),
     ("Log_Level", "Log_Level"), ("flush", "flush"), ("K8S-Logging.Parser", "K8S-Logging.Parser")],
)
def test_translate_key_follows_flb_cf_key_translate(key: str, translated: str) -> None:
    assert translate_key(key) == translated


def test_a_key_without_value_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          inputs:
            - name: tail
              path:
    """)
    assert error_of(path) == f"{path}:4: 'path': key has an empty value"


def test_an_inputs_and_an_outputs_logs_processors_are_sections_of_their_own(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          inputs:
            - name: dummy
              processors:
                logs:
                  - name: content_modifier
                    action: insert
                  - name: grep
                    regex: [log a, log b]
          outputs:
            - name: stdout
              processors:
                logs:
                  - name: content_modifier
    """)
    source, sink = read_yaml(path).sections
    assert source.properties == [Property("name", "dummy", path, 3)]
    assert [(unit.kind, unit.line, unit.properties) for unit in source.processors] == [
        ("processor", 6, [Property("name", "content_modifier", path, 6), Property("action", "insert", path, 7)]),
        ("processor", 8, [Property("name", "grep", path, 8), Property("regex", "log a", path, 9),
                          Property("regex", "log b", path, 9)]),
    ]
    assert [unit.properties for unit in sink.processors] == [[Property("name", "content_modifier", path, 14)]]


def test_metrics_and_traces_processors_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          inputs:
            - name: dummy
              processors:
                metrics:
                  - name: labels
    """)
    document = read_yaml(path)
    assert document.sections[0].processors == []
    assert [str(w) for w in document.warnings] == [
        f"{path}:5: metrics processors are ignored: flb_fast carries logs only"]


def test_processors_on_a_filter_are_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        pipeline:
          filters:
            - name: grep
              processors:
                logs: []
    """)
    assert error_of(path) == f"{path}:4: 'processors': processors are only for inputs and outputs"


def test_a_mapping_value_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        service:
          storage:
            path: /x
    """)
    assert error_of(path) == f"{path}:2: 'storage': expected a value or a list of values, not a mapping"


def test_an_unknown_top_level_section_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "service:\n  flush: 1\ninputs:\n  - name: dummy\n")
    assert error_of(path) == f"{path}:3: unknown section 'inputs'"


def test_an_unknown_pipeline_section_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "pipeline:\n  input:\n    - name: dummy\n")
    assert error_of(path) == f"{path}:2: unknown pipeline section 'input' (expected inputs, filters or outputs)"


def test_unsupported_top_level_sections_are_kept_for_the_loader_to_warn_about(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "plugins:\n  - /x.so\nupstream_servers: []\n")
    assert [(s.kind, s.line) for s in read_yaml(path).sections] == [("plugins", 1), ("upstream_servers", 3)]


def test_a_pipeline_list_that_is_not_a_list_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "pipeline:\n  inputs:\n    name: dummy\n")
    assert error_of(path) == f"{path}:3: expected a list in inputs"


def test_invalid_yaml_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "service:\n  flush: 1\n  grace: [5\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4: invalid YAML: ")


def test_an_empty_file_has_no_sections(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "# nothing yet\n")
    assert read_yaml(path).sections == []


def test_null_and_tilde_are_text_so_name_null_is_the_null_output(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "pipeline:\n  outputs:\n    - name: null\n      match: ~\n")
    assert [p.value for p in read_yaml(path).sections[0].properties] == ["null", "~"]


def test_an_explicit_empty_string_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", "pipeline:\n  filters:\n    - name: kubernetes\n      merge_log_key: ''\n")
    assert read_yaml(path).sections[0].properties[1] == Property("merge_log_key", "", path, 4)
