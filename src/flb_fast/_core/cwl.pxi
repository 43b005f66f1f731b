# PutLogEvents request bodies (outputs/cloudwatch_logs/body.py request_bodies is the Python
# reference): each record's message (its JSON as msgspec writes it) is written straight into the
# body already escaped as the body's string, in one pass from the record's dict. A dict shared
# by many records (the pod metadata the kubernetes filter attaches) is written once per call
# and copied after. Events go in chronological order (no sort when they already are, the usual
# case: a file is read in order). No per-event dict, no intermediate message bytes, no decode
# to str and back.
#
# The body is byte for byte what botocore's JSON serialiser sends for the same call
# (botocore/serialize.py JSONSerializer: `json.dumps(body)` with its default separators and
# ensure_ascii): every non-ASCII character as a lowercase \uXXXX escape (a surrogate pair
# above U+FFFF), the control characters and DEL as \b \t \n \f \r or \u00XX, '"' and '\\' escaped.

cdef bytes _CWL_HEX = b"0123456789abcdef"
cdef bytes _CWL_EVENT_OPEN = b'{"timestamp": '
cdef bytes _CWL_MESSAGE_OPEN = b', "message": "'
cdef bytes _CWL_EVENT_CLOSE = b'"}'
cdef bytes _CWL_SEPARATOR = b', '
cdef bytes _CWL_TAIL = b']}'


cdef inline Py_ssize_t _cwl_char(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, unsigned int *out) noexcept:
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
cdef unsigned char _CWL_EXTRA[256]


cdef void _cwl_init_extra() noexcept:
    cdef int c
    for c in range(256):
        if c >= 0x80:
            _CWL_EXTRA[c] = 0xFF
        elif c == 34 or c == 92 or c == 8 or c == 9 or c == 10 or c == 12 or c == 13:
            _CWL_EXTRA[c] = 1
        elif c < 0x20 or c == 0x7F:
            _CWL_EXTRA[c] = 5
        else:
            _CWL_EXTRA[c] = 0


_cwl_init_extra()


cdef inline Py_ssize_t _cwl_escaped_size(const unsigned char *s, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i = 0, size = n, step
    cdef unsigned char extra
    cdef unsigned int cp
    while i < n:
        extra = _CWL_EXTRA[s[i]]
        if extra != 0xFF:
            size += extra
            i += 1
        else:
            step = _cwl_char(s, n, i, &cp)
            size += (12 if cp > 0xFFFF else 6) - step
            i += step
    return size


cdef inline char _cwl_short_escape(unsigned char c) noexcept:
    if c == 8:
        return 98  # b
    if c == 9:
        return 116  # t
    if c == 10:
        return 110  # n
    if c == 12:
        return 102  # f
    return 114  # r


cdef inline char *_cwl_u_escape(char *w, unsigned int unit, const char *hex) noexcept:
    w[0] = 92
    w[1] = 117
    w[2] = hex[(unit >> 12) & 0xF]
    w[3] = hex[(unit >> 8) & 0xF]
    w[4] = hex[(unit >> 4) & 0xF]
    w[5] = hex[unit & 0xF]
    return w + 6


cdef inline char *_cwl_write_escaped(char *w, const unsigned char *s, Py_ssize_t n, const char *hex) noexcept:
    cdef Py_ssize_t i = 0, run, step
    cdef unsigned char c
    cdef unsigned int cp
    while i < n:
        run = i
        while run < n and _CWL_EXTRA[s[run]] == 0:
            run += 1
        if run > i:
            memcpy(w, s + i, run - i)
            w += run - i
            i = run
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
                w[1] = _cwl_short_escape(c)
                w += 2
            else:
                w = _cwl_u_escape(w, c, hex)
            i += 1
        else:
            step = _cwl_char(s, n, i, &cp)
            if cp > 0xFFFF:
                cp -= 0x10000
                w = _cwl_u_escape(w, 0xD800 | (cp >> 10), hex)
                w = _cwl_u_escape(w, 0xDC00 | (cp & 0x3FF), hex)
            else:
                w = _cwl_u_escape(w, cp, hex)
            i += step
    return w


from cpython.dict cimport PyDict_Next
from cpython.long cimport PyLong_FromVoidPtr
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.stdio cimport snprintf
from libc.string cimport memmove, memset
from cpython.mem cimport PyMem_Malloc

cdef extern from "Python.h":
    int _str_kind "PyUnicode_KIND"(object o)
    long long _long_as_long_long_overflow "PyLong_AsLongLongAndOverflow"(object o, int *overflow) except? -1

cdef enum:
    # A record nested deeper than this takes the Python path (msgspec, which has its own limit).
    _CWL_MAX_DEPTH = 64

# 1 for each ASCII byte a message's JSON and the body's string both copy as is.
cdef unsigned char _CWL_PLAIN[128]
# Each ASCII character inside a string value as the body writes it (at most 7 bytes, padded to
# 8 so that it is copied in one store), its length there, and its length in the message.
cdef uint64_t _CWL_ASCII_OUT[128]
cdef unsigned char _CWL_ASCII_LEN[128]
cdef unsigned char _CWL_ASCII_RAW[128]


cdef inline bint _cwl_word_special(uint64_t x) noexcept:
    """Whether any of eight bytes is a control character, '"', '\\', DEL or not ASCII (exact:
    the byte-wise tests cannot carry into their neighbours)."""
    cdef uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL
    cdef uint64_t quote = x ^ 0x2222222222222222ULL, backslash = x ^ 0x5C5C5C5C5C5C5C5CULL
    return (
        ((x - 0x20 * ones) & ~x)
        | ((quote - ones) & ~quote)
        | ((backslash - ones) & ~backslash)
        | ((x & 0x7F7F7F7F7F7F7F7FULL) + ones)
        | x
    ) & high != 0


cdef struct _CwlOut:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity
    # UTF-8 bytes of the message the written fragment stands for (what PutLogEvents counts).
    Py_ssize_t raw


cdef int _cwl_reserve(_CwlOut *out, Py_ssize_t extra) except -1:
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


cdef inline void _cwl_put(_CwlOut *out, const char *text, Py_ssize_t n, Py_ssize_t raw) noexcept:
    memcpy(out.data + out.size, text, n)
    out.size += n
    out.raw += raw


cdef inline char *_cwl_ascii_in_string(char *w, unsigned int c, Py_ssize_t *raw, const char *hex) noexcept:
    """One ASCII character of a JSON string value, as the message writes it (msgspec: '"', '\\'
    and the control characters escaped, DEL as is) and then the body (every '\\' and '"'
    escaped again, DEL as \u007f)."""
    if _CWL_PLAIN[c]:
        w[0] = <char>c
        raw[0] += 1
        return w + 1
    if c == 34 or c == 92:
        w[0] = 92
        w[1] = 92
        w[2] = 92
        w[3] = <char>c
        raw[0] += 2
        return w + 4
    if c == 8 or c == 9 or c == 10 or c == 12 or c == 13:
        w[0] = 92
        w[1] = 92
        w[2] = _cwl_short_escape(c)
        raw[0] += 2
        return w + 3
    if c == 0x7F:
        raw[0] += 1
        return _cwl_u_escape(w, c, hex)
    w[0] = 92
    raw[0] += 6
    return _cwl_u_escape(w + 1, c, hex)


cdef void _cwl_init_ascii() noexcept:
    cdef unsigned int c
    cdef char text[8]
    cdef char *end
    cdef Py_ssize_t raw
    for c in range(128):
        _CWL_PLAIN[c] = 1 if (0x20 <= c < 0x7F and c != 34 and c != 92) else 0
    for c in range(128):
        memset(text, 0, 8)
        raw = 0
        end = _cwl_ascii_in_string(text, c, &raw, _bytes_data(_CWL_HEX))
        memcpy(&_CWL_ASCII_OUT[c], text, 8)
        _CWL_ASCII_LEN[c] = <unsigned char>(end - text)
        _CWL_ASCII_RAW[c] = <unsigned char>raw


_cwl_init_ascii()


cdef inline char *_cwl_ascii(char *w, unsigned int c, Py_ssize_t *raw) noexcept:
    """``_cwl_ascii_in_string`` from the tables: one 8-byte store (the caller reserved room)."""
    memcpy(w, &_CWL_ASCII_OUT[c], 8)
    raw[0] += _CWL_ASCII_RAW[c]
    return w + _CWL_ASCII_LEN[c]


cdef int _cwl_str(_CwlOut *out, str text, const char *hex) except -1:
    """A JSON string (quotes included) into the fragment; 1 when the text holds a lone
    surrogate, which msgspec refuses (the record then takes the Python path)."""
    cdef Py_ssize_t n = _str_length(text), i, raw = 2
    cdef int kind = _str_kind(text)
    cdef void *data = _str_data(text)
    cdef const unsigned char *latin
    cdef uint32_t cp
    cdef uint64_t word
    cdef char *w
    _cwl_reserve(out, 12 * n + 4)
    w = out.data + out.size
    w[0] = 92
    w[1] = 34
    w += 2
    if kind == 1:
        latin = <const unsigned char *>data
        i = 0
        while i < n:
            # Eight characters at a time while none of them needs escaping (the usual case).
            while i + 8 <= n:
                memcpy(&word, latin + i, 8)
                if _cwl_word_special(word):
                    break
                memcpy(w, &word, 8)
                w += 8
                raw += 8
                i += 8
            if i == n:
                break
            cp = latin[i]
            i += 1
            if cp < 0x80:
                w = _cwl_ascii(w, cp, &raw)
            else:
                w = _cwl_u_escape(w, cp, hex)
                raw += 2
    else:
        for i in range(n):
            cp = (<const uint16_t *>data)[i] if kind == 2 else (<const uint32_t *>data)[i]
            if cp < 0x80:
                w = _cwl_ascii(w, cp, &raw)
            elif 0xD800 <= cp < 0xE000:
                return 1
            elif cp > 0xFFFF:
                cp -= 0x10000
                w = _cwl_u_escape(w, 0xD800 | (cp >> 10), hex)
                w = _cwl_u_escape(w, 0xDC00 | (cp & 0x3FF), hex)
                raw += 4
            else:
                w = _cwl_u_escape(w, cp, hex)
                raw += 2 if cp < 0x800 else 3
    w[0] = 92
    w[1] = 34
    out.size = w + 2 - out.data
    out.raw += raw
    return 0


cdef int _cwl_encoded(_CwlOut *out, object value, object encode) except -1:
    """``value`` as ``encode`` (msgspec) writes it, escaped for the body; 1 when it refuses."""
    cdef bytes text
    try:
        text = encode(value)
    except Exception:
        # Whatever msgspec refuses, the record takes the Python path, which has its fallback.
        return 1
    cdef const unsigned char *s = <const unsigned char *>_bytes_data(text)
    cdef Py_ssize_t n = _bytes_size(text)
    _cwl_reserve(out, _cwl_escaped_size(s, n))
    out.size = _cwl_write_escaped(out.data + out.size, s, n, _bytes_data(_CWL_HEX)) - out.data
    out.raw += n
    return 0


cdef int _cwl_value(_CwlOut *out, object value, object encode, dict shared, int depth, const char *hex) except -1:
    """A JSON value into the fragment; 1 when the record must take the Python path."""
    cdef int overflow = 0
    cdef long long number
    cdef char digits[32]
    cdef Py_ssize_t n, i
    if type(value) is str:
        return _cwl_str(out, <str>value, hex)
    if value is None:
        _cwl_reserve(out, 4)
        _cwl_put(out, b"null", 4, 4)
        return 0
    if value is True:
        _cwl_reserve(out, 4)
        _cwl_put(out, b"true", 4, 4)
        return 0
    if value is False:
        _cwl_reserve(out, 5)
        _cwl_put(out, b"false", 5, 5)
        return 0
    if type(value) is int:
        number = _long_as_long_long_overflow(value, &overflow)
        if overflow:
            return _cwl_encoded(out, value, encode)
        n = snprintf(digits, 32, "%lld", number)
        _cwl_reserve(out, n)
        _cwl_put(out, digits, n, n)
        return 0
    if depth >= _CWL_MAX_DEPTH:
        return 1
    if type(value) is dict:
        return _cwl_dict(out, <dict>value, encode, shared, depth + 1, hex)
    if type(value) is list or type(value) is tuple:
        n = len(value)
        _cwl_reserve(out, 1)
        _cwl_put(out, b"[", 1, 1)
        for i in range(n):
            if i:
                _cwl_reserve(out, 1)
                _cwl_put(out, b",", 1, 1)
            if _cwl_value(out, value[i], encode, shared, depth + 1, hex):
                return 1
        _cwl_reserve(out, 1)
        _cwl_put(out, b"]", 1, 1)
        return 0
    return _cwl_encoded(out, value, encode)


cdef int _cwl_dict(_CwlOut *out, dict record, object encode, dict shared, int depth, const char *hex) except -1:
    """A JSON object in key order. A nested dict met a second time in the same call is kept
    as its (fragment, size), and copied from there on: the pod metadata every record of a
    pod shares is escaped once, not once per record."""
    cdef Py_ssize_t pos = 0, start = out.size, raw = out.raw
    cdef PyObject *key
    cdef PyObject *item
    cdef object identity = None, seen = None
    cdef bint first = True
    if depth > 0:
        identity = PyLong_FromVoidPtr(<void *>record)
        seen = shared.get(identity)
        if seen is not None and seen is not False:
            _cwl_reserve(out, _bytes_size((<tuple>seen)[0]))
            _cwl_put(out, _bytes_data((<tuple>seen)[0]), _bytes_size((<tuple>seen)[0]), (<tuple>seen)[1])
            return 0
    _cwl_reserve(out, 1)
    _cwl_put(out, b"{", 1, 1)
    while PyDict_Next(record, &pos, &key, &item):
        if type(<object>key) is not str:
            return 1
        if not first:
            _cwl_reserve(out, 1)
            _cwl_put(out, b",", 1, 1)
        first = False
        if _cwl_str(out, <str>key, hex):
            return 1
        _cwl_reserve(out, 1)
        _cwl_put(out, b":", 1, 1)
        if _cwl_value(out, <object>item, encode, shared, depth, hex):
            return 1
    _cwl_reserve(out, 1)
    _cwl_put(out, b"}", 1, 1)
    if depth > 0:
        if seen is None:
            shared[identity] = False
        else:
            shared[identity] = (_bytes_from_size(out.data + start, out.size - start), out.raw - raw)
    return 0


# Records straight into PutLogEvents bodies (``cwl_bodies``): each event is written where the
# body holds it, and the bodies are cut while they are written, so no message, fragment or
# timestamp object is made per event and each byte of a message is written once.

cdef int _cwl_message(_CwlOut *out, object message, Py_ssize_t max_event_bytes, const char *hex) except -1:
    """A message given as UTF-8 bytes, escaped for the body; one over ``max_event_bytes`` is cut
    first to its longest prefix ending on a character boundary. 1 when it was cut."""
    if type(message) is not bytes:
        raise TypeError(f"cwl_bodies: a message must be bytes, not {type(message).__name__}")
    cdef const unsigned char *data = <const unsigned char *>_bytes_data(message)
    cdef Py_ssize_t n = _bytes_size(message), cut
    cdef int truncated = 0
    if n > max_event_bytes:
        cut = max_event_bytes
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        n = cut
        truncated = 1
    _cwl_reserve(out, _cwl_escaped_size(data, n))
    out.size = _cwl_write_escaped(out.data + out.size, data, n, hex) - out.data
    out.raw += n
    return truncated


cdef int _cwl_cut(_CwlOut *out, Py_ssize_t end, list bodies) except -1:
    """The body written up to ``end``, closed with ``]}``, appended to ``bodies``."""
    cdef Py_ssize_t tail = _bytes_size(_CWL_TAIL)
    body = _bytes_from_size(NULL, end + tail)
    memcpy(_bytes_data(body), out.data, end)
    memcpy(_bytes_data(body) + end, _bytes_data(_CWL_TAIL), tail)
    bodies.append(body)
    return 0


# The buffer bodies are written in, kept from one call to the next (while not in use): a body
# written into fresh memory pays a page fault per 4 KiB page.
cdef _CwlOut _cwl_scratch
_cwl_scratch.data = NULL
_cwl_scratch.capacity = 0
cdef bint _cwl_scratch_busy = False


def cwl_bodies(
    bytes head,
    list items,
    list timestamps_ns,
    object encode,
    object fallback,
    Py_ssize_t first,
    Py_ssize_t max_event_bytes,
    Py_ssize_t max_batch_bytes,
    Py_ssize_t event_overhead,
    Py_ssize_t max_batch_events,
    long long max_span_ms,
):
    """``(bodies, counts, truncated)``: the PutLogEvents bodies of one destination's events, in
    chronological order (stable), from its ``first`` event on, each within the batch limits.

    ``head`` is the JSON up to and including ``"logEvents": [``. An item is a record (a dict,
    written as its JSON as ``encode``, msgspec's encoder, writes it, with dicts met again copied
    from their first writing) or its message as UTF-8 bytes. A record that cannot be written
    here (a value msgspec refuses or writes its own way, a message over ``max_event_bytes``) or
    an item of another type is sent as ``fallback(index)``'s bytes. A message over
    ``max_event_bytes`` is cut on a character boundary and counted in ``truncated``. ``counts``
    holds each body's number of events."""
    cdef Py_ssize_t n = len(items), k, i, event_start, message_start, head_size = _bytes_size(head)
    cdef Py_ssize_t count = 0, batch_bytes = 0, event_bytes, moved, truncated = 0
    cdef long long ns, ms, first_ms = 0
    cdef long long *times = NULL
    cdef bint ordered = True
    cdef int failed
    cdef char digits[32]
    cdef Py_ssize_t digits_size
    cdef const char *hex = _bytes_data(_CWL_HEX)
    cdef list order = None, bodies = [], counts = []
    cdef dict shared = {}
    cdef _CwlOut out
    cdef object item
    if len(timestamps_ns) != n:
        raise ValueError("cwl_bodies: one timestamp per item")
    if first < 0:
        raise ValueError("cwl_bodies: first must not be negative")
    global _cwl_scratch_busy
    cdef bint scratch = not _cwl_scratch_busy
    if scratch:
        _cwl_scratch_busy = True
        out.data = _cwl_scratch.data
        out.capacity = _cwl_scratch.capacity
    else:
        out.data = NULL
        out.capacity = 0
    out.size = 0
    out.raw = 0
    times = <long long *>PyMem_Malloc((n if n > 0 else 1) * sizeof(long long))
    if times == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            ns = <long long>timestamps_ns[i]
            # Floor division, as Python's // (times before 1970 are negative).
            ms = ns / 1000000
            if ns % 1000000 < 0:
                ms -= 1
            times[i] = ms
            if i and ms < times[i - 1]:
                ordered = False
        if not ordered:
            order = sorted(range(n), key=[times[i] for i in range(n)].__getitem__)
        _cwl_reserve(&out, head_size)
        _cwl_put(&out, _bytes_data(head), head_size, 0)
        for k in range(first, n):
            i = k if ordered else <Py_ssize_t>order[k]
            ms = times[i]
            if count and (count >= max_batch_events or ms - first_ms >= max_span_ms):
                _cwl_cut(&out, out.size, bodies)
                counts.append(count)
                out.size = head_size
                count = 0
                batch_bytes = 0
            event_start = out.size
            digits_size = snprintf(digits, 32, "%lld", ms)
            _cwl_reserve(&out, 64)
            if count:
                _cwl_put(&out, _bytes_data(_CWL_SEPARATOR), 2, 0)
            _cwl_put(&out, _bytes_data(_CWL_EVENT_OPEN), _bytes_size(_CWL_EVENT_OPEN), 0)
            _cwl_put(&out, digits, digits_size, 0)
            _cwl_put(&out, _bytes_data(_CWL_MESSAGE_OPEN), _bytes_size(_CWL_MESSAGE_OPEN), 0)
            message_start = out.size
            out.raw = 0
            item = items[i]
            if type(item) is bytes:
                truncated += _cwl_message(&out, item, max_event_bytes, hex)
            else:
                failed = 1
                if type(item) is dict:
                    failed = _cwl_dict(&out, <dict>item, encode, shared, 0, hex)
                    if out.raw > max_event_bytes:
                        failed = 1
                if failed:
                    out.size = message_start
                    out.raw = 0
                    truncated += _cwl_message(&out, fallback(i), max_event_bytes, hex)
            _cwl_reserve(&out, 2)
            _cwl_put(&out, _bytes_data(_CWL_EVENT_CLOSE), 2, 0)
            event_bytes = out.raw + event_overhead
            if count and batch_bytes + event_bytes > max_batch_bytes:
                # The event opens the next body: the body so far ends before it.
                _cwl_cut(&out, event_start, bodies)
                counts.append(count)
                moved = out.size - event_start - 2
                memmove(out.data + head_size, out.data + event_start + 2, moved)
                out.size = head_size + moved
                count = 0
                batch_bytes = 0
            if not count:
                first_ms = ms
            count += 1
            batch_bytes += event_bytes
        if count:
            _cwl_cut(&out, out.size, bodies)
            counts.append(count)
    finally:
        if scratch:
            _cwl_scratch.data = out.data
            _cwl_scratch.capacity = out.capacity
            _cwl_scratch_busy = False
        else:
            PyMem_Free(out.data)
        PyMem_Free(times)
    return bodies, counts, truncated
