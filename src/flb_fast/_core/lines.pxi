# Splitting read buffers into lines, with in_tail's rules (plugins/in_tail/tail_file.c,
# flb_tail_file_chunk() and process_content(), Fluent Bit 4.x):
#
# - Lines end at "\n". One "\r" before it is dropped when the line has at least two bytes
#   (`if (len >= 2) crlf = (data[len-1] == '\r')`), so a line made of a lone "\r" stays "\r".
# - Skip_Empty_Lines drops "" and "\r".
# - NUL bytes at the head of the read buffer are skipped (copytruncate leaves a hole of NULs at
#   the start of the file when the writer keeps its old offset). Fluent Bit's buffer head is the
#   first line of each read, or the partial line carried over from the previous one.
# - The per-file buffer holds at most Buffer_Max_Size - 1 bytes (one is kept for the NUL
#   terminator), and a line fits only with its "\n": the longest line kept is
#   Buffer_Max_Size - 2 bytes (counting a "\r" before the "\n").
# - A longer line: with Truncate_Long_Lines (Fluent Bit 4.2) its first Buffer_Max_Size - 1 bytes
#   (a full buffer) are emitted as the line and the rest is dropped up to and including its "\n",
#   whatever Skip_Long_Lines says. Otherwise, with Skip_Long_Lines it is dropped whole, and the
#   lines after it are read as usual. Without either, Fluent Bit logs "file=... requires a larger
#   buffer size, lines are too long. Skipping file." and stops tailing the file
#   (flb_tail_file_chunk() returns FLB_TAIL_ERROR, and the caller removes the file).
# - Offset_Key is the file offset of the line's first byte, counting every byte before it (a
#   "\r", an empty line that was skipped, head NULs): recorded in tests/data/fluent-bit/tail_offset_key*.
# - When a line fails its parser, Fluent Bit packs the raw line with its "\r" (process_content()
#   passes `data, len`, not the trimmed `line, line_len`): crlf_lines says which lines lost one.

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Realloc, PyMem_Free
from libc.string cimport memchr, memcpy, memmove


# Each feed's line starts and read positions (see LineSplitter), written here as lines are cut
# (one feed at a time: the GIL is held throughout), then copied into the splitter's bytes. At most
# one entry per byte of a read; room for more than _STARTS_ROOM_KEPT lines (a read of short
# lines) is given back after the feed.
cdef enum:
    _STARTS_ROOM_KEPT = 8192
cdef long long *_starts_buffer = NULL
cdef long long *_positions_buffer = NULL
cdef Py_ssize_t _starts_count = 0
cdef Py_ssize_t _starts_room = 0


cdef int _start_at(long long start, long long position) except -1:
    """Record where the line just cut starts, and where reading stood when it was read."""
    global _starts_buffer, _positions_buffer, _starts_room, _starts_count
    cdef Py_ssize_t room
    cdef long long *grown
    if _starts_count == _starts_room:
        room = max(2 * _starts_room, 1024)
        grown = <long long *> PyMem_Realloc(_starts_buffer, room * sizeof(long long))
        if grown == NULL:
            raise MemoryError()
        _starts_buffer = grown
        grown = <long long *> PyMem_Realloc(_positions_buffer, room * sizeof(long long))
        if grown == NULL:
            raise MemoryError()
        _positions_buffer = grown
        _starts_room = room
    _starts_buffer[_starts_count] = start
    _positions_buffer[_starts_count] = position
    _starts_count += 1
    return 0


cdef tuple _taken_starts():
    """The starts and read positions recorded since the feed began, as bytes; the buffers shrink
    back if they grew."""
    global _starts_buffer, _positions_buffer, _starts_room, _starts_count
    cdef Py_ssize_t size = _starts_count * sizeof(long long)
    cdef tuple taken = (PyBytes_FromStringAndSize(<char *> _starts_buffer, size),
                        PyBytes_FromStringAndSize(<char *> _positions_buffer, size))
    _starts_count = 0
    if _starts_room > _STARTS_ROOM_KEPT:
        PyMem_Free(_starts_buffer)
        PyMem_Free(_positions_buffer)
        _starts_buffer = _positions_buffer = NULL
        _starts_room = 0
    return taken


cdef class LineSplitter:
    """Cuts a file's successive read buffers into complete lines, as Fluent Bit's tail does.

    ``feed(buffer)`` takes a whole read (bytes, bytearray or memoryview) and returns the
    complete lines in it, without their ``"\\n"`` (and without one ``"\\r"`` before it). The
    partial last line is kept inside for the next ``feed``. ``pending`` is the number of bytes
    fed that belong to the current incomplete line, so ``bytes_read - pending`` is always the
    offset of a line start: the tail commits that, and a restart never resumes mid-line, also
    while a long line is being discarded.

    A line longer than ``buffer_max_size - 2`` bytes (Fluent Bit's buffer keeps one byte for a
    terminator and needs room for the ``"\\n"``) is cut to its first ``buffer_max_size - 1``
    bytes when ``truncate_long_lines`` is true (counted in ``truncated_lines``; the rest of it is
    dropped). Otherwise it is skipped whole when ``skip_long_lines`` is
    true, counted in ``skipped_lines`` / ``skipped_bytes`` (line bytes with their newline), and
    the following lines are read as usual. When ``skip_long_lines`` is false, ``long_line``
    turns true: Fluent Bit stops tailing such a file, so the tail must log
    ``file=<path> requires a larger buffer size, lines are too long. Skipping file.`` and
    abandon it; lines before the long one are returned, ``pending`` then counts every byte
    from the long line's start to the end of what was fed, and further ``feed`` calls raise.

    ``take_starts()`` gives the file offset of each line the last ``feed`` returned (a memoryview
    of int64), ``base`` being the file offset of the first pending byte (``bytes_read - pending``
    before that feed): counting every byte before the line, a ``"\\r"`` dropped, empty and long
    lines skipped, head NULs, as in_tail's ``processed_bytes`` does. ``take_starts(True)`` gives
    instead where reading stood as each line was read, in_tail's ``stream_offset +
    last_processed_bytes`` (what its multiline flush callback writes as Offset_Key): the end of
    the line before it in the same feed, ``base`` for the first, so empty lines skipped just
    before a line, and head NULs, are not counted yet (recorded:
    tests/data/fluent-bit/multiline_cri_offset_key). Both are recorded for every feed (eight
    bytes a line each, no object a line) and let go of once taken.

    ``crlf_lines`` lists the indexes of the lines of the last ``feed`` (or ``flush``) that lost a
    ``"\\r"``: Fluent Bit keeps it in the raw record of a line its parser
    did not parse. ``cut_lines`` lists those of the last ``feed`` that Truncate_Long_Lines cut:
    Fluent Bit's old multiline mode sends such a line on its own.
    """

    cdef readonly Py_ssize_t buffer_max_size
    cdef readonly bint skip_long_lines
    cdef readonly bint skip_empty_lines
    cdef readonly bint truncate_long_lines
    cdef readonly list crlf_lines
    cdef readonly list cut_lines
    cdef readonly Py_ssize_t truncated_lines
    cdef readonly Py_ssize_t skipped_lines
    cdef readonly Py_ssize_t skipped_bytes
    cdef readonly bint long_line
    cdef Py_ssize_t _max_line
    cdef char *_held
    cdef Py_ssize_t _held_len
    cdef Py_ssize_t _held_cap
    cdef bint _discarding
    cdef bint _discarding_truncated
    cdef Py_ssize_t _discarded
    cdef Py_ssize_t _stalled
    cdef tuple _starts

    def __cinit__(self, Py_ssize_t buffer_max_size, bint skip_long_lines, bint skip_empty_lines=False,
                  bint truncate_long_lines=False):
        if buffer_max_size < 3:
            raise ValueError(f"buffer_max_size must be at least 3 bytes, got {buffer_max_size}")
        self.buffer_max_size = buffer_max_size
        self.skip_long_lines = skip_long_lines
        self.skip_empty_lines = skip_empty_lines
        self.truncate_long_lines = truncate_long_lines
        self.crlf_lines = []
        self.cut_lines = []
        self._max_line = buffer_max_size - 2
        self._starts = (b"", b"")

    def __dealloc__(self):
        PyMem_Free(self._held)

    def take_starts(self, bint read_positions=False) -> memoryview:
        """The file offset of each line the last ``feed`` returned (int64), in order, or where
        reading stood as each was read (see the class doc); the splitter lets go of both (an
        idle file holds none)."""
        starts, self._starts = self._starts, (b"", b"")
        return memoryview(starts[1] if read_positions else starts[0]).cast("q")

    @property
    def pending(self) -> int:
        """Bytes fed so far that belong to no returned or skipped line (see the class doc)."""
        if self.long_line:
            return self._stalled
        return self._held_len + self._discarded

    @property
    def max_line_bytes(self) -> int:
        """The longest line kept, in bytes without its newline: ``buffer_max_size - 2``."""
        return self._max_line

    cdef int _hold(self, const char *data, Py_ssize_t size) except -1:
        cdef Py_ssize_t need = self._held_len + size
        cdef Py_ssize_t cap
        cdef char *grown
        if need > self._held_cap:
            cap = max(need, 2 * self._held_cap, 256)
            grown = <char *> PyMem_Realloc(self._held, cap)
            if grown == NULL:
                raise MemoryError()
            self._held = grown
            self._held_cap = cap
        memcpy(self._held + self._held_len, data, size)
        self._held_len = need
        return 0

    cdef Py_ssize_t _skip_head_nuls(self, const char *data, Py_ssize_t size):
        """Drop the NULs at the head of Fluent Bit's buffer; returns how many of ``data`` went."""
        cdef Py_ssize_t i = 0
        if self._discarding:
            return 0
        if self._held_len:
            while i < self._held_len and self._held[i] == 0:
                i += 1
            if i < self._held_len:
                if i:
                    memmove(self._held, self._held + i, self._held_len - i)
                    self._held_len -= i
                return 0
            self._held_len = 0
            i = 0
        while i < size and data[i] == 0:
            i += 1
        return i

    cdef int _emit(self, list out, const char *data, Py_ssize_t size) except -1:
        """Append the line made of the held bytes followed by ``data[:size]``."""
        cdef Py_ssize_t total = self._held_len + size
        cdef Py_ssize_t from_held
        cdef char last
        cdef object line
        cdef char *dest
        if total:
            last = data[size - 1] if size else self._held[self._held_len - 1]
        if self.skip_empty_lines and (total == 0 or (total == 1 and last == b'\r')):
            return 0
        if total >= 2 and last == b'\r':
            total -= 1
            self.crlf_lines.append(len(out))
        if self._held_len == 0:
            out.append(_bytes_from_size(data, total))
            return 0
        line = _bytes_from_size(NULL, total)
        dest = _bytes_data(line)
        from_held = min(self._held_len, total)
        memcpy(dest, self._held, from_held)
        if total > from_held:
            memcpy(dest + from_held, data, total - from_held)
        out.append(line)
        return 0

    def feed(self, data, long long base=0) -> list:
        """The complete lines of this read buffer, in order (see the class doc for the rules)."""
        global _starts_count
        cdef Py_buffer view
        cdef const char *base_ptr
        cdef const char *newline
        cdef Py_ssize_t size, pos, end, length, emitted
        cdef Py_ssize_t pending = self._held_len + self._discarded
        cdef Py_ssize_t held = self._held_len
        cdef Py_ssize_t start
        # Where the line before the current one ended (in_tail's last_processed_bytes), from ``base``.
        cdef Py_ssize_t read_to = 0
        cdef list out = []
        if self.long_line:
            raise RuntimeError("this file was abandoned at a line longer than buffer_max_size")
        if self.crlf_lines:
            self.crlf_lines = []
        if self.cut_lines:
            self.cut_lines = []
        _starts_count = 0
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            base_ptr = <const char *> view.buf
            size = view.len
            pos = self._skip_head_nuls(base_ptr, size)
            # Where the current line starts, counted from ``base``: after the held NULs dropped,
            # or in this buffer when nothing is held.
            start = held - self._held_len if self._held_len or self._discarding else pending + pos
            while pos < size:
                newline = <const char *> memchr(base_ptr + pos, b'\n', size - pos)
                if newline == NULL:
                    self._tail_without_newline(out, base + start, base + read_to, base_ptr + pos, size - pos)
                    break
                end = newline - base_ptr
                length = end - pos
                if self._discarding:
                    self._end_discard(length + 1)
                    read_to = pending + end + 1
                elif self._held_len + length > self._max_line:
                    if self.truncate_long_lines:
                        self._truncate(out, base + start, base + read_to, base_ptr + pos, length)
                        self._held_len = 0
                    elif not self.skip_long_lines:
                        self._abandon(size - pos)
                        break
                    else:
                        self.skipped_lines += 1
                        self.skipped_bytes += self._held_len + length + 1
                        self._held_len = 0
                    read_to = pending + end + 1
                else:
                    emitted = len(out)
                    self._emit(out, base_ptr + pos, length)
                    if len(out) > emitted:
                        _start_at(base + start, base + read_to)
                        read_to = pending + end + 1
                    self._held_len = 0
                pos = end + 1
                start = pending + pos
        finally:
            PyBuffer_Release(&view)
        self._starts = _taken_starts()
        return out

    cdef int _truncate(self, list out, long long offset, long long position, const char *data,
                       Py_ssize_t size) except -1:
        """Truncate_Long_Lines: the held bytes and ``data[:size]`` are over-long; emit their
        first ``buffer_max_size - 1`` bytes (Fluent Bit's full buffer) as the line."""
        self._emit(out, data, min(self._max_line + 1 - self._held_len, size))
        _start_at(offset, position)
        self.cut_lines.append(len(out) - 1)
        self.truncated_lines += 1
        return 0

    cdef int _tail_without_newline(self, list out, long long offset, long long position, const char *data,
                                   Py_ssize_t size) except -1:
        """Keep (or discard) the start of a line whose newline has not been read yet."""
        if self._discarding:
            self._discarded += size
        elif self._held_len + size > self._max_line:
            if self.truncate_long_lines:
                self._truncate(out, offset, position, data, size)
                self._discarding = True
                self._discarding_truncated = True
                self._discarded = self._held_len + size
                self._held_len = 0
            elif not self.skip_long_lines:
                self._abandon(size)
            else:
                self._discarding = True
                self._discarded = self._held_len + size
                self._held_len = 0
        else:
            self._hold(data, size)
        return 0

    cdef void _end_discard(self, Py_ssize_t rest):
        """The discarded line ended ``rest`` bytes on (its newline included, if any): a skipped
        line is counted, the rest of a truncated one is not."""
        if not self._discarding_truncated:
            self.skipped_lines += 1
            self.skipped_bytes += self._discarded + rest
        self._discarded = 0
        self._discarding = False
        self._discarding_truncated = False

    cdef void _abandon(self, Py_ssize_t unread):
        self.long_line = True
        self._stalled = self._held_len + unread
        self._held_len = 0

    def flush(self):
        """The partial last line (a file that does not end in a newline, at close), or None.

        A line being discarded as too long counts as skipped; nothing is kept afterwards.
        """
        cdef list out = []
        if self.crlf_lines:
            self.crlf_lines = []
        if self.cut_lines:
            self.cut_lines = []
        if self.long_line:
            return None
        if self._discarding:
            self._end_discard(0)
            return None
        if self._held_len == 0:
            return None
        self._emit(out, NULL, 0)
        self._held_len = 0
        return out[0] if out else None
