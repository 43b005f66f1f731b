"""The record accessor (FB src/flb_record_accessor.c, src/flb_ra_key.c, src/record_accessor/ra.l, ra.y)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from flb_fast.record_accessor import MISSING, KeyAccessor, Template

DATA = Path(__file__).parent / "data" / "record_accessor"
RECORD = {
    "s": "a.b",
    "i": 42,
    "f": 1.5,
    "b": True,
    "n": None,
    "m": {"k": "v", "a": [1, {"z": "deep"}]},
    "arr": ["x", "y"],
}


def _recorded() -> tuple[dict, list[tuple[str, str]]]:
    """The record, and (rule template, tag Fluent Bit rendered) for each rewrite_tag rule of the recording."""
    conf = (DATA / "fluent-bit.conf").read_text()
    record = __import__("json").loads(re.search(r"Dummy (.*)", conf).group(1))  # type: ignore[union-attr]
    templates = [line.split()[3] for line in conf.splitlines() if line.strip().startswith("Rule")]
    tags = [line.split(": [", 1)[0] for line in (DATA / "fluent-bit.out").read_text().splitlines()[1:]]
    return record, list(zip(templates, tags, strict=True))


@pytest.mark.parametrize("case", range(3))
def test_templates_render_as_fluent_bit_rendered_them(case: int) -> None:
    record, cases = _recorded()
    template, tag = cases[case]
    assert Template(template).render("app.web.x", record, groups=["a.b", "a", "b"], check=False) == tag


def test_key_reads_nested_maps_and_array_indexes() -> None:
    assert KeyAccessor.parse("$m['a'][1]['z']").get(RECORD) == "deep"
    assert KeyAccessor.parse("$arr[1]").get(RECORD) == "y"


def test_key_missing_anywhere_on_the_path_is_missing() -> None:
    for text in ("$nope", "$m['nope']", "$m['a'][5]", "$m['a']['k']", "$arr['k']", "$m['k']['x']"):
        assert KeyAccessor.parse(text).get(RECORD) is MISSING, text


def test_present_null_is_not_missing() -> None:
    assert KeyAccessor.parse("$n").get(RECORD) is None


def test_subkeys_of_a_scalar_read_the_scalar_as_fluent_bit_does() -> None:
    assert KeyAccessor.parse("$s['sub'][0]").get(RECORD) == "a.b"


def test_key_grammar_single_quotes_with_doubled_quote_escape_and_blanks() -> None:
    key = KeyAccessor.parse("$ m [ 'it''s' ] [ 0 ]")
    assert (key.key, key.subkeys) == ("m", ("it's", 0))


@pytest.mark.parametrize("text", ["$m[\"k\"]", "$m['k'", "$m[k]", "$", "$1abc", "$m['k']x"])
def test_bad_key_patterns_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid record accessor"):
        KeyAccessor.parse(text)


def test_a_bad_key_inside_a_template_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\$m\['k'"):
        Template("x-$m['k'")


def test_values_render_with_fluent_bit_text_rules() -> None:
    template = Template("$s,$i,$f,$b,$n,$m")
    assert template.render("t", RECORD) == 'a.b,42,1.500000,true,null,{"k":"v","a":[1,{"z":"deep"}]}'


def test_map_json_escapes_non_ascii_and_keeps_float_form() -> None:
    assert Template("$m").render("t", {"m": {"u": "é/\"", "l": [2.0, None]}}) == '{"u":"\\u00e9/\\"","l":[2.0,null]}'


def test_missing_key_or_array_fails_the_checked_render() -> None:
    assert Template("x-$nope").render("t", RECORD) is None
    assert Template("x-$arr").render("t", RECORD) is None


def test_unchecked_render_drops_missing_parts() -> None:
    assert Template("x,$nope,$arr,y").render("t", RECORD, check=False) == "x,,,y"


def test_tag_and_tag_parts() -> None:
    assert Template("$TAG/$TAG[0]/$TAG[2]/$TAG[3]").render("kube.var.log", RECORD) == "kube.var.log/kube/log/"


def test_tag_part_zero_of_a_tag_without_dots_is_the_tag() -> None:
    assert Template("$TAG[0]-$TAG[1]").render("app", RECORD) == "app-"


def test_regex_ids_come_from_the_callers_groups() -> None:
    assert Template("$1-$0-$7").render("t", RECORD, groups=["ab", "a"]) == "a-ab-"


def test_text_without_variables_is_static_literal_text() -> None:
    template = Template("plain.name")
    assert (template.render("t", None), template.is_static, template.uses_record) == ("plain.name", True, False)


def test_static_and_record_use() -> None:
    assert Template("$TAG[1]").is_static and not Template("$TAG").uses_record
    assert not Template("$a['b']").is_static and Template("$a['b']").uses_record
    assert not Template("$1").is_static and not Template("$1").uses_record


def test_first_key_of_a_single_key_option() -> None:
    assert Template("log").first_key == KeyAccessor("log")
    assert Template("a.b").first_key == KeyAccessor("a.b")
    assert Template("$a.b").first_key == KeyAccessor("a")
    assert Template("$TAG").first_key is None


def test_set_replaces_or_adds_the_last_key() -> None:
    record = {"m": {"k": "v"}}
    assert KeyAccessor.parse("$m['k']").set(record, 1) and KeyAccessor.parse("$m['new']").set(record, 2)
    assert KeyAccessor.parse("$top").set(record, 3)
    assert record == {"m": {"k": 1, "new": 2}, "top": 3}


def test_set_fails_when_a_parent_is_missing_or_the_index_is_out_of_range() -> None:
    record = copy.deepcopy(RECORD)
    assert not KeyAccessor.parse("$nope['k']").set(record, 1)
    assert not KeyAccessor.parse("$m['nope']['k']").set(record, 1)
    assert not KeyAccessor.parse("$arr[5]").set(record, 1)
    assert not KeyAccessor.parse("$s['k']").set(record, 1)
    assert record == RECORD


def test_delete_removes_nested_entries() -> None:
    record = copy.deepcopy(RECORD)
    assert KeyAccessor.parse("$m['a'][1]['z']").delete(record) and KeyAccessor.parse("$arr[0]").delete(record)
    assert not KeyAccessor.parse("$m['gone']").delete(record)
    assert (record["m"], record["arr"]) == ({"k": "v", "a": [1, {}]}, ["y"])


def test_writes_copy_a_shared_nested_map_instead_of_changing_it() -> None:
    shared = {"pod_name": "web-1", "labels": {"app": "web"}}
    first, second = {"kubernetes": shared}, {"kubernetes": shared}
    KeyAccessor.parse("$kubernetes['labels']['app']").set(first, "changed")
    KeyAccessor.parse("$kubernetes['pod_name']").delete(first)
    assert first["kubernetes"] == {"labels": {"app": "changed"}}
    assert second["kubernetes"] is shared and shared == {"pod_name": "web-1", "labels": {"app": "web"}}
