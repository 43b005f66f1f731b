"""Match / Match_Regex follow Fluent Bit's router_match rules."""

from __future__ import annotations

import pytest

from flb_fast.engine.router import Routes, TagMatcher


@pytest.mark.parametrize(
    ("pattern", "tag", "expected"),
    [
        ("*", "anything.at.all", True),
        ("kube.*", "kube.var.log.containers.a_b_c-123.log", True),
        ("kube.*", "kube.", True),
        ("kube.*", "kube", False),
        ("kube.*", "xkube.a", False),
        ("*.log", "kube.var.log", True),
        ("*.log", "kube.var.log.gz", False),
        ("app", "app", True),
        ("app", "app.x", False),
        ("a.*.c", "a.b1.b2.c", True),
        ("a**b", "ab", True),
        ("a**b", "a.x.b", True),
    ],
)
def test_wildcard_match_covers_the_whole_tag_and_star_spans_dots(pattern, tag, expected):
    assert TagMatcher(pattern, None)(tag) is expected


def test_match_is_case_sensitive():
    assert not TagMatcher("Kube.*", None)("kube.a")


def test_question_mark_and_brackets_are_literal_characters():
    assert TagMatcher("a?c", None)("a?c")
    assert not TagMatcher("a?c", None)("abc")
    assert not TagMatcher("[ab]", None)("a")


def test_match_regex_is_anchored_at_the_start_only():
    matcher = TagMatcher(None, r"kube\.var")
    assert matcher("kube.var.log.x")
    assert not matcher("x.kube.var")


def test_match_regex_wins_over_match():
    matcher = TagMatcher("other.*", r"^kube\.")
    assert matcher("kube.a")
    assert not matcher("other.a")


def test_without_match_nothing_matches():
    matcher = TagMatcher(None, None)
    assert matcher.matches_nothing
    assert not matcher("any")


def test_routes_keep_config_order_and_allow_several_matches():
    routes = Routes([(TagMatcher("*", None), "first"), (TagMatcher("b.*", None), "second"),
                     (TagMatcher("a.*", None), "third")])
    assert routes("a.x") == ("first", "third")
    assert routes("b.x") == ("first", "second")
    assert routes("c") == ("first",)
