# PutLogEvents request bodies (outputs/cloudwatch_logs/body.py request_bodies is the Python
# reference): each record's message (its JSON as msgspec writes it) is written straight into the
# body already escaped as the body's string, in one pass from the record's dict (jsonw.pxi, body
# mode: a map shared by many records, the pod metadata the kubernetes filter attaches, is written
# once per call and copied after). Events go in chronological order (no sort when they already are, the usual
# case: a file is read in order). No per-event dict, no intermediate message bytes, no decode
# to str and back.
#
# The body is byte for byte what botocore's JSON serialiser sends for the same call
# (botocore/serialize.py JSONSerializer: `json.dumps(body)` with its default separators and
# ensure_ascii): every non-ASCII character as a lowercase \uXXXX escape (a surrogate pair
# above U+FFFF), the control characters and DEL as \b \t \n \f \r or \u00XX, '"' and '\\' escaped.

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.string cimport memcpy

cdef bytes _CWL_EVENT_OPEN = b'{"timestamp": '
cdef bytes _CWL_MESSAGE_OPEN = b', "message": "'
cdef bytes _CWL_EVENT_CLOSE = b'"}'
cdef bytes _CWL_SEPARATOR = b', '
cdef bytes _CWL_TAIL = b']}'
# Room in a new body beyond its events' PutLogEvents size (max_batch_bytes) and its head: the
# escapes of its messages (a '"' or '\\' written as two bytes counts as one; a non-ASCII
# character's \uXXXX counts as its UTF-8 bytes) up to this much need no growing of the body.
# A record's JSON grows by about 15% escaped (the quotes of every key and string: the records
# Fluent Bit wrote in tests/data/fluent-bit/kube_*), so a full body of such records holds about
# 160 KB of escapes. With 64 KiB of room nearly every full body was grown, its 1 MB copied once.
# Room not written to is never touched, so it costs address space, not memory.
cdef Py_ssize_t CWL_BODY_ROOM = 256 * 1024


# Records straight into PutLogEvents bodies (``cwl_bodies``): each event is written where the
# body holds it, and the bodies are cut while they are written, so no message, fragment or
# timestamp object is made per event and each byte of a message is written once.

cdef int _cwl_message(_JsonOut *out, object message, Py_ssize_t max_event_bytes) except -1:
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
    _json_escaped(out, data, n)
    return truncated


cdef int _cwl_open(_JsonOut *out, bytes head, Py_ssize_t capacity, const char *event, Py_ssize_t event_size) except -1:
    """A new body in ``out`` (which holds none), written straight into a bytes object of
    ``capacity`` bytes (cut to its size by ``_cwl_cut``; grown when its events need more):
    ``head``, then the ``event_size`` bytes at ``event`` (an event that did not fit in the body
    before)."""
    cdef Py_ssize_t head_size = _bytes_size(head)
    body = _bytes_from_size(NULL, max(capacity, head_size + event_size))
    memcpy(_bytes_data(body), _bytes_data(head), head_size)
    memcpy(_bytes_data(body) + head_size, event, event_size)
    Py_INCREF(body)
    out.body = <PyObject *>body
    out.data = _bytes_data(body)
    out.capacity = _bytes_size(body)
    out.size = head_size + event_size
    return 0


cdef int _cwl_cut(_JsonOut *out, Py_ssize_t end, list bodies) except -1:
    """The body written up to ``end``, closed with ``]}``, cut to its size (not copied) and
    appended to ``bodies``. ``out`` then holds no body."""
    cdef Py_ssize_t tail = _bytes_size(_CWL_TAIL)
    out.size = end
    _json_reserve(out, tail)
    memcpy(out.data + end, _bytes_data(_CWL_TAIL), tail)
    _bytes_resize(&out.body, end + tail)
    bodies.append(<object>out.body)
    Py_XDECREF(out.body)
    out.body = NULL
    out.data = NULL
    out.capacity = 0
    out.size = 0
    return 0


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
    written as its JSON as ``encode``, msgspec's encoder, writes it; a map or list several records
    reference is written once and copied after) or its message as UTF-8 bytes. A record that cannot be written
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
    cdef list order = None, bodies = [], counts = []
    cdef _JsonWriter writer = _JsonWriter(encode, True)
    cdef _JsonOut out
    cdef object item
    if len(timestamps_ns) != n:
        raise ValueError("cwl_bodies: one timestamp per item")
    if first < 0:
        raise ValueError("cwl_bodies: first must not be negative")
    # Each body is written in the bytes object sent, with room for the most its events may count
    # and for their escapes (a body whose escapes need more is grown).
    cdef Py_ssize_t capacity = head_size + max_batch_bytes + CWL_BODY_ROOM
    cdef _JsonOut done
    done.body = NULL
    out.body = NULL
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
        _cwl_open(&out, head, capacity, NULL, 0)
        for k in range(first, n):
            i = k if ordered else <Py_ssize_t>order[k]
            ms = times[i]
            if count and (count >= max_batch_events or ms - first_ms >= max_span_ms):
                _cwl_cut(&out, out.size, bodies)
                counts.append(count)
                _cwl_open(&out, head, capacity, NULL, 0)
                count = 0
                batch_bytes = 0
            event_start = out.size
            digits_size = _json_int(digits, ms)
            _json_reserve(&out, 64)
            if count:
                _json_put(&out, _bytes_data(_CWL_SEPARATOR), 2, 0)
            _json_put(&out, _bytes_data(_CWL_EVENT_OPEN), _bytes_size(_CWL_EVENT_OPEN), 0)
            _json_put(&out, digits, digits_size, 0)
            _json_put(&out, _bytes_data(_CWL_MESSAGE_OPEN), _bytes_size(_CWL_MESSAGE_OPEN), 0)
            message_start = out.size
            out.raw = 0
            item = items[i]
            if type(item) is bytes:
                truncated += _cwl_message(&out, item, max_event_bytes)
            else:
                failed = 1
                if type(item) is dict:
                    failed = _json_dict(&out, <dict>item, writer, 0)
                    if out.raw > max_event_bytes:
                        failed = 1
                if failed:
                    out.size = message_start
                    out.raw = 0
                    truncated += _cwl_message(&out, fallback(i), max_event_bytes)
            _json_reserve(&out, 2)
            _json_put(&out, _bytes_data(_CWL_EVENT_CLOSE), 2, 0)
            event_bytes = out.raw + event_overhead
            if count and batch_bytes + event_bytes > max_batch_bytes:
                # The event opens the next body: the body so far ends before it.
                # It is copied into the next body, then the body before is cut.
                done = out
                out.body = NULL
                moved = done.size - event_start - 2
                _cwl_open(&out, head, capacity, done.data + event_start + 2, moved)
                _cwl_cut(&done, event_start, bodies)
                counts.append(count)
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
        # Bodies not finished (an error): ``done`` between the two bodies of a cut, ``out``'s.
        Py_XDECREF(done.body)
        Py_XDECREF(out.body)
        PyMem_Free(times)
    return bodies, counts, truncated
