"""Docker_Mode joining, batch in and batch out."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.config.model import Property, Section
from flb_fast.inputs.tail import docker_mode
from flb_fast.inputs.tail.docker_mode import DockerModeJoiner, log_value
from flb_fast.parsers import create_parser
from tests.inputs.tail.harness import consecutive_starts, registry


def entry(log: str, time: str = "t1", stream: str = "stdout") -> bytes:
    return json.dumps({"log": log, "stream": stream, "time": time}, separators=(",", ":")).encode()


def join(joiner: DockerModeJoiner, lines: list[bytes], first_offset: int, now: float) -> tuple[list[bytes], int | None]:
    """``joiner.join`` of lines that follow one another in the file from ``first_offset``."""
    return joiner.join(lines, consecutive_starts(lines, first_offset), now)


def test_log_value_of_docker_lines_and_others() -> None:
    assert [log_value(line) for line in [entry("a\n"), b"not json", b'{"log": 5}', entry("b")]] == [
        "a\n", None, None, "b"]


def test_a_line_that_does_not_start_with_its_object_has_no_log_value() -> None:
    # tail_dockermode.c modify_json_cond wants the root object's token at 0 (recorded: docker_mode_quirks).
    assert log_value(b" " + entry("a")) is None


def test_the_joined_log_is_spliced_into_the_last_entry_keeping_its_other_bytes() -> None:
    joiner = DockerModeJoiner(None)
    last = b'{"log":"two\\n","stream":"stdout","n":1e400,"t":"\\u00e9"}'
    assert join(joiner, [entry("one "), last], 0, 0.0) == (
        [b'{"log":"one two\\n","stream":"stdout","n":1e400,"t":"\\u00e9"}'], None)


def test_a_line_ending_in_an_escaped_backslash_and_n_is_not_mistaken_for_complete() -> None:
    joiner = DockerModeJoiner(None)
    assert join(joiner, [entry("ends with \\n"), entry("rest\n")], 0, 0.0) == ([entry("ends with \\nrest\n")], None)


def test_complete_entries_pass_through_unchanged() -> None:
    lines = [entry("a\n"), entry("b\n")]
    assert join(DockerModeJoiner(None), lines, 100, 0.0) == (lines, None)


def test_parts_are_joined_into_the_last_entry() -> None:
    joiner = DockerModeJoiner(None)
    out, held_offset = join(joiner, [entry("x\n"), entry("one ", "t1"), entry("two ", "t2")], 100, 0.0)
    assert (out, held_offset) == ([entry("x\n")], 100 + len(entry("x\n")) + 1)
    out, held_offset = join(joiner, [entry("three\n", "t3", "stderr")], 500, 1.0)
    assert (out, held_offset) == ([entry("one two three\n", "t3", "stderr")], None)


def test_a_record_held_from_an_earlier_batch_keeps_its_first_offset() -> None:
    joiner = DockerModeJoiner(None)
    join(joiner, [entry("one ")], 100, 0.0)
    assert join(joiner, [entry("two ")], 200, 1.0) == ([], 100)


def test_a_non_json_line_flushes_what_is_held_then_passes() -> None:
    joiner = DockerModeJoiner(None)
    join(joiner, [entry("part ", "t1")], 0, 0.0)
    assert join(joiner, [b"plain"], 50, 1.0) == ([entry("part ", "t1"), b"plain"], None)


def test_flush_writes_the_parts_into_the_last_entry() -> None:
    joiner = DockerModeJoiner(None)
    join(joiner, [entry("a", "t1"), entry("b", "t2")], 0, 0.0)
    assert (joiner.holding, joiner.held_since, joiner.held_offset) == (True, 0.0, 0)
    assert joiner.flush() == entry("ab", "t2")
    assert not joiner.holding


def test_the_flush_timeout_runs_from_the_last_part_held() -> None:
    joiner = DockerModeJoiner(None)
    join(joiner, [entry("a")], 0, 10.0)
    join(joiner, [entry("b")], 50, 13.0)
    assert (joiner.held_since, joiner.held_offset) == (13.0, 0)


def test_with_a_first_line_parser_continuations_join_their_first_line() -> None:
    joiner = DockerModeJoiner(registry().get("firstline"))
    lines = [entry("2026-11-25 boom\n"), entry("  at a\n"), entry("2026-11-25 next\n")]
    out, held_offset = join(joiner, lines, 0, 0.0)
    assert (out, held_offset) == ([entry("2026-11-25 boom\n  at a\n")], len(lines[0]) + len(lines[1]) + 2)
    assert joiner.flush() == entry("2026-11-25 next\n")


def test_a_joined_record_is_flushed_at_its_size_bound_and_joining_starts_afresh(monkeypatch) -> None:
    monkeypatch.setattr(docker_mode, "JOINED_MAX_BYTES", 6)
    joiner = DockerModeJoiner(None)
    lines = [entry("abc", "t1"), entry("def", "t2"), entry("gh", "t3"), entry("i\n", "t4")]
    out, held_offset = join(joiner, lines, 0, 0.0)
    assert (out, held_offset) == ([entry("abcdef", "t2"), entry("ghi\n", "t4")], None)


def test_docker_mode_parser_reads_the_raw_json_line_not_its_log() -> None:
    """Fluent Bit 4.2.8 (recorded: docker_mode_parser): a regex on the log text never matches, so no
    record starts and each complete entry passes alone; a split one is still joined."""
    spec = [("name", "text"), ("format", "regex"), ("regex", r"^2026-11-25 ")]
    joiner = DockerModeJoiner(create_parser(Section("parser", [Property(key, value) for key, value in spec])))
    lines = [entry("2026-11-25 bo"), entry("om\n"), entry("  at a\n"), entry("2026-11-25 next\n")]
    out, held_offset = join(joiner, lines, 0, 0.0)
    assert (out, held_offset) == ([entry("2026-11-25 boom\n"), entry("  at a\n"), entry("2026-11-25 next\n")], None)


def test_entries_before_the_first_matching_one_pass_alone() -> None:
    joiner = DockerModeJoiner(registry().get("firstline"))
    lines = [entry("  orphan\n"), entry("2026-11-25 boom\n"), entry("  at a\n")]
    out, held_offset = join(joiner, lines, 0, 0.0)
    assert (out, held_offset) == ([entry("  orphan\n")], len(lines[0]) + 1)
    assert joiner.flush() == entry("2026-11-25 boom\n  at a\n")


# Lines a Docker json-file log can hold: complete and partial entries (text that may itself look
# like JSON, escapes, a literal backslash-n), and lines that are not Docker entries at all.
_texts = st.text(alphabet=st.sampled_from(['a', ' ', '\\', 'n', '"', '{', '\n', 'é', ',']), max_size=12)
_lines = st.lists(st.one_of(
    st.builds(lambda text: entry(text + "\n"), _texts),
    st.builds(entry, _texts),
    st.builds(lambda text: text.encode(), _texts),
), max_size=30)


@settings(max_examples=300)
@given(_lines)
def test_the_compiled_search_for_unmarked_lines_matches_the_python_bisection_without_faked_marks(lines: list[bytes]) -> None:
    at_most_one_mark = [line for line in lines
                        if line.count(docker_mode._COMPLETE_MARK) <= 1 and docker_mode._FAKE_MARK not in line]
    found: list[int] = []
    docker_mode._unmarked(at_most_one_mark, 0, len(at_most_one_mark), found)
    assert _core.docker_unmarked(at_most_one_mark) == found


def _unmarked_reference(lines: list[bytes]) -> list[int]:
    """The rule of ``_core.docker_unmarked`` line by line: no mark, or the last one after an odd
    number of backslashes (then its own backslash is escaped, not a newline escape)."""
    found = []
    for index, line in enumerate(lines):
        at = line.rfind(docker_mode._COMPLETE_MARK)
        if at < 0 or (at - len(line[:at].rstrip(b"\\"))) % 2 == 1:
            found.append(index)
    return found


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=40).flatmap(lambda head: st.lists(
    st.sampled_from([head, b"\\", b"\\n", docker_mode._COMPLETE_MARK, b'"', b"x" * 9, b"\\" * 9]),
    max_size=8).map(b"".join)), max_size=20))
def test_the_compiled_search_for_unmarked_lines_follows_the_last_mark_of_each_line(lines: list[bytes]) -> None:
    """Any bytes, backslash runs of every length, marks anywhere, several per line."""
    assert _core.docker_unmarked(lines) == _unmarked_reference(lines)


def test_the_compiled_search_finds_a_line_without_the_mark_beside_one_holding_it_twice() -> None:
    twice = entry("a\n").replace(b'"time"', b'"x":"\\n","stream":1,"time"')
    assert twice.count(docker_mode._COMPLETE_MARK) == 2
    assert _core.docker_unmarked([twice, entry("part"), b"", b"plain"]) == [1, 2, 3]


def test_the_compiled_search_hands_on_a_mark_after_an_escaped_backslash_but_not_after_an_escaped_one_and_newline(
) -> None:
    assert _core.docker_unmarked([entry("ends with \\n"), entry("ends with \\\n"), entry("a\\\\n")]) == [0, 2]


@settings(max_examples=200)
@given(st.lists(_lines, max_size=4))
def test_joining_gives_the_same_lines_with_or_without_the_compiled_search(batches: list[list[bytes]]) -> None:
    compiled, python = DockerModeJoiner(None), DockerModeJoiner(None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(docker_mode, "_core_unmarked", None)
        expected = [join(python, batch, 0, 0.0) for batch in batches]
    assert [join(compiled, batch, 0, 0.0) for batch in batches] == expected
