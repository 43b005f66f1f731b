"""File offsets in SQLite, in Fluent Bit's own ``in_tail_files`` table.

The schema is that of Fluent Bit's plugins/in_tail/tail_sql.h, so a DB written by Fluent Bit
keeps its place when a user switches to flb_fast (and back). The table is read once, when the DB
opens (on the scan thread); from then on the input works on its copy in memory, and every change
to a row (made when a file opens, its offset after each pass, a rotation, a deletion) is handed
to the writer (``flb_fast.inputs.db_writer``), which writes the latest state of each changed row,
all in one transaction, on its own thread: at most one commit per pass and ten a second, and no
statement on the event loop. With ``DB.Sync full`` every commit is an fsync, and a file opened or
rotated on the loop would otherwise wait for one.

A new row takes the id after the largest the table holds, given here rather than by SQLite, so
that the row can be used before it is written. Fluent Bit looks rows up by inode (and name), never
by id, so the ids it gives and these live side by side. Inputs of one agent that share a DB file
take their ids from one sequence (``_RowIds``), so that their rows never take each other's.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from typing import Any

from flb_fast.config.common import DB_SYNC_LEVELS
from flb_fast.inputs.db_writer import LatestWriter, opened

SQL_CREATE_FILES = (
    "CREATE TABLE IF NOT EXISTS in_tail_files ("
    "  id      INTEGER PRIMARY KEY,"
    "  name    TEXT NOT NULL,"
    "  offset  INTEGER,"
    "  inode   INTEGER,"
    "  created INTEGER,"
    "  rotated INTEGER DEFAULT 0"
    ");"
)
SQL_GET_FILES = "SELECT id, name, offset, inode, created, rotated FROM in_tail_files ORDER BY id;"
# A row made or changed: its whole state, the latest the input has (what Fluent Bit's
# SQL_INSERT_FILE, SQL_UPDATE_OFFSET and SQL_ROTATE_FILE write, in one statement).
SQL_SAVE_FILE = (
    "INSERT INTO in_tail_files (id, name, offset, inode, created, rotated)"
    " VALUES (@id, @name, @offset, @inode, @created, @rotated)"
    " ON CONFLICT(id) DO UPDATE SET name=excluded.name, offset=excluded.offset, rotated=excluded.rotated;"
)
SQL_DELETE_FILE = "DELETE FROM in_tail_files WHERE id=@id;"

SYNC_LEVELS = DB_SYNC_LEVELS
JOURNAL_MODES = frozenset({"DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"})


class _RowIds:
    """The next row id of each DB file (by its real path) of this process, shared by the inputs
    that open it (each opens it on its own scan thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}

    def start_after(self, path: str, largest: int) -> None:
        """Ids of ``path`` from now on come after ``largest`` (the largest its table holds)."""
        with self._lock:
            self._next[path] = max(self._next.get(path, 1), largest + 1)

    def take(self, path: str) -> int:
        with self._lock:
            row_id = self._next[path]
            self._next[path] = row_id + 1
        return row_id


_ROW_IDS = _RowIds()


class _Row:
    """A row of ``in_tail_files`` as the input last set it."""

    __slots__ = ("name", "offset", "inode", "created", "rotated")

    def __init__(self, name: str, offset: int, inode: int, created: int, rotated: int) -> None:
        self.name = name
        self.offset = offset
        self.inode = inode
        self.created = created
        self.rotated = rotated

    def state(self, row_id: int) -> dict[str, Any]:
        """What ``SQL_SAVE_FILE`` writes for it, as it is now."""
        return {"id": row_id, "name": self.name, "offset": self.offset, "inode": self.inode,
                "created": self.created, "rotated": self.rotated}


class OffsetsDB:
    """The ``DB`` file: where each file (by inode, optionally also by name) was left.

    Read once when it opens; the rows are then kept here, and each change is written by
    ``writer`` on its thread (a row deleted is ``None`` there).
    """

    def __init__(self, path: str, sync: str, locking: bool, journal_mode: str, compare_filename: bool,
                 name: str, log: Any) -> None:
        self.compare_filename = compare_filename
        # Autocommit (``opened``): BEGIN/COMMIT are issued around each batch of rows.
        with opened(path) as self._conn:
            self._conn.execute(SQL_CREATE_FILES)
            self._conn.execute(f"PRAGMA synchronous={SYNC_LEVELS[sync.lower()]};")
            if locking:
                self._conn.execute("PRAGMA locking_mode=EXCLUSIVE;")
            self._conn.execute(f"PRAGMA journal_mode={journal_mode.upper()};")
            stored = self._conn.execute(SQL_GET_FILES).fetchall()
        self._rows: dict[int, _Row] = {}
        # The ids of each inode's rows, oldest first.
        self._by_inode: dict[int, list[int]] = {}
        for row_id, row_name, offset, inode, created, rotated in stored:
            self._add(row_id, _Row(row_name, offset or 0, inode, created or 0, rotated or 0))
        self._path = os.path.realpath(path)
        _ROW_IDS.start_after(self._path, max(self._rows, default=0))
        self.writer: LatestWriter[int, dict[str, Any] | None] = LatestWriter(name, self._write_rows, log)

    def _add(self, row_id: int, row: _Row) -> None:
        self._rows[row_id] = row
        self._by_inode.setdefault(row.inode, []).append(row_id)

    def lookup(self, inode: int, name: str) -> tuple[int, int] | None:
        """``(id, offset)`` of the newest row for this file, or ``None``."""
        for row_id in reversed(self._by_inode.get(inode, ())):
            if not self.compare_filename or self._rows[row_id].name == name:
                return row_id, self._rows[row_id].offset
        return None

    def insert(self, name: str, offset: int, inode: int) -> int:
        row_id = _ROW_IDS.take(self._path)
        self._add(row_id, _Row(name, offset, inode, int(time.time()), 0))
        self._changed({row_id})
        return row_id

    def save_offsets(self, offsets: Iterable[tuple[int, int]]) -> None:
        """``(id, offset)`` pairs: saved together, with the next transaction."""
        changed: set[int] = set()
        for row_id, offset in offsets:
            row = self._rows.get(row_id)
            if row is not None:
                row.offset = offset
                changed.add(row_id)
        self._changed(changed)

    def rotate(self, row_id: int, new_name: str) -> None:
        row = self._rows[row_id]
        row.name = new_name
        row.rotated = 1
        self._changed({row_id})

    def rotated(self) -> list[tuple[str, int]]:
        """``(name, inode)`` of the files rotated away while still being read, oldest first."""
        return [(row.name, row.inode) for row in self._rows.values() if row.rotated]

    def delete_stale(self, monitored: set[int]) -> int:
        """Delete the rows of every inode not in ``monitored``; how many went.

        Fluent Bit does this once the first scan is done (tail_db.c flb_tail_db_stale_file_delete,
        ``DELETE FROM in_tail_files WHERE inode NOT IN (...)``): a file renamed away from Path or
        deleted while the agent was stopped leaves no offset behind for a new file that gets its inode.
        """
        stale = [row_id for row_id, row in self._rows.items() if row.inode not in monitored]
        for row_id in stale:
            self.delete(row_id)
        return len(stale)

    def delete(self, row_id: int) -> None:
        row = self._rows.pop(row_id)
        ids = self._by_inode[row.inode]
        ids.remove(row_id)
        if not ids:
            del self._by_inode[row.inode]
        self.writer.put({row_id: None})

    def _changed(self, row_ids: set[int]) -> None:
        """Hand the rows' states as they are now to the writer."""
        if row_ids:
            self.writer.put({row_id: self._rows[row_id].state(row_id) for row_id in row_ids})

    def _write_rows(self, rows: dict[int, dict[str, Any] | None]) -> None:
        """On the writer's thread, holding its lock: the rows' latest states in one transaction."""
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany(SQL_DELETE_FILE, [{"id": row_id} for row_id, state in rows.items() if state is None])
            self._conn.executemany(SQL_SAVE_FILE, [state for state in rows.values() if state is not None])
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def flush(self) -> None:
        """Return once every change handed over before is saved."""
        await self.writer.flush()

    def close(self) -> None:
        """Save the changes still waiting, then close the file."""
        self.writer.close()
        self._conn.close()
