"""The compiled regex machine (_core/regex.pxi) against re: same match, same groups, on random input.

re is the reference: the machine is fed from re's own parse of the pattern and must backtrack
in re's order, so every group span must agree (property tests over the standard parsers'
patterns and over randomly generated patterns).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.compiled import core_part
from flb_fast.config.model import Config
from flb_fast.parsers import build_registry
from flb_fast.parsers.regex import RegexParser
from flb_fast.parsers.regex_program import compile_program
from tests.parsers.test_time import CLF_TEXT

RegexProgram = core_part("RegexProgram")
pytestmark = pytest.mark.skipif(RegexProgram is None, reason="_core.RegexProgram not built")

REGISTRY = build_registry(Config())
REGEX_PARSERS = [name for name in REGISTRY.names() if isinstance(REGISTRY.get(name), RegexParser)]
SAMPLES = {
    "nginx": '10.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET /a?b=1 HTTP/1.1" 200 612 "-" "curl/8.4.0"',
    "cri": "2026-11-25T13:00:00.123456789+00:00 stdout F hello world",
    "syslog-rfc3164": "<13>Nov 25 13:00:00 myhost sshd[1234]: Accepted publickey",
    "mongodb": "2026-11-25T13:00:00.123+0000 I NETWORK  [conn1] end connection 10.0.0.1:5555 12ms",
    "apache_error": "[Wed Nov 25 13:00:00 2026] [core:error] [pid 1:tid 2] [client 1.2.3.4:5] AH0: x",
}


def program_for(pattern: re.Pattern[str]):  # type: ignore[no-untyped-def]
    program = compile_program(pattern)
    assert program is not None, pattern.pattern
    return RegexProgram(program.code, program.classes, program.group_count, program.names,
                        program.anchored_line_start)


def reference_spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]] | None:
    match = pattern.search(text)
    return None if match is None else [match.span(group) for group in range(1, pattern.groups + 1)]


def test_every_standard_regex_parser_compiles() -> None:
    assert all(compile_program(REGISTRY.get(name).regex) is not None for name in REGEX_PARSERS)  # type: ignore[union-attr]


@st.composite
def mutated(draw: st.DrawFn, base: str) -> str:
    """A realistic line with a few random edits (insert, delete, replace), any characters."""
    text = base
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(text)))
        piece = draw(st.text(st.one_of(st.characters(max_codepoint=255), st.characters()), max_size=4))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert":
            text = text[:pos] + piece + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + len(piece) :]
        else:
            text = text[:pos] + piece + text[pos + len(piece) :]
    return text


@pytest.mark.parametrize("name", sorted(SAMPLES))
@given(data=st.data())
def test_standard_patterns_agree_with_re_on_mutated_lines(name: str, data: st.DataObject) -> None:
    pattern = REGISTRY.get(name).regex  # type: ignore[union-attr]
    text = data.draw(mutated(SAMPLES[name]))
    assert program_for(pattern).spans(text) == reference_spans(pattern, text)


_ATOMS = st.sampled_from(["a", "b", ".", "[ab]", "[^a]", r"\s", r"\S", r"\d", r"\w", " ", "-", r"\b", r"\B", "^", "$"])


@settings(max_examples=300)
@given(body=st.recursive(_ATOMS, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=4).map("".join),
    st.tuples(inner, inner).map(lambda pair: f"(?:{pair[0]}|{pair[1]})"),
    inner.map(lambda body: f"({body})"),
    st.tuples(inner, st.sampled_from(["*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{0,2}?"])).map(
        lambda pair: f"(?:{pair[0]}){pair[1]}")), max_leaves=8),
       anchor=st.sampled_from(["", "^", r"\A"]), end=st.sampled_from(["", "$", r"\Z"]),
       flags=st.sampled_from([0, re.IGNORECASE, re.DOTALL]),
       text=st.text(st.sampled_from("abAB -1\n\u00e9\u00c9\u2603\U0001f600"), max_size=12))
def test_random_patterns_agree_with_re(body: str, anchor: str, end: str, flags: int, text: str) -> None:
    pattern = re.compile(anchor + body + end, re.MULTILINE | re.ASCII | flags)
    program = compile_program(pattern)
    if program is None:  # a construct the machine leaves to re (e.g. a repeat of an empty match)
        return
    machine = RegexProgram(program.code, program.classes, program.group_count, program.names,
                           program.anchored_line_start)
    assert machine.spans(text) == reference_spans(pattern, text)


@settings(max_examples=300)
@given(lazy=st.sampled_from(["[^ab]*?", "[^ab]+?", "a*?", "[ab ]{0,3}?", r"\S*?", ".*?", "[^-]{2,}?"]),
       after=st.lists(st.sampled_from(["a", "b", " ", "-", "(?: +b*)?", "(?:a|-)", "(?:a|)", "b*?", "$", r"\b", "(x)?"]),
                      max_size=3).map("".join),
       text=st.text(st.sampled_from("ab -x\n\u00e9\u2603"), max_size=14))
def test_lazy_repeats_step_over_what_cannot_start_their_continuation_as_re_would(lazy: str, after: str,
                                                                                 text: str) -> None:
    """A lazy repeat takes the characters its continuation cannot start with without trying it
    (its stop class); a continuation that can match without a character (or start with an
    assertion) keeps the one-at-a-time order. Matches and groups stay re's."""
    pattern = re.compile(f"({lazy}){after}(.)?", re.MULTILINE | re.ASCII)
    program = compile_program(pattern)
    assert program is not None
    machine = RegexProgram(program.code, program.classes, program.group_count, program.names,
                           program.anchored_line_start)
    assert machine.spans(text) == reference_spans(pattern, text)


def test_the_nginx_path_repeat_has_a_stop_class() -> None:
    r"""``[^\"]*?`` before ``(?: +\S*)?"``: spaces and quotes are where its continuation can start."""
    from flb_fast.parsers.regex_program import _SIZE, NO_STOP, OP_LAZY

    program = compile_program(REGISTRY.get("nginx").regex)  # type: ignore[union-attr]
    assert program is not None
    pc, lazies = 0, []
    while pc < len(program.code):
        if program.code[pc] == OP_LAZY:
            lazies.append(pc)
        pc += _SIZE[program.code[pc]]
    assert len(lazies) == 1
    stop = program.code[lazies[0] + 4]
    assert stop != NO_STOP
    bitmap = program.classes[33 * stop: 33 * stop + 33]
    assert [c for c in range(256) if bitmap[c >> 3] >> (c & 7) & 1] == [ord(" "), ord('"')] and not bitmap[32]


@pytest.mark.parametrize("name", REGEX_PARSERS)
def test_compiled_parse_lines_equals_python_path(name: str) -> None:
    parser = REGISTRY.get(name)
    assert isinstance(parser, RegexParser) and parser.compiled is not None
    lines = [SAMPLES.get(name, "x").encode(), b"garbage", "caf\u00e9 \u2603".encode(), b"\xff\xfe", b""]
    compiled = parser.compiled
    try:
        parser.compiled = None
        expected = parser.parse_lines(lines, 5, "log")
    finally:
        parser.compiled = compiled
    assert parser.parse_lines(lines, 5, "log") == expected


@pytest.mark.parametrize("message", ["snow \u2603", "emoji \U0001f600", "\u4e2d\u6587 caf\u00e9"])
def test_lines_beyond_latin1_parse_on_the_compiled_path(message: str) -> None:
    """2- and 4-byte str storage is matched directly (no per-line fallback to re)."""
    parser = REGISTRY.get("cri")
    line = f"2026-11-25T13:00:00.5Z stdout F {message}".encode()
    assert parser.compiled.spans(line.decode()) is not None  # type: ignore[union-attr]
    assert parser.parse_lines([line], 5, "log")[1] == [  # type: ignore[union-attr]
        {"time": "2026-11-25T13:00:00.5Z", "stream": "stdout", "logtag": "F", "message": message}]


@pytest.mark.parametrize("name", sorted(SAMPLES))
@given(data=st.data())
def test_compiled_parse_batch_equals_python_path(name: str, data: st.DataObject) -> None:
    """parse_batch (kubernetes annotations, parser filter): None for a miss, -1 or 0 for no time."""
    parser = REGISTRY.get(name)
    texts = [data.draw(mutated(SAMPLES[name])) for _ in range(3)] + [SAMPLES[name], "snow \u2603"]
    compiled = parser.compiled
    try:
        parser.compiled = None
        expected = parser.parse_batch(texts)
    finally:
        parser.compiled = compiled
    assert _normalized(parser.parse_batch(texts)) == _normalized(expected)


def test_a_text_with_a_lone_surrogate_parses_on_the_compiled_path_as_on_the_python_one() -> None:
    parser = REGISTRY.get("nginx")
    texts = [SAMPLES["nginx"].replace("curl", "cu\ud800rl"), "\udcff" + SAMPLES["nginx"], "\ud800"]
    compiled = parser.compiled
    try:
        parser.compiled = None
        expected = parser.parse_batch(texts)
    finally:
        parser.compiled = compiled
    assert expected[0] is not None and expected[0][1]["agent"] == "cu\ud800rl/8.4.0"
    assert _normalized(parser.parse_batch(texts)) == _normalized(expected)


@settings(max_examples=300)
@given(times=st.lists(CLF_TEXT, min_size=1, max_size=4))
def test_common_log_format_times_read_in_the_batch_equal_the_time_parsers_reading(times: list[str]) -> None:
    """The nginx parser's batch reads a canonical CLF time itself (``time_clf``): the records,
    times and failures are those of the batch handing every time to ``TimeFormat.parse``."""
    parser = REGISTRY.get("nginx")
    assert isinstance(parser, RegexParser) and parser._time_clf
    lines = [SAMPLES["nginx"].replace("25/Nov/2026:13:00:00 +0000", time) for time in times] + [SAMPLES["nginx"]]
    parser._time_clf = False
    try:
        expected = parser.parse_lines([line.encode() for line in lines], 5, "log"), parser.parse_batch(lines)
    finally:
        parser._time_clf = True
    assert (parser.parse_lines([line.encode() for line in lines], 5, "log"), parser.parse_batch(lines)) == expected


@settings(max_examples=200)
@given(keep=st.sampled_from(["On", "Off"]), skip_empty=st.sampled_from(["On", "Off"]),
       times=st.lists(st.tuples(st.sampled_from(["", "x"]),
                                st.one_of(st.just(""), st.just("2026-11-25"), st.text("0123456789-x", max_size=11)),
                                st.sampled_from(["", "y"])), min_size=1, max_size=4))
def test_the_time_field_keeps_its_place_or_goes_on_the_compiled_path_as_on_the_python_one(
        keep: str, skip_empty: str, times: list[tuple[str, str, str]]) -> None:
    """Time_Keep On keeps a parsed time where its group is; Off drops it; one that does not parse is
    dropped either way (an empty one too when Skip_Empty_Values is Off). Empty fields go or stay
    as Skip_Empty_Values says, the others keep their order."""
    from tests.parsers.helpers import parser as make_parser

    timed = make_parser(Name="t", Format="regex", Regex=r"^(?<a>[^ ]*) (?<time>[^ ]*) (?<b>.*)$",
                        Time_Format="%Y-%m-%d", Time_Keep=keep, Skip_Empty_Values=skip_empty)
    assert isinstance(timed, RegexParser) and timed.compiled is not None
    lines = [f"{a} {time} {b}".encode() for a, time, b in times]
    compiled = timed.compiled
    try:
        timed.compiled = None
        expected = timed.parse_lines(lines, 5, "log")
    finally:
        timed.compiled = compiled
    timestamps, records, failed = timed.parse_lines(lines, 5, "log")
    assert (timestamps, [list(record.items()) for record in records], failed) == (
        expected[0], [list(record.items()) for record in expected[1]], expected[2])


def _normalized(results: list) -> list:  # type: ignore[type-arg]
    """0 and -1 both mean "no time" to every caller."""
    return [None if r is None else (-1 if r[0] in (0, -1) else r[0], r[1]) for r in results]


def test_types_and_decoders_run_on_the_compiled_path_too() -> None:
    from tests.parsers.helpers import parser as make_parser

    typed = make_parser(Name="t", Format="regex", Regex=r"^(?<time>\S+) (?<n>\d+) (?<ok>\w+) (?<log>.*)$",
                        Time_Format="%Y-%m-%d", Time_Keep="On", Types="n:integer ok:bool",
                        Decode_Field_As="escaped log")
    assert isinstance(typed, RegexParser) and typed.compiled is not None
    lines = [b"2026-11-25 42 true a\\tb", b"2026-11-25 7 maybe x"]
    compiled = typed.compiled
    try:
        typed.compiled = None
        expected = typed.parse_lines(lines, 5, "log")
    finally:
        typed.compiled = compiled
    assert typed.parse_lines(lines, 5, "log") == expected
    assert expected[1] == [{"time": "2026-11-25", "n": 42, "ok": True, "log": "a\tb"},
                           {"time": "2026-11-25", "n": 7, "ok": "maybe", "log": "x"}]


def test_one_program_serves_several_threads_at_once() -> None:
    """Working memory is per call: batches parsed concurrently from threads (whose Python callbacks
    let the GIL switch mid-batch) give the results of one thread alone."""
    from concurrent.futures import ThreadPoolExecutor

    parser = REGISTRY.get("nginx")
    lines = [SAMPLES["nginx"].encode(), "caf\u00e9 \u2603".encode(), b"garbage"] * 300
    expected = parser.parse_lines(lines, 5, "log")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: parser.parse_lines(lines, 5, "log"), range(16)))
    assert all(result == expected for result in results)
