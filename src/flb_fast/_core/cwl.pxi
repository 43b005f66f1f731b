# PutLogEvents request bodies (outputs/cloudwatch_logs/body.py BodyWriter is the Python
# reference): each record's message (its JSON as Fluent Bit writes it) is written once, already
# escaped as the body's string, in one pass from the record's dict (jsonw.pxi, body mode: a map
# shared by many records, the pod metadata the kubernetes filter attaches, is written once per
# body and copied after). Events go in chronological order (no sort when they already are, the usual
# case: a file is read in order). No per-event dict, no intermediate message bytes, no decode
# to str and back.
#
# The body is byte for byte what botocore's JSON serialiser sends for the same call
# (botocore/serialize.py JSONSerializer: `json.dumps(body)` with its default separators and
# ensure_ascii): every non-ASCII character as a lowercase \uXXXX escape (a surrogate pair
# above U+FFFF), the control characters and DEL as \b \t \n \f \r or \u00XX, '"' and '\\' escaped.

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.string cimport memcpy

cdef bytes _CWL_EVENT_OPEN = b'{"timestamp": '
cdef bytes _CWL_MESSAGE_OPEN = b', "message": "'
cdef bytes _CWL_EVENT_CLOSE = b'"}'
cdef bytes _CWL_SEPARATOR = b', '
cdef bytes _CWL_TAIL = b']}'
# Room in the buffer a body is written in beyond its events' PutLogEvents size
# (max_batch_bytes) and its head: the escapes of its messages (a '"' or '\\' written as two
# bytes counts as one; a non-ASCII character's \uXXXX counts as its UTF-8 bytes) up to this much
# need no growing of the buffer. A record's JSON grows by about 15% escaped (the quotes of every
# key and string: the records Fluent Bit wrote in tests/data/fluent-bit/kube_*), so a full body
# of such records holds about 160 KB of escapes.
cdef Py_ssize_t CWL_BODY_ROOM = 256 * 1024


# Records straight into PutLogEvents bodies (``CwlBodyWriter``), one body a call, as Fluent
# Bit's cloudwatch_logs builds one payload, sends it and goes on (cloudwatch_api.c
# process_and_send): each event is written once, in a buffer the writer keeps for every body
# (as Fluent Bit keeps its output buffer), and the body is copied out at its size. A bytes
# object made for each body at the buffer's size and cut to what it held was a fresh mapping of
# 1.3 MB every time (larger than any freed before, so malloc mapped it anew), each of its pages
# zeroed by the kernel as it was first written: ten times the page faults of the whole pipeline
# into ``null`` (``perf record -e minor-faults`` around ``bench_pipeline --variant
# cloudwatch-fast``). No message, fragment or timestamp object is made per event.

cdef int _cwl_message(_JsonOut *out, object message, Py_ssize_t max_event_bytes) except -1:
    """A message given as UTF-8 bytes, escaped for the body; one over ``max_event_bytes`` is cut
    first to its longest prefix ending on a character boundary. 1 when it was cut."""
    if type(message) is not bytes:
        raise TypeError(f"cwl body: a message must be bytes, not {type(message).__name__}")
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


cdef class CwlEvents:
    """One destination's events as ``CwlBodyWriter`` takes them: the items, each one's time in
    milliseconds, and their chronological order (stable), worked out once for all its bodies."""

    cdef list items
    cdef object encode, fallback
    cdef Py_ssize_t n
    cdef long long *times
    # None when the items already are in chronological order (the usual case: a file is read in
    # order), else the index of each event in that order.
    cdef list order

    def __cinit__(self, list items, list timestamps_ns, object encode, object fallback):
        cdef Py_ssize_t i, n = len(items)
        cdef long long ns, ms
        cdef bint ordered = True
        if len(timestamps_ns) != n:
            raise ValueError("cwl events: one timestamp per item")
        self.items = items
        self.encode = encode
        self.fallback = fallback
        self.n = n
        self.times = <long long *>PyMem_Malloc((n if n > 0 else 1) * sizeof(long long))
        if self.times == NULL:
            raise MemoryError()
        for i in range(n):
            ns = <long long>timestamps_ns[i]
            # Floor division, as Python's // (times before 1970 are negative).
            ms = ns / 1000000
            if ns % 1000000 < 0:
                ms -= 1
            self.times[i] = ms
            if i and ms < self.times[i - 1]:
                ordered = False
        if not ordered:
            self.order = sorted(range(n), key=[self.times[i] for i in range(n)].__getitem__)

    def __dealloc__(self):
        PyMem_Free(self.times)

    def __len__(self):
        return self.n


cdef class CwlBodyWriter:
    """PutLogEvents bodies within the batch limits it is made with, written one at a time in a
    buffer it keeps (``body``). Used by one output, on one thread."""

    cdef _JsonOut out
    cdef Py_ssize_t max_event_bytes, max_batch_bytes, event_overhead, max_batch_events
    cdef long long max_span_ms
    cdef bint writing

    def __cinit__(self, Py_ssize_t max_event_bytes, Py_ssize_t max_batch_bytes, Py_ssize_t event_overhead,
                  Py_ssize_t max_batch_events, long long max_span_ms):
        self.max_event_bytes = max_event_bytes
        self.max_batch_bytes = max_batch_bytes
        self.event_overhead = event_overhead
        self.max_batch_events = max_batch_events
        self.max_span_ms = max_span_ms
        self.out.data = NULL
        self.out.capacity = 0
        self.out.size = 0
        self.out.raw = 0
        self.writing = False

    def __dealloc__(self):
        PyMem_Free(self.out.data)

    def events(self, list items, list timestamps_ns, object encode, object fallback):
        """The events ``body`` takes. An item is a record (a dict, written as its JSON as Fluent
        Bit writes it, jsonw.pxi, ``encode`` writing the values the writer leaves to it; a map or
        list several records reference is written once a body and copied after) or its message as
        UTF-8 bytes. A record that cannot be written here (a value ``encode`` refuses, a message
        over ``max_event_bytes``) or an item of another type is sent as ``fallback(index)``'s
        bytes."""
        return CwlEvents(items, timestamps_ns, encode, fallback)

    def body(self, bytes head, CwlEvents events not None, Py_ssize_t first):
        """``(body, count, truncated)``: the PutLogEvents body of ``events`` from the ``first``
        in chronological order on, holding the ``count`` events that fit the batch limits,
        ``truncated`` of them cut to ``max_event_bytes`` (on a character boundary). ``head`` is
        the JSON up to and including ``"logEvents": [``."""
        if not 0 <= first < events.n:
            raise ValueError("cwl body: first must be the index of an event")
        if self.writing:
            raise RuntimeError("cwl body: the writer is already writing a body")
        self.writing = True
        try:
            return self._body(head, events, first)
        finally:
            self.writing = False

    cdef tuple _body(self, bytes head, CwlEvents events, Py_ssize_t first):
        cdef _JsonOut *out = &self.out
        cdef Py_ssize_t k, i, event_start, message_start, head_size = _bytes_size(head)
        cdef Py_ssize_t count = 0, batch_bytes = 0, event_bytes, truncated = 0
        cdef long long ms, first_ms = 0
        cdef int failed, cut
        cdef char digits[32]
        cdef Py_ssize_t digits_size, tail = _bytes_size(_CWL_TAIL)
        cdef list items = events.items, order = events.order
        cdef _JsonWriter writer = _JsonWriter(events.encode, True)
        cdef object item
        # Room for the most a body's events may count, and their escapes (a body whose escapes
        # need more grows the buffer).
        out.size = 0
        _json_reserve(out, head_size + self.max_batch_bytes + CWL_BODY_ROOM)
        _json_put(out, _bytes_data(head), head_size, 0)
        for k in range(first, events.n):
            i = k if order is None else <Py_ssize_t>order[k]
            ms = events.times[i]
            if count and (count >= self.max_batch_events or ms - first_ms >= self.max_span_ms):
                break
            event_start = out.size
            digits_size = _json_int(digits, ms)
            _json_reserve(out, 64)
            if count:
                _json_put(out, _bytes_data(_CWL_SEPARATOR), 2, 0)
            _json_put(out, _bytes_data(_CWL_EVENT_OPEN), _bytes_size(_CWL_EVENT_OPEN), 0)
            _json_put(out, digits, digits_size, 0)
            _json_put(out, _bytes_data(_CWL_MESSAGE_OPEN), _bytes_size(_CWL_MESSAGE_OPEN), 0)
            message_start = out.size
            out.raw = 0
            item = items[i]
            cut = 0
            if type(item) is bytes:
                cut = _cwl_message(out, item, self.max_event_bytes)
            else:
                failed = 1
                if type(item) is dict:
                    failed = _json_dict(out, <dict>item, writer, 0)
                    if out.raw > self.max_event_bytes:
                        failed = 1
                if failed:
                    out.size = message_start
                    out.raw = 0
                    cut = _cwl_message(out, events.fallback(i), self.max_event_bytes)
            _json_reserve(out, 2)
            _json_put(out, _bytes_data(_CWL_EVENT_CLOSE), 2, 0)
            event_bytes = out.raw + self.event_overhead
            if count and batch_bytes + event_bytes > self.max_batch_bytes:
                # The event belongs to the next body: this one ends before it.
                out.size = event_start
                break
            truncated += cut
            if not count:
                first_ms = ms
            count += 1
            batch_bytes += event_bytes
        body = _bytes_from_size(NULL, out.size + tail)
        memcpy(_bytes_data(body), out.data, out.size)
        memcpy(_bytes_data(body) + out.size, _bytes_data(_CWL_TAIL), tail)
        return body, count, truncated
