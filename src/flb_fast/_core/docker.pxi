# JSON lines to records: the Docker json-file hot path and the `json` parser's.
#
# Fluent Bit (src/flb_parser_json.c flb_parser_json_do(), plugins/in_tail/tail_file.c):
# - a line that is not exactly one JSON object fails the parser, and tail packs
#   {<Key>: <raw line>} stamped with the read time;
# - the record is the object's keys in their order;
# - Time_Key: the first key of that name. A string value parsed with the Time_Format gives
#   the record time, and the key is removed unless Time_Keep. A value that does not parse (or
#   is not a string) logs "invalid time format" and leaves the key in place; the record gets
#   the read time. A parsed time of exactly 0 also gets the read time (tail's
#   `flb_time_to_nanosec(&out_time) == 0L` check).
# Python needs text where Fluent Bit passes bytes through: each byte that is not valid UTF-8
# becomes U+E000 + byte, which is what Fluent Bit's JSON encoders write for it (flb_fast/text.py);
# a \u escape of a lone surrogate becomes U+FFFD (no JSON encoder downstream could write it back).
#
# The scanner below decodes flat objects (string, number, true/false/null values: every
# Docker line and most application JSON) straight into a dict. Anything else (nested objects,
# arrays, odd syntax) goes to msgspec, which also settles what is and is not JSON.

from libc.stdint cimport int64_t, uint64_t
from cpython.ref cimport PyObject
from libc.string cimport memchr, memcmp, memcpy
from libc.math cimport isinf
from cpython.mem cimport PyMem_Realloc, PyMem_Free

import msgspec

from flb_fast.json_line import MISSING, OUT_OF_RANGE_DIGITS, first_json_object, read_json_object
from flb_fast.text import INVALID_UTF8  # importing it registers the handler

cdef object _msgspec_json_decode = msgspec.json.decode
cdef object _first_json_object = first_json_object
cdef object _read_json_object = read_json_object
cdef object _MISSING = MISSING
# json_line.OUT_OF_RANGE_DIGITS: the digits an integer outside int64/uint64 has at least.
cdef Py_ssize_t _OUT_OF_RANGE_DIGITS = OUT_OF_RANGE_DIGITS
# The codec error handler every section decodes line bytes with (see flb_fast/text.py).
cdef const char *_INVALID_UTF8 = b"flb_fast.invalid_utf8"


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #define FLB_ONES 0x0101010101010101ULL
    #define FLB_HIGHS 0x8080808080808080ULL
    /* The first quote or backslash at or after p, or end; *high collects the top bits of the bytes
       before it (non-zero: not ASCII). Eight bytes at a time: the lowest byte flagged by the
       has-zero-byte trick is exact. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    static inline const unsigned char *flb_find_special(const unsigned char *p,
                                                        const unsigned char *end, uint64_t *high) {
    #if defined(__SSE2__)
        /* Sixteen bytes at a time where SSE2 is there (every x86-64): the mask of quotes and
           backslashes, and of bytes with the top bit set. */
        const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                                  _mm_cmpeq_epi8(v, backslash)));
            unsigned h = (unsigned)_mm_movemask_epi8(v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                *high |= h & ((1u << k) - 1u);
                return p + k;
            }
            *high |= h;
            p += 16;
        }
    #endif
        while (end - p >= 8) {
            uint64_t w, q, b, m;
            memcpy(&w, p, 8);
            q = w ^ (FLB_ONES * 0x22);
            b = w ^ (FLB_ONES * 0x5C);
            m = ((q - FLB_ONES) & ~q & FLB_HIGHS) | ((b - FLB_ONES) & ~b & FLB_HIGHS);
            if (m) {
                int k = __builtin_ctzll(m) >> 3;
                if (k)
                    *high |= w & FLB_HIGHS & ((1ULL << (8 * k)) - 1);
                return p + k;
            }
            *high |= w & FLB_HIGHS;
            p += 8;
        }
        while (p < end && *p != 0x22 && *p != 0x5C) {
            *high |= *p & 0x80;
            p++;
        }
        return p;
    }
    /* The same scan, copying the bytes before the quote or backslash to d (which needs room
       for 16 bytes more than that: the copy goes sixteen or eight bytes at a time). */
    static inline const unsigned char *flb_copy_special(const unsigned char *p, const unsigned char *end,
                                                        unsigned char *d, uint64_t *high) {
    #if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                                  _mm_cmpeq_epi8(v, backslash)));
            unsigned h = (unsigned)_mm_movemask_epi8(v);
            _mm_storeu_si128((__m128i *)d, v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                *high |= h & ((1u << k) - 1u);
                return p + k;
            }
            *high |= h;
            p += 16;
            d += 16;
        }
    #endif
        while (end - p >= 8) {
            uint64_t w, q, b, m;
            memcpy(&w, p, 8);
            memcpy(d, &w, 8);
            q = w ^ (FLB_ONES * 0x22);
            b = w ^ (FLB_ONES * 0x5C);
            m = ((q - FLB_ONES) & ~q & FLB_HIGHS) | ((b - FLB_ONES) & ~b & FLB_HIGHS);
            if (m) {
                int k = __builtin_ctzll(m) >> 3;
                if (k)
                    *high |= w & FLB_HIGHS & ((1ULL << (8 * k)) - 1);
                return p + k;
            }
            *high |= w & FLB_HIGHS;
            p += 8;
            d += 8;
        }
        while (p < end && *p != 0x22 && *p != 0x5C) {
            *high |= *p & 0x80;
            *d++ = *p++;
        }
        return p;
    }
    /* The offset of the last backslash in s[0:limit], or -1. Eight bytes at a time from the end:
       the has-zero-byte trick may flag bytes above a true match (a borrow), never a word without
       one, so a flagged word is searched byte by byte. */
    static inline Py_ssize_t flb_last_backslash(const unsigned char *s, Py_ssize_t limit) {
        while (limit >= 8) {
            uint64_t w, b;
            memcpy(&w, s + limit - 8, 8);
            b = w ^ (FLB_ONES * 0x5C);
            if ((b - FLB_ONES) & ~b & FLB_HIGHS)
                break;
            limit -= 8;
        }
        while (limit > 0) {
            limit--;
            if (s[limit] == 0x5C)
                return limit;
        }
        return -1;
    }
    """
    const unsigned char *flb_find_special(const unsigned char *p, const unsigned char *end, uint64_t *high) noexcept
    const unsigned char *flb_copy_special(const unsigned char *p, const unsigned char *end,
                                          unsigned char *d, uint64_t *high) noexcept
    Py_ssize_t flb_last_backslash(const unsigned char *s, Py_ssize_t limit) noexcept


cdef inline object _make_str(const char *data, Py_ssize_t size, bint ascii):
    """A str of UTF-8 bytes: a plain copy when they are ASCII, else decoded with U+E000 + byte
    for each invalid byte."""
    cdef object text
    if ascii:
        text = _str_new(size, 127)
        memcpy(_str_data(text), data, size)
        return text
    return _str_from_utf8(data, size, _INVALID_UTF8)


cdef class _NameCache:
    """Reuses one str object per repeated short ASCII string (record keys, "stdout"...)."""

    cdef list owned
    cdef PyObject *names[_NAME_CACHE_ENTRIES]
    cdef const char *datas[_NAME_CACHE_ENTRIES]
    cdef Py_ssize_t sizes[_NAME_CACHE_ENTRIES]
    cdef Py_ssize_t count
    cdef Py_ssize_t max_bytes
    cdef Py_ssize_t max_entries

    def __cinit__(self, Py_ssize_t max_bytes, Py_ssize_t max_entries):
        self.owned = []
        self.max_bytes = max_bytes
        self.max_entries = min(max_entries, _NAME_CACHE_ENTRIES)

    cdef object get(self, const char *data, Py_ssize_t size, bint ascii):
        cdef Py_ssize_t i
        cdef object name
        if not ascii or size > self.max_bytes:
            return _make_str(data, size, ascii)
        for i in range(self.count):
            if self.sizes[i] == size and memcmp(self.datas[i], data, size) == 0:
                return <object> self.names[i]
        name = _make_str(data, size, True)
        self._add(name)
        return name

    cdef void _add(self, object name):
        if self.count < self.max_entries:
            self.owned.append(name)
            self.names[self.count] = <PyObject *> name
            self.datas[self.count] = <const char *> _str_data(name)
            self.sizes[self.count] = _str_length(name)
            self.count += 1

    cdef void seed(self, object name):
        if (name is not None and _str_is_compact_ascii(name) and _str_length(name) <= self.max_bytes
                and name not in self.owned):
            self._add(name)


cdef inline Py_ssize_t _skip_ws(const unsigned char *s, Py_ssize_t n, Py_ssize_t pos) noexcept:
    while pos < n and (s[pos] == b' ' or s[pos] == b'\t' or s[pos] == b'\n' or s[pos] == b'\r'):
        pos += 1
    return pos


cdef inline int _hex4(const unsigned char *s) noexcept:
    """The value of four hex digits, or -1."""
    cdef int value = 0
    cdef int i
    cdef unsigned char c
    for i in range(4):
        c = s[i]
        if b'0' <= c <= b'9':
            value = value * 16 + (c - 48)
        elif b'a' <= c <= b'f':
            value = value * 16 + (c - 87)
        elif b'A' <= c <= b'F':
            value = value * 16 + (c - 55)
        else:
            return -1
    return value


cdef inline Py_ssize_t _put_utf8(unsigned char *d, int cp) noexcept:
    if cp < 0x80:
        d[0] = cp
        return 1
    if cp < 0x800:
        d[0] = 0xC0 | (cp >> 6)
        d[1] = 0x80 | (cp & 0x3F)
        return 2
    if cp < 0x10000:
        d[0] = 0xE0 | (cp >> 12)
        d[1] = 0x80 | ((cp >> 6) & 0x3F)
        d[2] = 0x80 | (cp & 0x3F)
        return 3
    d[0] = 0xF0 | (cp >> 18)
    d[1] = 0x80 | ((cp >> 12) & 0x3F)
    d[2] = 0x80 | ((cp >> 6) & 0x3F)
    d[3] = 0x80 | (cp & 0x3F)
    return 4


cdef Py_ssize_t _colons_outside_strings(const unsigned char *s, Py_ssize_t n, bint *long_number) noexcept:
    """The colons of json_line.json_shape (one per key of a line that is one JSON value), and in
    ``long_number`` whether a run of OUT_OF_RANGE_DIGITS digits stands outside the strings (an
    integer msgspec may keep whole where Fluent Bit reads a double). Strings are skipped with
    flb_find_special, sixteen bytes at a time."""
    cdef Py_ssize_t count = 0
    cdef Py_ssize_t run = 0
    cdef const unsigned char *p = s
    cdef const unsigned char *end = s + n
    cdef uint64_t high = 0
    cdef unsigned char c
    long_number[0] = False
    while p < end:
        c = p[0]
        if c == b'"':
            run = 0
            p += 1
            while True:
                p = flb_find_special(p, end, &high)
                if p >= end:
                    return count
                if p[0] == b'"':
                    p += 1
                    break
                p += 2
                if p >= end:
                    return count
            continue
        if b'0' <= c <= b'9':
            run += 1
            if run >= _OUT_OF_RANGE_DIGITS:
                long_number[0] = True
        else:
            run = 0
            if c == b':':
                count += 1
        p += 1
    return count


cdef Py_ssize_t _count_keys(object value) except -1:
    """json_line.count_keys: the keys of every object in ``value``."""
    cdef Py_ssize_t count = 0
    cdef object item
    if type(value) is dict:
        count = len(<dict> value)
        for item in (<dict> value).values():
            if type(item) is dict or type(item) is list:
                count += _count_keys(item)
    elif type(value) is list:
        for item in <list> value:
            if type(item) is dict or type(item) is list:
                count += _count_keys(item)
    return count


def json_shape(bytes line, value) -> tuple:
    """json_line.json_shape, compiled: ``(colons outside strings, keys in value, whether a run of
    OUT_OF_RANGE_DIGITS digits stands outside the strings)``."""
    cdef bint long_number
    cdef Py_ssize_t colons = _colons_outside_strings(<const unsigned char *> _bytes_data(line), _bytes_size(line),
                                                     &long_number)
    return colons, _count_keys(value), long_number


cdef class JsonLinesDecoder:
    """Decodes batches of JSON lines into records, as Fluent Bit's ``json``-format parsers do.

    ``key`` names the field of a line that is not a JSON object (tail's ``Key``, ``log`` by
    default); ``time_key`` is the parser's Time_Key, or None when it has no Time_Format (pass
    ``"time"`` for a Time_Format without Time_Key, as Fluent Bit does); ``time_keep`` its
    Time_Keep. Times are read with the ``docker`` parser's ``%Y-%m-%dT%H:%M:%S.%L``, or with
    ``time_parser(text) -> ns or -1`` for any other Time_Format. ``time_errors`` counts time
    values that did not parse (those records get the read time). See ``_core/docker.pxi``.
    One decoder per caller: it reuses a scratch buffer and is not for concurrent threads.
    """

    cdef readonly str key
    cdef readonly object time_key
    cdef readonly bint time_keep
    cdef readonly object time_parser
    cdef readonly Py_ssize_t time_errors
    cdef _NameCache _keys
    cdef _NameCache _values
    cdef unsigned char *_scratch
    cdef Py_ssize_t _scratch_cap
    # The date and clock of the last docker time read (_parse_time_docker).
    cdef _TimeHead _time_head

    def __cinit__(self, str key, time_key, bint time_keep, time_parser=None):
        if time_key is not None and not isinstance(time_key, str):
            raise TypeError("time_key must be a str or None")
        self.key = key
        self.time_key = time_key
        self.time_keep = time_keep
        self.time_parser = time_parser
        self._keys = _NameCache(_NAME_CACHE_MAX_BYTES, _NAME_CACHE_ENTRIES)
        self._values = _NameCache(_VALUE_CACHE_MAX_BYTES, _VALUE_CACHE_ENTRIES)
        self._keys.seed(key)
        self._keys.seed(time_key)

    def __dealloc__(self):
        PyMem_Free(self._scratch)

    def decode(self, list lines, int64_t read_time_ns) -> tuple:
        """``(timestamps_ns, records, failed)`` for a batch of lines (bytes, no newline).

        ``failed`` counts lines that were not a JSON object: each became ``{key: line}`` with
        the read time.
        """
        cdef list timestamps = []
        cdef list records = []
        cdef Py_ssize_t failed = 0
        cdef object read_time = read_time_ns
        cdef object line
        cdef dict record
        cdef int status
        cdef int time_state
        cdef int64_t ns
        for line in lines:
            if type(line) is not bytes:
                line = bytes(line)
            record = {}
            ns = 0
            time_state = 0
            status = self._decode_flat(<const unsigned char *> _bytes_data(line), _bytes_size(line),
                                       record, &ns, &time_state)
            if status == 2:
                # The scanner read the time from the first time key, as Fluent Bit does; the record
                # is read again without that key when Fluent Bit removes it (the first one only).
                record = _first_json_object(
                    line, self.time_key if time_state == 1 and not self.time_keep else None)
            elif status == 0:
                ns = 0
                time_state = 0
                record = self._decode_general(line, &ns, &time_state)
            if status < 0 or record is None:
                failed += 1
                timestamps.append(read_time)
                records.append({self.key: _str_from_utf8(_bytes_data(line), _bytes_size(line), _INVALID_UTF8)})
                continue
            if time_state == 2:
                self.time_errors += 1
            timestamps.append(ns if time_state == 1 and ns != 0 else read_time)
            records.append(record)
        return timestamps, records, failed

    cdef int _reserve(self, Py_ssize_t size) except -1:
        cdef unsigned char *grown
        if size > self._scratch_cap:
            grown = <unsigned char *> PyMem_Realloc(self._scratch, size)
            if grown == NULL:
                raise MemoryError()
            self._scratch = grown
            self._scratch_cap = size
        return 0

    cdef Py_ssize_t _string(self, const unsigned char *s, Py_ssize_t n, Py_ssize_t pos,
                            const unsigned char **out, Py_ssize_t *out_len, bint *ascii) except -2:
        """Scan the string whose body starts at ``pos``: its unescaped UTF-8 in ``out`` (the
        line itself when it has no escape, else the scratch buffer), whether it is all ASCII;
        returns the position after the closing quote, or -1 when malformed."""
        cdef const unsigned char *end = s + n
        cdef const unsigned char *p = s + pos
        cdef const unsigned char *q
        cdef unsigned char *d
        cdef Py_ssize_t w = 0
        cdef uint64_t high = 0
        cdef int cp, low
        cdef unsigned char e
        q = flb_find_special(p, end, &high)
        if q == end:
            return -1
        if q[0] == b'"':
            out[0] = p
            out_len[0] = q - p
            ascii[0] = high == 0
            return q - s + 1
        self._reserve(end - p + 16)
        d = self._scratch
        memcpy(d, p, q - p)
        w = q - p
        while True:
            if q[0] == b'"':
                out[0] = d
                out_len[0] = w
                ascii[0] = high == 0
                return q - s + 1
            if end - q < 2:
                return -1
            e = q[1]
            p = q + 2
            if e == b'"' or e == b'\\' or e == b'/':
                d[w] = e
            elif e == b'n':
                d[w] = 10
            elif e == b't':
                d[w] = 9
            elif e == b'r':
                d[w] = 13
            elif e == b'b':
                d[w] = 8
            elif e == b'f':
                d[w] = 12
            elif e == b'u':
                if end - p < 4:
                    return -1
                cp = _hex4(p)
                if cp < 0:
                    return -1
                p += 4
                if 0xD800 <= cp <= 0xDBFF:
                    # yyjson read_uni_esc: a high surrogate takes the \\u escape after it along, a
                    # low one making the pair, anything else one U+FFFD for both; short hex: the
                    # reference reader (json_line.py) decides.
                    if end - p >= 2 and p[0] == b'\\' and p[1] == b'u':
                        low = _hex4(p + 2) if end - p >= 6 else -1
                        if low < 0:
                            return -1
                        p += 6
                        if 0xDC00 <= low <= 0xDFFF:
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                        else:
                            cp = 0xFFFD
                    else:
                        cp = 0xFFFD
                elif 0xDC00 <= cp <= 0xDFFF:
                    cp = 0xFFFD
                if cp >= 0x80:
                    high = 1
                w += _put_utf8(d + w, cp) - 1
            else:
                return -1
            w += 1
            q = flb_copy_special(p, end, d + w, &high)
            w += q - p
            if q == end:
                return -1

    cdef object _time_value(self, const unsigned char *text, Py_ssize_t size, bint ascii, object value,
                            int64_t *ns, int *time_state):
        """Read the time key's string value; returns the value to store, or None to drop it."""
        cdef object parsed
        if self.time_parser is None:
            if _parse_time_docker(text, size, &self._time_head, ns):
                time_state[0] = 1
            else:
                time_state[0] = 2
        else:
            if value is None:
                value = _make_str(<const char *> text, size, ascii)
            parsed = self.time_parser(value)
            if parsed == -1:
                time_state[0] = 2
            else:
                ns[0] = parsed
                time_state[0] = 1
        if time_state[0] == 1 and not self.time_keep:
            return None
        if value is None:
            value = _make_str(<const char *> text, size, ascii)
        return value

    cdef int _decode_flat(self, const unsigned char *s, Py_ssize_t n, dict record,
                          int64_t *ns, int *time_state) except -2:
        """1: ``record`` is the line's object; 0: the general decoder must decide; 2: the
        reference reader must (a key repeats); -1: the line is not a JSON object at all."""
        cdef Py_ssize_t pos = _skip_ws(s, n, 0)
        cdef Py_ssize_t keys = 0
        cdef const unsigned char *text
        cdef Py_ssize_t size
        cdef object name, value
        cdef bint is_time
        cdef bint ascii
        cdef str time_key = self.time_key
        if pos >= n or s[pos] != b'{':
            return -1
        pos = _skip_ws(s, n, pos + 1)
        if pos < n and s[pos] == b'}':
            return 1 if _skip_ws(s, n, pos + 1) == n else 0
        while True:
            if pos >= n or s[pos] != b'"':
                return 0
            pos = self._string(s, n, pos + 1, &text, &size, &ascii)
            if pos < 0:
                return 0
            keys += 1
            name = self._keys.get(<const char *> text, size, ascii)
            is_time = time_state[0] == 0 and time_key is not None and (
                name is time_key or (_str_length(name) == _str_length(time_key) and name == time_key))
            pos = _skip_ws(s, n, pos)
            if pos >= n or s[pos] != b':':
                return 0
            pos = _skip_ws(s, n, pos + 1)
            if pos >= n:
                return 0
            if s[pos] == b'"':
                pos = self._string(s, n, pos + 1, &text, &size, &ascii)
                if pos < 0:
                    return 0
                if is_time:
                    value = self._time_value(text, size, ascii, None, ns, time_state)
                    if value is not None:
                        record[name] = value
                else:
                    record[name] = self._values.get(<const char *> text, size, ascii)
            else:
                value = self._scalar(s, n, &pos)
                if pos < 0:
                    return 0
                if is_time:
                    time_state[0] = 2
                record[name] = value
            pos = _skip_ws(s, n, pos)
            if pos >= n:
                return 0
            if s[pos] == b',':
                pos = _skip_ws(s, n, pos + 1)
            elif s[pos] == b'}':
                if _skip_ws(s, n, pos + 1) != n:
                    return 0
                # A repeated key: Fluent Bit's record holds both (its JSON writer keeps the last where
                # it stands), and the first may be the time key: json_line.py reads it so.
                return 1 if keys == len(record) + (time_state[0] == 1 and not self.time_keep) else 2
            else:
                return 0

    cdef object _scalar(self, const unsigned char *s, Py_ssize_t n, Py_ssize_t *at):
        """The number, true, false or null at ``at[0]``; moves ``at[0]`` past it, or sets -1."""
        cdef Py_ssize_t pos = at[0]
        cdef Py_ssize_t start = pos
        cdef Py_ssize_t i
        cdef bint integer = True
        cdef long long whole = 0
        cdef char number[_NUMBER_MAX_BYTES + 1]
        cdef double real
        cdef unsigned char c = s[pos]
        if c == b't' and n - pos >= 4 and memcmp(s + pos, b"true", 4) == 0:
            at[0] = pos + 4
            return True
        if c == b'f' and n - pos >= 5 and memcmp(s + pos, b"false", 5) == 0:
            at[0] = pos + 5
            return False
        if c == b'n' and n - pos >= 4 and memcmp(s + pos, b"null", 4) == 0:
            at[0] = pos + 4
            return None
        if c == b'-':
            pos += 1
        if pos < n and s[pos] == b'0':
            pos += 1
        elif pos < n and b'1' <= s[pos] <= b'9':
            while pos < n and b'0' <= s[pos] <= b'9':
                pos += 1
        else:
            at[0] = -1
            return None
        if pos < n and s[pos] == b'.':
            integer = False
            pos += 1
            if not (pos < n and b'0' <= s[pos] <= b'9'):
                at[0] = -1
                return None
            while pos < n and b'0' <= s[pos] <= b'9':
                pos += 1
        if pos < n and (s[pos] == b'e' or s[pos] == b'E'):
            integer = False
            pos += 1
            if pos < n and (s[pos] == b'+' or s[pos] == b'-'):
                pos += 1
            if not (pos < n and b'0' <= s[pos] <= b'9'):
                at[0] = -1
                return None
            while pos < n and b'0' <= s[pos] <= b'9':
                pos += 1
        if integer:
            if pos - start > 18:
                at[0] = -1
                return None
            for i in range(start + (c == b'-'), pos):
                whole = whole * 10 + (s[i] - 48)
            at[0] = pos
            return -whole if c == b'-' else whole
        if pos - start > _NUMBER_MAX_BYTES:
            at[0] = -1
            return None
        memcpy(number, s + start, pos - start)
        number[pos - start] = 0
        real = _string_to_double(number, NULL, NULL)
        if isinf(real):
            # yyjson: a number past a double's range is no JSON (json_line.py decides the line).
            at[0] = -1
            return None
        at[0] = pos
        return real

    cdef dict _decode_general(self, bytes line, int64_t *ns, int *time_state):
        """msgspec for what the scanner leaves (nested values, odd syntax, invalid UTF-8, bytes
        after the object), the reference reader (json_line.py) where msgspec refuses the line or
        may read it otherwise; None if not an object."""
        cdef object value
        cdef object value_time = _MISSING
        cdef bint reference = False
        cdef bint long_number
        cdef Py_ssize_t colons
        try:
            value = _msgspec_json_decode(line)
            # json_line.msgspec_may_differ: a number msgspec keeps whole, a repeated key
            if type(value) is dict:
                colons = _colons_outside_strings(<const unsigned char *> _bytes_data(line), _bytes_size(line),
                                                 &long_number)
                reference = long_number or colons != _count_keys(value)
        except ValueError:
            reference = True
        except RecursionError:
            # Nested deeper than msgspec decodes: the line is kept unparsed, as any invalid JSON.
            return None
        if reference:
            value, value_time = _read_json_object(line, self.time_key)
        if type(value) is not dict:
            return None
        if self.time_key is not None and not reference and self.time_key in value:
            value_time = (<dict> value)[self.time_key]
        if self.time_key is None or value_time is _MISSING:
            return value
        if isinstance(value_time, str):
            raw = (<str> value_time).encode("utf-8", "surrogatepass")
            kept = self._time_value(<const unsigned char *> _bytes_data(raw), len(raw), False, value_time,
                                    ns, time_state)
            if kept is None:
                if reference:  # Fluent Bit removes the first time key only
                    value = _read_json_object(line, self.time_key, True)[0]
                else:
                    del (<dict> value)[self.time_key]
        else:
            time_state[0] = 2
        return value


def decode_json_lines(list lines, int64_t read_time_ns, str key, time_key, bint time_keep, time_parser=None) -> tuple:
    """``(timestamps_ns, records, failed)``: ``JsonLinesDecoder(key, time_key, time_keep,
    time_parser).decode(lines, read_time_ns)`` for a caller that keeps no decoder (and so
    no ``time_errors`` count)."""
    return JsonLinesDecoder(key, time_key, time_keep, time_parser).decode(lines, read_time_ns)


# Docker_Mode (inputs/tail/docker_mode.py): a complete json-file entry holds this byte run
# (its `log` ends in a newline and `stream` follows), within the last few dozen bytes of the line.
cdef bytes _DOCKER_COMPLETE_MARK = b'\\n","stream":'


def docker_unmarked(list lines) -> list:
    """Indexes of the lines that may not be complete entries: those without the complete-entry
    mark (``_COMPLETE_MARK`` of docker_mode.py), and those whose last mark follows an even run
    of backslashes (a literal backslash and ``n``, not a newline escape). Each line is searched
    from its end, where Docker writes the mark, so a complete entry costs a scan of its last
    fields rather than of its whole ``log``."""
    cdef list found = []
    cdef const unsigned char *s
    cdef const unsigned char *mark = <const unsigned char *> _bytes_data(_DOCKER_COMPLETE_MARK)
    cdef Py_ssize_t m = _bytes_size(_DOCKER_COMPLETE_MARK)
    cdef Py_ssize_t index = 0
    cdef Py_ssize_t i, j
    cdef object line
    for line in lines:
        if type(line) is not bytes:
            line = bytes(line)
        s = <const unsigned char *> _bytes_data(line)
        i = flb_last_backslash(s, _bytes_size(line) - m + 1)
        while i >= 0 and memcmp(s + i, mark, m) != 0:
            i = flb_last_backslash(s, i)
        if i >= 0:
            j = i
            while j > 0 and s[j - 1] == 92:
                j -= 1
        if i < 0 or (i - j) % 2 == 1:
            found.append(index)
        index += 1
    return found
