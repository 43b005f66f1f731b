"""The offsets DB speaks Fluent Bit's in_tail_files schema and statements."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from flb_fast.inputs.db_writer import DBOpenError
from flb_fast.inputs.tail.db import OffsetsDB
from flb_fast.log import component_logger

LOG = component_logger("input:tail:tail.0")
FLUENT_BIT_DB = Path(__file__).resolve().parents[2] / "data" / "inputs" / "tail" / "fluent-bit-db" / "tail.sql"


def open_db(path: Path, compare_filename: bool = False) -> OffsetsDB:
    return OffsetsDB(str(path), "normal", False, "WAL", compare_filename, "tail.0.db", LOG)


def stored(path: Path) -> list[tuple[str, int, int, int]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT name, offset, inode, rotated FROM in_tail_files").fetchall()


def test_the_table_has_fluent_bits_columns(tmp_path: Path) -> None:
    open_db(tmp_path / "t.db").close()
    columns = [row[1] for row in sqlite3.connect(tmp_path / "t.db").execute("PRAGMA table_info(in_tail_files)")]
    assert columns == ["id", "name", "offset", "inode", "created", "rotated"]


def test_insert_then_lookup_by_inode_returns_the_newest_row(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    db.insert("/a.log", 5, 42)
    newest = db.insert("/b.log", 7, 42)
    assert db.lookup(42, "/whatever") == (newest, 7)
    assert db.lookup(43, "/a.log") is None


def test_compare_filename_matches_inode_and_name(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db", compare_filename=True)
    first = db.insert("/a.log", 5, 42)
    db.insert("/b.log", 7, 42)
    assert db.lookup(42, "/a.log") == (first, 5)
    assert db.lookup(42, "/c.log") is None


def test_offsets_rotation_and_deletion(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    row = db.insert("/a.log", 0, 42)
    db.save_offsets([(row, 123)])
    asyncio.run(db.flush())
    assert stored(tmp_path / "t.db") == [("/a.log", 123, 42, 0)]
    db.rotate(row, "/a.log.1")
    asyncio.run(db.flush())
    assert stored(tmp_path / "t.db") == [("/a.log.1", 123, 42, 1)]
    db.delete(row)
    assert db.lookup(42, "/a.log.1") is None
    db.close()
    assert stored(tmp_path / "t.db") == []


def test_an_offset_not_written_yet_is_what_lookup_returns(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    row = db.insert("/a.log", 0, 42)
    with db.writer.lock:  # the writer's thread cannot write while the test holds its lock
        db.save_offsets([(row, 123)])
        assert stored(tmp_path / "t.db") == [("/a.log", 0, 42, 0)]
    assert db.lookup(42, "/a.log") == (row, 123)
    db.close()


def test_close_saves_the_offsets_still_waiting(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    row = db.insert("/a.log", 0, 42)
    db.save_offsets([(row, 7)])
    db.save_offsets([(row, 9)])
    db.close()
    assert stored(tmp_path / "t.db") == [("/a.log", 9, 42, 0)]


def test_a_deleted_rows_waiting_offset_is_not_written_and_its_id_is_not_given_again(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    row = db.insert("/a.log", 0, 42)
    with db.writer.lock:
        db.save_offsets([(row, 500)])
    db.delete(row)
    other = db.insert("/b.log", 3, 43)
    db.close()
    assert other != row
    assert stored(tmp_path / "t.db") == [("/b.log", 3, 43, 0)]


def test_rows_change_without_waiting_for_the_writer_which_then_writes_their_latest_state(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    kept = db.insert("/kept.log", 0, 41)
    asyncio.run(db.flush())
    with db.writer.lock:  # a commit in progress: nothing below may wait for it
        made = db.insert("/a.log", 0, 42)
        db.save_offsets([(made, 10), (kept, 20)])
        db.rotate(made, "/a.log.1")
        db.save_offsets([(made, 30)])
        gone = db.insert("/b.log", 5, 43)
        db.delete(gone)
        assert db.lookup(42, "/a.log.1") == (made, 30)
        assert db.rotated() == [("/a.log.1", 42)]
        assert stored(tmp_path / "t.db") == [("/kept.log", 0, 41, 0)]
    db.close()
    assert stored(tmp_path / "t.db") == [("/kept.log", 20, 41, 0), ("/a.log.1", 30, 42, 1)]


def test_rows_fluent_bit_wrote_are_found_and_new_rows_take_the_ids_after_them(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    open_db(path).close()
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        # Fluent Bit's statements (tail_sql.h): the ids are SQLite's.
        for name, offset, inode in [("/a.log", 10, 42), ("/b.log", 20, 43), ("/a.log.1", 30, 44)]:
            connection.execute("INSERT INTO in_tail_files (name, offset, inode, created)  VALUES (?, ?, ?, 0);",
                               (name, offset, inode))
        connection.execute("UPDATE in_tail_files set name='/a.log.1',rotated=1 WHERE id=3;")
    db = open_db(path)
    assert (db.lookup(42, "/a.log"), db.lookup(44, "/a.log.1")) == ((1, 10), (3, 30))
    assert db.rotated() == [("/a.log.1", 44)]
    assert db.insert("/c.log", 0, 45) == 4
    assert db.delete_stale({42, 45}) == 2
    db.close()
    assert stored(path) == [("/a.log", 10, 42, 0), ("/c.log", 0, 45, 0)]


def test_a_db_fluent_bit_wrote_is_read_on_and_its_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(FLUENT_BIT_DB.read_text().replace("{dir}", str(tmp_path)))
    db = open_db(path, compare_filename=True)
    assert db.lookup(2465861, f"{tmp_path}/b.log") == (2, 3)
    assert db.lookup(2465868, f"{tmp_path}/a.log") == (3, 3)
    assert db.lookup(2465868, f"{tmp_path}/a.log.1") is None
    assert db.insert(f"{tmp_path}/c.log", 0, 2465870) == 4
    db.save_offsets([(3, 9)])
    db.close()
    assert stored(path) == [(f"{tmp_path}/b.log", 3, 2465861, 0), (f"{tmp_path}/a.log", 9, 2465868, 0),
                            (f"{tmp_path}/c.log", 0, 2465870, 0)]


def test_inputs_sharing_a_db_file_give_their_rows_ids_of_their_own(tmp_path: Path) -> None:
    first, second = open_db(tmp_path / "t.db"), open_db(tmp_path / "t.db")
    ids = [first.insert("/a.log", 1, 42), second.insert("/b.log", 2, 43), first.insert("/c.log", 3, 44)]
    first.close()
    second.close()
    assert len(set(ids)) == 3
    assert sorted(stored(tmp_path / "t.db")) == [("/a.log", 1, 42, 0), ("/b.log", 2, 43, 0), ("/c.log", 3, 44, 0)]


def test_pragmas_follow_the_options(tmp_path: Path) -> None:
    db = OffsetsDB(str(tmp_path / "t.db"), "full", True, "delete", False, "tail.0.db", LOG)
    assert db._conn.execute("PRAGMA synchronous").fetchone() == (2,)
    assert db._conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert db._conn.execute("PRAGMA locking_mode").fetchone() == ("exclusive",)
    db.close()


def test_a_db_in_a_missing_directory_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "t.db"
    with pytest.raises(DBOpenError, match=f"^cannot open database {path}: unable to open database file$"):
        open_db(path)


def test_a_file_that_is_not_a_database_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"not an SQLite file, " * 100)
    with pytest.raises(DBOpenError, match=f"^cannot open database {path}: file is not a database$"):
        open_db(path)
