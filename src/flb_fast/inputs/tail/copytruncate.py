"""Find the copy a ``copytruncate`` rotation left of a file we were reading.

logrotate's ``copytruncate`` (and the tools that imitate it) copy the live file to a sibling and
truncate it; the lines written after our last read and before the truncation are then only in the
copy. Fluent Bit's in_tail (tail_file.c, ``tail_signal_truncate``/``flb_tail_file_chunk``) seeks to
0 and loses them. Here, when a truncation is seen, the sibling that is that copy is looked for and
its bytes after our offset are read before the truncated file is read again from its head.

A sibling is taken for the copy only when it is at least as long as what we read and holds, just
before our offset, the same bytes we read there (``TailFile.fingerprint``): an older rotated file,
another file or a copy made before our last read are never read by mistake.

An agent that did not read between two rotations (stopped, starved of CPU, its input paused for
longer than the rotation period) finds the file truncated more than once: the copy holding our
offset is the first rotation's, and the siblings made after it (``later_copies``) hold, whole,
what was written between the later truncations. They are read too, oldest first, before the
truncated file's head, where Fluent Bit would lose them as well.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Container

from msgspec import Struct

from flb_fast.inputs.tail.file import TailFile, name_of, open_readonly

# How a rotated file is named after the file it was copied from: ``app.log.1`` (logrotate's
# numbered default), ``0.log.20240101-120000`` (kubelet's timestamp, pkg/kubelet/logs), ``app.log.2024-01-01``
# (``*.log.<date>``) and ``app.log-20240101`` (logrotate's ``dateext``, ``-%Y%m%d`` by default).
NAME_SEPARATORS = (".", "-")
# Compressed rotated files (logrotate's ``compress``, ``compressext``) hold other bytes: never the copy.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z")
# Siblings verified per truncation, newest first: kubelet keeps 5 files per container
# (containerLogMaxFiles) and logrotate's usual ``rotate`` counts are of that order; the copy is the newest.
MAX_CANDIDATES = 8


class RotatedCopy(Struct):
    """A sibling verified to be the copy: its open descriptor, path and status."""

    path: str
    fd: int
    st: os.stat_result


def find_copy(file: TailFile, tailed: Container[tuple[int, int]]) -> RotatedCopy | None:
    """The copy of ``file`` left by a copytruncate, if there is one with bytes after ``file.read_pos``.

    ``tailed``: the (dev, inode) of the files being tailed already (a copy matched by ``Path`` is
    read by itself). Runs on the loop like the input's reads: one directory listing and a few
    small reads, once per truncation.
    """
    real = name_of(file.fd)
    if not real or not file.fingerprint:
        return None
    size = len(file.fingerprint)
    for path, st in _siblings(real, file, tailed):
        if st.st_size > file.read_pos:
            copy = _open_as(path, st, lambda fd: os.pread(fd, size, file.read_pos - size) == file.fingerprint)
            if copy is not None:
                return copy
    return None


def later_copies(file: TailFile, copy: RotatedCopy, tailed: Container[tuple[int, int]]) -> list[RotatedCopy]:
    """The copies later copytruncates of ``file`` left after ``copy`` (modified after it), oldest first.

    ``copy`` holds ``file`` as it was at the first truncation after our last read, so whatever a
    sibling modified later holds was written after that truncation and is unread; ``tailed`` as
    for ``find_copy`` (``copy`` among them by now). The newest ``MAX_CANDIDATES`` at most.
    """
    real = name_of(file.fd)
    if not real:
        return []
    later = []
    for path, st in _siblings(real, file, tailed):
        if st.st_mtime_ns > copy.st.st_mtime_ns and st.st_ino != copy.st.st_ino and st.st_size:
            opened = _open_as(path, st)
            if opened is not None:
                later.append(opened)
    later.reverse()
    return later


def _open_as(path: str, st: os.stat_result, holds: Callable[[int], bool] | None = None) -> RotatedCopy | None:
    """``path`` opened, if it is still the file ``st`` describes (renamed or replaced since it was
    listed, it is not) and ``holds`` (given its descriptor) says yes."""
    try:
        fd = open_readonly(path)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_ino == st.st_ino and (holds is None or holds(fd)):
            return RotatedCopy(path, fd, st)
    except OSError:
        pass
    os.close(fd)
    return None


def _siblings(real: str, file: TailFile, tailed: Container[tuple[int, int]]) -> list[tuple[str, os.stat_result]]:
    """Regular files beside ``real`` named after it as rotated files, not ``file`` and not tailed:
    the newest ``MAX_CANDIDATES``, newest first."""
    directory, base = os.path.split(real)
    found = []
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if (len(name) <= len(base) or not name.startswith(base) or name[len(base)] not in NAME_SEPARATORS
                or name.endswith(COMPRESSED_SUFFIXES)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_ino != file.inode and (st.st_dev, st.st_ino) not in tailed:
            found.append((entry.path, st))
    found.sort(key=lambda item: item[1].st_mtime_ns, reverse=True)
    return found[:MAX_CANDIDATES]
