"""Name templates in Fluent Bit's record-accessor syntax and the Go plugins' $(...) syntax."""

from __future__ import annotations

from flb_fast.outputs.aws.template import Template

RECORD = {"kubernetes": {"namespace_name": "prod", "labels": {"app": "web"}, "ports": [80, 443]}, "n": 7, "ok": True}


def test_record_accessor_reads_nested_keys() -> None:
    assert Template("app-$kubernetes['namespace_name'].x").render("t", RECORD) == "app-prod.x"


def test_record_accessor_reads_deeper_keys_and_list_indexes() -> None:
    assert Template("$kubernetes['labels']['app']-$kubernetes['ports'][1]").render("t", RECORD) == "web-443"


def test_record_accessor_tag_and_tag_parts() -> None:
    assert Template("$TAG/$TAG[0]/$TAG[2]").render("kube.var.log", RECORD) == "kube.var.log/kube/log"


def test_scalars_render_as_text() -> None:
    assert Template("$n-$ok").render("t", RECORD) == "7-true"


def test_a_missing_key_renders_nothing_so_the_caller_falls_back() -> None:
    assert Template("$kubernetes['pod_name']").render("t", RECORD) is None
    assert Template("$TAG[5]").render("a.b", RECORD) is None


def test_a_map_value_renders_nothing() -> None:
    assert Template("$kubernetes").render("t", RECORD) is None


def test_go_syntax_reads_keys_tag_parts_and_uuid() -> None:
    template = Template("/eks/$(kubernetes['namespace_name'])/$(tag[1])/$(tag)", go=True)
    assert template.render("kube.node1", RECORD) == "/eks/prod/node1/kube.node1"
    assert len(Template("$(uuid)", go=True).render("t", RECORD) or "") == 36


def test_go_syntax_leaves_record_accessor_text_literal() -> None:
    assert Template("$kubernetes", go=True).render("t", RECORD) == "$kubernetes"


def test_static_templates_do_not_read_the_record() -> None:
    assert Template("plain").is_static
    assert not Template("$TAG").uses_record
    assert Template("$a['b']").uses_record
