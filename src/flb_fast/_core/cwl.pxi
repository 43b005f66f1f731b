# PutLogEvents request bodies in one pass (outputs/cloudwatch_logs): a destination's encoded
# records become its events (millisecond times, in chronological order, each within the
# event size limit), and a batch of events becomes the request body, written straight from
# the message bytes. No dict per event, no decode of the messages to str and back, and no sort
# when the chunk is already in time order (the usual case: a file is read in order).
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


cdef inline char *_cwl_copy(char *w, bytes part) noexcept:
    cdef Py_ssize_t n = _bytes_size(part)
    memcpy(w, _bytes_data(part), n)
    return w + n


def cwl_events(list messages, list timestamps_ns, Py_ssize_t max_event_bytes):
    """One destination's events from its encoded records (``messages[i]`` at
    ``timestamps_ns[i]``): ``(timestamps_ms, messages, truncated)`` in chronological order,
    stable (equal times keep record order); the list is not copied when already in order. A
    message over ``max_event_bytes`` is cut to its longest prefix that ends on a UTF-8
    character boundary, and counted in ``truncated``."""
    cdef Py_ssize_t n = len(messages), i, cut, truncated = 0
    cdef list times = [None] * n
    cdef bint ordered = True
    cdef long long previous = -0x7FFFFFFFFFFFFFFF, ms
    cdef bytes message
    cdef const unsigned char *data
    if len(timestamps_ns) != n:
        raise ValueError("cwl_events: one timestamp per message")
    for i in range(n):
        ms = (<long long>timestamps_ns[i]) // 1000000
        times[i] = ms
        if ms < previous:
            ordered = False
        previous = ms
        message = <bytes>messages[i]
        if _bytes_size(message) > max_event_bytes:
            data = <const unsigned char *>_bytes_data(message)
            cut = max_event_bytes
            while cut > 0 and (data[cut] & 0xC0) == 0x80:
                cut -= 1
            messages[i] = message[:cut]
            truncated += 1
    if ordered:
        return times, messages, truncated
    order = sorted(range(n), key=times.__getitem__)
    return [times[i] for i in order], [messages[i] for i in order], truncated


def cwl_body(bytes head, list timestamps_ms, list messages, Py_ssize_t start, Py_ssize_t end):
    """The PutLogEvents body for events ``[start, end)``: ``head`` (the JSON up to and including
    ``"logEvents": [``) followed by each event as botocore serialises it, then ``]}``."""
    cdef Py_ssize_t i, size = _bytes_size(head) + _bytes_size(_CWL_TAIL)
    cdef bytes message, stamp
    cdef list stamps = []
    cdef const char *hex = _bytes_data(_CWL_HEX)
    cdef char *w
    if start < 0 or end > len(messages) or end > len(timestamps_ms) or start > end:
        raise IndexError("cwl_body: events out of range")
    for i in range(start, end):
        message = <bytes>messages[i]
        stamp = str(timestamps_ms[i]).encode()
        stamps.append(stamp)
        size += (
            _bytes_size(_CWL_EVENT_OPEN) + _bytes_size(stamp) + _bytes_size(_CWL_MESSAGE_OPEN)
            + _cwl_escaped_size(<const unsigned char *>_bytes_data(message), _bytes_size(message))
            + _bytes_size(_CWL_EVENT_CLOSE)
        )
        if i > start:
            size += _bytes_size(_CWL_SEPARATOR)
    body = _bytes_from_size(NULL, size)
    w = _bytes_data(body)
    w = _cwl_copy(w, head)
    for i in range(start, end):
        if i > start:
            w = _cwl_copy(w, _CWL_SEPARATOR)
        message = <bytes>messages[i]
        w = _cwl_copy(w, _CWL_EVENT_OPEN)
        w = _cwl_copy(w, <bytes>stamps[i - start])
        w = _cwl_copy(w, _CWL_MESSAGE_OPEN)
        w = _cwl_write_escaped(w, <const unsigned char *>_bytes_data(message), _bytes_size(message), hex)
        w = _cwl_copy(w, _CWL_EVENT_CLOSE)
    _cwl_copy(w, _CWL_TAIL)
    return body
