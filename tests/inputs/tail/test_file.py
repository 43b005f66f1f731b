"""TailFile's reads: where they land in the read buffer, and the pages they leave in the page cache."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

from flb_fast.inputs.tail.file import ReadBuffer, TailFile, new_splitter
from tests.inputs.tail.page_cache import PAGE, cached_file, cached_pages, page_cache_drops_pages


def address_of(view: memoryview) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def tail_file(path: Path) -> TailFile:
    fd = os.open(path, os.O_RDONLY)
    return TailFile(str(path), fd, os.fstat(fd), "app", new_splitter(32 * 1024, False, False), None, 0)


def test_a_read_lands_at_its_file_offsets_place_within_a_page() -> None:
    buffer = ReadBuffer(64 * 1024)
    for position in (0, 16, 4080, 4096, 5000, 1 << 33):
        window = buffer.window(position, 1000)
        assert address_of(window) % PAGE == position % PAGE


def test_a_read_takes_at_most_the_limit_and_at_most_the_buffer() -> None:
    buffer = ReadBuffer(64 * 1024)
    assert len(buffer.window(4095, 1000)) == 1000
    assert len(buffer.window(4095, 1 << 20)) == 64 * 1024


def test_dropping_the_cached_file_drops_every_page_of_it(tmp_path: Path) -> None:
    if not page_cache_drops_pages(tmp_path):
        pytest.skip("this filesystem keeps the pages of a file in memory (tmpfs)")
    path = cached_file(tmp_path / "app.log", 8)
    file = tail_file(path)
    try:
        file.drop_cached_file()
        assert cached_pages(path) == [False] * 8
    finally:
        file.close()
