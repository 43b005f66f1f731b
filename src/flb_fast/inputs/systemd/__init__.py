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
tags and sizes in C, grouped by tag (records.py is the Python reference of the shaping). How work is driven: the journal's file descriptor is watched on the event loop
(``add_reader``; no thread), and a one-second timer stands in for journals whose changes it cannot
see, as Fluent Bit's pending-records collector does. Reading the journal is CPU work on mmap'ed
files (about 3 µs of CPU per entry on the 2-core test machine, records included), so one pass reads
at most ``PASS_MAX_ENTRIES`` entries, hands them on and yields to the loop before the next pass.

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
import stat
from collections import deque
from typing import Any

from flb_fast import _core
from flb_fast.config.common import DB_SYNC_LEVELS
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.inputs.base import Input
from flb_fast.inputs.db_writer import DBOpenError
from flb_fast.inputs.systemd import library
from flb_fast.inputs.systemd.db import CursorDB
from flb_fast.inputs.systemd.records import TagComposer
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# Entries per pass on the loop: at ~3 µs of CPU per entry (sd-journal and the record, on the 2-core
# test machine) a pass holds the loop for about 1.5 ms.
PASS_MAX_ENTRIES = 512
# systemd.c: "pause if we have processed more than 1MB": a pass ends once its entries hold more data.
PASS_MAX_BYTES = 1_024_000
# systemd.c: flb_input_set_collector_time(ins, in_systemd_collect, 1, 0, config).
PENDING_CHECK_SECONDS = 1.0
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
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        # sd-journal objects are thread-agnostic (sd-journal(3)): the one thread that opens the
        # journal is the one that reads it, here the event loop's.
        self.reader = self.open_journal()
        if self.options.db:
            # Opening may create the file and sync it: disk work, off the loop.
            opener = BoundedExecutor(f"{self.ctx.instance}.db-open", 1)
            try:
                self.db, saved = await opener.run(self._open_db, self.options.db)
            except DBOpenError:
                # The input does not start, so nothing will stop it: its journal is closed here.
                self.reader.close()
                self.reader = None
                raise
            finally:
                opener.shutdown()
            if self.db.duplicates_removed:
                self.ctx.log.warning("db: table in_systemd_cursor looks corrupted, it has more than one entry "
                                     "(rows=%d), the table content will be fixed", self.db.duplicates_removed + 1)
            self._seek_saved_cursor(saved)
        loop = asyncio.get_running_loop()
        self.fd = self.reader.fileno()
        loop.add_reader(self.fd, self._on_journal_event)
        self.tasks = [
            loop.create_task(self._read_loop(), name=f"{self.ctx.instance}.reader"),
            loop.create_task(self._pending_timer(), name=f"{self.ctx.instance}.pending"),
        ]
        self.wake.set()

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

    def _open_db(self, path: str) -> tuple[CursorDB, str | None]:
        """The cursor DB, opened, and the cursor it holds."""
        db = CursorDB(path, self.sync_level, f"{self.ctx.instance}.db", self.ctx.log)
        return db, db.cursor()

    def _seek_saved_cursor(self, cursor: str | None) -> None:
        """Just after the saved entry: seek to it and step onto it (the next read is the one after)."""
        if cursor is None:
            return
        assert self.reader is not None
        if self.reader.seek_cursor(cursor) != 0:
            self.ctx.log.warning("seek_cursor failed")
            return
        self.ctx.log.info("seek_cursor=%.40s... OK", cursor)

    def resume(self) -> None:
        super().resume()
        self.wake.set()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        if self.fd is not None:
            asyncio.get_running_loop().remove_reader(self.fd)
            self.fd = None
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    async def close(self) -> None:
        """After the last acknowledgement: the DB holds the cursor of the last entry delivered."""
        if self.db is not None:
            await self.db.flush()
            self.db.close()
            self.db = None

    def acknowledge(self, positions: list[Any]) -> None:
        """Save the cursor of the newest chunk acknowledged with every chunk before it, at once."""
        for mark in positions:
            mark.acked = True
        newest: bytes | None = None
        unacked = self.unacked
        while unacked and unacked[0].acked:
            cursor = unacked.popleft().cursor
            if cursor is not None:
                newest = cursor
        if newest is not None and self.db is not None:
            self.db.save(newest.decode())

    # ---- reading -----------------------------------------------------------------------------

    def _on_journal_event(self) -> None:
        """The journal's inotify fd is readable: let sd-journal take the changes in, then read."""
        assert self.reader is not None
        status = self.reader.process()
        if status < 0:
            self.ctx.log.error("sd_journal_process() failed: %s", os.strerror(-status))
            self.ctx.metrics.inc("read_errors")
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
                while not self.paused and self.read_pass():
                    await asyncio.sleep(0)
            except Exception:
                # Whatever went wrong, the input keeps reading: counted, logged, tried again shortly.
                self.ctx.metrics.inc("read_errors")
                self.ctx.log.exception("reading the journal failed")
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)
                self.wake.set()

    def read_pass(self) -> bool:
        """Read up to one pass of entries and emit them, a chunk per tag; True if more may be waiting."""
        reader = self.reader
        assert reader is not None
        with_db = self.db is not None
        groups, cursor, status, broken = reader.read(self.pass_entries, PASS_MAX_BYTES, self.tags.tag, with_db)
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
            self._read_error(status)
        return status > 0

    def _read_error(self, status: int) -> None:
        """systemd.c: an entry that cannot be read means its file went away; start over from the head."""
        assert self.reader is not None
        self.ctx.metrics.inc("read_errors")
        seek = self.reader.seek_head()
        self.ctx.log.error("sd_journal_next() returned error %d; journal is re-opened, unread logs are lost; "
                           "sd_journal_seek_head() returned %d", status, seek)
