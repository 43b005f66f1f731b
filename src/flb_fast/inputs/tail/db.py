"""File offsets in SQLite, in Fluent Bit's own ``in_tail_files`` table.

The schema and statements are those of Fluent Bit's plugins/in_tail/tail_sql.h, so a DB
written by Fluent Bit keeps its place when a user switches to flb_fast (and back). Offsets of
all files read in one pass are written in one transaction, on the writer's thread
(``flb_fast.inputs.db_writer``): one commit per pass at most, not per line, and none on the loop.
"""

from __future__ import annotations

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
SQL_GET_FILE = "SELECT * from in_tail_files WHERE inode=@inode order by id desc;"
SQL_GET_FILE_BY_INODE_AND_NAME = "SELECT * from in_tail_files WHERE inode=@inode AND name=@name order by id desc;"
SQL_INSERT_FILE = "INSERT INTO in_tail_files (name, offset, inode, created)  VALUES (@name, @offset, @inode, @created);"
SQL_ROTATE_FILE = "UPDATE in_tail_files set name=@name,rotated=1 WHERE id=@id;"
SQL_UPDATE_OFFSET = "UPDATE in_tail_files set offset=@offset WHERE id=@id;"
SQL_DELETE_FILE = "DELETE FROM in_tail_files WHERE id=@id;"
SQL_GET_ROTATED = "SELECT name, inode FROM in_tail_files WHERE rotated=1 ORDER BY id;"
SQL_GET_IDS_AND_INODES = "SELECT id, inode FROM in_tail_files;"

SYNC_LEVELS = DB_SYNC_LEVELS
JOURNAL_MODES = frozenset({"DELETE", "TRUNCATE", "PERSIST", "MEMORY", "WAL", "OFF"})


class OffsetsDB:
    """The ``DB`` file: where each file (by inode, optionally also by name) was left.

    Offsets are saved by ``writer`` on its thread; every other statement runs on the caller's
    thread holding the writer's lock, and ``lookup`` sees the offsets still on their way.
    """

    def __init__(self, path: str, sync: str, locking: bool, journal_mode: str, compare_filename: bool,
                 name: str, log: Any) -> None:
        self.compare_filename = compare_filename
        # Autocommit (``opened``): BEGIN/COMMIT are issued around each batch of offsets.
        with opened(path) as self._conn:
            self._conn.execute(SQL_CREATE_FILES)
            self._conn.execute(f"PRAGMA synchronous={SYNC_LEVELS[sync.lower()]};")
            if locking:
                self._conn.execute("PRAGMA locking_mode=EXCLUSIVE;")
            self._conn.execute(f"PRAGMA journal_mode={journal_mode.upper()};")
        self.writer: LatestWriter[int, int] = LatestWriter(name, self._write_offsets, log)

    def lookup(self, inode: int, name: str) -> tuple[int, int] | None:
        """``(id, offset)`` of the newest row for this file, or ``None``."""
        with self.writer.lock:
            if self.compare_filename:
                row = self._conn.execute(SQL_GET_FILE_BY_INODE_AND_NAME, {"inode": inode, "name": name}).fetchone()
            else:
                row = self._conn.execute(SQL_GET_FILE, {"inode": inode}).fetchone()
        if row is None:
            return None
        waiting = self.writer.pending(row[0])
        return row[0], (row[2] or 0) if waiting is None else waiting

    def insert(self, name: str, offset: int, inode: int) -> int:
        with self.writer.lock:
            cursor = self._conn.execute(
                SQL_INSERT_FILE, {"name": name, "offset": offset, "inode": inode, "created": int(time.time())}
            )
        return int(cursor.lastrowid or 0)

    def save_offsets(self, offsets: Iterable[tuple[int, int]]) -> None:
        """Hand ``(id, offset)`` pairs to the writer: saved together, with the next transaction."""
        self.writer.put(dict(offsets))

    def _write_offsets(self, offsets: dict[int, int]) -> None:
        """On the writer's thread, holding its lock: ``{id: offset}`` in one transaction."""
        self._in_one_transaction(SQL_UPDATE_OFFSET,
                                 [{"offset": offset, "id": row_id} for row_id, offset in offsets.items()])

    def _in_one_transaction(self, statement: str, rows: list[dict[str, int]]) -> None:
        """``statement`` for each of ``rows``, all committed or none; the caller holds the writer's lock."""
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany(statement, rows)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def rotate(self, row_id: int, new_name: str) -> None:
        with self.writer.lock:
            self._conn.execute(SQL_ROTATE_FILE, {"name": new_name, "id": row_id})

    def rotated(self) -> list[tuple[str, int]]:
        """``(name, inode)`` of the files rotated away while still being read, oldest first."""
        with self.writer.lock:
            return [(row[0], row[1]) for row in self._conn.execute(SQL_GET_ROTATED).fetchall()]

    def delete_stale(self, monitored: set[int]) -> int:
        """Delete the rows of every inode not in ``monitored``; how many went.

        Fluent Bit does this once the first scan is done (tail_db.c flb_tail_db_stale_file_delete,
        ``DELETE FROM in_tail_files WHERE inode NOT IN (...)``): a file renamed away from Path or
        deleted while the agent was stopped leaves no offset behind for a new file that gets its inode.
        """
        with self.writer.lock:
            stale = [{"id": row_id} for row_id, inode in self._conn.execute(SQL_GET_IDS_AND_INODES)
                     if inode not in monitored]
            if stale:
                self._in_one_transaction(SQL_DELETE_FILE, stale)
        return len(stale)

    def delete(self, row_id: int) -> None:
        # An offset still waiting must not land on a later row that reuses this id.
        with self.writer.lock:
            self.writer.discard(row_id)
            self._conn.execute(SQL_DELETE_FILE, {"id": row_id})

    async def flush(self) -> None:
        """Return once every offset handed over before is saved."""
        await self.writer.flush()

    def close(self) -> None:
        """Save the offsets still waiting, then close the file."""
        self.writer.close()
        self._conn.close()
