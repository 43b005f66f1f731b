"""The page cache as a test sees it: which pages of a file it holds (mincore(2))."""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

PAGE = mmap.PAGESIZE
_libc = ctypes.CDLL(None, use_errno=True)


def cached_pages(path: Path) -> list[bool]:
    """Whether each page of ``path`` is in the page cache (mincore(2) on a mapping never touched)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle, mmap.mmap(handle.fileno(), size) as mapping:
        pages = (size + PAGE - 1) // PAGE
        vector = (ctypes.c_ubyte * pages)()
        address = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(mapping)))
        if _libc.mincore(address, ctypes.c_size_t(size), vector) != 0:
            raise OSError(ctypes.get_errno(), "mincore")
        return [bool(flag & 1) for flag in vector]


def cached_file(path: Path, pages: int) -> Path:
    """A file of ``pages`` pages written, synced and read, so that each page is cached and clean."""
    path.write_bytes((b"x" * (PAGE - 1) + b"\n") * pages)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
        handle.read()
    return path


def page_cache_drops_pages(tmp_path: Path) -> bool:
    """Whether this filesystem lets the kernel drop a clean file's pages when advised (tmpfs does not)."""
    path = cached_file(tmp_path / "control.log", 2)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return cached_pages(path) == [False, False]
