"""Name templates in the Go plugins' $(...) syntax; the record-accessor syntax is tests/test_record_accessor.py."""

from __future__ import annotations

from flb_fast.outputs.aws.template import GoTemplate

RECORD = {"kubernetes": {"namespace_name": "prod", "labels": {"app": "web"}, "ports": [80, 443]}, "n": 7, "ok": True}


def test_go_syntax_reads_keys_tag_parts_and_uuid() -> None:
    template = GoTemplate("/eks/$(kubernetes['namespace_name'])/$(tag[1])/$(tag)")
    assert template.render("kube.node1", RECORD) == "/eks/prod/node1/kube.node1"
    assert len(GoTemplate("$(uuid)").render("t", RECORD) or "") == 36


def test_go_syntax_leaves_record_accessor_text_literal() -> None:
    assert GoTemplate("$kubernetes").render("t", RECORD) == "$kubernetes"

def test_go_syntax_reads_deeper_keys_and_list_indexes_through_the_record_accessor() -> None:
    assert GoTemplate("$(kubernetes['labels']['app'])-$(kubernetes['ports'][1])").render("t", RECORD) == "web-443"


def test_go_syntax_scalars_render_as_text() -> None:
    assert GoTemplate("$(n)-$(ok)").render("t", RECORD) == "7-true"


def test_go_syntax_missing_key_map_or_tag_part_renders_nothing_so_the_caller_falls_back() -> None:
    assert GoTemplate("$(kubernetes['pod_name'])").render("t", RECORD) is None
    assert GoTemplate("$(kubernetes)").render("t", RECORD) is None
    assert GoTemplate("$(tag[5])").render("a.b", RECORD) is None


def test_go_syntax_static_templates_do_not_read_the_record() -> None:
    assert GoTemplate("plain").is_static
    assert not GoTemplate("$(tag)").uses_record
    assert GoTemplate("$(a['b'])").uses_record
