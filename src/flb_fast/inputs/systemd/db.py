"""The journal cursor in SQLite, in Fluent Bit's own ``in_systemd_cursor`` table.

Schema, statements and the one-row rule are those of plugins/in_systemd/systemd_db.h and
systemd_db.c, so a ``DB`` written by Fluent Bit keeps its place when a user switches to flb_fast
(and back). Fluent Bit registers the row before any entry is read with the cursor text
``(null)`` (a NULL pointer through ``printf``); we write the same row, and read it back as "no
cursor yet". The cursor is saved on the writer's thread (``flb_fast.inputs.db_writer``), not on
the event loop: with ``DB.Sync full`` each save is an fsync.
"""

from __future__ import annotations

import time
from typing import Any

from flb_fast.inputs.db_writer import LatestWriter, opened

SQL_CREATE_CURSOR = "CREATE TABLE IF NOT EXISTS in_systemd_cursor (  cursor  TEXT NOT NULL,  updated INTEGER);"
SQL_GET_CURSOR = "SELECT * FROM in_systemd_cursor LIMIT 1;"
SQL_INSERT_CURSOR = "INSERT INTO in_systemd_cursor (cursor, updated)  VALUES (?, ?);"
SQL_COUNT_CURSOR = "SELECT COUNT(*) FROM in_systemd_cursor;"
SQL_UPDATE_CURSOR = "UPDATE in_systemd_cursor SET cursor=@cursor, updated=@updated;"
SQL_DELETE_DUPS = "DELETE FROM in_systemd_cursor WHERE ROWID < (SELECT MAX(ROWID) FROM in_systemd_cursor);"
# What Fluent Bit's flb_systemd_db_init_cursor stores before the first entry is read.
NO_CURSOR = "(null)"
# The writer's one key: the table has one row.
CURSOR_KEY = "cursor"


class CursorDB:
    """The ``DB`` file: the cursor of the last journal entry this input handed on."""

    def __init__(self, path: str, sync_level: int | None, name: str, log: Any) -> None:
        # Autocommit: each cursor update is its own transaction, as with Fluent Bit's prepared statement.
        with opened(path) as self._conn:
            self._conn.execute(SQL_CREATE_CURSOR)
            if sync_level is not None:
                self._conn.execute(f"PRAGMA synchronous={sync_level};")
            self.duplicates_removed = self._sanitize()
        self.writer: LatestWriter[str, str] = LatestWriter(name, self._write_cursor, log)

    def _sanitize(self) -> int:
        """flb_systemd_db_sanitize: keep only the newest row if the table has several."""
        (rows,) = self._conn.execute(SQL_COUNT_CURSOR).fetchone()
        if rows > 1:
            self._conn.execute(SQL_DELETE_DUPS)
            return int(rows) - 1
        return 0

    def cursor(self) -> str | None:
        """The saved cursor, or ``None``; registers the row (as Fluent Bit does) when there is none.
        Read once, at start, before any cursor is handed to the writer."""
        with self.writer.lock:
            row = self._conn.execute(SQL_GET_CURSOR).fetchone()
            if row is None:
                self._conn.execute(SQL_INSERT_CURSOR, (NO_CURSOR, int(time.time())))
                return None
        return None if row[0] == NO_CURSOR else str(row[0])

    def save(self, cursor: str) -> None:
        """Hand ``cursor`` to the writer; a newer one given before it writes replaces it."""
        self.writer.put({CURSOR_KEY: cursor})

    def _write_cursor(self, cursors: dict[str, str]) -> None:
        """On the writer's thread, holding its lock."""
        self._conn.execute(SQL_UPDATE_CURSOR, {"cursor": cursors[CURSOR_KEY], "updated": int(time.time())})

    async def flush(self) -> None:
        """Return once the cursor handed over before is saved."""
        await self.writer.flush()

    def close(self) -> None:
        """Save the cursor still waiting, then close the file."""
        self.writer.close()
        self._conn.close()
