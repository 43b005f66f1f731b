"""multiline.parser docker and cri: partial lines joined per stream."""

from __future__ import annotations

import json

from flb_fast.inputs.tail import multiline
from flb_fast.inputs.tail.multiline import RulesMultiline, RuntimeMultiline, parse_time_ns
from tests.inputs.tail.harness import consecutive_starts, registry

READ_NS = 7


def docker(log: str, stream: object = "stdout", time: str = "2026-11-25T13:00:00.5Z") -> bytes:
    return json.dumps({"log": log, "stream": stream, "time": time}).encode()


def process(joiner: RuntimeMultiline | RulesMultiline, lines: list[bytes], first_offset: int, read_time_ns: int,
            now: float, offsets: list[int] | None = None) -> tuple[list[int], list[dict], int | None]:
    """``joiner.process`` of lines that follow one another in the file from ``first_offset``."""
    return joiner.process(lines, consecutive_starts(lines, first_offset), read_time_ns, now, offsets)


def test_rfc3339_times_to_nanoseconds_read_as_utc_as_fluent_bits_docker_parser_does() -> None:
    assert parse_time_ns("2026-11-25T13:00:00.123456789Z") == 1795611600_123456789
    assert parse_time_ns("2026-11-25T13:00:00.5+01:00") == 1795611600_500000000
    assert parse_time_ns("2026-11-25T13:00:00Z") == 1795611600_000000000


def test_a_time_that_stops_matching_gives_the_fields_read_up_to_there_as_the_lenient_docker_parser() -> None:
    # flb_ml_parser_docker.c creates its parser with time_strict off (recorded: multiline_docker_quirks).
    assert parse_time_ns("2024-13-02T03:04:05Z") == 1703980800_000000000  # 2024-01-00: 2023-12-31
    assert parse_time_ns("2024-02-30T00:00:00.5Z") == 1709251200_500000000  # normalised: March 1
    assert parse_time_ns("2024-01-02T25:04:05.5Z") == 1704153600_000000000
    assert parse_time_ns("2024-01-02T03:04:60.5Z") == 1704164700_500000000
    assert parse_time_ns("2024-01-02 03:04:05.5Z") == 1704153600_000000000
    assert parse_time_ns("yesterday") == 2085892096_000000000  # 1900-01-00, in 32-bit event time seconds


def test_an_entry_whose_log_is_empty_is_no_entry_and_flushes_what_is_held() -> None:
    parser = RuntimeMultiline(["docker", "cri"])
    empty = docker("", time="2026-11-25T13:00:01.5Z")
    assert process(parser, [docker("held "), empty], 0, READ_NS, 0.0) == (
        [1795611600_500000000, READ_NS],
        [{"log": "held ", "stream": "stdout", "time": "2026-11-25T13:00:00.5Z"}, {"log": empty.decode()}], None)


def test_held_groups_flush_the_default_group_first_then_named_ones_in_the_order_first_seen() -> None:
    parser = RuntimeMultiline(["docker"])
    lines = [docker("b ", "stderr"), docker("s ", "stdout"), docker("a ", 1), b"not an entry"]
    _, records, _ = process(parser, lines, 0, READ_NS, 0.0)
    assert [record["log"] for record in records] == ["a ", "b ", "s ", "not an entry"]


def test_a_stream_that_is_no_string_joins_the_default_group() -> None:
    parser = RuntimeMultiline(["docker"])
    _, records, _ = process(parser, [docker("a-", [1]), docker("b\n", None)], 0, READ_NS, 0.0)
    assert [record["log"] for record in records] == ["a-b\n"]


def test_an_entry_after_json_white_space_is_an_entry() -> None:
    parser = RuntimeMultiline(["docker", "cri"])
    _, records, _ = process(parser, [b" " + docker("x\n")], 0, READ_NS, 0.0)
    assert records == [{"log": "x\n", "stream": "stdout", "time": "2026-11-25T13:00:00.5Z"}]


def test_a_line_no_parser_claims_keeps_its_invalid_bytes_as_fluent_bit_writes_them() -> None:
    _, records, _ = process(RuntimeMultiline(["docker", "cri"]), [b"raw \xff line"], 0, READ_NS, 0.0)
    assert records == [{"log": "raw \ue0ff line"}]


def test_cri_final_lines_are_records_with_their_time_kept() -> None:
    parser = RuntimeMultiline(["cri"])
    result = process(parser, [b"2026-11-25T13:00:00.5Z stderr F boom"], 0, READ_NS, 0.0)
    assert result == ([1795611600_500000000],
                      [{"time": "2026-11-25T13:00:00.5Z", "stream": "stderr", "_p": "F", "log": "boom"}], None)


def test_cri_partials_join_with_the_next_line_of_their_stream_only() -> None:
    parser = RuntimeMultiline(["docker", "cri"])
    lines = [
        b"2026-11-25T13:00:00.1Z stdout P a-",
        b"2026-11-25T13:00:00.2Z stderr P x-",
        b"2026-11-25T13:00:00.3Z stdout F b",
    ]
    timestamps, records, held_offset = process(parser, lines, 100, READ_NS, 0.0)
    assert records == [{"time": "2026-11-25T13:00:00.1Z", "stream": "stdout", "_p": "P", "log": "a-b"}]
    assert timestamps == [1795611600_100000000]
    assert held_offset == 100 + len(lines[0]) + 1
    assert parser.flush() == ([1795611600_200000000],
                              [{"time": "2026-11-25T13:00:00.2Z", "stream": "stderr", "_p": "P", "log": "x-"}])


def test_docker_entries_join_until_a_log_ends_in_newline() -> None:
    parser = RuntimeMultiline(["docker"])
    result = process(parser, [docker("a"), docker("b\n", time="2026-11-25T13:00:09Z")], 0, READ_NS, 0.0)
    assert result == ([1795611600_500000000],
                      [{"log": "ab\n", "stream": "stdout", "time": "2026-11-25T13:00:00.5Z"}], None)


def test_unrecognised_lines_pass_through_under_log_with_the_read_time() -> None:
    parser = RuntimeMultiline(["docker", "cri"])
    assert process(parser, [b"plain text"], 0, READ_NS, 0.0) == ([READ_NS], [{"log": "plain text"}], None)
    mixed = process(parser, [b"{not json", b"2026-11-25T13:00:00.5Z stdout F ok"], 0, READ_NS, 0.0)
    assert mixed == ([READ_NS, 1795611600_500000000],
                     [{"log": "{not json"}, {"time": "2026-11-25T13:00:00.5Z", "stream": "stdout", "_p": "F", "log": "ok"}],
                     None)


def test_an_unrecognised_line_first_emits_the_partial_lines_held() -> None:
    """flb_ml_append_text: a line no parser claims flushes every open group, unjoined."""
    parser = RuntimeMultiline(["docker", "cri"])
    lines = [docker("part one, "), b"garbage", docker("part two\n")]
    assert process(parser, lines, 0, READ_NS, 0.0) == (
        [1795611600_500000000, READ_NS, 1795611600_500000000],
        [{"log": "part one, ", "stream": "stdout", "time": "2026-11-25T13:00:00.5Z"}, {"log": "garbage"},
         {"log": "part two\n", "stream": "stdout", "time": "2026-11-25T13:00:00.5Z"}], None)


def test_a_group_held_from_an_earlier_batch_keeps_its_first_offset() -> None:
    parser = RuntimeMultiline(["cri"])
    process(parser, [b"2026-11-25T13:00:00.1Z stdout P a"], 40, READ_NS, 3.0)
    assert process(parser, [b"2026-11-25T13:00:00.1Z stdout P b"], 90, READ_NS, 4.0) == ([], [], 40)
    assert parser.held_since == 3.0


def test_rule_engine_groups_report_the_offset_of_their_first_line() -> None:
    parser = RulesMultiline([registry().get_multiline("java")])
    lines = [b"plain", b"java.lang.RuntimeException: boom", b"    at a.B.c(B.java:1)"]
    result = process(parser, lines, 10, READ_NS, 0.0)
    assert result == ([READ_NS], [{"log": "plain\n"}], 10 + len(lines[0]) + 1)
    assert parser.flush() == ([READ_NS], [{"log": "java.lang.RuntimeException: boom\n    at a.B.c(B.java:1)\n"}])
    assert parser.held_offset is None


def test_the_held_offset_is_the_oldest_line_any_parsers_group_holds() -> None:
    """A python traceback left open while a java trace is joined and emitted keeps the offset at
    its first line, so a restart reads it again rather than losing it."""
    parser = RulesMultiline([registry().get_multiline("java"), registry().get_multiline("python")])
    lines = [b"Traceback (most recent call last):", b'  File "a.py", line 1, in <module>', b"    boom()",
             b'Exception in thread "main" java.lang.RuntimeException: boom', b"    at a.B.c(B.java:1)"]
    assert process(parser, lines, 10, READ_NS, 0.0)[2] == 10
    completed = process(parser, [b'Exception in thread "main" java.lang.IllegalStateException: again'], 200,
                               READ_NS, 0.0)
    assert completed == ([READ_NS], [{"log": 'Exception in thread "main" java.lang.RuntimeException: boom\n'
                                             "    at a.B.c(B.java:1)\n"}], 10)
    assert process(parser, [b"plain"], 250, READ_NS, 0.0)[2] is None


def test_a_group_is_emitted_at_its_size_bound(monkeypatch) -> None:
    monkeypatch.setattr(multiline, "JOINED_MAX_BYTES", 4)
    parser = RuntimeMultiline(["cri"])
    lines = [b"2026-11-25T13:00:00.1Z stdout P ab", b"2026-11-25T13:00:00.2Z stdout P cd",
             b"2026-11-25T13:00:00.3Z stdout F e"]
    timestamps, records, held_offset = process(parser, lines, 0, READ_NS, 0.0)
    assert [record["log"] for record in records] == ["abcd", "e"]
    assert held_offset is None


def test_docker_parts_are_not_cut_at_the_buffer_limit() -> None:
    """Fluent Bit's docker parser (endswith) joins past multiline_buffer_limit, uncounted
    (recorded: tests/data/inputs/tail/multiline-buffer-limit/docker-split-over-limit)."""
    parser = RuntimeMultiline(["docker", "cri"], buffer_limit=4)
    _, records, _ = process(parser, [docker("abcdef"), docker("gh\n")], 0, READ_NS, 0.0)
    assert [record["log"] for record in records] == ["abcdefgh\n"]
    assert parser.newly_truncated() == 0


def test_a_line_neither_parser_reads_is_cut_at_the_buffer_limit_and_counted() -> None:
    """(recorded: tests/data/inputs/tail/multiline-buffer-limit/docker-unclaimed-line-over-limit)"""
    parser = RuntimeMultiline(["docker", "cri"], buffer_limit=4)
    assert process(parser, [b"plain text", b"ok"], 0, READ_NS, 0.0) == (
        [READ_NS, READ_NS], [{"log": "plai"}, {"log": "ok"}], None)
    assert parser.newly_truncated() == 1
    assert parser.newly_truncated() == 0


def test_a_character_split_between_a_cri_partial_and_the_next_line_is_whole_again() -> None:
    # Fluent Bit joins the parts' bytes (recorded: multiline_cri_quirks).
    parser = RuntimeMultiline(["cri"])
    lines = ["2026-11-25T13:00:00.5Z stdout P split \xe6\x97".encode("latin-1"),
             "2026-11-25T13:00:01.5Z stdout F \xa5 char".encode("latin-1")]
    _, records, _ = process(parser, lines, 0, READ_NS, 0.0)
    assert records == [{"time": "2026-11-25T13:00:00.5Z", "stream": "stdout", "_p": "P", "log": "split \u65e5 char"}]


def test_an_empty_line_flushes_what_is_held_and_is_no_record() -> None:
    parser = RuntimeMultiline(["cri"])
    lines = [b"2026-11-25T13:00:00.5Z stdout P held ", b"", b"2026-11-25T13:00:01.5Z stdout F next"]
    _, records, _ = process(parser, lines, 0, READ_NS, 0.0)
    assert [record["log"] for record in records] == ["held ", "next"]


def test_offset_key_of_a_joined_record_is_where_reading_stood_at_the_line_that_completed_it() -> None:
    parser = RuntimeMultiline(["cri"])
    lines = [b"2026-11-25T13:00:00.1Z stdout P a", b"2026-11-25T13:00:00.2Z stderr F x", b"2026-11-25T13:00:00.3Z stdout F b"]
    offsets: list[int] = []
    process(parser, lines, 100, READ_NS, 0.0, offsets)
    assert offsets == [100 + len(lines[0]) + 1, 100 + len(lines[0]) + len(lines[1]) + 2]


def test_groups_a_line_no_parser_claims_closes_have_that_lines_offset() -> None:
    parser = RuntimeMultiline(["cri"])
    lines = [b"2026-11-25T13:00:00.1Z stdout P a", b"2026-11-25T13:00:00.2Z stderr P x", b"plain"]
    offsets: list[int] = []
    _, records, _ = process(parser, lines, 0, READ_NS, 0.0, offsets)
    closed_at = len(lines[0]) + len(lines[1]) + 2
    assert ([record["log"] for record in records], offsets) == (["a", "x", "plain"], [closed_at] * 3)
