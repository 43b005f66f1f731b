"""fluentbit.io/* annotations -> what the pod asks of its records (kube_property.c)."""

from __future__ import annotations

from flb_fast.filters.kubernetes.annotations import props_from_annotations
from flb_fast.filters.kubernetes.meta import NO_PROPS, Props


def props(annotations: dict, container: str = "web", parser: bool = True, exclude: bool = True):
    warnings: list[str] = []
    result = props_from_annotations(
        annotations,
        container,
        allow_parser=parser,
        allow_exclude=exclude,
        parser_exists=lambda name: name in {"nginx", "json", "apache"},
        warn=warnings.append,
    )
    return result, warnings


def test_pod_wide_parser_applies_to_both_streams() -> None:
    assert props({"fluentbit.io/parser": "nginx"})[0] == Props("nginx", "nginx")


def test_per_stream_parsers() -> None:
    result, _ = props({"fluentbit.io/parser_stdout": "nginx", "fluentbit.io/parser_stderr": "json"})
    assert result == Props("nginx", "json")


def test_a_container_specific_annotation_wins_over_a_pod_wide_one_in_any_order() -> None:
    assert props({"fluentbit.io/parser-web": "apache", "fluentbit.io/parser": "nginx"})[0] == Props("apache", "apache")
    assert props({"fluentbit.io/parser": "nginx", "fluentbit.io/parser-web": "apache"})[0] == Props("apache", "apache")


def test_another_container_s_annotation_is_ignored() -> None:
    assert props({"fluentbit.io/exclude-sidecar": "true"})[0] == NO_PROPS


def test_the_first_pod_wide_annotation_wins() -> None:
    assert props({"fluentbit.io/parser": "nginx", "fluentbit.io/parser_stdout": "json"})[0] == Props("nginx", "nginx")


def test_exclude_takes_fluent_bit_booleans() -> None:
    assert props({"fluentbit.io/exclude": "On"})[0] == Props(stdout_exclude=True, stderr_exclude=True)
    assert props({"fluentbit.io/exclude_stderr": "yes"})[0] == Props(stderr_exclude=True)
    assert props({"fluentbit.io/exclude": "maybe"})[0] == NO_PROPS


def test_an_unknown_parser_is_a_warning_not_a_setting() -> None:
    result, warnings = props({"fluentbit.io/parser": "nope"})
    assert result == NO_PROPS
    assert warnings == ["annotation parser 'nope' not found (container_name='web')"]


def test_annotations_not_allowed_by_the_config_are_warned_about() -> None:
    result, warnings = props(
        {"fluentbit.io/parser": "nginx", "fluentbit.io/exclude": "true"}, parser=False, exclude=False
    )
    assert result == NO_PROPS
    assert warnings == [
        "annotation 'fluentbit.io/parser' not allowed",
        "annotation 'fluentbit.io/exclude' not allowed",
    ]


def test_malformed_annotations_are_warned_about() -> None:
    _, warnings = props(
        {
            "fluentbit.io/colour": "x",
            "fluentbit.io/parser_stdin": "nginx",
            "fluentbit.io/parser-": "nginx",
            "fluentbit.io/parserx": "nginx",
            "other.io/parser": "nginx",
        }
    )
    assert warnings == [
        "unknown annotation 'fluentbit.io/colour'",
        "invalid stream in annotation 'fluentbit.io/parser_stdin'",
        "invalid container in annotation 'fluentbit.io/parser-'",
        "invalid annotation 'fluentbit.io/parserx'",
    ]
