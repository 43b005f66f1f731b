"""The cursor DB is Fluent Bit's in_systemd_cursor table: one row, '(null)' before any entry."""

from __future__ import annotations

import sqlite3

import pytest

from flb_fast.inputs.db_writer import DBOpenError
from flb_fast.inputs.systemd.db import CursorDB
from flb_fast.log import component_logger

LOG = component_logger("input:systemd:systemd.0")


def open_db(path, sync_level=None):
    return CursorDB(str(path), sync_level, "systemd.0.db", LOG)


def rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT cursor FROM in_systemd_cursor").fetchall()


def test_a_new_db_registers_fluent_bits_null_row_and_has_no_cursor(tmp_path):
    db = open_db(tmp_path / "c.db")
    assert db.cursor() is None
    db.close()
    assert rows(tmp_path / "c.db") == [("(null)",)]


def test_saved_cursor_is_read_back(tmp_path):
    db = open_db(tmp_path / "c.db", 2)
    db.cursor()
    db.save("s=abc;i=7")
    db.close()
    reopened = open_db(tmp_path / "c.db")
    assert reopened.cursor() == "s=abc;i=7"
    reopened.close()


def test_extra_rows_are_removed_keeping_the_newest(tmp_path):
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("CREATE TABLE in_systemd_cursor (cursor TEXT NOT NULL, updated INTEGER)")
        conn.executemany("INSERT INTO in_systemd_cursor VALUES (?, 1)", [("old",), ("new",)])
    db = open_db(tmp_path / "c.db")
    assert db.duplicates_removed == 1
    assert db.cursor() == "new"
    db.close()


def test_a_db_in_a_missing_directory_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "missing" / "c.db"
    with pytest.raises(DBOpenError, match=f"^cannot open database {path}: unable to open database file$"):
        open_db(path)


def test_a_file_that_is_not_a_database_is_an_error_naming_it(tmp_path):
    path = tmp_path / "c.db"
    path.write_bytes(b"not an SQLite file, " * 100)
    with pytest.raises(DBOpenError, match=f"^cannot open database {path}: file is not a database$"):
        open_db(path)
