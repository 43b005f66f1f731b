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
    db.rotate(row, "/a.log.1")
    assert stored(tmp_path / "t.db") == [("/a.log.1", 123, 42, 1)]
    db.delete(row)
    assert db.lookup(42, "/a.log.1") is None
    db.close()


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


def test_a_deleted_rows_waiting_offset_is_not_written_to_the_row_that_reuses_its_id(tmp_path: Path) -> None:
    db = open_db(tmp_path / "t.db")
    row = db.insert("/a.log", 0, 42)
    with db.writer.lock:
        db.save_offsets([(row, 500)])
    db.delete(row)
    reused = db.insert("/b.log", 3, 43)
    db.close()
    assert reused == row
    assert stored(tmp_path / "t.db") == [("/b.log", 3, 43, 0)]


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
