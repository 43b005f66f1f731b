"""The cursor DB is Fluent Bit's in_systemd_cursor table: one row, '(null)' before any entry."""

from __future__ import annotations

import sqlite3

from flb_fast.inputs.systemd.db import CursorDB


def rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT cursor FROM in_systemd_cursor").fetchall()


def test_a_new_db_registers_fluent_bits_null_row_and_has_no_cursor(tmp_path):
    db = CursorDB(str(tmp_path / "c.db"), None)
    assert db.cursor() is None
    db.close()
    assert rows(tmp_path / "c.db") == [("(null)",)]


def test_saved_cursor_is_read_back(tmp_path):
    db = CursorDB(str(tmp_path / "c.db"), 2)
    db.cursor()
    db.save("s=abc;i=7")
    db.close()
    reopened = CursorDB(str(tmp_path / "c.db"), None)
    assert reopened.cursor() == "s=abc;i=7"
    reopened.close()


def test_extra_rows_are_removed_keeping_the_newest(tmp_path):
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("CREATE TABLE in_systemd_cursor (cursor TEXT NOT NULL, updated INTEGER)")
        conn.executemany("INSERT INTO in_systemd_cursor VALUES (?, 1)", [("old",), ("new",)])
    db = CursorDB(str(tmp_path / "c.db"), None)
    assert db.duplicates_removed == 1
    assert db.cursor() == "new"
    db.close()
