"""The journal cursor in SQLite, in Fluent Bit's own ``in_systemd_cursor`` table.

Schema, statements and the one-row rule are those of plugins/in_systemd/systemd_db.h and
systemd_db.c, so a ``DB`` written by Fluent Bit keeps its place when a user switches to flb_fast
(and back). Fluent Bit registers the row before any entry is read with the cursor text
``(null)`` (a NULL pointer through ``printf``); we write the same row, and read it back as "no
cursor yet".
"""

from __future__ import annotations

import sqlite3
import time

SQL_CREATE_CURSOR = "CREATE TABLE IF NOT EXISTS in_systemd_cursor (  cursor  TEXT NOT NULL,  updated INTEGER);"
SQL_GET_CURSOR = "SELECT * FROM in_systemd_cursor LIMIT 1;"
SQL_INSERT_CURSOR = "INSERT INTO in_systemd_cursor (cursor, updated)  VALUES (?, ?);"
SQL_COUNT_CURSOR = "SELECT COUNT(*) FROM in_systemd_cursor;"
SQL_UPDATE_CURSOR = "UPDATE in_systemd_cursor SET cursor=@cursor, updated=@updated;"
SQL_DELETE_DUPS = "DELETE FROM in_systemd_cursor WHERE ROWID < (SELECT MAX(ROWID) FROM in_systemd_cursor);"
# What Fluent Bit's flb_systemd_db_init_cursor stores before the first entry is read.
NO_CURSOR = "(null)"


class CursorDB:
    """The ``DB`` file: the cursor of the last journal entry this input handed on."""

    def __init__(self, path: str, sync_level: int | None) -> None:
        # Autocommit: each cursor update is its own transaction, as with Fluent Bit's prepared statement.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute(SQL_CREATE_CURSOR)
        if sync_level is not None:
            self._conn.execute(f"PRAGMA synchronous={sync_level};")
        self.duplicates_removed = self._sanitize()

    def _sanitize(self) -> int:
        """flb_systemd_db_sanitize: keep only the newest row if the table has several."""
        (rows,) = self._conn.execute(SQL_COUNT_CURSOR).fetchone()
        if rows > 1:
            self._conn.execute(SQL_DELETE_DUPS)
            return int(rows) - 1
        return 0

    def cursor(self) -> str | None:
        """The saved cursor, or ``None``; registers the row (as Fluent Bit does) when there is none."""
        row = self._conn.execute(SQL_GET_CURSOR).fetchone()
        if row is None:
            self._conn.execute(SQL_INSERT_CURSOR, (NO_CURSOR, int(time.time())))
            return None
        return None if row[0] == NO_CURSOR else str(row[0])

    def save(self, cursor: str) -> None:
        self._conn.execute(SQL_UPDATE_CURSOR, {"cursor": cursor, "updated": int(time.time())})

    def close(self) -> None:
        self._conn.close()
