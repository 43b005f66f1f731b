"""TailInput's behaviour on real files, one option or situation per test, with exact records."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.inputs.tail import MIN_READ_BYTES as TAIL_MIN_READ_BYTES
from flb_fast.inputs.tail import READ_BUFFER_BYTES as TAIL_READ_BYTES
from flb_fast.inputs.tail import TailInput
from flb_fast.record import Chunk
from tests.inputs.tail.harness import Harness, bind
from tests.inputs.tail.page_cache import PAGE, cached_pages, page_cache_drops_pages
from tests.standalone import config_warnings_for

T0 = "2026-11-25T13:00:00.000000001Z"
T0_NS = 1795611600_000000001


def docker(log: str, stream: str = "stdout", time: str = T0) -> str:
    return json.dumps({"log": log, "stream": stream, "time": time}, separators=(",", ":")) + "\n"


def write(path: Path, text: str | bytes, mode: str = "a") -> None:
    data = text.encode() if isinstance(text, str) else text
    with open(path, mode + "b") as handle:
        handle.write(data)


def stored_rows(db: Path) -> list[tuple[str, int]]:
    """The tail DB's (name, offset) rows in the order they were made; the connection closed after."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return connection.execute("SELECT name, offset FROM in_tail_files ORDER BY id").fetchall()


def stored_offset(db: Path) -> int:
    """The offset the tail DB holds for its first file."""
    return stored_rows(db)[0][1]


WATCHERS = ["on", "off"]


def records_reach(harness: Harness, count: int) -> Callable[[], bool]:
    return lambda: len(harness.records) == count


def chunks_reach(harness: Harness, count: int) -> Callable[[], bool]:
    return lambda: len(harness.chunks) == count


async def tailing(harness: Harness, scenario: Callable[[], Awaitable[None]]) -> None:
    await harness.input.start()
    try:
        await scenario()
    finally:
        await harness.stop()


# ---- reading ---------------------------------------------------------------------------------


def test_exit_on_eof_asks_the_agent_to_stop_once_every_file_found_is_read_to_its_end(tmp_path: Path, run) -> None:
    write(tmp_path / "a.log", "a1\na2\n")
    write(tmp_path / "b.log", "b1\nb2\nb3 without its newline")
    write(tmp_path / "empty.log", "")
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on"), ("exit_on_eof", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: bool(harness.exit_requests))

    run(tailing(harness, scenario))
    assert harness.exit_requests == [4]
    assert sorted(harness.logs()) == ["a1", "a2", "b1", "b2"]


def test_exit_on_eof_waits_for_a_file_it_has_not_read_to_its_end(tmp_path: Path, run) -> None:
    write(tmp_path / "a.log", "a1\n")
    write(tmp_path / "b.log", "b1\n")
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on"), ("exit_on_eof", "on")])
    held = {}

    async def scenario() -> None:
        await harness.input.start()
        # b.log is opened but not read yet: its end is not reached until it is.
        b_log = harness.input.by_path[str(tmp_path / "b.log")]
        held["b"] = harness.input.ready.pop(b_log)
        await harness.wait_for(lambda: harness.logs() == ["a1"])
        await harness.settle()
        held["requests before b.log was read"] = list(harness.exit_requests)
        harness.input._mark_ready(b_log)
        await harness.wait_for(lambda: bool(harness.exit_requests))

    async def scenario_then_stop() -> None:
        try:
            await scenario()
        finally:
            await harness.stop()

    run(scenario_then_stop())
    assert held["requests before b.log was read"] == []
    assert harness.exit_requests == [2]


def test_lines_become_records_under_key_with_the_read_time(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "first\nsecond\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("key", "message")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"message": "first"}, {"message": "second"}]
    assert all(ts > T0_NS for ts in harness.timestamps)


def test_files_present_at_start_are_read_from_their_end_by_default(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "old\n")
    harness = Harness([("path", str(log))])

    async def scenario() -> None:
        await harness.settle()
        write(log, "new\n")
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "new"}]


def test_files_appearing_after_start_are_read_from_head(tmp_path: Path, run) -> None:
    harness = Harness([("path", str(tmp_path / "*.log")), ("refresh_interval", "0.2")])

    async def scenario() -> None:
        await harness.settle()
        write(tmp_path / "late.log", "one\ntwo\n")
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "one"}, {"log": "two"}]
    assert harness.metrics["files_opened"] == 1


def test_read_newly_discovered_files_from_head_off_starts_new_files_at_their_end(tmp_path: Path, run) -> None:
    harness = Harness([("path", str(tmp_path / "*.log")), ("refresh_interval", "0.2"),
                       ("read_newly_discovered_files_from_head", "off")])

    async def scenario() -> None:
        write(tmp_path / "late.log", "before discovery\n")
        await harness.wait_for(lambda: harness.metrics["files_opened"] == 1)
        write(tmp_path / "late.log", "after discovery\n")
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "after discovery"}]


@pytest.mark.parametrize("inotify", WATCHERS)
def test_appended_lines_are_read_with_either_watcher(tmp_path: Path, run, inotify: str) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("inotify_watcher", inotify)])

    async def scenario() -> None:
        await harness.settle()
        for number in range(1, 4):
            write(log, f"line {number - 1}\n")
            await harness.wait_for(records_reach(harness, number))

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "line 0"}, {"log": "line 1"}, {"log": "line 2"}]


def test_a_partial_line_waits_for_its_newline(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    harness = Harness([("path", str(log)), ("read_from_head", "on")])
    write(log, "complete\nhal")

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)
        await harness.settle()
        assert harness.records == [{"log": "complete"}]
        write(log, "f done\n")
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "complete"}, {"log": "half done"}]


def test_crlf_line_endings_lose_their_carriage_return(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "windows\r\nunix\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "windows"}, {"log": "unix"}]


def test_empty_lines_are_records_unless_skip_empty_lines(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "a\n\nb\n")
    kept = Harness([("path", str(log)), ("read_from_head", "on")])
    skipped = Harness([("path", str(log)), ("read_from_head", "on"), ("skip_empty_lines", "on")])

    async def scenario() -> None:
        await kept.input.start()
        await skipped.input.start()
        await kept.wait_for(lambda: len(kept.records) == 3)
        await skipped.wait_for(lambda: len(skipped.records) == 2)
        await kept.stop()
        await skipped.stop()

    run(scenario())
    assert kept.records == [{"log": "a"}, {"log": ""}, {"log": "b"}]
    assert skipped.records == [{"log": "a"}, {"log": "b"}]


def test_invalid_utf8_is_kept_as_u_e000_plus_byte_counted_and_the_next_line_still_read(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, b"ok\nbad \xff\xfe byte\nnext\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "ok"}, {"log": "bad \ue0ff\ue0fe byte"}, {"log": "next"}]
    assert harness.metrics["lines_invalid_utf8"] == 1


def test_one_chunk_per_read_buffer_with_the_bytes_read(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "".join(f"line {n}\n" for n in range(1000)))
    harness = Harness([("path", str(log)), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1000)

    run(tailing(harness, scenario))
    assert len(harness.chunks) == 1
    assert harness.chunks[0].size == log.stat().st_size
    assert harness.chunks[0].input_name == "tail.0"


def test_file_cache_advise_leaves_in_the_page_cache_only_the_folio_of_the_last_bytes_read(tmp_path: Path, run) -> None:
    if not page_cache_drops_pages(tmp_path):
        pytest.skip("this filesystem keeps the pages of a file in memory (tmpfs)")
    log = tmp_path / "app.log"
    write(log, "".join(f"line {n:07d} {'x' * 100}\n" for n in range(100000)))  # 11.4 MB, read from the disk
    with open(log, "rb") as handle:
        os.fsync(handle.fileno())
    harness = Harness([("path", str(log)), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(records_reach(harness, 100000))

    run(tailing(harness, scenario))
    # The last bytes read are read again before every read, to tell a copytruncate (TailFile.truncated):
    # the folio holding them stays, at most 2 MiB (the page cache's largest, a huge page).
    cached = cached_pages(log)
    kept = sum(cached)
    assert 0 < kept <= (2 << 20) // PAGE
    assert cached == [False] * (len(cached) - kept) + [True] * kept


def test_a_thousand_files_are_tailed_at_once(tmp_path: Path, run) -> None:
    for number in range(1000):
        write(tmp_path / f"c{number:04d}.log", f"file {number}\n")
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1000, timeout=60)
        write(tmp_path / "c0500.log", "appended to one of them\n")
        await harness.wait_for(lambda: len(harness.records) == 1001, timeout=60)

    run(tailing(harness, scenario))
    assert sorted(harness.logs()) == sorted([f"file {n}" for n in range(1000)] + ["appended to one of them"])
    assert harness.metrics["files_opened"] == 1000


# ---- tags and extra keys -------------------------------------------------------------------


def test_tag_star_is_the_path_with_dots(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "x\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("tag", "kube.*")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.chunks[0].tag == "kube" + str(log).replace("/", ".")


def test_without_tag_the_instance_name_is_the_tag(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "x\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.chunks[0].tag == "tail.0"


def test_tag_regex_groups_fill_the_tag(tmp_path: Path, run) -> None:
    log = tmp_path / "web-7d9f_prod_nginx-0123abcd.log"
    write(log, "x\n")
    harness = Harness([
        ("path", str(tmp_path / "*.log")), ("read_from_head", "on"),
        ("tag_regex", r"/(?<pod>[a-z0-9-]+)_(?<ns>[^_/]+)_(?<container>[^/]+)-(?<id>[0-9a-f]+)\.log$"),
        ("tag", "kube.<ns>.<pod>.<container>.<missing>"),
    ])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.chunks[0].tag == "kube.prod.web-7d9f.nginx._"


def test_path_key_and_offset_key_on_unparsed_lines(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "first\nsecond\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("path_key", "file"), ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert [list(record) for record in harness.records] == [["file", "off", "log"]] * 2
    assert harness.records == [{"file": str(log), "off": 0, "log": "first"},
                               {"file": str(log), "off": 6, "log": "second"}]


def test_path_key_and_offset_key_follow_the_fields_of_parsed_records(tmp_path: Path, run) -> None:
    """Fluent Bit 4.2.8 appends them (recorded: tests/data/fluent-bit/tail_path_key, tail_offset_key)."""
    log = tmp_path / "app.log"
    write(log, docker("a\n") + docker("b\n"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"),
                       ("path_key", "file"), ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    second = len(docker("a\n"))
    assert [list(record.items()) for record in harness.records] == [
        [("log", "a\n"), ("stream", "stdout"), ("time", T0), ("file", str(log)), ("off", 0)],
        [("log", "b\n"), ("stream", "stdout"), ("time", T0), ("file", str(log)), ("off", second)],
    ]


def test_a_line_its_parser_does_not_parse_gets_path_key_and_offset_key_first(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, docker("a\n") + "plain\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"),
                       ("path_key", "file"), ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert list(harness.records[1].items()) == [("file", str(log)), ("off", len(docker("a\n"))), ("log", "plain")]


def test_a_crlf_line_its_parser_does_not_parse_keeps_its_carriage_return(tmp_path: Path, run) -> None:
    """Fluent Bit packs the raw line, "\\r" included (recorded: tests/data/fluent-bit/tail_offset_key)."""
    log = tmp_path / "app.log"
    write(log, "plain\r\n" + docker("a\n").rstrip("\n") + "\r\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "plain\r"}, {"log": "a\n", "stream": "stdout", "time": T0}]


def test_offset_key_counts_carriage_returns_and_skipped_empty_lines(tmp_path: Path, run) -> None:
    """The offset of the line's first byte in the file (recorded: tail_offset_key_skip_empty)."""
    log = tmp_path / "app.log"
    write(log, "\n\nfirst\n\n\r\nsecond\r\n\r\n\nthird\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("offset_key", "off"),
                       ("skip_empty_lines", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.records == [{"off": 2, "log": "first"}, {"off": 11, "log": "second"}, {"off": 22, "log": "third"}]


def test_offset_key_of_a_docker_mode_record_is_its_last_entrys(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    first, split, last = docker("a\n"), docker("part "), docker("end\n")
    write(log, first + split + last)
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"), ("docker_mode", "on"),
                       ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert [(record["off"], record["log"]) for record in harness.records] == [
        (0, "a\n"), (len(first) + len(split), "part end\n")]


def test_offset_key_of_a_joined_cri_record_is_where_its_last_line_starts(tmp_path: Path, run) -> None:
    """Fluent Bit 4.2.8 (recorded: tests/data/fluent-bit/multiline_cri_offset_key): in_tail's
    multiline flush callback writes where reading stood when the group completed."""
    log = tmp_path / "app.log"
    lines = ["2026-11-25T13:00:00.1Z stdout F one\r\n", "2026-11-25T13:00:00.2Z stdout P tw\r\n",
             "2026-11-25T13:00:00.3Z stdout F o\n"]
    write(log, "".join(lines))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "cri"),
                       ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert [(record["off"], record["log"]) for record in harness.records] == [
        (0, "one"), (len(lines[0]) + len(lines[1]), "two")]


# ---- parsers -------------------------------------------------------------------------------


def test_docker_parser_takes_the_time_field_with_nanoseconds(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, docker("hello\n", "stderr"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "hello\n", "stream": "stderr", "time": T0}]
    assert harness.timestamps == [T0_NS]


def test_invalid_json_passes_through_under_key_and_is_counted(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, '{"log": "broken\n' + docker("fine\n"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": '{"log": "broken'}, {"log": "fine\n", "stream": "stdout", "time": T0}]
    assert harness.metrics["lines_unparsed"] == 1


def test_an_unknown_parser_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([("path", "/nonexistent/*.log"), ("parser", "nope")])
    assert error.value.option == "parser"


def test_a_missing_path_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([])
    assert error.value.option == "path"


# ---- Docker_Mode and multiline ---------------------------------------------------------------


def test_docker_mode_rejoins_split_entries_into_the_last_ones_record(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    part = "x" * 16384
    write(log, docker(part, time="2026-11-25T13:00:00.1Z") + docker(part, time="2026-11-25T13:00:00.2Z")
          + docker("end\n", time="2026-11-25T13:00:00.3Z") + docker("next\n"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"), ("docker_mode", "on"),
                       ("buffer_max_size", "64k")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [
        {"log": part + part + "end\n", "stream": "stdout", "time": "2026-11-25T13:00:00.3Z"},
        {"log": "next\n", "stream": "stdout", "time": T0},
    ]


def test_docker_mode_flushes_an_unfinished_entry_after_docker_mode_flush(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, docker("no newline yet"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"), ("docker_mode", "on"),
                       ("docker_mode_flush", "1")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1, timeout=30)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "no newline yet", "stream": "stdout", "time": T0}]


def test_docker_mode_flush_waits_for_parts_already_written_but_not_read_yet(tmp_path: Path, run) -> None:
    """Regression: a part held while the input was paused (Mem_Buf_Limit) outlived Docker_Mode_Flush,
    the flush timer ran before the reader after the resume (a loaded machine), and the line arrived
    as two records although its last part had been written long before."""
    log = tmp_path / "app.log"
    part = "x" * 16384
    write(log, docker("before\n") + docker(part))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"), ("docker_mode", "on"),
                       ("docker_mode_flush", "1")],
                      on_emit=lambda chunk: harness.input.pause())

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.chunks) == 1)
        write(log, docker(part) + docker("end\n"))
        paused_at = time.monotonic()
        await harness.wait_for(lambda: time.monotonic() - paused_at > 1.5)
        harness.input.resume()
        harness.input._housekeeping()  # the flush timer gets the loop before the reader does
        await harness.wait_for(lambda: len(harness.chunks) == 2)
        harness.input.resume()
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.logs() == ["before\n", part + part + "end\n"]


def test_docker_mode_parser_joins_continuation_lines_to_their_first_line(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, docker("2026-11-25 boom\n") + docker("  at frame 1\n") + docker("2026-11-25 next\n"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("parser", "docker"), ("docker_mode", "on"),
                       ("docker_mode_parser", "firstline"), ("docker_mode_flush", "1")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2, timeout=30)

    run(tailing(harness, scenario))
    assert harness.logs() == ["2026-11-25 boom\n  at frame 1\n", "2026-11-25 next\n"]


def test_multiline_parser_cri_joins_partial_lines_per_stream(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "2026-11-25T13:00:00.000000001Z stdout P out-a \n"
               "2026-11-25T13:00:00.5Z stderr F err whole\n"
               "2026-11-25T13:00:01Z stdout F out-b\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "docker, cri")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [
        {"time": "2026-11-25T13:00:00.5Z", "stream": "stderr", "_p": "F", "log": "err whole"},
        {"time": "2026-11-25T13:00:00.000000001Z", "stream": "stdout", "_p": "P", "log": "out-a out-b"},
    ]
    assert harness.timestamps == [1795611600_500000000, T0_NS]


def test_multiline_parser_docker_joins_partial_entries(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, docker("a ", time="2026-11-25T13:00:00.000000001Z") + docker("b\n", time="2026-11-25T13:00:09Z"))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "docker, cri")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "a b\n", "stream": "stdout", "time": "2026-11-25T13:00:00.000000001Z"}]
    assert harness.timestamps == [T0_NS]


def test_multiline_parser_java_joins_a_stack_trace_through_the_rule_engine(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    trace = ('Exception in thread "main" java.lang.IllegalStateException: boom\n'
             "    at com.example.App.main(App.java:10)\n"
             "    at com.example.App.run(App.java:5)")
    write(log, trace + "\nnext line\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "java")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": trace + "\n"}, {"log": "next line\n"}]


def test_a_multiline_group_still_open_at_stop_is_sent(tmp_path: Path, run) -> None:
    """Fluent Bit 4.2.8 crashes (SIGSEGV) when it stops with a group open, and the trace is lost."""
    log = tmp_path / "app.log"
    trace = 'Exception in thread "main" java.lang.IllegalStateException: boom\n    at com.example.App.main(App.java:10)\n'
    write(log, trace)
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "java")])

    async def scenario() -> None:
        await harness.wait_for(lambda: harness.input.joining)
        assert harness.records == []

    run(tailing(harness, scenario))
    assert harness.records == [{"log": trace}]


def test_a_multiline_group_past_the_buffer_limit_is_counted_as_multiline_truncated(tmp_path: Path, run) -> None:
    """tail_file.c: a line flb_ml_append_text cuts at the multiline buffer limit (2 MiB by default) is
    logged and counted as ``multiline_truncated``."""
    from flb_fast.parsers.multiline import BUFFER_LIMIT_CHARS

    log = tmp_path / "app.log"
    head = 'Exception in thread "main" java.lang.IllegalStateException: boom'
    frame = "    at com.example.App.run(App.java:5)"
    frames = BUFFER_LIMIT_CHARS // (len(frame) + 1) + 1
    write(log, head + "\n" + (frame + "\n") * frames + "next line\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("multiline.parser", "java")])

    async def scenario() -> None:
        await harness.wait_for(lambda: any(record["log"] == "next line\n" for record in harness.records))

    run(tailing(harness, scenario))
    assert harness.metrics["multiline_truncated"] == 1
    assert harness.records[0] == {"log": (head + "\n" + "\n".join([frame] * frames))[:BUFFER_LIMIT_CHARS] + "\n"}


def test_an_unknown_multiline_parser_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([("path", "/x"), ("multiline.parser", "cri, cobol")])
    assert error.value.option == "multiline.parser"


# ---- long lines ------------------------------------------------------------------------------


def test_skip_long_lines_skips_the_line_counts_it_and_reads_on(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "short\n" + "L" * 5000 + "\nafter\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("buffer_chunk_size", "1k"),
                       ("buffer_max_size", "1k"), ("skip_long_lines", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "short"}, {"log": "after"}]
    assert harness.metrics["long_line_skipped"] == 1


def test_truncate_long_lines_emits_the_line_cut_to_buffer_max_size_minus_one_bytes(tmp_path: Path, run) -> None:
    """Fluent Bit 4.2 (recorded: tests/data/fluent-bit/tail_truncate_long_lines), whatever Skip_Long_Lines says."""
    log = tmp_path / "app.log"
    write(log, "short\n" + "L" * 5000 + "\nafter\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("buffer_chunk_size", "1k"),
                       ("buffer_max_size", "2k"), ("truncate_long_lines", "on"), ("offset_key", "off")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.records == [{"off": 0, "log": "short"}, {"off": 6, "log": "L" * 1999},
                               {"off": 5007, "log": "after"}]
    assert (harness.metrics["long_line_skipped"], harness.metrics["long_line_truncated"]) == (0, 1)


def test_without_skip_long_lines_a_long_line_stops_that_file(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "short\n" + "L" * 5000 + "\nafter\n")
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("buffer_chunk_size", "1k"),
                       ("buffer_max_size", "1k")])

    async def scenario() -> None:
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)
        await harness.input._refresh()
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "short"}]
    assert harness.metrics["files_opened"] == 1  # a rescan does not read it again from its head


# ---- selection -------------------------------------------------------------------------------


def test_comma_separated_paths_and_exclude_path(tmp_path: Path, run) -> None:
    for name in ("a.log", "b.txt", "c.gz", "skip.log"):
        write(tmp_path / name, f"{name}\n")
    harness = Harness([("path", f"{tmp_path}/*.log, {tmp_path}/*.txt, {tmp_path}/*.gz"),
                       ("exclude_path", "*.gz, *skip*"), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 2)
        await harness.settle()

    run(tailing(harness, scenario))
    assert sorted(harness.logs()) == ["a.log", "b.txt"]


def test_ignore_older_skips_files_not_modified_recently(tmp_path: Path, run) -> None:
    old, fresh = tmp_path / "old.log", tmp_path / "fresh.log"
    write(old, "old\n")
    write(fresh, "fresh\n")
    os.utime(old, (1, 1))
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on"), ("ignore_older", "1h")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "fresh"}]


def test_symlinked_files_are_followed_and_tagged_by_the_link(tmp_path: Path, run) -> None:
    pods, containers = tmp_path / "pods", tmp_path / "containers"
    pods.mkdir()
    containers.mkdir()
    target = pods / "0.log"
    write(target, "via link\n")
    (containers / "web.log").symlink_to(target)
    harness = Harness([("path", str(containers / "*.log")), ("read_from_head", "on"), ("tag", "kube.*"),
                       ("path_key", "path")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"path": str(containers / "web.log"), "log": "via link"}]
    assert harness.chunks[0].tag == "kube" + str(containers / "web.log").replace("/", ".")


# ---- rotation, truncation, deletion ----------------------------------------------------------


@pytest.mark.parametrize("inotify", WATCHERS)
def test_rename_and_create_rotation_loses_and_duplicates_nothing(tmp_path: Path, run, inotify: str) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("rotate_wait", "1"), ("inotify_watcher", inotify),
                       ("refresh_interval", "0.5")])

    async def scenario() -> None:
        await harness.settle()
        write(log, "before 1\nbefore 2\n")
        os.rename(log, tmp_path / "app.log.1")
        write(tmp_path / "app.log.1", "late write to the rotated file\n")
        write(log, "after 1\n")
        await harness.wait_for(lambda: len(harness.records) == 4)
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)
        write(log, "after 2\n")
        await harness.wait_for(lambda: len(harness.records) == 5)

    run(tailing(harness, scenario))
    assert sorted(harness.logs()) == sorted(["before 1", "before 2", "late write to the rotated file",
                                             "after 1", "after 2"])
    assert harness.metrics["files_rotated"] == 1


def test_a_rotated_file_is_closed_only_after_it_is_drained(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    lines = [f"backlog {n:05d}" for n in range(20000)]
    paused = {"on": True}
    harness = Harness([("path", str(log)), ("rotate_wait", "0")],
                      on_emit=lambda chunk: harness.input.pause() if paused["on"] else None)

    async def scenario() -> None:
        await harness.settle()
        write(log, "".join(f"{line}\n" for line in lines))
        await harness.wait_for(lambda: len(harness.chunks) == 1)
        os.rename(log, tmp_path / "app.log.1")
        write(log, "new file\n")
        await harness.settle(1.5)
        assert harness.metrics["files_closed"] == 0
        paused["on"] = False
        harness.input.resume()
        await harness.wait_for(lambda: len(harness.records) == 20001)
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)

    run(tailing(harness, scenario))
    assert sorted(harness.logs()) == sorted([*lines, "new file"])


@pytest.mark.parametrize("inotify", WATCHERS)
def test_copytruncate_restarts_from_the_head_without_loss(tmp_path: Path, run, inotify: str) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("inotify_watcher", inotify)])

    async def scenario() -> None:
        await harness.settle()
        write(log, "one\ntwo\n")
        await harness.wait_for(lambda: len(harness.records) == 2)
        os.truncate(log, 0)
        write(log, "three\n")
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.logs() == ["one", "two", "three"]


@pytest.mark.parametrize("inotify", WATCHERS)
def test_copytruncate_reads_the_lines_written_after_the_last_read_from_the_copy_first(
        tmp_path: Path, run, inotify: str) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("inotify_watcher", inotify), ("rotate_wait", "0")])

    async def scenario() -> None:
        await harness.settle()
        write(log, "one\ntwo\n")
        await harness.wait_for(records_reach(harness, 2))
        harness.input.pause()  # the agent is busy: the next lines are written, copied and truncated unread
        write(log, "three\nfour\n")
        shutil.copyfile(log, tmp_path / "app.log.1")
        os.truncate(log, 0)
        write(log, "five\n")
        harness.input.resume()
        await harness.wait_for(records_reach(harness, 5))
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)

    run(tailing(harness, scenario))
    assert harness.logs() == ["one", "two", "three", "four", "five"]


@pytest.mark.parametrize("inotify", WATCHERS)
def test_copytruncate_twice_between_reads_reads_both_copies_in_order_before_the_head(
        tmp_path: Path, run, inotify: str) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("inotify_watcher", inotify), ("rotate_wait", "0")])

    def copy_and_truncate(copy: Path, mtime_s: int) -> None:
        shutil.copyfile(log, copy)
        os.utime(copy, (mtime_s, mtime_s))  # rotations are seconds apart: file times tell them apart
        os.truncate(log, 0)

    async def scenario() -> None:
        await harness.settle()
        write(log, "one\n")
        await harness.wait_for(records_reach(harness, 1))
        harness.input.pause()  # the agent is stalled over two rotations
        write(log, "two\n")
        copy_and_truncate(tmp_path / "app.log.1", 1_700_000_000)
        write(log, "three\nfour\n")
        copy_and_truncate(tmp_path / "app.log.2", 1_700_000_001)
        write(log, "five\n")
        harness.input.resume()
        await harness.wait_for(records_reach(harness, 5))
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 2)

    run(tailing(harness, scenario))
    assert harness.logs() == ["one", "two", "three", "four", "five"]


def test_copytruncate_passes_over_a_rotated_file_that_is_not_the_copy(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("rotate_wait", "0")])

    async def scenario() -> None:
        await harness.settle()
        write(log, "one\ntwo\n")
        await harness.wait_for(records_reach(harness, 2))
        harness.input.pause()
        write(log, "three\n")
        write(tmp_path / "app.log.1", "an older rotated file\n")
        os.truncate(log, 0)
        write(log, "four\n")
        harness.input.resume()
        await harness.wait_for(records_reach(harness, 3))
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.logs() == ["one", "two", "four"]
    assert harness.metrics["files_opened"] == 1


def test_a_file_truncated_and_grown_past_the_offset_before_the_next_read_is_read_from_its_head(
        tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log))])

    async def scenario() -> None:
        await harness.settle()
        write(log, "one\n")
        await harness.wait_for(records_reach(harness, 1))
        harness.input.pause()
        os.truncate(log, 0)
        write(log, "second file line\n")
        harness.input.resume()
        await harness.wait_for(records_reach(harness, 2))
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.logs() == ["one", "second file line"]


def test_lines_of_the_copy_not_acknowledged_before_a_crash_are_read_from_it_at_the_next_start(
        tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "one\n")
    properties = [("path", str(log)), ("read_from_head", "on"), ("db", str(db)), ("rotate_wait", "0"),
                  ("refresh_interval", "3600")]
    first, second = Harness(properties, acknowledge=False), Harness(properties)

    async def scenario() -> None:
        await first.input.start()
        await first.wait_for(chunks_reach(first, 1))
        first.input.pause()
        write(log, "two\n")
        shutil.copyfile(log, tmp_path / "app.log.1")
        os.truncate(log, 0)
        write(log, "three\n")
        first.input.resume()
        await first.wait_for(records_reach(first, 3))
        await first.stop()  # as after a crash: nothing was acknowledged
        await second.input.start()
        await second.wait_for(records_reach(second, 3))
        await second.wait_for(lambda: second.metrics["files_closed"] == 1)
        await second.stop()

    run(scenario())
    assert first.logs() == ["one", "two", "three"]
    assert sorted(second.logs()) == ["one", "three", "two"]
    assert stored_rows(db) == [
        (str(log), len("three\n"))]


def test_a_file_deleted_mid_read_is_drained_then_closed(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "".join(f"{n}\n" for n in range(200_000)) + "unterminated")
    def unlink_once(_chunk: Chunk) -> None:
        if log.exists():
            log.unlink()

    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("rotate_wait", "0")], on_emit=unlink_once)

    async def scenario() -> None:
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)

    run(tailing(harness, scenario))
    assert len(harness.chunks) > 2  # the file was unlinked after the first of several reads
    assert harness.logs() == [str(n) for n in range(200_000)] + ["unterminated"]


def test_a_file_deleted_and_created_again_is_tailed_from_its_head_at_once(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("rotate_wait", "0"), ("refresh_interval", "3600")])

    async def scenario() -> None:
        await harness.settle()
        write(log, "old\n")
        await harness.wait_for(lambda: len(harness.records) == 1)
        log.unlink()
        write(log, "new 1\nnew 2\n")
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.logs() == ["old", "new 1", "new 2"]


def test_a_file_created_after_its_predecessor_was_rotated_away_is_tailed_before_the_next_rescan(
        tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "")
    harness = Harness([("path", str(log)), ("rotate_wait", "0"), ("refresh_interval", "3600")])

    async def scenario() -> None:
        await harness.settle()
        write(log, "old\n")
        await harness.wait_for(lambda: len(harness.records) == 1)
        os.rename(log, tmp_path / "app.log.1")
        await harness.wait_for(lambda: harness.metrics["files_rotated"] == 1)
        write(log, "new 1\nnew 2\n")
        await harness.wait_for(lambda: len(harness.records) == 3)

    run(tailing(harness, scenario))
    assert harness.logs() == ["old", "new 1", "new 2"]


def test_a_vanished_path_does_not_stop_the_input(tmp_path: Path, run) -> None:
    (tmp_path / "dangling.log").symlink_to(tmp_path / "missing")
    write(tmp_path / "real.log", "real\n")
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "real"}]


def test_an_unreadable_file_is_counted_and_the_others_read(tmp_path: Path, run, monkeypatch) -> None:
    import flb_fast.inputs.tail as tail_module

    write(tmp_path / "secret.log", "no\n")
    write(tmp_path / "open.log", "yes\n")
    real_open = tail_module.open_readonly

    def open_readonly(path: str) -> int:
        # Root reads files whatever their mode, so the permission error is simulated.
        if path.endswith("secret.log"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(tail_module, "open_readonly", open_readonly)
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on"), ("refresh_interval", "0.1")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)
        await harness.settle()

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "yes"}]
    assert harness.metrics["files_unreadable"] == 1


def test_a_file_deleted_between_the_scan_and_the_open_is_neither_counted_nor_reported(
        tmp_path: Path, run, monkeypatch) -> None:
    import flb_fast.inputs.tail as tail_module

    write(tmp_path / "gone.log", "never read\n")
    write(tmp_path / "here.log", "yes\n")
    real_open = tail_module.open_readonly

    def open_readonly(path: str) -> int:
        if path.endswith("gone.log"):
            os.unlink(path)  # the pod was deleted after the scan listed its file
        return real_open(path)

    monkeypatch.setattr(tail_module, "open_readonly", open_readonly)
    harness = Harness([("path", str(tmp_path / "*.log")), ("read_from_head", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.records == [{"log": "yes"}]
    assert (harness.metrics["files_unreadable"], harness.metrics["files_opened"]) == (0, 1)


# ---- pause / resume (Mem_Buf_Limit) ----------------------------------------------------------


def test_a_paused_input_reads_nothing_until_resumed_and_loses_nothing(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    lines = [f"line {n:06d}" for n in range(100_000)]
    write(log, "".join(f"{line}\n" for line in lines))
    harness = Harness([("path", str(log)), ("read_from_head", "on")],
                      on_emit=lambda chunk: harness.input.pause())

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.chunks) == 1)
        await harness.settle()
        assert len(harness.chunks) == 1
        chunks_seen = 1
        while len(harness.records) < len(lines):
            harness.input.resume()
            chunks_seen += 1
            await harness.wait_for(chunks_reach(harness, chunks_seen))

    run(tailing(harness, scenario))
    assert harness.logs() == lines
    assert len(harness.chunks) > 2


class Limit:
    """An engine's Mem_Buf_Limit as the input sees it (``ctx.room``): each byte read holds two bytes
    of records until the test releases them, and the input pauses once the limit is reached."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def room(self) -> int:
        return self.limit - self.held

    def hold(self, harness: Harness, chunk: Chunk) -> None:
        self.held += 2 * chunk.size
        if self.held >= self.limit:
            harness.input.pause()


def limited_harness(log: Path, limit: Limit) -> Harness:
    harness = Harness([("path", str(log)), ("read_from_head", "on")], on_emit=lambda chunk: limit.hold(harness, chunk))
    harness.ctx.room = limit.room
    return harness


def test_near_its_limit_the_input_reads_only_what_the_room_left_will_hold(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    lines = [f"{n:099d}" for n in range(6000)]  # 100 bytes a line with its newline
    write(log, "".join(f"{line}\n" for line in lines))
    limit = Limit(2 * 300_000)
    harness = limited_harness(log, limit)

    async def scenario() -> None:
        await harness.wait_for(lambda: harness.input.paused)
        await harness.settle()

    run(tailing(harness, scenario))
    # A whole buffer first (nothing tells yet what a byte read holds), then the 75,712 bytes of room
    # left hold the records of 37,856 bytes read: the limit is reached exactly, not passed.
    assert [chunk.size for chunk in harness.chunks] == [TAIL_READ_BYTES, 300_000 - TAIL_READ_BYTES]
    assert harness.logs() == lines[:3000]
    assert limit.held == limit.limit


def test_a_read_cut_near_the_limit_is_never_smaller_than_the_least_read(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    lines = [f"{n:099d}" for n in range(6000)]
    write(log, "".join(f"{line}\n" for line in lines))
    limit = Limit(2 * TAIL_READ_BYTES + 1_000)
    harness = limited_harness(log, limit)

    async def scenario() -> None:
        await harness.wait_for(lambda: harness.input.paused)
        await harness.settle()

    run(tailing(harness, scenario))
    # The room left after the first read would hold the records of 500 bytes read.
    assert [chunk.size for chunk in harness.chunks] == [TAIL_READ_BYTES, TAIL_MIN_READ_BYTES]
    assert harness.logs() == lines[:(TAIL_READ_BYTES + TAIL_MIN_READ_BYTES) // 100]


def test_short_reads_do_not_teach_what_a_byte_read_holds(tmp_path: Path, run) -> None:
    log = tmp_path / "app.log"
    write(log, "a\n")
    limit = Limit(2 * TAIL_READ_BYTES)
    limit.held = 2 * TAIL_READ_BYTES - 1_000  # room for the records of 500 bytes read, 2 bytes each
    harness = limited_harness(log, limit)
    lines = [f"{n:099d}" for n in range(3000)]

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.chunks) == 1)
        write(log, "".join(f"{line}\n" for line in lines))
        await harness.wait_for(lambda: harness.input.paused)
        await harness.settle()

    run(tailing(harness, scenario))
    # The 2-byte read taught nothing: the next read is a whole buffer, as before any read.
    assert [chunk.size for chunk in harness.chunks] == [2, TAIL_READ_BYTES]


# ---- DB --------------------------------------------------------------------------------------


def test_restart_resumes_at_the_stored_offset(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "one\ntwo\n")
    properties = [("path", str(log)), ("read_from_head", "on"), ("db", str(db))]
    first, second = Harness(properties), Harness(properties)

    async def scenario() -> None:
        await first.input.start()
        await first.wait_for(lambda: len(first.records) == 2)
        await first.stop()
        write(log, "three\npart")
        await second.input.start()
        await second.wait_for(lambda: len(second.records) == 1)
        await second.settle()
        await second.stop()

    run(scenario())
    assert first.logs() == ["one", "two"]
    assert second.logs() == ["three"]
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute("SELECT name, offset, inode, rotated FROM in_tail_files").fetchall()
    assert rows == [(str(log), len("one\ntwo\nthree\n"), log.stat().st_ino, 0)]


def test_the_db_offset_follows_acknowledgements_in_the_order_records_were_read(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    harness = Harness([("path", str(log)), ("db", str(db)), ("read_from_head", "on")], acknowledge=False)
    offsets = []

    async def scenario() -> None:
        write(log, "one\n")
        await harness.input.start()
        await harness.wait_for(chunks_reach(harness, 1))
        write(log, "two\n")
        await harness.wait_for(chunks_reach(harness, 2))
        await harness.settle(0.7)  # housekeeping saves acknowledged offsets every 0.5 s
        offsets.append(stored_offset(db))
        harness.input.acknowledge(harness.chunks[1].positions)
        await harness.settle(0.7)
        offsets.append(stored_offset(db))
        harness.input.acknowledge(harness.chunks[0].positions)
        await harness.settle(0.7)
        offsets.append(stored_offset(db))
        await harness.stop()

    run(scenario())
    assert offsets == [0, 0, len("one\ntwo\n")]


def test_an_acknowledged_offset_is_in_the_db_within_the_loops_turn(tmp_path: Path, run) -> None:
    """Not at the next housekeeping: a chunk file holding the records and an older DB offset
    would send them twice after a crash in between."""
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    harness = Harness([("path", str(log)), ("db", str(db)), ("read_from_head", "on")], acknowledge=False)
    offsets = []

    async def scenario() -> None:
        write(log, "one\ntwo\n")
        await harness.input.start()
        await harness.wait_for(chunks_reach(harness, 1))
        harness.input.acknowledge(harness.chunks[0].positions)
        await asyncio.sleep(0)
        assert harness.input.db is not None
        await harness.input.db.flush()  # what was handed to the DB's writer within the turn
        offsets.append(stored_offset(db))
        await harness.stop()

    run(scenario())
    assert offsets == [len("one\ntwo\n")]


def test_the_acknowledgements_of_one_loop_turn_are_saved_in_one_transaction(tmp_path: Path, run) -> None:
    """Chunks a flush delivered together: one commit for all their files' offsets, not one each."""
    first, second, db = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "tail.db"
    write(first, "one\n")
    write(second, "two\n")
    harness = Harness([("path", str(tmp_path / "*.log")), ("db", str(db)), ("read_from_head", "on")],
                      acknowledge=False)
    statements: list[str] = []

    async def scenario() -> None:
        await harness.input.start()
        await harness.wait_for(chunks_reach(harness, 2))
        assert harness.input.db is not None
        harness.input.db._conn.set_trace_callback(statements.append)
        for chunk in harness.chunks:
            harness.input.acknowledge(chunk.positions)
        await asyncio.sleep(0)
        await harness.input.db.flush()
        harness.input.db._conn.set_trace_callback(None)
        await harness.stop()

    run(scenario())
    assert [statement for statement in statements if statement in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT"]
    assert sorted(stored_rows(db)) == [(str(first), len("one\n")), (str(second), len("two\n"))]


def test_a_rotated_file_is_closed_only_once_its_last_records_are_acknowledged(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "old\n")
    harness = Harness([("path", str(log)), ("db", str(db)), ("read_from_head", "on"), ("rotate_wait", "0"),
                       ("refresh_interval", "3600")], acknowledge=False)
    rows = []

    async def scenario() -> None:
        await harness.input.start()
        await harness.wait_for(chunks_reach(harness, 1))
        log.rename(tmp_path / "app.log.1")
        write(log, "new\n")
        await harness.wait_for(chunks_reach(harness, 2))
        await harness.settle(1.2)
        rows.append((harness.metrics["files_closed"], stored_rows(db)))
        harness.input.acknowledge(harness.chunks[0].positions)
        await harness.wait_for(lambda: harness.metrics["files_closed"] == 1)
        await harness.settle(0.7)
        rows.append((harness.metrics["files_closed"], stored_rows(db)))
        await harness.stop()

    run(scenario())
    assert harness.logs() == ["old", "new"]
    assert rows == [(0, [(str(tmp_path / "app.log.1"), 0), (str(log), 0)]), (1, [(str(log), 0)])]


def test_a_file_rotated_away_before_its_lines_were_acknowledged_is_read_on_at_the_next_start(
        tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "one\ntwo\n")
    properties = [("path", str(log)), ("read_from_head", "on"), ("db", str(db)), ("rotate_wait", "0"),
                  ("refresh_interval", "3600")]
    first, second = Harness(properties, acknowledge=False), Harness(properties)

    async def scenario() -> None:
        await first.input.start()
        await first.wait_for(chunks_reach(first, 1))
        log.rename(tmp_path / "app.log.1")
        write(log, "three\n")
        await first.wait_for(chunks_reach(first, 2))
        await first.stop()  # as after a crash: "one" and "two" were never acknowledged
        await second.input.start()
        await second.wait_for(lambda: second.metrics["files_closed"] == 1)
        await second.stop()

    run(scenario())
    assert sorted(second.logs()) == ["one", "three", "two"]
    assert stored_rows(db) == [
        (str(log), len("three\n"))]


def test_a_copytruncate_moves_the_db_offset_to_the_head_at_once_whatever_was_unacknowledged(
        tmp_path: Path, run) -> None:
    """The lines before the truncation cannot be read again: an offset waiting for their
    acknowledgement would, after a crash, skip as many bytes of the new lines."""
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "old1\n")
    properties = [("path", str(log)), ("read_from_head", "on"), ("db", str(db)), ("refresh_interval", "3600")]
    first, second = Harness(properties, acknowledge=False), Harness(properties)

    async def scenario() -> None:
        await first.input.start()
        await first.wait_for(chunks_reach(first, 1))
        first.input.acknowledge(first.chunks[0].positions)
        write(log, "one\n")
        await first.wait_for(chunks_reach(first, 2))
        os.truncate(log, 0)
        await first.wait_for(lambda: stored_offset(db) == 0)
        write(log, "new1\nnew2\n")
        await first.wait_for(chunks_reach(first, 3))
        await first.stop()  # as after a crash: "one", "new1" and "new2" were never acknowledged
        await second.input.start()
        await second.wait_for(lambda: len(second.records) == 2)
        await second.stop()

    run(scenario())
    assert first.logs() == ["old1", "one", "new1", "new2"]
    assert second.logs() == ["new1", "new2"]


def test_an_existing_fluent_bit_db_keeps_its_place(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "fluent-bit.db"
    write(log, "already shipped\nnot yet\n")
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE in_tail_files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, offset INTEGER, "
                 "inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0);")
    conn.execute("INSERT INTO in_tail_files (name, offset, inode, created) VALUES (?, ?, ?, 0)",
                 (str(log), len("already shipped\n"), log.stat().st_ino))
    conn.commit()
    conn.close()
    harness = Harness([("path", str(log)), ("db", str(db))])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.logs() == ["not yet"]


def test_db_compare_filename_ignores_a_row_of_another_name_with_the_same_inode(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, "first line of a new file\n")
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE in_tail_files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, offset INTEGER, "
                 "inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0);")
    conn.execute("INSERT INTO in_tail_files (name, offset, inode, created) VALUES (?, 10, ?, 0)",
                 ("/old/deleted.log", log.stat().st_ino))
    conn.commit()
    conn.close()
    harness = Harness([("path", str(log)), ("db", str(db)), ("read_from_head", "on"), ("db.compare_filename", "on")])

    async def scenario() -> None:
        await harness.wait_for(lambda: len(harness.records) == 1)

    run(tailing(harness, scenario))
    assert harness.logs() == ["first line of a new file"]


def db_offsets_around_stop(harness: Harness, db: Path, run, records: int) -> list[int]:
    """The DB offset once ``records`` records are out and the next is held, then after the stop."""
    offsets = []

    async def scenario() -> None:
        await harness.input.start()
        await harness.wait_for(lambda: len(harness.records) == records)
        await harness.settle()
        offsets.append(stored_offset(db))
        await harness.stop()
        offsets.append(stored_offset(db))

    run(scenario())
    return offsets


def test_docker_mode_offset_stays_before_a_record_still_being_joined(tmp_path: Path, run) -> None:
    log, db = tmp_path / "app.log", tmp_path / "tail.db"
    write(log, docker("whole\n") + docker("part one "))
    harness = Harness([("path", str(log)), ("read_from_head", "on"), ("db", str(db)), ("parser", "docker"),
                       ("docker_mode", "on"), ("docker_mode_flush", "3600")])
    offsets = db_offsets_around_stop(harness, db, run, 1)
    assert harness.logs() == ["whole\n", "part one "]
    assert offsets == [len(docker("whole\n")), log.stat().st_size]


def test_buffer_max_size_below_buffer_chunk_size_is_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        Harness([("path", "/x"), ("buffer_max_size", "1k")])
    assert error.value.option == "buffer_max_size"


def test_bad_db_options_are_config_errors() -> None:
    with pytest.raises(PluginConfigError) as sync_error:
        TailInput(Harness([("path", "/x")]).ctx, bind([("path", "/x"), ("db.sync", "sometimes")]))
    with pytest.raises(PluginConfigError) as journal_error:
        TailInput(Harness([("path", "/x")]).ctx, bind([("path", "/x"), ("db.journal_mode", "fast")]))
    assert (sync_error.value.option, journal_error.value.option) == ("db.sync", "db.journal_mode")


def test_options_not_supported_yet_are_config_warnings_naming_what_happens_instead() -> None:
    assert config_warnings_for(TailInput, **{"path": "/x", "unicode.encoding": "UTF-16LE"}) == [
        "test.conf:2: [INPUT] tail: option 'unicode.encoding' is not supported yet by flb_fast: lines are read as UTF-8",
    ]


def test_combining_docker_or_cri_with_other_multiline_parsers_is_a_config_warning() -> None:
    harness = Harness([("path", "/x"), ("multiline.parser", "cri, java")])
    assert harness.input.config_warnings == [
        ("multiline.parser", "combining docker/cri with other multiline parsers is not supported yet by flb_fast: "
                             "only docker and cri are applied"),
    ]
