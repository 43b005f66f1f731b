"""Tail's old multiline mode (``Multiline On``, ``Parser_Firstline``, ``Parser_N``): the joiner on
lines, then the input on real files. Fluent Bit's own records for these rules are recorded in
tests/data/fluent-bit/tail_old_multiline*."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.model import Property, Section
from flb_fast.inputs.tail.firstline import FirstlineMultiline
from flb_fast.inputs.tail.records import RecordBuilder
from flb_fast.metrics import Counters
from flb_fast.parsers import create_parser
from flb_fast.parsers.base import Parser
from flb_fast.text import INVALID_UTF8
from tests.inputs.tail.harness import Harness
from tests.inputs.tail.test_tail import db_offsets_around_stop, tailing, write

T1_NS = 1767323045_000000000  # 2026-01-02 03:04:05 UTC
READ_NS = 1795611600_000000000
FIRSTLINE = [("name", "first"), ("format", "regex"),
             ("regex", r"^(?<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?<level>[A-Z]+) (?<log>.*)$"),
             ("time_key", "time"), ("time_format", "%Y-%m-%d %H:%M:%S")]
TYPED = [("name", "typed"), ("format", "regex"), ("regex", r"^(?<msg>[a-z]+) code=(?<code>\d+)$"),
         ("types", "code:integer")]
FRAME = [("name", "frame"), ("format", "regex"), ("regex", r"^\s+at (?<frame>\S+)$")]
CODE = [("name", "code"), ("format", "regex"), ("regex", r"^code (?<code>\d+)$"), ("types", "code:integer")]
PARSERS = [FIRSTLINE, TYPED, FRAME, CODE]


def parser(spec: list[tuple[str, str]]) -> Parser:
    return create_parser(Section("parser", [Property(key, value) for key, value in spec]))


def joiner(firstline: list[tuple[str, str]] = FIRSTLINE, *more: list[tuple[str, str]], path_key: str | None = None,
           offset_key: str | None = None, ignore_older: float = 0, counters: Counters | None = None,
           ) -> FirstlineMultiline:
    builder = RecordBuilder(None, "log", path_key, offset_key, counters if counters is not None else Counters())
    return FirstlineMultiline(parser(firstline), [parser(spec) for spec in more], builder, 4, ignore_older)


def feed(join: FirstlineMultiline, *lines: bytes, first_offset: int = 0):
    starts, offset = [], first_offset
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return join.process(list(lines), starts, READ_NS, 100.0, "/logs/app.log")


# ---- the joiner ------------------------------------------------------------------------------


def test_lines_after_a_firstline_match_join_its_last_string_field() -> None:
    join = joiner()
    assert feed(join, b"2026-01-02 03:04:05 ERROR boom", b"  at a.B", b"caused by x") == ([], [], 0)
    assert join.flush("/logs/app.log") == ([T1_NS], [{"level": "ERROR", "log": "boom\n  at a.B\ncaused by x"}])
    assert not join.holding


def test_the_next_firstline_match_closes_the_record_held() -> None:
    timestamps, records, held_offset = feed(joiner(), b"2026-01-02 03:04:05 ERROR one", b"  more",
                                            b"2026-01-02 03:04:06 INFO two")
    assert (timestamps, records, held_offset) == ([T1_NS], [{"level": "ERROR", "log": "one\n  more"}], 37)


def test_a_parser_n_match_adds_its_fields_and_later_text_joins_its_last_field() -> None:
    join = joiner(FIRSTLINE, FRAME)
    feed(join, b"2026-01-02 03:04:05 ERROR boom", b"  at a.B", b"after the frame")
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "boom", "frame": "a.B\nafter the frame"}]


def test_parser_n_are_tried_in_order_and_the_first_match_wins() -> None:
    join = joiner(FIRSTLINE, CODE, FRAME)
    feed(join, b"2026-01-02 03:04:05 ERROR boom", b"code 7", b"  at a.B")
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "boom", "code": 7, "frame": "a.B"}]


def test_a_key_matched_twice_keeps_the_later_value_at_the_later_place() -> None:
    join = joiner(FIRSTLINE, FRAME)
    feed(join, b"2026-01-02 03:04:05 ERROR boom", b"  at a.B", b"  at c.D", b"code 1")
    assert list(join.flush("p")[1][0].items()) == [("level", "ERROR"), ("log", "boom"), ("frame", "c.D\ncode 1")]


def test_lines_before_any_firstline_match_are_records_of_their_own_after_those_the_read_closed() -> None:
    timestamps, records, _held = feed(joiner(path_key="file", offset_key="offset"), b"junk",
                                      b"2026-01-02 03:04:05 ERROR one", b"2026-01-02 03:04:06 INFO two")
    assert timestamps == [T1_NS, READ_NS]
    assert records == [{"file": "/logs/app.log", "level": "ERROR", "log": "one"},
                       {"file": "/logs/app.log", "offset": 0, "log": "junk"}]


def test_a_match_ending_with_no_string_field_leaves_the_lines_after_it_on_their_own() -> None:
    join = joiner(TYPED, offset_key="offset")
    timestamps, records, held_offset = feed(join, b"boom code=500", b"not joined", first_offset=10)
    assert (timestamps, records, held_offset) == ([READ_NS], [{"offset": 24, "log": "not joined"}], 10)
    assert join.flush("p") == ([READ_NS], [{"msg": "boom", "code": 500}])


def test_text_after_a_parser_n_match_ending_with_no_string_field_is_a_record_of_its_own() -> None:
    join = joiner(FIRSTLINE, CODE)
    _ts, records, _held = feed(join, b"2026-01-02 03:04:05 ERROR boom", b"code 7", b"kept, not dropped")
    assert records == [{"log": "kept, not dropped"}]
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "boom", "code": 7}]


def test_a_parser_n_match_before_any_firstline_match_is_a_line_of_its_own() -> None:
    _ts, records, held = feed(joiner(FIRSTLINE, FRAME), b"  at early.Frame")
    assert (records, held) == ([{"log": "  at early.Frame"}], None)


def test_an_empty_continuation_line_is_joined() -> None:
    join = joiner()
    feed(join, b"2026-01-02 03:04:05 ERROR one", b"")
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "one\n"}]


def test_a_firstline_match_without_fields_is_no_record_and_joins_nothing() -> None:
    join = joiner([("name", "json"), ("format", "json")])
    _ts, records, held = feed(join, b"{}", b"cont")
    assert (records, held, join.flush("p")) == ([{"log": "cont"}], 0, ([], []))


def test_the_joined_record_has_path_key_first_and_no_offset_key() -> None:
    join = joiner(path_key="file", offset_key="offset")
    feed(join, b"2026-01-02 03:04:05 ERROR one", b"more")
    assert list(join.flush("/logs/app.log")[1][0]) == ["file", "level", "log"]


def test_a_match_older_than_ignore_older_is_skipped_with_its_lines() -> None:
    join = joiner(ignore_older=60)
    _ts, records, held = feed(join, b"2026-01-02 03:04:05 ERROR old", b"  its frame", first_offset=0)
    assert (records, held, join.holding, join.flush("p")) == ([], None, False, ([], []))


def test_a_line_truncate_long_lines_cut_closes_the_record_held_and_stands_alone_between_its_neighbours() -> None:
    join = joiner(offset_key="offset")
    lines = [b"junk", b"2026-01-02 03:04:05 ERROR one", b"  more", b"x" * 20, b"  after", b"2026-01-02 03:04:06 INFO two"]
    starts = [0, 5, 35, 42, 63, 71]
    timestamps, records, held_offset = join.process(lines, starts, READ_NS, 100.0, "p", cut=[3])
    assert records == [{"offset": 0, "log": "junk"}, {"level": "ERROR", "log": "one\n  more"},
                       {"offset": 42, "log": "x" * 20}, {"offset": 63, "log": "  after"}]
    assert (timestamps, held_offset) == ([READ_NS, T1_NS, READ_NS, READ_NS], 71)


def test_bytes_that_are_not_utf8_in_joined_text_are_kept_for_the_outputs_as_elsewhere() -> None:
    join = joiner()
    feed(join, b"2026-01-02 03:04:05 ERROR one", b"bad \xff byte")
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "one\n" + b"bad \xff byte".decode("utf-8", INVALID_UTF8)}]


def test_lines_that_are_not_utf8_joined_or_of_their_own_are_counted_as_tail_counts_them() -> None:
    counters = Counters()
    join = joiner(counters=counters)
    _, records, _ = feed(join, b"alone \xff here", b"2026-01-02 03:04:05 ERROR one", b"joined \xfe here")
    assert records == [{"log": "alone \ue0ff here"}]
    assert join.flush("p")[1] == [{"level": "ERROR", "log": "one\njoined \ue0fe here"}]
    assert counters["lines_invalid_utf8"] == 2


# ---- the input -------------------------------------------------------------------------------


def test_multiline_flush_emits_the_record_held_after_its_seconds(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "2026-01-02 03:04:05 ERROR boom\n  at a.B\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline", "on"),
                       ("parser_firstline", "first"), ("multiline_flush", "1")], parsers=PARSERS)
    waited = []

    async def scenario() -> None:
        started = time.monotonic()
        await harness.wait_for(lambda: len(harness.records) == 1)
        waited.append(time.monotonic() - started)

    run(tailing(harness, scenario))
    assert harness.records == [{"level": "ERROR", "log": "boom\n  at a.B"}]
    assert waited[0] >= 1


def test_the_db_offset_stays_before_a_record_still_held(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "2026-01-02 03:04:05 ERROR one\n2026-01-02 03:04:06 INFO two\n  at a.B\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("db", str(db)), ("multiline", "on"),
                       ("parser_firstline", "first"), ("multiline_flush", "3600")], parsers=PARSERS)
    offsets = db_offsets_around_stop(harness, db, run, 1)
    assert harness.logs() == ["one", "two\n  at a.B"]
    assert offsets == [len("2026-01-02 03:04:05 ERROR one\n"), log.stat().st_size]


def test_exit_on_eof_emits_the_record_held_before_asking_to_stop(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "2026-01-02 03:04:05 ERROR one\n  more\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("exit_on_eof", "on"), ("multiline", "on"),
                       ("parser_firstline", "first"), ("multiline_flush", "3600")], parsers=PARSERS)

    async def scenario() -> None:
        await harness.wait_for(lambda: bool(harness.exit_requests))
        await harness.stop()

    run(tailing(harness, scenario))
    assert harness.records == [{"level": "ERROR", "log": "one\n  more"}]


def test_parser_is_disabled_in_multiline_mode_with_a_warning() -> None:
    harness = Harness([("path", "/x"), ("multiline", "on"), ("parser_firstline", "first"), ("parser", "docker")],
                      parsers=PARSERS)
    assert harness.input.builder.parser is None
    assert harness.input.config_warnings == [("parser", "on multiline mode 'Parser' is not allowed (parser disabled)")]


def test_multiline_without_parser_firstline_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([("path", "/x"), ("multiline", "on")])
    assert (error.value.option, error.value.message) == ("multiline", "multiline: no parser defined for firstline")


def test_an_unknown_parser_n_is_a_config_error_at_its_line() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([("path", "/x"), ("multiline", "on"), ("parser_firstline", "first"), ("Parser_1", "nope")],
                parsers=PARSERS)
    assert (error.value.option, error.value.prop.line) == ("Parser_1", 5)
