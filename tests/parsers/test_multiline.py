"""Multiline rules as Fluent Bit runs them (src/multiline/flb_ml_rule.c; docs: administration/configuring-fluent-bit/multiline-parsing)."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Config, Property, Section
from flb_fast.parsers import build_registry
from flb_fast.parsers.base import ParserRegistry
from flb_fast.parsers.multiline import Multiline, builtin_multiline_parsers, create_multiline_parser

BUILTIN = {parser.name: parser for parser in builtin_multiline_parsers()}


def feed_lines(ml: Multiline, lines: list[str], stream: str = "s") -> list[tuple[int, dict]]:
    out = []
    for ts, line in enumerate(lines, start=1):
        out.extend(ml.feed(stream, ts, {"log": line, "stream": "stdout"}))
    return out + ml.flush_all()


JAVA_TRACE = [
    "Exception in thread \"main\" java.lang.RuntimeException: Something has gone wrong, aborting!",
    "    at com.myproject.module.MyProject.badMethod(MyProject.java:22)",
    "    at com.myproject.module.MyProject.oneMoreMethod(MyProject.java:18)",
    "Caused by: java.lang.NullPointerException",
    "    ... 2 more",
]


def test_java_stack_trace_becomes_one_record_with_first_line_time() -> None:
    out = feed_lines(Multiline([BUILTIN["java"]]), ["single line", *JAVA_TRACE, "another line"])
    assert out == [
        (1, {"log": "single line", "stream": "stdout"}),
        (2, {"log": "\n".join(JAVA_TRACE), "stream": "stdout"}),
        (7, {"log": "another line", "stream": "stdout"}),
    ]


def test_python_traceback_closes_at_the_exception_line() -> None:
    lines = ["Traceback (most recent call last):", '  File "app.py", line 1, in <module>', "    boom()",
             "ValueError: bad", "next"]
    out = feed_lines(Multiline([BUILTIN["python"]]), lines)
    assert [record["log"] for _, record in out] == ["\n".join(lines[:4]), "next"]


def test_go_panic() -> None:
    lines = ["panic: runtime error: index out of range", "", "goroutine 1 [running]:", "main.main()",
             "\t/app/main.go:5 +0x1d", "exit status 2"]
    out = feed_lines(Multiline([BUILTIN["go"]]), lines)
    assert out[0][1]["log"] == "\n".join(lines[:5])
    assert out[1][1]["log"] == "exit status 2"


def test_ruby_backtrace() -> None:
    lines = ["app.rb:2:in `fail_now': boom (RuntimeError)", "\tfrom app.rb:5:in `<main>'"]
    assert feed_lines(Multiline([BUILTIN["ruby"]]), lines) == [(1, {"log": "\n".join(lines), "stream": "stdout"})]


def test_streams_do_not_mix() -> None:
    ml = Multiline([BUILTIN["java"]])
    out = ml.feed("a", 1, {"log": JAVA_TRACE[0]})
    out += ml.feed("b", 2, {"log": "unrelated"})
    out += ml.feed("a", 3, {"log": JAVA_TRACE[1]})
    out += ml.flush_all()
    assert out == [(2, {"log": "unrelated"}), (1, {"log": "\n".join(JAVA_TRACE[:2])})]


def test_idle_group_flushes_after_flush_timeout() -> None:
    now = [100.0]
    ml = Multiline([BUILTIN["java"]], clock=lambda: now[0])
    assert ml.feed("a", 1, {"log": JAVA_TRACE[0]}) == []
    assert ml.flush_expired(103.9) == []
    assert ml.flush_expired(104.0) == [(1, {"log": JAVA_TRACE[0]})]
    assert ml.pending() == 0


def test_raw_text_lines_use_the_default_key_and_keep_a_final_newline() -> None:
    """flb_ml_flush_stream_group's breakline_prepare: without key_content, a raw line's record
    ends with a newline, joined or not."""
    ml = Multiline([BUILTIN["java"]], default_key="message")
    out = ml.feed_text("f", 1, JAVA_TRACE[0]) + ml.feed_text("f", 2, JAVA_TRACE[1]) + ml.feed_text("f", 3, "plain")
    assert out == [(1, {"message": "\n".join(JAVA_TRACE[:2]) + "\n"}), (3, {"message": "plain\n"})]


def test_a_raw_empty_line_no_parser_claims_gives_no_record() -> None:
    ml = Multiline([BUILTIN["java"]])
    assert ml.feed_text("f", 1, "a") + ml.feed_text("f", 2, "") + ml.feed_text("f", 3, "b") == [
        (1, {"log": "a\n"}), (3, {"log": "b\n"})]


def test_the_parser_that_took_the_previous_line_is_tried_first() -> None:
    """flb_ml_append_text's LRU parser: python's "KeyError: 'x'" ends its traceback although java,
    listed first, would open a trace on it ("...Error:")."""
    ml = Multiline([BUILTIN["java"], BUILTIN["python"]])
    lines = ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>', "    d['x']", "KeyError: 'x'"]
    out = [record for line in [*lines, "next"] for record in ml.feed_text("f", 1, line)]
    assert out == [(1, {"log": "\n".join(lines) + "\n"}), (1, {"log": "next\n"})]


def test_a_trace_of_another_parser_stays_open_until_a_line_no_parser_claims() -> None:
    """Each parser keeps its own groups: a python traceback cut by a java trace is flushed, after
    the java one, when an unclaimed line closes every group of the stream in parser order."""
    ml = Multiline([BUILTIN["java"], BUILTIN["python"]])
    lines = ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>', "    boom()",
             JAVA_TRACE[0], JAVA_TRACE[1], "plain"]
    out = [record for n, line in enumerate(lines, 1) for record in ml.feed_text("f", n, line)]
    assert out == [(4, {"log": "\n".join(JAVA_TRACE[:2]) + "\n"}), (1, {"log": "\n".join(lines[:3]) + "\n"}),
                   (6, {"log": "plain\n"})]


def _section(*rules: str, **props: str) -> Section:
    properties = [Property(key, value, "ml.conf", n + 2) for n, (key, value) in enumerate(props.items())]
    properties += [Property("rule", rule, "ml.conf", 10 + n) for n, rule in enumerate(rules)]
    return Section("multiline_parser", properties, "ml.conf", 1)


def test_user_regex_parser_from_docs_example() -> None:
    parser = create_multiline_parser(_section(
        r'"start_state"   "/([a-zA-Z]+ \d+ \d+\:\d+\:\d+)(.*)/"  "cont"',
        r'"cont"          "/^\s+at.*/"                           "cont"',
        name="multiline-regex-test", type="regex", flush_timeout="1000"), ParserRegistry())
    lines = ["single line...", "Dec 14 06:41:08 Exception in thread \"main\" java.lang.RuntimeException: Boom!",
             "    at com.myproject.module.MyProject.badMethod(MyProject.java:22)", "another line..."]
    out = feed_lines(Multiline([parser]), lines)
    assert [record["log"] for _, record in out] == [lines[0], "\n".join(lines[1:3]), lines[3]]


def test_multiline_parser_applies_its_parser_to_raw_lines_first() -> None:
    registry = build_registry(Config())
    parser = create_multiline_parser(_section(r'"start_state" "/^start/" "cont"', r'"cont" "/^\s/" "cont"',
                                              name="m", type="regex", parser="json", key_content="msg"), registry)
    ml = Multiline([parser])
    out = ml.feed_text("f", 5, '{"msg":"start here","lvl":"e"}') + ml.feed_text("f", 6, '{"msg":"  more"}')
    assert out + ml.flush_all() == [(5, {"msg": "start here\n  more", "lvl": "e"})]


def test_multiline_parser_parses_a_records_key_content_and_the_result_becomes_the_record() -> None:
    """ml_append_try_parser_type_map (the multiline filter): the key_content value is parsed, the
    rules see the parsed record's key_content, and the parsed record replaces the original one
    (recorded: tests/data/filters/multiline/parser-on-records)."""
    registry = build_registry(Config())
    parser = create_multiline_parser(_section(r'"start_state" "/^start/" "cont"', r'"cont" "/^\s/" "cont"',
                                              name="m", type="regex", parser="json", key_content="log"), registry)
    ml = Multiline([parser])
    out = (ml.feed("s", 5, {"log": '{"log":"start here","lvl":"e"}', "stream": "stderr"})
           + ml.feed("s", 6, {"log": '{"log":"  more"}', "stream": "stderr"}))
    assert out + ml.flush_all() == [(5, {"log": "start here\n  more", "lvl": "e"})]


@pytest.mark.parametrize("record", [{"log": "not json"}, {"log": 7}, {"other": '{"log":"start"}'}])
def test_a_record_whose_key_content_its_parser_cannot_read_passes_unchanged(record: dict) -> None:
    registry = build_registry(Config())
    parser = create_multiline_parser(_section(r'"start_state" "/^start/" "cont"', name="m", type="regex",
                                              parser="json", key_content="log"), registry)
    assert Multiline([parser]).feed("s", 3, record) == [(3, record)]


def test_endswith_flushes_on_a_line_ending_with_match_string() -> None:
    """flb_ml.c package_content: in endswith mode "a rule match means flush the content"."""
    parser = create_multiline_parser(_section(name="e", type="endswith", match_string=";", key_content="log"),
                                     ParserRegistry())
    out = feed_lines(Multiline([parser]), ["select *", " from t;", "commit;"])
    assert [record["log"] for _, record in out] == ["select * from t;", "commit;"]


def test_endswith_negate_without_key_content_joins_with_newlines() -> None:
    """negate: a line NOT ending with the string flushes; raw lines are joined by breakline_prepare."""
    parser = create_multiline_parser(_section(name="e", type="endswith", match_string="\\", negate="on"),
                                     ParserRegistry())
    out = feed_lines(Multiline([parser]), ["a \\", "b \\", "c", "d"])
    assert [record["log"] for _, record in out] == ["a \\\nb \\\nc", "d"]


def test_equal_uses_key_pattern() -> None:
    parser = create_multiline_parser(_section(name="q", type="equal", match_string="F", key_content="log",
                                              key_pattern="_p"), ParserRegistry())
    ml = Multiline([parser])
    out = ml.feed("s", 1, {"log": "part1 ", "_p": "P"}) + ml.feed("s", 2, {"log": "part2", "_p": "F"})
    assert out == [(1, {"log": "part1 part2", "_p": "P"})]


def test_line_its_parser_cannot_read_passes_through_under_the_first_parsers_key_content() -> None:
    """ml_append_try_parser_type_text: a parser failure hands the line to the next parser, or out as
    is, under the first parser's key_content and without a final newline (flb_ml_append_text)."""
    registry = build_registry(Config())
    parser = create_multiline_parser(_section(r'"start_state" "/^start/" "cont"', name="m", type="regex",
                                              parser="json", key_content="msg"), registry)
    ml = Multiline([parser])
    assert ml.feed_text("f", 3, "start but not json") == [(3, {"msg": "start but not json"})]


@pytest.mark.parametrize("props,message", [
    ({"name": "m", "type": "fancy"}, "type must be one of"),
    ({"name": "m", "type": "regex"}, "needs at least one rule"),
    ({"name": "m", "type": "regex", "parser": "nope"}, "unknown parser 'nope'"),
])
def test_bad_sections_are_config_errors(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_multiline_parser(_section(**props), ParserRegistry())


def test_an_unknown_key_is_a_warning_at_its_line(caplog: pytest.LogCaptureFixture) -> None:
    """Fluent Bit ignores it silently; a typo (flsh_timeout) should not go unnoticed."""
    create_multiline_parser(_section('"start_state" "/^a/" "cont"', name="m", type="regex", flsh_timeout="100"),
                            ParserRegistry())
    assert [record.getMessage() for record in caplog.records] == [
        "ml.conf:4: unknown option 'flsh_timeout' for multiline parser 'm': ignored"]


def test_bad_rule_regex_names_the_rule_line() -> None:
    with pytest.raises(ConfigError) as info:
        create_multiline_parser(_section('"start_state" "/(unclosed/" "cont"', name="m", type="regex"),
                                ParserRegistry())
    assert (info.value.file, info.value.line) == ("ml.conf", 10)


def test_group_over_the_buffer_limit_is_flushed_truncated_and_counted() -> None:
    """flb_ml_group_cat: a group stops at multiline_buffer_limit (2MB by default) and is flushed."""
    ml = Multiline([BUILTIN["java"]], buffer_limit=len(JAVA_TRACE[0]) + 10)
    out = feed_lines(ml, JAVA_TRACE[:3])
    assert out == [(1, {"log": JAVA_TRACE[0] + "\n" + JAVA_TRACE[1][:9], "stream": "stdout"}),
                   (3, {"log": JAVA_TRACE[2], "stream": "stdout"})]
    assert ml.truncated == 1


def test_an_endswith_group_is_not_cut_at_the_buffer_limit() -> None:
    """flb_ml.c package_content joins endswith/equal groups with flb_sds_cat_safe, not flb_ml_group_cat
    (recorded: tests/data/inputs/tail/multiline-buffer-limit/endswith-over-limit)."""
    parser = create_multiline_parser(_section(name="e", type="endswith", match_string=";", key_content="log"),
                                     ParserRegistry())
    ml = Multiline([parser], buffer_limit=8)
    assert [record["log"] for _, record in feed_lines(ml, ["select *", " from t;"])] == ["select * from t;"]
    assert ml.truncated == 0


def test_a_raw_line_no_parser_claims_is_cut_at_the_buffer_limit_and_counted() -> None:
    """flb_ml_append_text sends such a line through flb_ml_group_cat: its first buffer_limit characters."""
    ml = Multiline([BUILTIN["java"]], buffer_limit=5)
    assert ml.feed_text("s", 1, "plain text") == [(1, {"log": "plain\n"})]
    assert ml.truncated == 1
