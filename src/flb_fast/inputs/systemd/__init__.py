"""The ``systemd`` input: read the systemd journal, entry by entry, as plugins/in_systemd does.

Fluent Bit's ``in_systemd_collect`` with its config (systemd_config.c) and cursor DB
(systemd_db.c): the journal is opened in ``Path`` (or the local machine's journal), the
``Systemd_Filter`` matches are added in order, each followed by an AND or OR
(``Systemd_Filter_Type``), the reader starts at the head, or at the end with
``Read_From_Tail``, or just after the cursor saved in ``DB``. Each entry becomes one record
(records.py) stamped with the entry's realtime timestamp (``sd_journal_get_realtime_usec``, the
journal's own receive time, not ``_SOURCE_REALTIME_TIMESTAMP``); each pass hands on one chunk
per tag, each tag's records in journal order, as Fluent Bit appends each run of a tag to that
tag's input chunk.

The journal is read with libsystemd's sd-journal API from the compiled module (_core/journal.pxi,
the library found by library.py): one call per pass reads the entries and builds their records,
tags and sizes in C, grouped by tag (records.py is the Python reference of the shaping). How work
is driven: the journal's file descriptor is watched on the event loop (``add_reader``), and a
one-second timer stands in for journals whose changes it cannot see, as Fluent Bit's
pending-records collector does. Everything that touches the journal or the DB (opening the
files, ``sd_journal_process``, reading a pass's entries, a seek, a cursor save, closing) runs on
one worker thread, one call at a time and in the order asked: a pass reads mmap'ed files, and a
cold file waits on the disk; a cursor save is an SQLite commit. The entries are read there with
the GIL released; their records are then built on the loop from the copied fields (CPU only,
about 3 µs per entry on the 2-core test machine, journal included), so that the two threads do
not contend for the GIL, and one pass reads at most ``PASS_MAX_ENTRIES`` entries.

The cursor in ``DB`` is that of the last entry of the last pass whose records the engine
acknowledged (delivered to every output, or written to a chunk file) with every pass before it,
as the tail input does with its offsets; Fluent
Bit saves it as soon as the entries are read (``in_systemd_collect``), so a crash loses what
was read and not yet delivered. Here those entries are read again after a restart.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import sqlite3
import stat
from collections import deque
from typing import Any

from flb_fast import _core
from flb_fast.config.common import DB_SYNC_LEVELS
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.inputs.base import Input
from flb_fast.inputs.systemd import library
from flb_fast.inputs.systemd.db import CursorDB
from flb_fast.inputs.systemd.records import TagComposer
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# Entries per pass: at ~3 µs of CPU per entry (sd-journal and the record, on the 2-core test
# machine) building a pass's records holds the GIL, and so the loop, for about 1.5 ms.
PASS_MAX_ENTRIES = 512
# systemd.c: "pause if we have processed more than 1MB": a pass ends once its entries hold more data.
PASS_MAX_BYTES = 1_024_000
# systemd.c: flb_input_set_collector_time(ins, in_systemd_collect, 1, 0, config).
PENDING_CHECK_SECONDS = 1.0
# One thread owns the sd_journal handle from open to close (sd_journal_open(3): "only a single
# specific thread may operate on a given object during its entire lifetime"; a pool of one keeps
# its thread until shut down) and the DB connection, which keeps the cursor saves in order.
JOURNAL_WORKERS = 1
# Pause after an unexpected error in a pass, so a persistent one cannot spin the loop.
ERROR_BACKOFF_SECONDS = 0.1
# systemd_config.c: entries skipped after seeking to the tail (systemd bug #9934 workaround).
TAIL_SKIP_ENTRIES = 350
# sd_journal_add_match accepts FIELD=value with FIELD of [A-Z0-9_], not starting with "__"
# (sd-journal.c match_is_valid); anything else fails Fluent Bit's start-up.
_MATCH_RE = re.compile(r"^(?!__)[A-Z0-9_]+=", re.DOTALL)


class CursorMark:
    """A chunk's place in the journal: the cursor of its pass's last entry on the pass's last
    chunk, None on the others; ``acked`` once the engine says the chunk's records are safe."""

    __slots__ = ("cursor", "acked")

    def __init__(self, cursor: bytes | None) -> None:
        self.cursor = cursor
        self.acked = False


class SystemdInput(Input):
    name = "systemd"
    description = "Systemd (Journal) reader"
    OPTIONS = OptionTable(
        Option("path", STR, None, "journal directory (default: the local machine's journal)"),
        Option("max_fields", INT, "8000", "maximum fields taken from one entry"),
        Option("max_entries", INT, "5000", "maximum entries read per pass"),
        Option("systemd_filter_type", STR, None, "how Systemd_Filter matches combine: 'and' or 'or' (default)"),
        Option("systemd_filter", STR, None, "a FIELD=value match on journal entries; may be set multiple times",
               multi=True),
        Option("read_from_tail", BOOL, "false", "start at the end of the journal"),
        Option("lowercase", BOOL, "false", "lowercase the field names"),
        Option("strip_underscores", BOOL, "false", "strip one leading underscore from field names"),
        Option("db.sync", STR, None, "SQLite synchronous mode of the DB: extra, full, normal or off"),
        Option("db", STR, None, "SQLite file keeping the journal cursor across restarts"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.sync_level: int | None = None
        if options.db_sync is not None:
            if options.db_sync.lower() not in DB_SYNC_LEVELS:
                raise PluginConfigError("db.sync", f"invalid database 'db.sync' value: {options.db_sync}")
            self.sync_level = DB_SYNC_LEVELS[options.db_sync.lower()]
        filter_type = (options.systemd_filter_type or "or").lower()
        if filter_type not in ("and", "or"):
            raise PluginConfigError("systemd_filter_type",
                                    f"systemd_filter_type must be 'and' or 'or'. Got {options.systemd_filter_type}")
        self.filter_is_and = filter_type == "and"
        for match in options.systemd_filter:
            if not _MATCH_RE.match(match):
                raise PluginConfigError("systemd_filter", f"systemd_filter error: invalid input '{match}'")
        self.tags = TagComposer(options.tag or ctx.instance)
        self.pass_entries = max(1, min(options.max_entries, PASS_MAX_ENTRIES))
        ctx.metrics.setdefault("read_errors", 0)
        self.reader: _core.Journal | None = None
        self.db: CursorDB | None = None
        # With a DB: the cursors handed out with chunks, oldest first, until acknowledged in order.
        self.unacked: deque[CursorMark] = deque()
        self.fd: int | None = None
        self.worker: BoundedExecutor | None = None
        self.journal_changed = False
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.worker = BoundedExecutor(f"{self.ctx.instance}.journal", JOURNAL_WORKERS)
        try:
            await self._open()
        except BaseException:
            await self.stop()
            await self.close()
            raise
        self.tasks = [
            loop.create_task(self._read_loop(), name=f"{self.ctx.instance}.reader"),
            loop.create_task(self._pending_timer(), name=f"{self.ctx.instance}.pending"),
        ]
        self.wake.set()

    async def _open(self) -> None:
        """Open the journal and the DB on the journal's thread, seek, and watch the journal's fd."""
        worker = self._journal_worker()
        self.reader = await worker.run(self.open_journal)
        if self.options.db:
            self.db = await worker.run(CursorDB, self.options.db, self.sync_level)
            if self.db.duplicates_removed:
                self.ctx.log.warning("db: table in_systemd_cursor looks corrupted, it has more than one entry "
                                     "(rows=%d), the table content will be fixed", self.db.duplicates_removed + 1)
            cursor = await worker.run(self.db.cursor)
            if cursor is not None:
                if await worker.run(self.reader.seek_cursor, cursor) != 0:
                    self.ctx.log.warning("seek_cursor failed")
                else:
                    self.ctx.log.info("seek_cursor=%.40s... OK", cursor)
        self.fd = await worker.run(self.reader.fileno)
        asyncio.get_running_loop().add_reader(self.fd, self._on_journal_event)

    def open_journal(self) -> _core.Journal:
        """systemd_config.c: open the journal, add the matches, seek to where reading starts."""
        path = self.options.path
        if path:
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                raise OSError(f"given path {path} is invalid: {exc.strerror}") from None
            if not stat.S_ISDIR(mode):
                raise OSError(f"given path is not a directory: {path}")
        tags = self.tags
        reader = _core.Journal(library.default(), path or None, tags.prefix, tags.suffix, tags.dynamic,
                               bool(self.options.strip_underscores), bool(self.options.lowercase),
                               self.options.max_fields)
        for match in self.options.systemd_filter:
            try:
                reader.add_match(match.encode(), self.filter_is_and)
            except OSError as exc:
                reader.close()
                if exc.errno == errno.EINVAL:
                    raise OSError(f"systemd_filter error: invalid input '{match}'") from None
                raise OSError(f"systemd_filter error: status={-(exc.errno or 0)} input '{match}'") from None
        if self.options.read_from_tail:
            reader.seek_tail(TAIL_SKIP_ENTRIES)
        else:
            reader.seek_head()
        return reader

    def resume(self) -> None:
        super().resume()
        self.wake.set()

    async def stop(self) -> None:
        """Stop reading; the journal is closed on its thread once a pass in flight there is done."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        if self.fd is not None:
            asyncio.get_running_loop().remove_reader(self.fd)
            self.fd = None
        if self.reader is not None:
            await self._journal_worker().run(self.reader.close)
            self.reader = None

    async def close(self) -> None:
        """After the last acknowledgement: the DB holds the cursor of the last entry delivered,
        once the saves queued before it are done."""
        if self.worker is None:
            return
        if self.db is not None:
            await self.worker.run(self.db.close)
            self.db = None
        self.worker.shutdown()
        self.worker = None

    def acknowledge(self, positions: list[Any]) -> None:
        """Save the cursor of the newest chunk acknowledged with every chunk before it, on the
        journal's thread after what was queued there before (a commit waits on the disk)."""
        for mark in positions:
            mark.acked = True
        newest: bytes | None = None
        unacked = self.unacked
        while unacked and unacked[0].acked:
            cursor = unacked.popleft().cursor
            if cursor is not None:
                newest = cursor
        if newest is not None and self.db is not None:
            self._journal_worker().submit(self._save_cursor, asyncio.get_running_loop(), self.db, newest.decode())

    def _save_cursor(self, loop: asyncio.AbstractEventLoop, db: CursorDB, cursor: str) -> None:
        """On the journal's thread: a DB that cannot be written is logged and counted; reading goes on."""
        try:
            db.save(cursor)
        except sqlite3.Error as exc:
            loop.call_soon_threadsafe(self.ctx.metrics.inc, "read_errors")
            self.ctx.log.error("db: cannot save the journal cursor: %s", exc)

    def _journal_worker(self) -> BoundedExecutor:
        assert self.worker is not None
        return self.worker

    # ---- reading -----------------------------------------------------------------------------

    def _on_journal_event(self) -> None:
        """The journal's inotify fd is readable: stop watching it until sd_journal_process, on the
        journal's thread, has taken the changes in (the fd stays readable until then)."""
        assert self.fd is not None
        asyncio.get_running_loop().remove_reader(self.fd)
        self.journal_changed = True
        self.wake.set()

    async def _pending_timer(self) -> None:
        while True:
            await asyncio.sleep(PENDING_CHECK_SECONDS)
            self.wake.set()

    async def _read_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                if self.journal_changed:
                    self.journal_changed = False
                    await self._process_changes()
                while not self.paused and await self.read_pass():
                    pass
            except Exception:
                # Whatever went wrong, the input keeps reading: counted, logged, tried again shortly.
                self.ctx.metrics.inc("read_errors")
                self.ctx.log.exception("reading the journal failed")
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)
                self.wake.set()

    async def _process_changes(self) -> None:
        assert self.reader is not None and self.fd is not None
        try:
            status = await self._journal_worker().run(self.reader.process)
        finally:
            asyncio.get_running_loop().add_reader(self.fd, self._on_journal_event)
        if status < 0:
            self.ctx.log.error("sd_journal_process() failed: %s", os.strerror(-status))
            self.ctx.metrics.inc("read_errors")

    async def read_pass(self) -> bool:
        """One pass: the journal read on its thread (``Journal.collect``, the GIL released), then
        the records built (``Journal.build``, about 1.5 ms of CPU at most: ``PASS_MAX_ENTRIES``)
        and emitted from the loop, a chunk per tag; True if more may be waiting."""
        reader = self.reader
        assert reader is not None
        worker = self._journal_worker()
        with_db = self.db is not None
        await worker.run(reader.collect, self.pass_entries, PASS_MAX_BYTES, with_db)
        groups, cursor, status, broken = reader.build(self.tags.tag)
        emit = self.ctx.emit
        assert emit is not None
        last = len(groups) - 1
        for n, (tag, timestamps, records, size) in enumerate(groups):
            chunk = Chunk(tag, timestamps, records, size)
            if with_db:
                # The pass's cursor is saved once all its chunks (and those before) are acknowledged.
                mark = CursorMark(cursor if n == last else None)
                self.unacked.append(mark)
                chunk.positions = [mark]
            emit(chunk)
        if broken:
            self.ctx.metrics.inc("read_errors", broken)
            self.ctx.log.error("Skip %d broken entries", broken)
        if status < 0:
            # systemd.c: an entry that cannot be read means its file went away; start over from the head.
            self.ctx.metrics.inc("read_errors")
            seek = await worker.run(reader.seek_head)
            self.ctx.log.error("sd_journal_next() returned error %d; journal is re-opened, unread logs are lost; "
                               "sd_journal_seek_head() returned %d", status, seek)
        return status > 0
