"""The systemd input reads real journal files as Fluent Bit's in_systemd does: the same records,
tags and timestamps, the filters, Read_From_Tail, the cursor kept in DB, new entries followed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.inputs import systemd as systemd_module
from flb_fast.inputs.db_writer import DBOpenError
from flb_fast.inputs.systemd import PASS_MAX_ENTRIES, SystemdInput
from flb_fast.inputs.systemd.db import CursorDB
from tests.inputs.systemd.harness import (
    DATA,
    by_tag,
    case_options,
    fluent_bit_records,
    golden_entries,
    in_key_order,
    read_all,
    records_of,
    systemd_input,
)
from tests.inputs.systemd.journal import write_entries, write_journal
from tests.standalone import plugin_for
from tests.waiting import until

CASES = sorted(path.stem for path in DATA.glob("*.conf"))
EXPORT_CASES = sorted(path.stem for path in DATA.glob("*.export"))
T0 = 1_700_000_000_000_000


def entry(n: int, **fields: str) -> tuple[int, list[tuple[str, str]]]:
    return T0 + n, [("MESSAGE", f"entry {n}"), *fields.items()]


@pytest.fixture
def golden_journal(tmp_path: Path) -> Path:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    write_entries(journal_dir / "system.journal", golden_entries())
    return journal_dir


@pytest.mark.parametrize("case", CASES)
def test_records_tags_and_times_are_fluent_bits(run, golden_journal, case):
    expected = fluent_bit_records(case)
    plugin, emitted = systemd_input(golden_journal, **case_options(case))
    run(read_all(plugin, emitted, sum(map(len, expected.values()))))
    assert by_tag(emitted) == expected


@pytest.mark.parametrize("case", CASES)
def test_record_members_are_in_fluent_bits_order(run, golden_journal, case):
    expected = fluent_bit_records(case)
    plugin, emitted = systemd_input(golden_journal, **case_options(case))
    run(read_all(plugin, emitted, sum(map(len, expected.values()))))
    assert in_key_order(by_tag(emitted)) == in_key_order(expected)


@pytest.mark.parametrize("case", EXPORT_CASES)
def test_raw_journal_fields_are_read_as_fluent_bit_reads_them(run, tmp_path, case):
    """raw_fields.export: values that are not UTF-8 (written as Fluent Bit's file output writes
    them), and fields repeated with others between their values (the array where the second
    value was), in the order journald stored them."""
    write_journal(tmp_path / "system.journal", (DATA / f"{case}.export").read_bytes())
    expected = fluent_bit_records(case)
    plugin, emitted = systemd_input(tmp_path, tag="sd.*")
    run(read_all(plugin, emitted, sum(map(len, expected.values()))))
    assert in_key_order(by_tag(emitted)) == in_key_order(expected)


def test_a_repeated_field_is_an_array_where_its_second_value_was(run, tmp_path):
    write_entries(tmp_path / "a.journal", [(T0, [("A", "1"), ("MESSAGE", "m1"), ("B", "2"), ("MESSAGE", "m2"),
                                                 ("C", "3"), ("MESSAGE", "m3")])])
    plugin, emitted = systemd_input(tmp_path, tag="sd")
    run(read_all(plugin, emitted, 1))
    assert list(emitted[0].records[0].items()) == [
        ("_BOOT_ID", "0123456789abcdef0123456789abcdef"), ("A", "1"), ("B", "2"), ("MESSAGE", ["m1", "m2", "m3"]),
        ("C", "3"),
    ]


def test_record_time_is_the_journal_realtime_not_source_realtime(run, golden_journal):
    plugin, emitted = systemd_input(golden_journal, tag="sd")
    run(read_all(plugin, emitted, 7))
    first = emitted[0]
    assert first.records[0]["_SOURCE_REALTIME_TIMESTAMP"] == "1699999999000001"
    assert first.timestamps[0] == 1_700_000_000_123_456_000


def test_a_pass_is_one_chunk_per_tag_each_in_journal_order(run, golden_journal):
    plugin, emitted = systemd_input(golden_journal, tag="sd.*")
    run(read_all(plugin, emitted, 7))
    assert [(chunk.tag, len(chunk)) for chunk in emitted] == [
        ("sd.kubelet.service", 3), ("sd.docker.service", 1), ("sd.unknown", 1), ("sd.containerd.service", 1),
        ("sd.sshd.service", 1),
    ]
    assert [record["MESSAGE"] for record in emitted[0].records] == [
        "I1206 kubelet.go:123] started", "debug line", "same microsecond"]


def test_tags_are_right_for_many_interleaved_units(run, tmp_path):
    units = [f"unit{n}.service" for n in range(20)]
    write_entries(tmp_path / "a.journal", [entry(n, _SYSTEMD_UNIT=units[n % 20]) for n in range(60)])
    plugin, emitted = systemd_input(tmp_path, tag="sd.*.log")
    run(read_all(plugin, emitted, 60))
    assert [(chunk.tag, [r["MESSAGE"] for r in chunk.records]) for chunk in emitted] == [
        (f"sd.{unit}.log", [f"entry {n}", f"entry {n + 20}", f"entry {n + 40}"]) for n, unit in enumerate(units)]


def test_a_pass_ends_once_its_entries_hold_more_than_a_megabyte(tmp_path):
    big = "x" * 600_000
    write_entries(tmp_path / "a.journal", [entry(n, BIG=big) for n in range(3)])
    plugin, emitted = systemd_input(tmp_path, tag="sd")
    plugin.reader = plugin.open_journal()
    assert [plugin.read_pass() for _ in range(2)] == [True, False]
    assert [len(chunk) for chunk in emitted] == [2, 1]


def test_chunk_size_counts_the_journal_fields_bytes(run, tmp_path):
    write_entries(tmp_path / "a.journal", [(T0, [("MESSAGE", "hello"), ("PRIORITY", "6")])])
    plugin, emitted = systemd_input(tmp_path, tag="sd")
    run(read_all(plugin, emitted, 1))
    boot = len("_BOOT_ID=0123456789abcdef0123456789abcdef")
    assert emitted[0].size == boot + len("MESSAGE=hello") + len("PRIORITY=6")


def test_one_pass_reads_at_most_max_entries(tmp_path):
    write_entries(tmp_path / "a.journal", [entry(n) for n in range(5)])
    plugin, emitted = systemd_input(tmp_path, tag="sd", max_entries="2")
    plugin.reader = plugin.open_journal()
    assert [plugin.read_pass() for _ in range(3)] == [True, True, False]
    assert [len(chunk) for chunk in emitted] == [2, 2, 1]


def test_a_pass_is_bounded_whatever_max_entries_says(tmp_path):
    plugin, _ = systemd_input(tmp_path, max_entries="100000")
    assert plugin.pass_entries == PASS_MAX_ENTRIES


def test_read_from_tail_skips_what_is_there_and_follows_new_entries(run, tmp_path):
    journal = tmp_path / "system.journal"
    write_entries(journal, [entry(n) for n in range(3)])
    plugin, emitted = systemd_input(tmp_path, tag="sd", read_from_tail="on")

    async def scenario() -> None:
        await plugin.start()
        try:
            assert plugin.read_pass() is False
            assert emitted == []
            write_entries(journal, [entry(n) for n in range(3, 5)])
            await until(lambda: len(records_of(emitted)) >= 2, "the appended entries")
        finally:
            await plugin.stop()

    run(scenario())
    assert [r["MESSAGE"] for r in records_of(emitted)] == ["entry 3", "entry 4"]


def test_new_entries_are_followed_without_a_restart(run, tmp_path):
    journal = tmp_path / "system.journal"
    write_entries(journal, [entry(0)])
    plugin, emitted = systemd_input(tmp_path, tag="sd")

    async def scenario() -> None:
        await plugin.start()
        try:
            await until(lambda: len(records_of(emitted)) == 1, "the first entry")
            write_entries(journal, [entry(1)])
            write_entries(tmp_path / "other.journal", [entry(2)])
            await until(lambda: len(records_of(emitted)) == 3, "the new entries")
        finally:
            await plugin.stop()

    run(scenario())
    assert [r["MESSAGE"] for r in records_of(emitted)] == ["entry 0", "entry 1", "entry 2"]


def test_path_reads_journald_machine_id_folders_as_in_var_log_journal(run, tmp_path):
    machine = tmp_path / "0123456789abcdef0123456789abcdef"
    machine.mkdir()
    write_entries(machine / "system.journal", [entry(0)])
    plugin, emitted = systemd_input(tmp_path, tag="sd")
    run(read_all(plugin, emitted, 1))
    assert [r["MESSAGE"] for r in records_of(emitted)] == ["entry 0"]


def test_db_sync_sets_the_sqlite_synchronous_level(run, tmp_path):
    plugin, _ = systemd_input(tmp_path, tag="sd", db=str(tmp_path / "c.db"), **{"db.sync": "Normal"})

    async def level():
        await plugin.start()
        try:
            return plugin.db._conn.execute("PRAGMA synchronous").fetchone()[0]
        finally:
            await plugin.stop()
            await plugin.close()

    assert run(level()) == 1


def test_the_db_is_opened_and_read_off_the_event_loop(run, tmp_path, monkeypatch):
    opened_on: list[int] = []

    class WatchedCursorDB(CursorDB):
        def __init__(self, *args: Any) -> None:
            opened_on.append(threading.get_ident())
            super().__init__(*args)

        def cursor(self) -> str | None:
            opened_on.append(threading.get_ident())
            return super().cursor()

    monkeypatch.setattr(systemd_module, "CursorDB", WatchedCursorDB)
    plugin, _ = systemd_input(tmp_path, tag="sd", db=str(tmp_path / "c.db"))

    async def start_and_stop() -> int:
        await plugin.start()
        await plugin.stop()
        await plugin.close()
        return threading.get_ident()

    loop_thread = run(start_and_stop())
    assert len(opened_on) == 2
    assert loop_thread not in opened_on


def test_a_db_that_cannot_be_opened_fails_the_start_and_closes_the_journal(run, tmp_path):
    plugin, _ = systemd_input(tmp_path, tag="sd", db=str(tmp_path / "missing" / "c.db"))
    with pytest.raises(DBOpenError, match="^cannot open database .*/missing/c.db: unable to open database file$"):
        run(plugin.start())
    assert plugin.reader is None


def test_db_keeps_the_cursor_of_the_last_record_in_fluent_bits_table(run, tmp_path):
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    write_entries(journal_dir / "system.journal", [entry(n) for n in range(3)])
    db = tmp_path / "systemd.db"
    plugin, emitted = systemd_input(journal_dir, tag="sd", db=str(db))
    run(read_all(plugin, emitted, 3))
    with sqlite3.connect(db) as conn:
        schema = conn.execute("SELECT sql FROM sqlite_master").fetchall()
        rows = conn.execute("SELECT cursor FROM in_systemd_cursor").fetchall()
    # The schema text Fluent Bit 4.2.8 created (read back from its own DB file).
    assert schema == [("CREATE TABLE in_systemd_cursor (  cursor  TEXT NOT NULL,  updated INTEGER)",)]
    [(cursor,)] = rows
    assert ";i=3;" in cursor


def test_a_restart_resumes_right_after_the_last_record_handed_on(run, tmp_path):
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    journal = journal_dir / "system.journal"
    write_entries(journal, [entry(n) for n in range(3)])
    db = str(tmp_path / "systemd.db")
    first, first_emitted = systemd_input(journal_dir, tag="sd", db=db)
    run(read_all(first, first_emitted, 3))
    write_entries(journal, [entry(n) for n in range(3, 5)])
    second, second_emitted = systemd_input(journal_dir, tag="sd", db=db)
    run(read_all(second, second_emitted, 2))
    assert [r["MESSAGE"] for r in records_of(first_emitted)] == ["entry 0", "entry 1", "entry 2"]
    assert [r["MESSAGE"] for r in records_of(second_emitted)] == ["entry 3", "entry 4"]


def saved_cursor(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        [(cursor,)] = conn.execute("SELECT cursor FROM in_systemd_cursor").fetchall()
    return cursor


def acknowledged_cursors(run, journal_dir: Path, db: Path, order: list[int], **options: str) -> list[str]:
    """The DB's cursor before and after acknowledging the first three chunks emitted, one at a time in ``order``."""
    plugin, emitted = systemd_input(journal_dir, acknowledge=False, tag="sd.*", db=str(db), **options)
    cursors = []

    async def scenario() -> None:
        await plugin.start()
        try:
            await until(lambda: len(emitted) == 3, "one chunk per unit")
            cursors.append(saved_cursor(db))
            for n in order:
                plugin.acknowledge(emitted[n].positions)
                assert plugin.db is not None
                await plugin.db.flush()
                cursors.append(saved_cursor(db))
        finally:
            await plugin.stop()
            await plugin.close()

    run(scenario())
    return cursors


def three_unit_journal(tmp_path: Path) -> Path:
    """A journal of three entries, one for each of three units (three tags, three chunks a pass)."""
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    units = ["a.service", "b.service", "c.service"]
    write_entries(journal_dir / "system.journal",
                  [entry(n, _SYSTEMD_UNIT=unit) for n, unit in enumerate(units)])
    return journal_dir


def test_the_db_cursor_is_that_of_the_last_pass_acknowledged_with_all_before_it(run, tmp_path):
    journal_dir = three_unit_journal(tmp_path)
    cursors = acknowledged_cursors(run, journal_dir, tmp_path / "systemd.db", [1, 0, 2], max_entries="1")
    assert cursors[:2] == ["(null)", "(null)"]
    assert ";i=2;" in cursors[2] and ";i=3;" in cursors[3]


def test_a_pass_cursor_is_saved_once_every_chunk_of_the_pass_is_acknowledged(run, tmp_path):
    journal_dir = three_unit_journal(tmp_path)
    cursors = acknowledged_cursors(run, journal_dir, tmp_path / "systemd.db", [2, 0, 1])
    assert cursors[:3] == ["(null)", "(null)", "(null)"]
    assert ";i=3;" in cursors[3]


def test_entries_read_but_not_acknowledged_before_a_crash_are_read_again_at_the_next_start(run, tmp_path):
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    write_entries(journal_dir / "system.journal", [entry(n) for n in range(3)])
    db = str(tmp_path / "systemd.db")
    first, first_emitted = systemd_input(journal_dir, acknowledge=False, tag="sd", db=db)
    run(read_all(first, first_emitted, 3))
    write_entries(journal_dir / "system.journal", [entry(3)])
    second, second_emitted = systemd_input(journal_dir, tag="sd", db=db)
    run(read_all(second, second_emitted, 4))
    assert [r["MESSAGE"] for r in records_of(second_emitted)] == ["entry 0", "entry 1", "entry 2", "entry 3"]


def test_acknowledgements_after_stop_still_move_the_cursor_until_close(run, tmp_path):
    write_entries(tmp_path / "a.journal", [entry(0)])
    db = tmp_path / "systemd.db"
    plugin, emitted = systemd_input(tmp_path, acknowledge=False, tag="sd", db=str(db))

    async def scenario() -> None:
        await plugin.start()
        await until(lambda: len(emitted) == 1, "the entry")
        await plugin.stop()
        plugin.acknowledge(emitted[0].positions)
        await plugin.close()

    run(scenario())
    assert ";i=1;" in saved_cursor(db)


def journal_with_saved_cursor(tmp_path: Path, cursor: str) -> tuple[Path, Path]:
    """An empty journal folder and a DB whose one row holds ``cursor``, as Fluent Bit's table has it."""
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    db = tmp_path / "systemd.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE in_systemd_cursor (  cursor  TEXT NOT NULL,  updated INTEGER)")
        conn.execute("INSERT INTO in_systemd_cursor VALUES (?, 1796546219)", (cursor,))
    return journal_dir, db


def test_a_db_registered_before_any_entry_starts_from_the_head(run, tmp_path):
    """Fluent Bit's first row is the cursor text '(null)'; reading starts where it would have."""
    journal_dir, db = journal_with_saved_cursor(tmp_path, "(null)")
    write_entries(journal_dir / "system.journal", [entry(0)])
    plugin, emitted = systemd_input(journal_dir, tag="sd", db=str(db))
    run(read_all(plugin, emitted, 1))
    assert [r["MESSAGE"] for r in records_of(emitted)] == ["entry 0"]


def test_a_saved_cursor_that_is_no_journal_cursor_is_warned_and_reading_starts_at_the_head(run, tmp_path):
    journal_dir, db = journal_with_saved_cursor(tmp_path, "not a cursor")
    write_entries(journal_dir / "system.journal", [entry(0), entry(1)])
    plugin, emitted = systemd_input(journal_dir, tag="sd", db=str(db))
    run(read_all(plugin, emitted, 2))
    assert [r["MESSAGE"] for r in records_of(emitted)] == ["entry 0", "entry 1"]
    assert ";i=2;" in saved_cursor(db)


def test_a_paused_input_reads_nothing_until_resumed(run, tmp_path):
    write_entries(tmp_path / "a.journal", [entry(0)])
    plugin, emitted = systemd_input(tmp_path, tag="sd")

    async def scenario() -> None:
        plugin.pause()
        await plugin.start()
        try:
            await until(lambda: not plugin.wake.is_set(), "the reader to take its wake-up")
            assert emitted == []
            plugin.resume()
            await until(lambda: len(emitted) == 1, "the entry after resume")
        finally:
            await plugin.stop()

    run(scenario())


def test_a_path_that_is_not_a_directory_stops_start_up(run, tmp_path):
    missing, _ = systemd_input(tmp_path / "missing")
    with pytest.raises(OSError, match="given path .*missing is invalid"):
        run(missing.start())
    (tmp_path / "file").write_text("")
    not_dir, _ = systemd_input(tmp_path / "file")
    with pytest.raises(OSError, match="given path is not a directory"):
        run(not_dir.start())


@pytest.mark.parametrize(
    ("options", "option", "message"),
    [
        ({"systemd_filter_type": "xor"}, "systemd_filter_type", "systemd_filter_type must be 'and' or 'or'. Got xor"),
        ({"db.sync": "sometimes"}, "db.sync", "invalid database 'db.sync' value: sometimes"),
        ({"systemd_filter": "no_equals_sign"}, "systemd_filter", "invalid input 'no_equals_sign'"),
        ({"systemd_filter": "lower=case"}, "systemd_filter", "invalid input 'lower=case'"),
        ({"systemd_filter": "__CURSOR=x"}, "systemd_filter", "invalid input '__CURSOR=x'"),
    ],
)
def test_bad_options_are_config_errors(options, option, message):
    with pytest.raises(PluginConfigError, match=message) as caught:
        plugin_for(SystemdInput, emit=list().append, **options)
    assert caught.value.option == option
