"""The ``tail`` input: follow files matched by ``Path`` and emit one Chunk per read buffer.

Fluent Bit's in_tail, with deliberate differences that close its best-known causes of lost
logs: a rotated or deleted file is closed only once it has been read to the end and all its
records are acknowledged (never abandoned with unread bytes after ``Rotate_Wait``, fluent-bit
#10414), and the DB offset is the end of the last complete line whose record the engine
acknowledged: delivered to every output, or written to a chunk file with filesystem storage.
A line joined by Docker_Mode, still partial or still on its way is read again after a crash or
restart, never skipped.

How work is driven: watchers (inotify or stat polling) and rescans only put files in an
ordered "ready" set; one reader task drains that set, one read buffer per file per turn, up
to a byte budget per pass, then yields to the loop. A change costs O(1); a pass costs O(bytes).
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from collections.abc import Callable, Sequence
from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, CLIST, INT, SIZE, STR, TIME, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.inputs.base import Input
from flb_fast.inputs.db_writer import DBOpenError
from flb_fast.inputs.tail import scan as scan_module
from flb_fast.inputs.tail.copytruncate import RotatedCopy, find_copy, later_copies
from flb_fast.inputs.tail.db import JOURNAL_MODES, SYNC_LEVELS, OffsetsDB
from flb_fast.inputs.tail.docker_mode import DockerModeJoiner
from flb_fast.inputs.tail.file import Position, ReadBuffer, TailFile, name_of, new_splitter, open_readonly
from flb_fast.inputs.tail.firstline import FirstlineMultiline
from flb_fast.inputs.tail.multiline import FLUSH_SECONDS as MULTILINE_FLUSH_SECONDS
from flb_fast.inputs.tail.multiline import RUNTIME_PARSERS, RulesMultiline, RuntimeMultiline
from flb_fast.inputs.tail.records import RecordBuilder
from flb_fast.inputs.tail.tag import TagComposer
from flb_fast.inputs.tail.watch import Callbacks, make_watcher
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# Bytes per read call. Reads share one buffer for the whole input (reads are sequential on the
# loop, and the splitter copies the partial line it keeps), so a larger buffer costs memory
# once, not per file: 1,000 files cost their partial lines, not 1,000 buffers. 256 KiB means
# about 800 typical container lines per Chunk and per compiled call (Vector: max_read_bytes).
READ_BUFFER_BYTES = 256 * 1024
# Near its Mem_Buf_Limit the input reads only as much as the records it may still hold will take
# (``ctx.room``). The input is paused after the batch that crosses the limit, as Fluent Bit's after
# the append that crosses it, so whole 256 KiB reads of merged kubernetes records let what is held
# pass 5 MB by up to 1.4 MB; cut reads, by up to 0.6 MB (the pause lines of bench_pipeline --variant
# kubernetes --lines 300000: what a batch will hold once filtered is an estimate). Cutting reads does
# not cut chunks: open chunks keep growing across the pauses (``storage.store`` ``open_due``).
# A cut read is never smaller than this, so that the per-batch work stays small per line; only
# reads of at least this size teach what a byte read holds (a few short lines of a file being
# written to hold more per byte: their records' own cost weighs more than their text).
MIN_READ_BYTES = 32 * 1024
# What a byte read holds once emitted follows the latest reads as a moving average over about this many.
HELD_PER_BYTE_READS = 8
# Bytes read per pass before the reader yields to the loop, whatever static/event_batch_size
# allow (Fluent Bit's 50M default assumes a collector thread; here the loop also runs flushes).
PASS_MAX_BYTES = 4 * 1024 * 1024
# How often files being joined (Docker_Mode, multiline) and closing files are looked at.
HOUSEKEEPING_SECONDS = 0.5
# Pause after an unexpected error in a read pass, so a persistent one cannot spin the loop.
ERROR_BACKOFF_SECONDS = 0.1
# open(2) errors meaning the path no longer names a file (ENOTDIR: a folder on the way became a file).
GONE_ERRNOS = (errno.ENOENT, errno.ENOTDIR)

class TailInput(Input):
    name = "tail"
    description = "Tail files"

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        if not options.path:
            raise PluginConfigError("path", "no input 'path' was given")
        self.patterns: list[str] = options.path
        self.excludes: list[str] = options.exclude_path or []
        try:
            self.tags = TagComposer(options.tag or ctx.instance, options.tag_regex)
        except Exception as exc:  # re.error or a malformed <group> reference
            raise PluginConfigError("tag_regex", f"invalid Tag_Regex/Tag: {exc}") from None
        if options.db_sync.lower() not in SYNC_LEVELS:
            raise PluginConfigError("db.sync", f"invalid database 'db.sync' value: {options.db_sync}")
        if options.db_journal_mode.upper() not in JOURNAL_MODES:
            raise PluginConfigError("db.journal_mode", f"invalid 'db.journal_mode' value: {options.db_journal_mode}")
        if options.buffer_chunk_size > options.buffer_max_size:
            raise PluginConfigError("buffer_max_size", "buffer_max_size must be >= buffer_chunk")
        self.buffer_max_size = options.buffer_max_size
        self.read_buffer = ReadBuffer(max(READ_BUFFER_BYTES, options.buffer_chunk_size))
        # Bytes of memory the engine holds per byte read (0 until a read has been emitted).
        self.held_per_byte = 0.0
        self.pass_bytes = max(1, min(options.static_batch_size or PASS_MAX_BYTES,
                                     options.event_batch_size or PASS_MAX_BYTES, PASS_MAX_BYTES))
        parser = self._lookup_parser("parser", options.parser)
        self.docker_mode_parser = self._lookup_parser("docker_mode_parser", options.docker_mode_parser)
        self.multiline_parsers = [name for group in options.multiline_parser for name in group]
        self.rule_parsers = self._lookup_multiline_parsers()
        self.docker_mode = bool(options.docker_mode) and not self.multiline_parsers
        self.docker_mode_flush = max(1, options.docker_mode_flush)
        # (option, message) the engine reports as warnings at the option's file:line.
        self.config_warnings: list[tuple[str, str]] = []
        self.firstline_parsers = self._lookup_firstline_parsers()
        if self.firstline_parsers is not None and parser is not None:
            self.config_warnings.append(("parser", "on multiline mode 'Parser' is not allowed (parser disabled)"))
            parser = None
        if self.rule_parsers and len(self.rule_parsers) != len(self.multiline_parsers):
            self.config_warnings.append(("multiline.parser", "combining docker/cri with other multiline parsers is "
                                         "not supported yet by flb_fast: only docker and cri are applied"))
        self.builder = RecordBuilder(
            parser, options.key, options.path_key, options.offset_key, ctx.metrics
        )
        # Fluent Bit's in_tail counters (tail_config.c), then ours.
        for counter in ("files_opened", "files_closed", "files_rotated", "long_line_skipped", "long_line_truncated",
                        "multiline_truncated", "files_unreadable", "lines_unparsed", "lines_invalid_utf8", "read_errors"):
            ctx.metrics.setdefault(counter, 0)

        self.files: dict[tuple[int, int], TailFile] = {}
        self.by_path: dict[str, TailFile] = {}
        self.ready: dict[TailFile, None] = {}
        self.closing: set[TailFile] = set()
        self.joining: set[TailFile] = set()
        # Files whose committed offset differs from the DB's: handed to its writer once per pass.
        self.unsaved: set[TailFile] = set()
        # A save of the acknowledged offsets is queued for the loop's next turn (``acknowledge``).
        self.save_queued = False
        # Paths that exist but cannot be opened (permission denied): logged and counted once while they exist.
        self.unreadable: set[str] = set()
        # Paths whose file was rotated away before its successor was created (the runtime renames,
        # writes on, then reopens): looked for at every wake-up and housekeeping until found or
        # until a rescan's interval has passed, so a short-lived successor is not left to rescans.
        self.successors: dict[str, float] = {}
        # Files given up at a line longer than Buffer_Max_Size, by (dev, inode): rescans leave
        # them alone while they exist (Fluent Bit re-reads one from its head at every rescan and
        # sends its first lines again each time; see the README's differences).
        self.abandoned: set[tuple[int, int]] = set()
        self.db: OffsetsDB | None = None
        self.watcher: Any = None
        self.scanner: BoundedExecutor | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.wake = asyncio.Event()
        self.stopping = False

    def _lookup_firstline_parsers(self) -> list[Any] | None:
        """``Multiline On``: the firstline parser, then each ``Parser_N`` in config order (tail_multiline.c
        ``flb_tail_mult_create``); ``None`` when the old multiline mode is off, or when
        ``multiline.parser`` or Docker_Mode takes the lines before it (tail_file.c ``process_content``)."""
        options = self.options
        if not options.multiline:
            return None
        if not options.parser_firstline:
            raise PluginConfigError("multiline", "multiline: no parser defined for firstline")
        parsers = [self._lookup_parser("parser_firstline", options.parser_firstline)]
        for entry in options.sequence:
            if entry.field != "parser_":
                continue
            parser = self.ctx.parsers.get(entry.value)
            if parser is None:
                raise PluginConfigError(entry.prop.key, f"multiline: invalid parser '{entry.value}'", entry.prop)
            parsers.append(parser)
        if self.multiline_parsers:
            return None
        if self.docker_mode:
            self.config_warnings.append(("multiline", "Multiline with Docker_Mode is not supported yet by flb_fast: "
                                         "lines are joined by Docker_Mode only"))
            return None
        return parsers

    def _lookup_multiline_parsers(self) -> list[Any]:
        """The rule-based multiline parsers named (go, java, ... or [MULTILINE_PARSER] sections)."""
        others = [name for name in self.multiline_parsers if name not in RUNTIME_PARSERS]
        found = []
        for name in others:
            parser = self.ctx.parsers.get_multiline(name)
            if parser is None:
                raise PluginConfigError("multiline.parser", f"multiline parser '{name}' is not registered")
            found.append(parser)
        return found

    def _lookup_parser(self, option: str, name: str | None) -> Any:
        if not name:
            return None
        parser = self.ctx.parsers.get(name)
        if parser is None:
            raise PluginConfigError(option, f"parser '{name}' is not registered")
        return parser

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.scanner = BoundedExecutor(f"{self.ctx.instance}.scan", 1)
        if self.options.db:
            # Opening may create the file and switch its journal mode: disk work, off the loop.
            try:
                self.db = await self.scanner.run(
                    OffsetsDB, self.options.db, self.options.db_sync, self.options.db_locking,
                    self.options.db_journal_mode, self.options.db_compare_filename, f"{self.ctx.instance}.db",
                    self.ctx.log,
                )
            except DBOpenError:
                # The input does not start, so nothing will stop it: its scan thread ends here.
                self.scanner.shutdown()
                raise
        self.watcher = make_watcher(
            self.options.inotify_watcher,
            Callbacks(self._mark_ready, self._check_identity, self._check_all),
            self.ctx.log,
        )
        self.watcher.start()
        found = await self._scan()
        for path, _st in found:
            self._open(path, from_head=self.options.read_from_head)
        if self.db is not None:
            for name, inode in self.db.rotated():
                self._resume_rotated(name, inode)
            stale = self.db.delete_stale({file.inode for file in self.files.values()})
            self.ctx.log.info("db: delete unmonitored stale inodes from the database: count=%d", stale)
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._reader(), name=f"{self.ctx.instance}.reader"),
            loop.create_task(self._every(self.options.refresh_interval, self._refresh), name=f"{self.ctx.instance}.scan"),
            loop.create_task(self._every(HOUSEKEEPING_SECONDS, self._housekeeping), name=f"{self.ctx.instance}.housekeeping"),
            loop.create_task(self._every(self._progress_interval(), self._check_all), name=f"{self.ctx.instance}.progress"),
        ]
        self.wake.set()

    def _progress_interval(self) -> float:
        seconds = self.options.progress_check_interval + self.options.progress_check_interval_nsec / 1e9
        return seconds if seconds > 0 else 2.0

    def resume(self) -> None:
        super().resume()
        self.wake.set()

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        if self.watcher is not None:
            self.watcher.stop()
        if self.scanner is not None:
            self.scanner.shutdown()
        for file in list(self.files.values()):
            self._flush_joined(file)
        self._save_offsets()

    async def close(self) -> None:
        """Save the offsets acknowledged since ``stop()`` and release the files and the DB."""
        self._save_offsets()
        if self.db is not None:
            await self.db.flush()
        for file in list(self.files.values()):
            file.close()
        self.files.clear()
        self.by_path.clear()
        self.ready.clear()
        if self.db is not None:
            self.db.close()
            self.db = None

    # ---- discovery ---------------------------------------------------------------------------

    async def _every(self, seconds: float, action: Any) -> None:
        interval = seconds if seconds > 0 else 1.0
        while True:
            await asyncio.sleep(interval)
            try:
                result = action()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                self.ctx.log.exception("periodic %s failed", getattr(action, "__name__", action))

    async def _scan(self) -> list[tuple[str, os.stat_result]]:
        assert self.scanner is not None
        return await self.scanner.run(scan_module.scan, self.patterns, self.excludes, self.options.ignore_older)

    async def _refresh(self) -> None:
        found = await self._scan()
        if self.stopping:
            return
        for file in list(self.by_path.values()):
            self._check_identity(file)
        self.abandoned &= {(st.st_dev, st.st_ino) for _, st in found}
        self.unreadable &= {path for path, _ in found}
        for path, st in found:
            if (st.st_dev, st.st_ino) in self.files or (st.st_dev, st.st_ino) in self.abandoned:
                continue
            current = self.by_path.get(path)
            if current is not None:
                self._check_identity(current)
            if path not in self.by_path:
                self._open(path, from_head=self.options.read_newly_discovered_files_from_head)
        if self.options.ignore_active_older_files and self.options.ignore_older > 0:
            self._drop_inactive_old_files()

    def _drop_inactive_old_files(self) -> None:
        now = time.time()
        for file in list(self.by_path.values()):
            try:
                st = os.fstat(file.fd)
            except OSError:
                continue
            if file.read_pos >= st.st_size and scan_module.is_too_old(st, self.options.ignore_older, now):
                self._close(file)

    def _open(self, path: str, from_head: bool) -> TailFile | None:
        """Start tailing ``path`` at its DB offset, else its head or end; ``None`` if it cannot be read."""
        tag = self.tags.compose(path)
        if tag is None:
            self.ctx.log.error("invalid tag_regex pattern for file %s", path)
            return None
        try:
            fd = open_readonly(path)
        except OSError as exc:
            if exc.errno in GONE_ERRNOS:
                # Deleted between the scan and the open (pods come and go by the thousand on a node):
                # nothing was lost and nothing is wrong, unlike Fluent Bit's "cannot open" error.
                self.ctx.log.debug("%s disappeared before it was opened", path)
                return None
            if path not in self.unreadable:
                self.unreadable.add(path)
                self.ctx.metrics.inc("files_unreadable")
                self.ctx.log.warning("cannot open %s: %s", path, exc.strerror)
            return None
        self.unreadable.discard(path)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in self.files:
            os.close(fd)
            return None
        offset = 0 if from_head else st.st_size
        row = self.db.lookup(st.st_ino, path) if self.db is not None else None
        if row is not None:
            offset = row[1] if row[1] <= st.st_size else 0
        file = TailFile(path, fd, st, tag, self._new_splitter(), self._new_joiner(), offset)
        if self.db is not None:
            file.db_id = row[0] if row is not None else self.db.insert(path, offset, st.st_ino)
        if self.options.file_cache_advise:
            self._drop_cached(file, file.drop_cached_file)
        try:
            self.watcher.add(file)
        except OSError as exc:
            self.ctx.log.warning("cannot watch %s (%s): relying on progress checks", path, exc.strerror)
        self.files[file.key] = file
        self.by_path[path] = file
        self.ctx.metrics.inc("files_opened")
        self.ctx.log.debug("inode=%d with offset=%d appended as %s", file.inode, offset, path)
        self._mark_ready(file)
        return file

    def _new_splitter(self) -> Any:
        return new_splitter(self.buffer_max_size, self.options.skip_long_lines, self.options.skip_empty_lines,
                            self.options.truncate_long_lines)

    def _new_joiner(self) -> Any:
        """The Docker_Mode/multiline joiner each file gets, or ``None``."""
        if self.firstline_parsers is not None:
            options = self.options
            return FirstlineMultiline(self.firstline_parsers[0], self.firstline_parsers[1:], self.builder,
                                      max(1, options.multiline_flush), options.ignore_older)
        if self.rule_parsers and len(self.rule_parsers) == len(self.multiline_parsers):
            return RulesMultiline(self.rule_parsers, self.ctx.service.multiline_buffer_limit)
        if self.multiline_parsers:
            return RuntimeMultiline(self.multiline_parsers, self.ctx.service.multiline_buffer_limit)
        if self.docker_mode:
            return DockerModeJoiner(self.docker_mode_parser)
        return None

    def _resume_rotated(self, name: str, inode: int) -> None:
        """A file rotated away before a stop or crash, with lines not yet read or acknowledged:
        read it on from its DB offset, then close it like any rotated file.

        Its tag is composed from the name it has now: the one it had is not in the DB.
        """
        try:
            st = os.stat(name)
        except OSError:
            return
        if st.st_ino != inode or not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in self.files:
            return
        file = self._open(name, from_head=False)
        if file is None:
            return
        file.rotated_at = time.monotonic()
        self._start_closing(file)
        self.ctx.log.info("inode=%d rotated file %s resumed at offset %d", file.inode, name, file.read_pos)

    # ---- watcher callbacks -------------------------------------------------------------------

    def _mark_ready(self, file: TailFile) -> None:
        if file.fd >= 0:
            self.ready[file] = None
            self.wake.set()

    def _check_all(self) -> None:
        """Progress check: every file whose size differs from what was read, and rotations."""
        for file in list(self.files.values()):
            try:
                st = os.fstat(file.fd)
            except OSError:
                continue
            if st.st_size != file.read_pos:
                self._mark_ready(file)
            if st.st_nlink == 0 or file.rotated_at is None:
                self._check_identity(file)

    def _check_identity(self, file: TailFile) -> None:
        """Has the file been renamed away from its path (rotation) or unlinked (deletion)?

        Either way it keeps being read until drained, and a new file at its path is tailed
        from its head at once (the rotated-to file of a rename-and-create rotation).
        """
        if file.fd < 0:
            return
        now = time.monotonic()
        at_path = self.by_path.get(file.path) is file
        if file.unlinked_at is None and os.fstat(file.fd).st_nlink == 0:
            file.unlinked_at = now
            self.ctx.log.debug("inode=%d file deleted: %s", file.inode, file.path)
        elif at_path and file.rotated_at is None:
            try:
                st = os.stat(file.path)
            except OSError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) == file.key:
                self._mark_ready(file)
                return
            file.rotated_at = now
            self.ctx.metrics.inc("files_rotated")
            new_name = name_of(file.fd)
            self.ctx.log.info("inode=%d handle rotation(): %s => %s", file.inode, file.path, new_name)
            if self.db is not None and file.db_id is not None:
                self.db.rotate(file.db_id, new_name)
        if at_path and file.closing_since is not None:
            self._start_closing(file)
            if not self._open_successor(file.path):
                self.successors[file.path] = now
        self._mark_ready(file)

    def _open_successor(self, path: str) -> bool:
        """Tail the file now at ``path`` from its head; False while there is none yet."""
        if path in self.by_path:
            return True
        try:
            st = os.stat(path)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in self.files:
            return False
        return self._open(path, from_head=True) is not None

    def _find_successors(self) -> None:
        """Look again for the files expected at rotated paths (see ``successors``)."""
        now = time.monotonic()
        for path, since in list(self.successors.items()):
            if self._open_successor(path) or now - since > self.options.refresh_interval:
                del self.successors[path]

    def _start_closing(self, file: TailFile) -> None:
        if self.by_path.get(file.path) is file:
            del self.by_path[file.path]
        self.closing.add(file)

    # ---- reading -----------------------------------------------------------------------------

    async def _reader(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.successors:
                self._find_successors()
            while self.ready and not self.paused and not self.stopping:
                try:
                    self._read_pass()
                    self._save_offsets()
                except Exception:
                    # Keep tailing every other file; a bug must not silently stop the input.
                    self.ctx.log.exception("read pass failed")
                    await asyncio.sleep(ERROR_BACKOFF_SECONDS)
                await asyncio.sleep(0)

    def _read_pass(self) -> None:
        """Read one buffer from each ready file in turn until the budget is spent or all are drained."""
        budget = self.pass_bytes
        while budget > 0 and self.ready and not self.paused:
            for file in list(self.ready):
                if self.paused or budget <= 0:
                    return
                budget -= self._read_once(file)

    def _read_once(self, file: TailFile) -> int:
        try:
            if file.truncated():
                self._restart_truncated(file)
                return 0
            room = self.ctx.room() if self.ctx.room is not None else None
            lines, starts, count = file.read_into(self.read_buffer, self._read_limit(room),
                                                  isinstance(file.joiner, (RuntimeMultiline, RulesMultiline)))
        except OSError as exc:
            self.ctx.metrics.inc("read_errors")
            self.ctx.log.error("cannot read %s: %s", file.path, exc.strerror)
            self.ready.pop(file, None)
            self._close(file)
            return 0
        if count == 0:
            self._at_end(file)
            return 0
        if self.options.file_cache_advise:
            self._drop_cached(file, file.drop_read_pages)
        skipped, truncated = file.newly_cut()
        if skipped:
            self.ctx.metrics.inc("long_line_skipped", skipped)
            self.ctx.log.warning("file=%s have long lines. Skipping long lines.", file.path)
        if truncated:
            self.ctx.metrics.inc("long_line_truncated", truncated)
        self._emit_lines(file, lines, starts, count)
        if room is not None and count >= MIN_READ_BYTES:
            self._learn_held_per_byte(room, count)
        if file.splitter.long_line:
            self.ctx.log.error("file=%s requires a larger buffer size, lines are too long. Skipping file.",
                               file.path)
            self.abandoned.add(file.key)
            self._close(file)
        return count

    def _drop_cached(self, file: TailFile, drop: Callable[[], None]) -> None:
        """File_Cache_Advise: the kernel is told the file's pages will not be needed again, the
        whole file's once opened, then after each read those read. Fluent Bit advises the whole
        file before each read (tail_file.c ``flb_tail_file_chunk``), which drops the pages
        readahead has just brought in too, to be read from the disk again; here every page read
        leaves the cache but those of the last bytes read (``TailFile.drop_read_pages``), and none
        is read twice. A refusal is logged, as Fluent Bit's."""
        try:
            drop()
        except OSError as exc:
            self.ctx.log.error("error during posix_fadvise on %s: %s", file.path, exc.strerror)

    def _read_limit(self, room: int | None) -> int:
        """The bytes to read: the whole read buffer, or less when the input's limit leaves ``room``
        for fewer records than a whole buffer's (as the latest reads tell what a byte read holds)."""
        whole = self.read_buffer.size
        if room is None or not self.held_per_byte:
            return whole
        return min(whole, max(MIN_READ_BYTES, int(room / self.held_per_byte)))

    def _learn_held_per_byte(self, room_before: int, count: int) -> None:
        """What the engine now holds for the ``count`` bytes just read (the room they took)."""
        room = self.ctx.room() if self.ctx.room is not None else None
        if room is None or room >= room_before:
            return
        rate = (room_before - room) / count
        self.held_per_byte = rate if not self.held_per_byte else (
            self.held_per_byte + (rate - self.held_per_byte) / HELD_PER_BYTE_READS)

    def _emit_lines(self, file: TailFile, lines: list[bytes], starts: Sequence[int], size: int) -> None:
        """``starts``: each line's file offset as the splitter counted it (where reading stood as
        it was read, for ``multiline.parser``'s joiners: ``TailFile.read_into``)."""
        now_ns = time.time_ns()
        joiner = file.joiner
        offsets: list[int] | None = [] if self.builder.wants_offsets else None
        if joiner is None:
            timestamps, records = self.builder.build(lines, starts, now_ns, file.path, file.splitter.crlf_lines)
            held_offset = None
        elif isinstance(joiner, FirstlineMultiline):
            timestamps, records, held_offset = joiner.process(
                lines, starts, now_ns, time.monotonic(), file.path, file.splitter.cut_lines)
        elif isinstance(joiner, DockerModeJoiner):
            ready_lines, held_offset = joiner.join(lines, starts, time.monotonic(), offsets)
            timestamps, records = self.builder.build(ready_lines, offsets, now_ns, file.path)
        else:
            timestamps, records, held_offset = joiner.process(lines, starts, now_ns, time.monotonic(), offsets)
            records = self.builder.build_records(records, offsets, file.path)
            if cut := joiner.newly_truncated():
                self.ctx.metrics.inc("multiline_truncated", cut)
                for _ in range(cut):  # tail_file.c warns for each line cut
                    self.ctx.log.warning("multiline message truncated due to buffer limit")
        if records:
            self._emit(file, timestamps, records, size, file.line_start() if held_offset is None else held_offset)
        self._advance(file, held_offset)

    def _advance(self, file: TailFile, held_offset: int | None) -> None:
        """Move ``committed`` to the end of the last line that left this input (or before what is held)."""
        if held_offset is None:
            self._commit(file, file.line_start())
            self.joining.discard(file)
        else:
            self._commit(file, held_offset)
            self.joining.add(file)

    def _commit(self, file: TailFile, offset: int) -> None:
        """``offset`` is reached with nothing emitted since the last position: committed as soon as
        every record before it is acknowledged."""
        positions = file.positions
        if not positions:
            self._set_committed(file, offset)
        elif positions[-1].offset != offset:
            positions.append(Position(file, offset, True))

    def _set_committed(self, file: TailFile, offset: int) -> None:
        file.committed = offset
        if offset != file.saved:
            self.unsaved.add(file)

    def _emit(self, file: TailFile, timestamps: list[int], records: list[dict[str, Any]], size: int,
              offset: int) -> None:
        """Hand records to the engine with the file offset after them, committed once acknowledged."""
        emit = self.ctx.emit
        assert emit is not None
        position = Position(file, offset, False)
        file.positions.append(position)
        emit(Chunk(file.tag, timestamps, records, size, self.ctx.instance, [position]))

    def acknowledge(self, positions: list[Any]) -> None:
        """Records up to these offsets are safe: commit each file's oldest acknowledged offsets, in order.

        The DB row moves within the loop's turn, as Fluent Bit's ``flb_tail_db_file_offset``
        follows each read: records in a chunk file whose offset waited for the next save would be
        sent twice after a crash in between (the chunk replayed, the file read again from the
        older offset). The acknowledgements of one turn (the chunks a flush delivered together)
        share one transaction: one commit per chunk was 1,400 SQLite commits for 1,000,000 lines
        of bench_pipeline's kubernetes workload.
        """
        files = set()
        for position in positions:
            position.acked = True
            files.add(position.file)
        for file in files:
            queue = file.positions
            while queue and queue[0].acked:
                self._set_committed(file, queue.popleft().offset)
        # Saved this turn: the longer a delivered line's offset waits, the more a crash sends twice.
        if not self.save_queued:
            self.save_queued = True
            asyncio.get_running_loop().call_soon(self._save_queued)

    def _save_queued(self) -> None:
        self.save_queued = False
        self._save_offsets()

    def _at_end(self, file: TailFile) -> None:
        """End of file: close a rotated/deleted file once drained."""
        self.ready.pop(file, None)
        if file.static:
            file.static = False
            if self.options.exit_on_eof:
                self._exit_at_end(file)
        since = file.closing_since
        if since is not None and time.monotonic() - since >= self.options.rotate_wait:
            self._flush_partial(file)
            if not file.positions:
                self._close(file)

    def _exit_at_end(self, file: TailFile) -> None:
        """Exit_On_Eof: the agent stops once every file opened has been read to its end once, as
        Fluent Bit's in_tail_collect_static calls flb_engine_exit when its last static file ends.
        The stop is the one a SIGTERM makes: what was read is flushed within Grace."""
        self.ctx.log.info("inode=%d file=%s ended, stop", file.inode, file.path)
        if not any(other.static for other in self.files.values()):
            assert self.ctx.request_exit is not None
            self.ctx.request_exit()

    def _restart_truncated(self, file: TailFile) -> None:
        """copytruncate: read what was not read yet from the copy, if there is one, then ``file`` from its head.

        Without a copy (a plain truncation) the lines written after the last read are gone, as in
        Fluent Bit; the partial line read before the truncation is emitted as it is.
        """
        copy = find_copy(file, self.files)
        if copy is None:
            self.ctx.log.info("inode=%d file truncated %s", file.inode, file.path)
            self._flush_partial(file)
        else:
            rest = self._hand_over_to_copy(file, copy)
            later = [self._read_later_copy(file, later_copy) for later_copy in later_copies(file, copy, self.files)]
            # Read first, in the order they were written: before the truncated file's new lines.
            self.ready = {**dict.fromkeys([rest, *later]), **self.ready}
            self.wake.set()
        file.reset_to_head()
        # The lines before the truncation cannot be read from ``file`` again, so its offset does not
        # wait for their acknowledgements: kept at the old end, it would skip that many new bytes after
        # a crash (with a copy, those positions went on with it).
        file.positions.clear()
        self._set_committed(file, 0)

    def _hand_over_to_copy(self, file: TailFile, copy: RotatedCopy) -> TailFile:
        """copytruncate: what ``file`` held before its truncation goes on from the copy, as a rotated file.

        The copy takes the truncated file's reading state as it is: offset, partial line, record
        being joined and the positions still on their way (acknowledging them now moves the copy's
        offset), so its unread lines are read, once, before the truncated file's new ones. Its DB
        row is a rotated one at the same committed offset: after a crash it is read on from there.
        ``file`` starts afresh at its head. The copy, to be read first.
        """
        self.ctx.log.info("inode=%d file truncated %s: %d unread bytes are read from its copy %s",
                          file.inode, file.path, copy.st.st_size - file.read_pos, copy.path)
        rest = TailFile(file.path, copy.fd, copy.st, file.tag, file.splitter, file.joiner, file.read_pos)
        rest.committed = rest.saved = file.committed
        rest.skipped_seen = file.skipped_seen
        rest.positions, file.positions = file.positions, rest.positions
        for position in rest.positions:
            position.file = rest
        if file in self.joining:
            self.joining.discard(file)
            self.joining.add(rest)
        file.splitter, file.joiner, file.skipped_seen = self._new_splitter(), self._new_joiner(), 0
        self._tail_copy(rest, copy)
        return rest

    def _read_later_copy(self, file: TailFile, copy: RotatedCopy) -> TailFile:
        """copytruncate, truncated again before we read: a later copy is read whole, as a rotated file
        of its own (``copytruncate.later_copies``)."""
        self.ctx.log.info("inode=%d file truncated %s again: %d bytes are read from its later copy %s",
                          file.inode, file.path, copy.st.st_size, copy.path)
        later = TailFile(file.path, copy.fd, copy.st, file.tag, self._new_splitter(), self._new_joiner(), 0)
        self._tail_copy(later, copy)
        return later

    def _tail_copy(self, rest: TailFile, copy: RotatedCopy) -> None:
        """Tail ``rest``, read from ``copy``, as a rotated file: a rotated DB row at its committed
        offset, closed once drained."""
        if self.db is not None:
            rest.db_id = self.db.insert(copy.path, rest.committed, rest.inode)
            self.db.rotate(rest.db_id, copy.path)
        rest.rotated_at = time.monotonic()
        self.files[rest.key] = rest
        self.closing.add(rest)
        self.ctx.metrics.inc("files_opened")

    def _flush_partial(self, file: TailFile) -> None:
        """A file that ends (truncated, or rotated and drained) gives up its unterminated last line."""
        self._flush_joined(file)
        start = file.line_start()
        partial: bytes | None = file.splitter.flush()
        if partial:
            timestamps, records = self.builder.build([partial], [start], time.time_ns(), file.path,
                                                     file.splitter.crlf_lines)
            if records:
                self._emit(file, timestamps, records, len(partial), file.read_pos)
        self._commit(file, file.read_pos)

    def _flush_joined(self, file: TailFile) -> None:
        """Emit the record a Docker_Mode/multiline joiner holds (timeout, file end or stop)."""
        joiner = file.joiner
        if joiner is None or not joiner.holding:
            return
        if isinstance(joiner, DockerModeJoiner):
            offset = joiner.held_offset
            line = joiner.flush()
            timestamps, records = self.builder.build([line], [offset or 0], time.time_ns(), file.path)
            size = len(line)
        elif isinstance(joiner, FirstlineMultiline):
            timestamps, records = joiner.flush(file.path)
            size = sum(len(value) for record in records for value in record.values() if type(value) is str)
        else:
            timestamps, records = joiner.flush()
            records = self._flushed_outside_a_read(file, records)
            size = sum(len(record.get("log", "")) for record in records)
        if records:
            self._emit(file, timestamps, records, size, _resume_offset(file))
        self._advance(file, joiner.held_offset)

    def _flushed_outside_a_read(self, file: TailFile, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records a multiline.parser joiner flushed on a timeout, a file's end or stop, with
        Path_Key and Offset_Key: in_tail's flush callback, called outside a read, writes where
        reading stands."""
        return self.builder.build_records(records, [file.line_start()] * len(records), file.path)

    def _housekeeping(self) -> None:
        """Flush joined records past their timeout; revisit closing files so they drain and close."""
        self._save_offsets()
        if self.successors:
            self._find_successors()
        if self.paused:
            return
        now = time.monotonic()
        for file in list(self.joining):
            if self._unread(file):
                continue
            joiner = file.joiner
            if isinstance(joiner, RulesMultiline):
                timestamps, records = joiner.flush_expired(now)
                if records:
                    self._emit(file, timestamps, self._flushed_outside_a_read(file, records), 0, _resume_offset(file))
                self._advance(file, joiner.held_offset)
                continue
            if isinstance(joiner, DockerModeJoiner):
                timeout: float = self.docker_mode_flush
            elif isinstance(joiner, FirstlineMultiline):
                timeout = joiner.flush_seconds
            else:
                timeout = MULTILINE_FLUSH_SECONDS
            since = joiner.held_since if joiner is not None else None
            if since is None or now - since >= timeout:
                self._flush_joined(file)
        for file in list(self.closing):
            self._mark_ready(file)
        self._save_offsets()

    def _unread(self, file: TailFile) -> bool:
        """Has ``file`` bytes written that the reader has not reached yet?

        A held record's flush timeout measures how long its writer has been silent, as Fluent Bit's
        ``dmode_flush_timeout`` restarts with each part read (tail_dockermode.c): while the rest of
        the entry is already in the file (the input was paused, or a loaded machine kept the reader
        away), flushing would emit its first parts as one record and the rest as another.
        """
        try:
            return os.fstat(file.fd).st_size > file.read_pos
        except OSError:
            return False

    def _close(self, file: TailFile) -> None:
        if file.fd < 0:
            return
        if self.watcher is not None:
            self.watcher.remove(file)
        closing = file.closing_since is not None
        if self.db is not None and file.db_id is not None:
            if closing:
                self.db.delete(file.db_id)
                file.db_id = None
            else:
                self.db.save_offsets([(file.db_id, file.committed)])
        file.saved = file.committed
        file.close()
        self.files.pop(file.key, None)
        if self.by_path.get(file.path) is file:
            del self.by_path[file.path]
        self.closing.discard(file)
        self.joining.discard(file)
        self.unsaved.discard(file)
        self.ready.pop(file, None)
        self.ctx.metrics.inc("files_closed")
        self.ctx.log.debug("inode=%d removing file name %s", file.inode, file.path)

    def _save_offsets(self) -> None:
        if self.db is None:
            return
        if not self.unsaved:
            return
        # A file closed with records still on their way keeps its row, and their acknowledgements move it.
        changed = [file for file in self.unsaved if file.db_id is not None]
        self.unsaved.clear()
        self.db.save_offsets([(file.db_id, file.committed) for file in changed])  # type: ignore[misc]
        for file in changed:
            file.saved = file.committed


def _resume_offset(file: TailFile) -> int:
    """Where reading resumes after what a joiner has emitted: before what it still holds."""
    held = file.joiner.held_offset if file.joiner is not None else None
    return file.line_start() if held is None else held


OPTIONS = OptionTable(
    Option("path", CLIST, None, "pattern specifying log files or multiple ones through the use of common wildcards"),
    Option("exclude_path", CLIST, None, "shell patterns (comma-separated) of files to exclude, e.g. *.gz,*.zip"),
    Option("key", STR, "log", "key of the record holding an unparsed line"),
    Option("read_from_head", BOOL, "false", "files found at start without a DB offset are read from the head"),
    Option("read_newly_discovered_files_from_head", BOOL, "true",
           "files discovered after start without a DB offset are read from the head"),
    Option("refresh_interval", TIME, "60", "seconds between rescans of Path for new files"),
    Option("watcher_interval", TIME, "2s", "interval of the rotation watcher (rotation is checked on every event)"),
    Option("progress_check_interval", TIME, "2s", "interval of the check for file growth missed by events"),
    Option("progress_check_interval_nsec", INT, "0", "nanoseconds added to progress_check_interval"),
    Option("rotate_wait", TIME, "5", "seconds a rotated file keeps being read; it is closed only once drained"),
    Option("docker_mode", BOOL, "false", "recombine Docker's split log lines before parsing"),
    Option("docker_mode_flush", INT, "4", "seconds after which an unfinished Docker_Mode line is flushed"),
    Option("docker_mode_parser", STR, None, "parser that matches the first line of a Docker_Mode multiline record"),
    Option("path_key", STR, None, "key under which the file path is added to each record"),
    Option("offset_key", STR, None, "key under which the line's file offset is added to each record"),
    Option("ignore_older", TIME, "0", "ignore files modified longer ago than this (s, m, h, d); 0 = off"),
    Option("ignore_active_older_files", BOOL, "false", "also stop tailing open files that became older than Ignore_Older"),
    Option("buffer_chunk_size", SIZE, "32768", "initial read buffer size per read"),
    Option("buffer_max_size", SIZE, "32768", "longest line accepted; see Skip_Long_Lines"),
    Option("static_batch_size", SIZE, "50M", "bytes read per pass from files present at start"),
    Option("event_batch_size", SIZE, "50M", "bytes read per pass from files reported by events"),
    Option("skip_long_lines", BOOL, "false", "skip lines longer than Buffer_Max_Size instead of dropping the file"),
    Option("exit_on_eof", BOOL, "false", "stop the agent once every file found has been read to its end"),
    Option("skip_empty_lines", BOOL, "false", "drop empty lines"),
    Option("truncate_long_lines", BOOL, "false",
           "emit the first Buffer_Max_Size - 1 bytes of a longer line and drop the rest (wins over Skip_Long_Lines)"),
    Option("file_cache_advise", BOOL, "true", "advise the kernel not to keep read file pages cached"),
    Option("inotify_watcher", BOOL, "true", "watch files with inotify; false polls them with stat"),
    Option("parser", STR, None, "parser applied to each line"),
    Option("tag_regex", STR, None, "regex on the file path whose named groups fill <name> in Tag"),
    Option("db", STR, None, "SQLite file keeping each file's offset (Fluent Bit's in_tail_files table)"),
    Option("db.sync", STR, "normal", "SQLite synchronous mode: extra, full, normal or off"),
    Option("db.locking", BOOL, "false", "lock the DB exclusively"),
    Option("db.journal_mode", STR, "WAL", "SQLite journal mode: DELETE, TRUNCATE, PERSIST, MEMORY, WAL or OFF"),
    Option("db.compare_filename", BOOL, "false", "match DB rows by inode and file name (guards against inode reuse)"),
    Option("multiline", BOOL, "false", "old multiline mode: join the lines after a Parser_Firstline match to it"),
    Option("multiline_flush", TIME, "4", "seconds after its first line an old-mode multiline record is flushed"),
    Option("parser_firstline", STR, None, "old multiline mode: parser matching a record's first line"),
    Option("parser_", STR, None, "old multiline mode: parsers adding the fields of the lines that follow, "
           "Parser_1 ... Parser_N", multi=True, prefix=True),
    Option("multiline.parser", CLIST, None, "multiline parsers tried in order: docker, cri, ...", multi=True),
    Option("unicode.encoding", STR, None, "input encoding to convert to UTF-8 (UTF-16LE, UTF-16BE, auto)",
           unsupported="lines are read as UTF-8"),
    Option("generic.encoding", STR, None, "legacy input encoding to convert to UTF-8 (ShiftJIS, GBK, ...)",
           unsupported="lines are read as UTF-8"),
)

# Wired last, as Fluent Bit's in_tail_plugin struct names its config_map after declaring it.
TailInput.OPTIONS = OPTIONS
