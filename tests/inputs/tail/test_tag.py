"""Tag composition for one file path (Fluent Bit's tag_compose)."""

from __future__ import annotations

import pytest

from flb_fast.inputs.tail.tag import TagComposer


def test_a_tag_without_star_is_used_as_is() -> None:
    assert TagComposer("app", None).compose("/var/log/a.log") == "app"


def test_star_becomes_the_path_with_slashes_as_dots() -> None:
    composer = TagComposer("kube.*", None)
    assert composer.compose("/var/log/containers/web_prod_nginx-abc.log") == "kube.var.log.containers.web_prod_nginx-abc.log"


def test_text_after_the_star_is_kept() -> None:
    assert TagComposer("pre.*.post", None).compose("/a/b.log") == "pre.a.b.log.post"


def test_a_bare_star_drops_the_leading_separator() -> None:
    assert TagComposer("*", None).compose("/var/log/x.log") == "var.log.x.log"


def test_tag_regex_fills_named_groups_and_underscore_for_missing_ones() -> None:
    composer = TagComposer("k.<ns>.<pod>.<nope>", r"/(?<pod>[^_/]+)_(?<ns>[^_/]+)_")
    assert composer.compose("/var/log/containers/web-1_prod_nginx.log") == "k.prod.web-1._"


def test_a_path_tag_regex_does_not_match_has_no_tag() -> None:
    assert TagComposer("k.<ns>", r"^/never/(?<ns>x)").compose("/var/log/a.log") is None


def test_an_unclosed_group_reference_is_rejected() -> None:
    with pytest.raises(ValueError, match="missing closing angle bracket"):
        TagComposer("k.<ns", r"(?<ns>x)")
