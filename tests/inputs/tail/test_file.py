"""The read buffer tail reads into: each read lands at its file offset's place within a page."""

from __future__ import annotations

import ctypes
import mmap

from flb_fast.inputs.tail.file import ReadBuffer


def address_of(view: memoryview) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def test_a_read_lands_at_its_file_offsets_place_within_a_page() -> None:
    buffer = ReadBuffer(64 * 1024)
    for position in (0, 16, 4080, 4096, 5000, 1 << 33):
        window = buffer.window(position, 1000)
        assert address_of(window) % mmap.PAGESIZE == position % mmap.PAGESIZE


def test_a_read_takes_at_most_the_limit_and_at_most_the_buffer() -> None:
    buffer = ReadBuffer(64 * 1024)
    assert len(buffer.window(4095, 1000)) == 1000
    assert len(buffer.window(4095, 1 << 20)) == 64 * 1024
