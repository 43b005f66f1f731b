"""Offsets and cursors written to an input's SQLite ``DB`` on a thread of its own, off the event loop.

Fluent Bit writes the tail offsets (tail_db.c ``flb_tail_db_file_offset``) and the journal cursor
(systemd_db.c ``flb_systemd_db_set_cursor``) on its engine thread as records are read. A commit
waits on the disk: with ``DB.sync full`` every commit is an fsync, and in WAL mode every
checkpoint is one; on the event loop it would hold every input and output for as long. So an
input hands the new values of each pass to a ``LatestWriter``, whose one thread writes what is
pending in one transaction at a time. Values given meanwhile wait for the next transaction, only
the latest per key (a file's offset, the cursor: an older one is of no use once a newer one is
known), so what waits is bounded by the number of keys.

Transactions are at least ``WRITE_INTERVAL_SECONDS`` apart (``flush`` and ``close`` do not wait
for it). Each one costs the writer's thread a wake-up, the GIL handed to it and back, and SQLite's
locks and writes; at one a pass (227 transactions in the 2.3 s of ``python -m bench.bench_pipeline
--lines 1000000``) the writer's thread and its wake-ups took about 5% of the agent's CPU samples
(perf; bench/README.md "The DB writer"). A crash may lose the offsets of the last interval: their
lines are read again at the next start, never lost.

The tail input hands the writer every change to its rows (a file's row made when it opens, its
offset, a rotation, a deletion), keyed by row, and reads its rows from its own copy, so it runs no
statement on the loop. The systemd input reads its cursor once, at start, on a thread of its own.

Both inputs open their file with ``opened``: a file that cannot be opened or set up stops the
input's start with a ``DBOpenError`` naming it, as Fluent Bit's "cannot open database" does.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from flb_fast.engine.executors import BoundedExecutor

K = TypeVar("K")
V = TypeVar("V")

# The least time between two transactions of a writer (see the module docstring).
WRITE_INTERVAL_SECONDS = 0.1


class DBOpenError(OSError):
    """An input's ``DB`` cannot be opened or set up; the input does not start (as Fluent Bit's
    "cannot open database" stops it), and the message names the file."""

    def __init__(self, path: str, error: sqlite3.Error) -> None:
        super().__init__(f"cannot open database {path}: {error}")


@contextlib.contextmanager
def opened(path: str) -> Iterator[sqlite3.Connection]:
    """The ``DB`` at ``path`` for its set-up statements, in autocommit mode (``BEGIN``/``COMMIT``
    are the caller's), usable from the writer's thread as well as the one opening it (a statement
    run anywhere but on the writer's thread holds the writer's lock). An error opening it or in
    the statements closes it and is a ``DBOpenError``."""
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise DBOpenError(path, exc) from exc
    try:
        yield connection
    except sqlite3.Error as exc:
        connection.close()
        raise DBOpenError(path, exc) from exc


class LatestWriter(Generic[K, V]):
    """The latest value of each key, written by ``write`` on one thread, one batch at a time, a
    batch at least ``interval`` seconds after the one before."""

    def __init__(self, name: str, write: Callable[[dict[K, V]], None], log: Any,
                 interval: float = WRITE_INTERVAL_SECONDS) -> None:
        # The connection's lock: a transaction of ours, or any other statement, holds it throughout.
        self.lock = threading.Lock()
        self._write = write
        self._log = log
        self._interval = interval
        self._guard = threading.Lock()  # _pending and _queued, shared with the loop
        self._pending: dict[K, V] = {}
        self._queued = False
        # When the latest transaction ended (monotonic), and what cuts the wait for the next one short.
        self._written_at = -interval
        self._hurry = threading.Event()
        self._thread = BoundedExecutor(name, 1)

    def put(self, values: Mapping[K, V]) -> None:
        """The newest value of each key given: written together, with the next transaction."""
        with self._guard:
            self._pending.update(values)
            if self._queued:
                return
            self._queued = True
        self._thread.submit(self._drain_in_turn)

    async def flush(self) -> None:
        """Return once everything given before is written (or failed, and was logged)."""
        self._hurry.set()
        await self._thread.run(self._drain)

    def close(self) -> None:
        """Write what still waits here, on the calling thread, and end the writer's thread."""
        self._hurry.set()
        self._thread.shutdown()
        self._drain()

    def _drain_in_turn(self) -> None:
        """One transaction in its turn: once ``interval`` has passed since the latest (or a flush or
        close hurries), write what waits, the values given meanwhile with it; values given during
        the write take the next turn."""
        wait = self._written_at + self._interval - time.monotonic()
        if wait > 0:
            self._hurry.wait(wait)
        self._hurry.clear()
        if self._write_once():
            try:
                self._thread.submit(self._drain_in_turn)
            except RuntimeError:  # closed meanwhile: close writes what waits
                pass

    def _drain(self) -> None:
        """Write what waits, and what is given meanwhile, until nothing waits."""
        while self._write_once():
            pass

    def _write_once(self) -> bool:
        """Write what waits in one transaction; False when nothing waited or the write failed
        (then no turn is queued: the next put or flush starts one)."""
        with self.lock:
            with self._guard:
                batch, self._pending = self._pending, {}
                if not batch:
                    self._queued = False
                    return False
            try:
                self._write(batch)
            except Exception as error:  # sqlite3.Error, OSError: the disk is full or gone
                with self._guard:
                    # Newer values given meanwhile win; the next put or flush tries again.
                    self._pending = {**batch, **self._pending}
                    self._queued = False
                self._log.error("db: could not save %d value(s), next write will retry: %s",
                                len(batch), error)
                return False
            finally:
                self._written_at = time.monotonic()
            return True
