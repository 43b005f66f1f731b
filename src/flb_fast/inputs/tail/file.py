"""One tailed file: its descriptor, identity, tag, line splitter and offsets.

Three offsets, kept apart on purpose:
- ``read_pos``: the next byte to read (positional reads, so a rename never moves it);
- ``committed``: the end of the last complete line whose record is safe (acknowledged by the
  engine: delivered to every output, or written to a chunk file). Bytes after it are records
  still on their way, a partial line in the splitter or a Docker_Mode/multiline record still
  being joined; after a restart reading resumes here, so nothing is skipped;
- ``saved``: what the DB holds, written once per read pass when it differs from ``committed``.

``positions`` are the offsets handed out with chunks (or reached without emitting anything), in
the order they were reached; the oldest acknowledged ones become ``committed``.

``fingerprint`` is the last bytes read, ending at ``read_pos``: after a copytruncate they tell the
copy of the file apart from other rotated files (copytruncate.py).
"""

from __future__ import annotations

import mmap
import os
from collections import deque
from collections.abc import Sequence
from typing import Any

from flb_fast import _core

# Bytes kept of the end of what was read: a few typical log lines (Kubernetes container lines are
# ~100-300 bytes), so two different files hardly ever hold the same ones at the same offset.
FINGERPRINT_BYTES = 512
# Reads land at the offset within a page that the file's bytes have in the page cache.
PAGE_BYTES = mmap.PAGESIZE


class ReadBuffer:
    """The memory reads land in, page-aligned, read into at each read's offset within a page.

    The kernel copies a read out of the page cache with ``rep movsb``; the copy's speed depends on
    where the destination lies against the source within a page. On this project's AMD EPYC
    benchmark machine a destination 16 bytes past the source's offset copied at a fifth of the
    speed of any other (a ``bytearray`` of 256 KiB starts 16 bytes into a page and reads start on
    one: 0.16 s against 0.03 s of system time for 400 MB, ``bench/README.md``). With both at the
    same offset every read copies at full speed, whatever the file offset a read starts at.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.view = memoryview(mmap.mmap(-1, size + PAGE_BYTES))

    def window(self, position: int, limit: int) -> memoryview:
        """Room for at most ``limit`` bytes (the whole buffer at most) read from file offset ``position``."""
        shift = position % PAGE_BYTES
        return self.view[shift:shift + min(limit, self.size)]


def open_readonly(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)


def name_of(fd: int) -> str:
    """The path an open file has now (after a rename, symlinks resolved), as Fluent Bit reads it from /proc."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


class TailFile:
    """State of one open file; ``TailInput`` drives it."""

    __slots__ = (
        "path",
        "fd",
        "dev",
        "inode",
        "tag",
        "splitter",
        "joiner",
        "read_pos",
        "committed",
        "saved",
        "db_id",
        "wd",
        "rotated_at",
        "unlinked_at",
        "skipped_seen",
        "truncated_seen",
        "positions",
        "fingerprint",
        "static",
    )

    def __init__(
        self,
        path: str,
        fd: int,
        st: os.stat_result,
        tag: str,
        splitter: Any,
        joiner: Any,
        offset: int,
    ) -> None:
        self.path = path
        self.fd = fd
        self.dev = st.st_dev
        self.inode = st.st_ino
        self.tag = tag
        self.splitter = splitter
        self.joiner = joiner
        self.read_pos = offset
        self.committed = offset
        self.saved = offset
        self.db_id: int | None = None
        self.wd: int | None = None
        self.rotated_at: float | None = None
        self.unlinked_at: float | None = None
        self.skipped_seen = 0
        self.truncated_seen = 0
        self.positions: deque[Position] = deque()
        self.fingerprint = b""
        # Not read to its end yet since it was opened: Fluent Bit's static mode (tail.h
        # FLB_TAIL_STATIC), which a file leaves at its first end of file.
        self.static = True
        if offset > 0:
            start = max(0, offset - FINGERPRINT_BYTES)
            self.fingerprint = os.pread(fd, offset - start, start)

    def __repr__(self) -> str:
        return f"TailFile({self.path!r}, inode={self.inode}, read_pos={self.read_pos}, committed={self.committed})"

    @property
    def key(self) -> tuple[int, int]:
        return (self.dev, self.inode)

    @property
    def closing_since(self) -> float | None:
        """When the file stopped being the one at its path (renamed or unlinked), if it did."""
        times = [t for t in (self.rotated_at, self.unlinked_at) if t is not None]
        return min(times) if times else None

    def line_start(self) -> int:
        """File offset of the first byte the splitter has not returned as a line yet."""
        return self.read_pos - self.splitter.pending

    def read_into(self, buffer: ReadBuffer, limit: int,
                  read_positions: bool = False) -> tuple[list[bytes], Sequence[int], int]:
        """Read up to ``limit`` bytes at ``read_pos``: ``(complete lines, each one's file offset,
        bytes read)``.

        ``bytes read`` is 0 at end of file; at most ``buffer.size`` bytes are read. The caller owns
        ``buffer`` and may reuse it at once: the splitter copies what it keeps. The offsets count
        every byte before a line (a ``"\\r"`` dropped, lines skipped), as the splitter cut them;
        with ``read_positions``, where reading stood as each line was read instead (the value
        in_tail's multiline mode writes, ``LineSplitter.take_starts``).
        """
        first_offset = self.line_start()
        window = buffer.window(self.read_pos, limit)
        count = os.preadv(self.fd, [window], self.read_pos)
        if count == 0:
            return [], (), 0
        self.read_pos += count
        end = window[max(0, count - FINGERPRINT_BYTES):count]
        self.fingerprint = bytes(end) if count >= FINGERPRINT_BYTES else (self.fingerprint + end)[-FINGERPRINT_BYTES:]
        lines = self.splitter.feed(window[:count], first_offset)
        return lines, self.splitter.take_starts(read_positions), count

    def drop_cached_file(self) -> None:
        """``POSIX_FADV_DONTNEED`` for the whole file."""
        os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)

    def drop_read_pages(self) -> None:
        """``POSIX_FADV_DONTNEED`` for the pages read, except those holding the fingerprint: they
        are read again before the next read (``truncated``), and a page dropped would be read from
        the disk again.

        Always from the file's start: the page cache holds a file in folios of up to a few MiB, and
        the kernel drops only those wholly inside the range, so the pages of one read's range
        mostly stay (on 400 MB read in 256 KiB reads, 96% stayed, for 0.35 s of system time),
        where everything before the range's end goes for 0.004 s more than reading alone."""
        end = self.read_pos - FINGERPRINT_BYTES
        if end >= PAGE_BYTES:
            os.posix_fadvise(self.fd, 0, end - end % PAGE_BYTES, os.POSIX_FADV_DONTNEED)

    def newly_cut(self) -> tuple[int, int]:
        """Lines the splitter skipped and lines it truncated as too long, since the last call."""
        skipped, truncated = self.splitter.skipped_lines, self.splitter.truncated_lines
        new = (skipped - self.skipped_seen, truncated - self.truncated_seen)
        self.skipped_seen, self.truncated_seen = skipped, truncated
        return new

    def truncated(self) -> bool:
        """copytruncate: the bytes just before ``read_pos`` are no longer those read there.

        Either the file is now shorter than what was read from it, or it was truncated and has
        grown past ``read_pos`` again before this read (a writer faster than the agent, or a paused
        input): checking the size alone would read on from the middle of the new content.
        One small read per read call.
        """
        size = len(self.fingerprint)
        return size > 0 and os.pread(self.fd, size, self.read_pos - size) != self.fingerprint

    def reset_to_head(self) -> None:
        """After copytruncate: read again from byte 0 (the caller commits offset 0)."""
        self.read_pos = 0
        self.fingerprint = b""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Position:
    """The offset after some records of ``file``; ``acked`` once the engine says they are safe."""

    __slots__ = ("file", "offset", "acked")

    def __init__(self, file: TailFile, offset: int, acked: bool) -> None:
        self.file = file
        self.offset = offset
        self.acked = acked

    def __repr__(self) -> str:
        return f"Position({self.file.path!r}, {self.offset}, acked={self.acked})"


def new_splitter(buffer_max_size: int, skip_long_lines: bool, skip_empty_lines: bool,
                 truncate_long_lines: bool = False) -> Any:
    return _core.LineSplitter(buffer_max_size, skip_long_lines, skip_empty_lines, truncate_long_lines)
