# Records written as JSON by hand, in one pass from their dicts: the one writer Fluent Bit's AWS
# output plugins share (cloudwatch_logs, kinesis_firehose, kinesis_streams), in two modes.
#
# The JSON is Fluent Bit's msgpack2json with json.escape_unicode on, its default (flb_pack.c,
# flb_utils_write_str; what those plugins send, recorded: tests/data/outputs/cloudwatch_logs): no
# spaces, '"', '\\' and the control characters escaped (\b \t \n \f \r, else \u00XX in
# lowercase hex), every non-ASCII character and DEL as a lowercase \uXXXX escape (a surrogate
# pair above U+FFFF), and a float as %.1f when it holds an integer below 2^63, else as %.16g
# (outputs/fluent_json.py format_double).
#
# - plain: that JSON as it is: the data of kinesis_firehose and kinesis_streams records
#   (records.pxi records_json).
# - body: that same JSON already escaped as a JSON string holds it in a body botocore writes
#   (every '\\' and '"' escaped again, so a \uXXXX escape of the record's JSON is seven
#   characters there): the messages of CloudWatch Logs events (cwl.pxi CwlBodyWriter).
#
# A value the writer does not write itself (an int past 64 bits, any other type) is written as
# the caller's encoder writes it. The writer gives up on a record (the caller then takes its
# Python path) on a key that is not a str, a str holding a lone surrogate (msgspec refuses both),
# a record nested deeper than _JSON_MAX_DEPTH, or a value the caller's encoder refuses.
#
# A dict or list referenced from more than one place (the pod metadata map the kubernetes filter
# attaches to every record of a pod and keeps in its cache: DESIGN.md, shared metadata is
# read-only) is written once per call and its bytes copied wherever it is met again, kept by
# identity: the records reference it, so it stays alive and unchanged for the call. A container
# referenced once (a map a parser made for one record) can only be met once and is not kept.

from cpython.dict cimport PyDict_Next
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.mem cimport PyMem_Realloc
from cpython.ref cimport PyObject
from libc.math cimport fabs
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.stdio cimport snprintf
from libc.string cimport memcpy, memset

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    /* Which of eight bytes a JSON string cannot hold as they are: a control character, '"',
       '\\', DEL or a byte above 0x7F; the top bit of each such byte. Only the lowest bit set is
       exact (a borrow may flag bytes above a true one), which is all flb_json_clean_run reads. */
    static inline uint64_t flb_json_special_mask(uint64_t x) {
        const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
        uint64_t quote = x ^ (ones * 0x22), backslash = x ^ (ones * 0x5C);
        return (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)
                | ((x & ~high) + ones) | x) & high;
    }
    /* How many bytes at the start of p[0:n) a JSON string holds as they are (n when all of
       them), copied to d as they are read: sixteen bytes at a time where SSE2 is there (every
       x86-64), else eight. d needs room for n + 8 bytes (the copy goes on past the run), and
       the 8 bytes before p must be readable: the last n % 8 bytes are read as the 8 bytes
       ending at p + n. The data of a compact str or of a bytes object follows its object
       header (at least 32 bytes), so its start, or any point in it, qualifies. */
    static inline Py_ssize_t flb_json_clean_run(const unsigned char *p, Py_ssize_t n, unsigned char *d) {
        Py_ssize_t i = 0;
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        /* The word tests below read the lowest address as the lowest byte. */
        while (i < n && p[i] >= 0x20 && p[i] != 0x22 && p[i] != 0x5C && p[i] < 0x7F) {
            d[i] = p[i];
            i++;
        }
        return i;
    #else
        uint64_t w, m;
        int rest;
    #if defined(__SSE2__)
        const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8(0x22);
        const __m128i backslash = _mm_set1_epi8(0x5C), del = _mm_set1_epi8(0x7F);
        while (n - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            /* Signed: the bytes above 0x7F are negative, so below ' ' as well. */
            __m128i s = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, quote)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, del)));
            unsigned bits = (unsigned)_mm_movemask_epi8(s);
            _mm_storeu_si128((__m128i *)(d + i), v);
            if (bits)
                return i + __builtin_ctz(bits);
            i += 16;
        }
    #endif
        while (n - i >= 8) {
            memcpy(&w, p + i, 8);
            memcpy(d + i, &w, 8);
            m = flb_json_special_mask(w);
            if (m)
                return i + (__builtin_ctzll(m) >> 3);
            i += 8;
        }
        if (i < n) {
            rest = (int)(n - i);
            memcpy(&w, p + n - 8, 8);
            w >>= 8 * (8 - rest);
            memcpy(d + i, &w, 8);
            m = flb_json_special_mask(w) & ((1ULL << (8 * rest)) - 1);
            if (m)
                return i + (__builtin_ctzll(m) >> 3);
        }
        return n;
    #endif
    }
    """
    Py_ssize_t _json_clean_run "flb_json_clean_run"(const unsigned char *p, Py_ssize_t n, unsigned char *d) noexcept

cdef extern from "Python.h":
    bint _str_is_compact "PyUnicode_IS_COMPACT"(object o)
    Py_UCS4 _str_read "PyUnicode_READ"(int kind, const void *data, Py_ssize_t index)
    int _str_kind "PyUnicode_KIND"(object o)
    long long _long_as_long_long_overflow "PyLong_AsLongLongAndOverflow"(object o, int *overflow) except? -1
    Py_ssize_t _refcount "Py_REFCNT"(PyObject *o)
    PyObject *_list_item "PyList_GET_ITEM"(object o, Py_ssize_t i)
    PyObject *_tuple_item "PyTuple_GET_ITEM"(object o, Py_ssize_t i)

cdef enum:
    # A record nested deeper than this takes the Python path (msgspec, which has its own limit).
    _JSON_MAX_DEPTH = 64
    # Shared maps and lists kept per call. A chunk holds one tag's records (one Kubernetes
    # container's log file), and the kubernetes filter attaches one metadata map to all of them
    # (its labels and annotations maps are copied inside it); the rest is room for records
    # gathered from several pods. Each shared map met is looked up among at most this many.
    _JSON_MEMO_ENTRIES = 16
    # Bytes of written JSON kept per call: 1 MiB, the size of one PutLogEvents request
    # (cloudwatch_logs/batch.py MAX_BATCH_BYTES), so the memo never holds more than a request's
    # worth beside the body being written. Pod metadata is a few hundred bytes to a few KiB
    # (Kubernetes caps an object's annotations at 256 KiB: apimachinery TotalAnnotationSizeLimitB).
    _JSON_MEMO_BYTES = 1048576
    # Characters of a string written per reserve of the room they may take at most (14 bytes each
    # in body mode): about 28 KiB, which the room beyond a CloudWatch body's limit holds
    # (cwl.pxi CWL_BODY_ROOM), so that a long string never makes the buffer double.
    _JSON_SEGMENT_CHARS = 2048

# The bounds as Python ints, for the tests that reach them.
JSON_MEMO_ENTRIES = _JSON_MEMO_ENTRIES
JSON_MEMO_BYTES = _JSON_MEMO_BYTES

cdef bytes _JSON_HEX = b"0123456789abcdef"


cdef inline Py_ssize_t _json_int(char *out, long long value) noexcept:
    """``value`` in decimal into ``out`` (room for 20 bytes), as ``%lld`` writes it; its length.
    snprintf's format parsing was 5% of the CloudWatch body writer's time (a timestamp per event)."""
    cdef char digits[20]
    cdef Py_ssize_t n = 0, length = 0
    cdef unsigned long long magnitude
    if value < 0:
        out[0] = 45  # '-'
        length = 1
        magnitude = <unsigned long long>0 - <unsigned long long>value
    else:
        magnitude = <unsigned long long>value
    while True:
        digits[n] = <char>(48 + magnitude % 10)
        n += 1
        magnitude //= 10
        if magnitude == 0:
            break
    while n:
        n -= 1
        out[length] = digits[n]
        length += 1
    return length


cdef inline Py_ssize_t _json_double(char *out, double value) noexcept:
    """A float as Fluent Bit's msgpack2json writes it (outputs/fluent_json.py format_double): %.1f
    when it holds an integer a long long holds, else %.16g. ``out`` has room for 32 bytes."""
    if value == value and fabs(value) < 9223372036854775808.0 and value == <double>(<long long>value):
        return snprintf(out, 32, "%.1f", value)
    return snprintf(out, 32, "%.16g", value)


cdef inline char _json_short_escape(unsigned char c) noexcept:
    if c == 8:
        return 98  # b
    if c == 9:
        return 116  # t
    if c == 10:
        return 110  # n
    if c == 12:
        return 102  # f
    return 114  # r


cdef inline char *_json_u_escape(char *w, unsigned int unit, const char *hex) noexcept:
    w[0] = 92
    w[1] = 117
    w[2] = hex[(unit >> 12) & 0xF]
    w[3] = hex[(unit >> 8) & 0xF]
    w[4] = hex[(unit >> 4) & 0xF]
    w[5] = hex[unit & 0xF]
    return w + 6


# JSON text (UTF-8) escaped as a JSON string holds it in the body (json.dumps defaults).

cdef inline Py_ssize_t _json_utf8_char(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, unsigned int *out) noexcept:
    """Decode the UTF-8 character at s[i] into *out; returns its byte length. An invalid
    sequence reads as one U+FFFD per byte (the outputs only hand in valid UTF-8)."""
    cdef unsigned char c = s[i]
    cdef unsigned int cp
    cdef Py_ssize_t length, k
    if c < 0x80:
        out[0] = c
        return 1
    if c >= 0xC2 and c < 0xE0:
        length = 2
        cp = c & 0x1F
    elif c >= 0xE0 and c < 0xF0:
        length = 3
        cp = c & 0x0F
    elif c >= 0xF0 and c < 0xF5:
        length = 4
        cp = c & 0x07
    else:
        out[0] = 0xFFFD
        return 1
    if i + length > n:
        out[0] = 0xFFFD
        return 1
    for k in range(1, length):
        if (s[i + k] & 0xC0) != 0x80:
            out[0] = 0xFFFD
            return 1
        cp = (cp << 6) | (s[i + k] & 0x3F)
    if (length == 3 and (cp < 0x800 or (cp >= 0xD800 and cp < 0xE000))) or (length == 4 and (cp < 0x10000 or cp > 0x10FFFF)):
        out[0] = 0xFFFD
        return 1
    out[0] = cp
    return length


# Extra output bytes of each ASCII byte once escaped (0: copied as is); 0xFF marks the first
# byte of a multi-byte (or invalid) UTF-8 sequence, which is decoded and written as \uXXXX.
cdef unsigned char _JSON_EXTRA[256]


cdef void _json_init_extra() noexcept:
    cdef int c
    for c in range(256):
        if c >= 0x80:
            _JSON_EXTRA[c] = 0xFF
        elif c == 34 or c == 92 or c == 8 or c == 9 or c == 10 or c == 12 or c == 13:
            _JSON_EXTRA[c] = 1
        elif c < 0x20 or c == 0x7F:
            _JSON_EXTRA[c] = 5
        else:
            _JSON_EXTRA[c] = 0


_json_init_extra()


cdef inline Py_ssize_t _json_escaped_size(const unsigned char *s, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i = 0, size = n, step
    cdef unsigned char extra
    cdef unsigned int cp
    while i < n:
        extra = _JSON_EXTRA[s[i]]
        if extra != 0xFF:
            size += extra
            i += 1
        else:
            step = _json_utf8_char(s, n, i, &cp)
            size += (12 if cp > 0xFFFF else 6) - step
            i += step
    return size


cdef inline char *_json_write_escaped(char *w, const unsigned char *s, Py_ssize_t n, const char *hex) noexcept:
    """``s[0:n)`` escaped at ``w``, which has room for its escaped size and 8 bytes more; ``s``
    is a bytes object's data (``_json_clean_run`` reads the 8 bytes before it)."""
    cdef Py_ssize_t i = 0, run, step
    cdef unsigned char c
    cdef unsigned int cp
    while i < n:
        run = _json_clean_run(s + i, n - i, <unsigned char *>w)
        w += run
        i += run
        if i == n:
            break
        c = s[i]
        if c < 0x80:
            if c == 34 or c == 92:
                w[0] = 92
                w[1] = c
                w += 2
            elif c == 8 or c == 9 or c == 10 or c == 12 or c == 13:
                w[0] = 92
                w[1] = _json_short_escape(c)
                w += 2
            else:
                w = _json_u_escape(w, c, hex)
            i += 1
        else:
            step = _json_utf8_char(s, n, i, &cp)
            if cp > 0xFFFF:
                cp -= 0x10000
                w = _json_u_escape(w, 0xD800 | (cp >> 10), hex)
                w = _json_u_escape(w, 0xDC00 | (cp & 0x3FF), hex)
            else:
                w = _json_u_escape(w, cp, hex)
            i += step
    return w


cdef struct _JsonOut:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity
    # UTF-8 bytes of the JSON the written text stands for (in body mode, what PutLogEvents counts).
    Py_ssize_t raw


cdef int _json_reserve(_JsonOut *out, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = out.size + extra, capacity
    cdef char *grown
    if need <= out.capacity:
        return 0
    capacity = max(need, 2 * out.capacity, 4096)
    grown = <char *>PyMem_Realloc(out.data, capacity)
    if grown == NULL:
        raise MemoryError()
    out.data = grown
    out.capacity = capacity
    return 0


cdef inline void _json_put(_JsonOut *out, const char *text, Py_ssize_t n, Py_ssize_t raw) noexcept:
    memcpy(out.data + out.size, text, n)
    out.size += n
    out.raw += raw


# Each ASCII character inside a string value as each mode writes it (at most 7 bytes, padded to
# 8 so that it is copied in one store), its length there, and (body mode) its length in the JSON.
cdef uint64_t _JSON_BODY_OUT[128]
cdef unsigned char _JSON_BODY_LEN[128]
cdef unsigned char _JSON_BODY_RAW[128]
cdef uint64_t _JSON_PLAIN_OUT[128]
cdef unsigned char _JSON_PLAIN_LEN[128]


cdef char *_json_ascii_plain(char *w, unsigned int c, const char *hex) noexcept:
    """One ASCII character of a string value as Fluent Bit writes it: '"', '\\', the control
    characters and DEL escaped."""
    if (0x20 <= c < 0x7F) and c != 34 and c != 92:
        w[0] = <char>c
        return w + 1
    if c == 34 or c == 92:
        w[0] = 92
        w[1] = <char>c
        return w + 2
    if c == 8 or c == 9 or c == 10 or c == 12 or c == 13:
        w[0] = 92
        w[1] = _json_short_escape(c)
        return w + 2
    return _json_u_escape(w, c, hex)


cdef char *_json_ascii_body(char *w, unsigned int c, const char *hex) noexcept:
    """The same character once the JSON is escaped again as a string of the body (every '\\'
    and '"' escaped)."""
    cdef char plain[8]
    cdef char *end = _json_ascii_plain(plain, c, hex)
    cdef char *p = plain
    while p < end:
        if p[0] == 92 or p[0] == 34:
            w[0] = 92
            w += 1
        w[0] = p[0]
        w += 1
        p += 1
    return w


cdef void _json_init_ascii() noexcept:
    cdef unsigned int c
    cdef char text[8]
    cdef char *end
    cdef const char *hex = _bytes_data(_JSON_HEX)
    for c in range(128):
        memset(text, 0, 8)
        end = _json_ascii_plain(text, c, hex)
        memcpy(&_JSON_PLAIN_OUT[c], text, 8)
        _JSON_PLAIN_LEN[c] = <unsigned char>(end - text)
        _JSON_BODY_RAW[c] = <unsigned char>(end - text)
        memset(text, 0, 8)
        end = _json_ascii_body(text, c, hex)
        memcpy(&_JSON_BODY_OUT[c], text, 8)
        _JSON_BODY_LEN[c] = <unsigned char>(end - text)


_json_init_ascii()


cdef inline char *_json_u_escape_body(char *w, unsigned int unit, const char *hex) noexcept:
    """A \\uXXXX escape of the record's JSON, escaped again as the body's string holds it."""
    w[0] = 92
    return _json_u_escape(w + 1, unit, hex)


cdef int _json_str_body(_JsonOut *out, str text) except -1:
    """A JSON string (quotes included), body mode; 1 when the text holds a lone surrogate.

    Written _JSON_SEGMENT_CHARS characters at a time, each with room reserved for the most they
    may take (14 bytes a character: a surrogate pair escaped twice), so that a long string does
    not reserve fourteen times its length at once (the body's buffer would double)."""
    cdef Py_ssize_t n = _str_length(text), i = 0, end, raw = 2, run
    cdef int kind = _str_kind(text)
    cdef void *data = _str_data(text)
    cdef const unsigned char *latin = NULL
    cdef const char *hex = _bytes_data(_JSON_HEX)
    cdef uint32_t cp
    cdef char *w
    if kind == 1 and _str_is_compact(text):
        latin = <const unsigned char *>data
    # The quotes, and room for the 8-byte stores past the end (_json_clean_run, the tables).
    _json_reserve(out, 16)
    w = out.data + out.size
    w[0] = 92
    w[1] = 34
    out.size += 2
    while i < n:
        end = min(n, i + _JSON_SEGMENT_CHARS)
        _json_reserve(out, 14 * (end - i) + 16)
        w = out.data + out.size
        if latin != NULL:
            while True:
                # The characters up to the next one that needs escaping, copied as they are.
                run = _json_clean_run(latin + i, end - i, <unsigned char *>w)
                w += run
                raw += run
                i += run
                if i == end:
                    break
                cp = latin[i]
                i += 1
                if cp < 0x80:
                    memcpy(w, &_JSON_BODY_OUT[cp], 8)
                    w += _JSON_BODY_LEN[cp]
                    raw += _JSON_BODY_RAW[cp]
                else:
                    w = _json_u_escape_body(w, cp, hex)
                    raw += 6
        else:
            while i < end:
                cp = _str_read(kind, data, i)
                i += 1
                if cp < 0x80:
                    memcpy(w, &_JSON_BODY_OUT[cp], 8)
                    w += _JSON_BODY_LEN[cp]
                    raw += _JSON_BODY_RAW[cp]
                elif 0xD800 <= cp < 0xE000:
                    return 1
                elif cp > 0xFFFF:
                    cp -= 0x10000
                    w = _json_u_escape_body(w, 0xD800 | (cp >> 10), hex)
                    w = _json_u_escape_body(w, 0xDC00 | (cp & 0x3FF), hex)
                    raw += 12
                else:
                    w = _json_u_escape_body(w, cp, hex)
                    raw += 6
        out.size = w - out.data
    _json_reserve(out, 16)
    w = out.data + out.size
    w[0] = 92
    w[1] = 34
    out.size += 2
    out.raw += raw
    return 0


cdef int _json_str_plain(_JsonOut *out, str text) except -1:
    """A JSON string (quotes included), plain mode; 1 when the text holds a lone surrogate.
    Written _JSON_SEGMENT_CHARS characters at a time, as ``_json_str_body``."""
    cdef Py_ssize_t n = _str_length(text), i = 0, end, run, begin = out.size
    cdef int kind = _str_kind(text)
    cdef void *data = _str_data(text)
    cdef const unsigned char *latin = NULL
    cdef uint32_t cp
    cdef char *w
    cdef const char *hex = _bytes_data(_JSON_HEX)
    if kind == 1 and _str_is_compact(text):
        latin = <const unsigned char *>data
    # The quotes, and room for the 8-byte stores past the end (_json_clean_run, the tables).
    _json_reserve(out, 16)
    out.data[out.size] = 34
    out.size += 1
    while i < n:
        end = min(n, i + _JSON_SEGMENT_CHARS)
        # 12 bytes a character at most (a surrogate pair).
        _json_reserve(out, 12 * (end - i) + 16)
        w = out.data + out.size
        if latin != NULL:
            while True:
                run = _json_clean_run(latin + i, end - i, <unsigned char *>w)
                w += run
                i += run
                if i == end:
                    break
                cp = latin[i]
                i += 1
                if cp < 0x80:
                    memcpy(w, &_JSON_PLAIN_OUT[cp], 8)
                    w += _JSON_PLAIN_LEN[cp]
                else:
                    w = _json_u_escape(w, cp, hex)
        else:
            while i < end:
                cp = _str_read(kind, data, i)
                i += 1
                if cp < 0x80:
                    memcpy(w, &_JSON_PLAIN_OUT[cp], 8)
                    w += _JSON_PLAIN_LEN[cp]
                elif 0xD800 <= cp < 0xE000:
                    return 1
                elif cp > 0xFFFF:
                    cp -= 0x10000
                    w = _json_u_escape(w, 0xD800 | (cp >> 10), hex)
                    w = _json_u_escape(w, 0xDC00 | (cp & 0x3FF), hex)
                else:
                    w = _json_u_escape(w, cp, hex)
        out.size = w - out.data
    _json_reserve(out, 16)
    out.data[out.size] = 34
    out.size += 1
    out.raw += out.size - begin
    return 0


cdef class _JsonWriter:
    """One call's writing: its mode, the caller's encoder of values (``encode``) and the memo of
    shared containers (their addresses, written bytes and JSON sizes)."""

    cdef object encode
    cdef bint body
    cdef Py_ssize_t count
    cdef Py_ssize_t kept_bytes
    cdef PyObject *objects[_JSON_MEMO_ENTRIES]
    cdef Py_ssize_t raws[_JSON_MEMO_ENTRIES]
    cdef list fragments

    def __cinit__(self, object encode, bint body):
        self.encode = encode
        self.body = body
        self.count = 0
        self.kept_bytes = 0
        self.fragments = []


cdef inline int _json_str(_JsonOut *out, str text, _JsonWriter writer) except -1:
    if writer.body:
        return _json_str_body(out, text)
    return _json_str_plain(out, text)


cdef int _json_escaped(_JsonOut *out, const unsigned char *s, Py_ssize_t n) except -1:
    """JSON text (UTF-8) escaped as the body's string holds it (body mode); ``s`` is a bytes
    object's data."""
    _json_reserve(out, _json_escaped_size(s, n) + 8)
    out.size = _json_write_escaped(out.data + out.size, s, n, _bytes_data(_JSON_HEX)) - out.data
    out.raw += n
    return 0


cdef int _json_encoded(_JsonOut *out, object value, _JsonWriter writer) except -1:
    """``value`` as the caller's encoder writes it; 1 when it refuses."""
    cdef bytes text
    try:
        text = writer.encode(value)
    except Exception:
        # Whatever the encoder refuses, the record takes the Python path, which has its fallback.
        return 1
    cdef const unsigned char *s = <const unsigned char *>_bytes_data(text)
    cdef Py_ssize_t n = _bytes_size(text)
    if writer.body:
        return _json_escaped(out, s, n)
    _json_reserve(out, n)
    _json_put(out, <const char *>s, n, n)
    return 0


cdef int _json_value(_JsonOut *out, object value, _JsonWriter writer, int depth, bint shared) except -1:
    """A JSON value; ``shared`` when something else references it too. 1 when the record must
    take the Python path."""
    cdef int overflow = 0
    cdef long long number
    cdef char digits[32]
    cdef Py_ssize_t n
    if type(value) is str:
        return _json_str(out, <str>value, writer)
    if value is None:
        _json_reserve(out, 4)
        _json_put(out, b"null", 4, 4)
        return 0
    if value is True:
        _json_reserve(out, 4)
        _json_put(out, b"true", 4, 4)
        return 0
    if value is False:
        _json_reserve(out, 5)
        _json_put(out, b"false", 5, 5)
        return 0
    if type(value) is float:
        n = _json_double(digits, PyFloat_AS_DOUBLE(value))
        _json_reserve(out, n)
        _json_put(out, digits, n, n)
        return 0
    if type(value) is int:
        number = _long_as_long_long_overflow(value, &overflow)
        if overflow:
            return _json_encoded(out, value, writer)
        n = _json_int(digits, number)
        _json_reserve(out, n)
        _json_put(out, digits, n, n)
        return 0
    if depth >= _JSON_MAX_DEPTH:
        return 1
    if type(value) is dict or type(value) is list:
        return _json_container(out, value, writer, depth + 1, shared)
    if type(value) is tuple:
        return _json_array(out, value, writer, depth + 1)
    return _json_encoded(out, value, writer)


cdef int _json_container(_JsonOut *out, object value, _JsonWriter writer, int depth, bint shared) except -1:
    """A dict or list. One that is ``shared`` is copied from the memo when it is there, and kept
    there once written while the memo has room (_JSON_MEMO_ENTRIES, _JSON_MEMO_BYTES)."""
    cdef Py_ssize_t start = out.size, raw = out.raw, i, n
    cdef bytes fragment
    cdef int failed
    if shared:
        for i in range(writer.count):
            if writer.objects[i] == <PyObject *>value:
                fragment = <bytes>writer.fragments[i]
                n = _bytes_size(fragment)
                _json_reserve(out, n)
                _json_put(out, _bytes_data(fragment), n, writer.raws[i])
                return 0
    if type(value) is dict:
        failed = _json_dict(out, <dict>value, writer, depth)
    else:
        failed = _json_array(out, value, writer, depth)
    n = out.size - start
    if not failed and shared and writer.count < _JSON_MEMO_ENTRIES and writer.kept_bytes + n <= _JSON_MEMO_BYTES:
        writer.objects[writer.count] = <PyObject *>value
        writer.raws[writer.count] = out.raw - raw
        writer.fragments.append(_bytes_from_size(out.data + start, n))
        writer.count += 1
        writer.kept_bytes += n
    return failed


cdef int _json_array(_JsonOut *out, object value, _JsonWriter writer, int depth) except -1:
    """A list or tuple as a JSON array; its items are at ``depth``."""
    cdef Py_ssize_t n = len(value), i
    cdef bint is_list = type(value) is list, shared
    cdef PyObject *item
    _json_reserve(out, 1)
    _json_put(out, b"[", 1, 1)
    for i in range(n):
        if i:
            _json_reserve(out, 1)
            _json_put(out, b",", 1, 1)
        item = _list_item(value, i) if is_list else _tuple_item(value, i)
        shared = _refcount(item) > 1
        if _json_value(out, <object>item, writer, depth, shared):
            return 1
    _json_reserve(out, 1)
    _json_put(out, b"]", 1, 1)
    return 0


cdef int _json_dict(_JsonOut *out, dict record, _JsonWriter writer, int depth) except -1:
    """A JSON object in key order; its values are at ``depth``. 1 when the record must take the
    Python path."""
    cdef Py_ssize_t pos = 0
    cdef PyObject *key
    cdef PyObject *item
    cdef bint first = True, shared
    _json_reserve(out, 1)
    _json_put(out, b"{", 1, 1)
    while PyDict_Next(record, &pos, &key, &item):
        if type(<object>key) is not str:
            return 1
        if not first:
            _json_reserve(out, 1)
            _json_put(out, b",", 1, 1)
        first = False
        if _json_str(out, <str>key, writer):
            return 1
        _json_reserve(out, 1)
        _json_put(out, b":", 1, 1)
        # Read before the value is handed on: the references the records hold.
        shared = _refcount(item) > 1
        if _json_value(out, <object>item, writer, depth, shared):
            return 1
    _json_reserve(out, 1)
    _json_put(out, b"}", 1, 1)
    return 0
