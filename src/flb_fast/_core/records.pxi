# PutRecordBatch / PutRecords requests (outputs/aws/records.py, for the kinesis_firehose and
# kinesis_streams outputs): where each request ends within the service's limits, counted without
# a Python list of sizes, and its body in one pass: each record's data written as base64 straight
# into the body, with its partition key where the API has one. No per-record base64 bytes, no
# per-record concatenation, no per-record (data, key) tuples.
#
# The body is byte for byte what botocore's JSON serialiser sends for the same call
# (botocore/serialize.py JSONSerializer: blobs as standard base64 with padding, `json.dumps(body)`
# with its default separators and ensure_ascii): a partition key of printable ASCII other than
# '"' and '\\' is written as is between quotes, any other through the caller's `key_json`.

from cpython.mem cimport PyMem_Free
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.stdint cimport uint16_t
from libc.string cimport memcpy

cdef bytes _REC_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
cdef bytes _REC_OPEN = b'{"Data": "'
cdef bytes _REC_CLOSE = b'"}'
cdef bytes _REC_KEY_OPEN = b'", "PartitionKey": '
cdef bytes _REC_SEPARATOR = b', '
cdef bytes _REC_TAIL = b']}'


cdef inline char *_rec_copy(char *w, bytes part) noexcept:
    cdef Py_ssize_t n = _bytes_size(part)
    memcpy(w, _bytes_data(part), n)
    return w + n


# Each 12 bits of data as their two base64 characters, copied in one 2-byte store: half the
# lookups and stores of one character at a time.
cdef uint16_t _REC_B64_PAIRS[4096]


cdef void _rec_init_pairs() noexcept:
    cdef const char *alphabet = _bytes_data(_REC_B64)
    cdef unsigned int v
    cdef char pair[2]
    for v in range(4096):
        pair[0] = alphabet[v >> 6]
        pair[1] = alphabet[v & 63]
        memcpy(&_REC_B64_PAIRS[v], pair, 2)


_rec_init_pairs()


cdef inline char *_rec_base64(char *w, const unsigned char *s, Py_ssize_t n, const char *alphabet) noexcept:
    cdef Py_ssize_t i = 0
    cdef unsigned int v
    while i + 3 <= n:
        v = (<unsigned int>s[i] << 16) | (<unsigned int>s[i + 1] << 8) | s[i + 2]
        memcpy(w, &_REC_B64_PAIRS[v >> 12], 2)
        memcpy(w + 2, &_REC_B64_PAIRS[v & 0xFFF], 2)
        w += 4
        i += 3
    if n - i == 1:
        v = <unsigned int>s[i] << 16
        w[0] = alphabet[v >> 18]
        w[1] = alphabet[(v >> 12) & 63]
        w[2] = b'='
        w[3] = b'='
        w += 4
    elif n - i == 2:
        v = (<unsigned int>s[i] << 16) | (<unsigned int>s[i + 1] << 8)
        w[0] = alphabet[v >> 18]
        w[1] = alphabet[(v >> 12) & 63]
        w[2] = alphabet[(v >> 6) & 63]
        w[3] = b'='
        w += 4
    return w


cdef inline bint _rec_plain_key(object key) noexcept:
    """Whether json.dumps writes ``key`` as itself between quotes."""
    cdef const unsigned char *s
    cdef Py_ssize_t i
    if not isinstance(key, str) or not _str_is_compact_ascii(key):
        return False
    s = <const unsigned char *>_str_data(key)
    for i in range(_str_length(key)):
        if s[i] < 0x20 or s[i] > 0x7E or s[i] == 0x22 or s[i] == 0x5C:
            return False
    return True


cdef inline Py_ssize_t _rec_key_size(object key) except -1:
    """A partition key's size as the service counts it: its UTF-8 bytes, 0 for None or ''."""
    cdef Py_ssize_t n = 0
    if key is None:
        return 0
    if not isinstance(key, str):
        raise TypeError(f"a partition key is a str, not {type(key).__name__}")
    if _str_is_compact_ascii(key):
        return _str_length(key)
    PyUnicode_AsUTF8AndSize(<str>key, &n)
    return n


def records_batch_end(list datas, object keys, Py_ssize_t start, Py_ssize_t max_records, Py_ssize_t max_bytes):
    """The end of the request that starts at record ``start``: as many records as ``max_records``
    and ``max_bytes`` allow (each record's data, plus its partition key from ``keys`` when keys
    are given, as the service counts them), and at least one. The reference is
    ``outputs/aws/records.py split_batches`` on ``record_sizes``."""
    cdef Py_ssize_t n = len(datas), last, i = start, total = 0, size
    cdef list key_list = None
    if keys is not None:
        key_list = <list?>keys
        if len(key_list) != n:
            raise ValueError("records_batch_end: datas and keys differ in length")
    if start < 0 or start >= n:
        raise IndexError("records_batch_end: start out of range")
    last = n if n - start < max_records else start + max_records
    while i < last:
        size = _bytes_size(<bytes?>datas[i])
        if key_list is not None:
            size += _rec_key_size(key_list[i])
        if i > start and total + size > max_bytes:
            break
        total += size
        i += 1
    return i


def records_body(bytes head, list datas, object keys, Py_ssize_t start, Py_ssize_t end, key_json):
    """The request body of records ``[start, end)``: ``head`` (the JSON up to and including
    ``"Records": [``), then each record as ``{"Data": "<base64 of datas[i]>"}``, or with
    ``keys`` (a list as long as ``datas``) ``{"Data": "<base64>", "PartitionKey": <keys[i]>}``,
    then ``]}``. A plain printable ASCII key is copied between quotes straight from the str;
    ``key_json(key)`` gives the JSON bytes of any other."""
    cdef Py_ssize_t i, size = _bytes_size(head) + _bytes_size(_REC_TAIL)
    cdef bytes data
    cdef object raw, text
    # Per record of the range: its key itself when plain (copied in the second pass), else its
    # JSON bytes. Held here, so the second pass writes exactly what the first one measured.
    cdef list key_list = None, key_texts = []
    cdef bint keyed = keys is not None
    cdef const char *alphabet = _bytes_data(_REC_B64)
    cdef char *w
    if keyed:
        key_list = <list?>keys
        if len(key_list) != len(datas):
            raise ValueError("records_body: datas and keys differ in length")
    if start < 0 or end > len(datas) or start > end:
        raise IndexError("records_body: records out of range")
    for i in range(start, end):
        data = <bytes?>datas[i]
        size += _bytes_size(_REC_OPEN) + (_bytes_size(data) + 2) // 3 * 4
        if keyed:
            raw = key_list[i]
            if _rec_plain_key(raw):
                key_texts.append(raw)
                size += _str_length(raw) + 2
            else:
                text = <bytes?>key_json(raw)
                key_texts.append(text)
                size += _bytes_size(text)
            size += _bytes_size(_REC_KEY_OPEN) + 1
        else:
            size += _bytes_size(_REC_CLOSE)
        if i > start:
            size += _bytes_size(_REC_SEPARATOR)
    body = _bytes_from_size(NULL, size)
    w = _bytes_data(body)
    w = _rec_copy(w, head)
    for i in range(start, end):
        if i > start:
            w = _rec_copy(w, _REC_SEPARATOR)
        data = <bytes>datas[i]
        w = _rec_copy(w, _REC_OPEN)
        w = _rec_base64(w, <const unsigned char *>_bytes_data(data), _bytes_size(data), alphabet)
        if keyed:
            w = _rec_copy(w, _REC_KEY_OPEN)
            text = key_texts[i - start]
            if isinstance(text, bytes):
                w = _rec_copy(w, <bytes>text)
            else:
                w[0] = b'"'
                memcpy(w + 1, _str_data(text), _str_length(text))
                w += _str_length(text) + 1
                w[0] = b'"'
                w += 1
            w[0] = b'}'
            w += 1
        else:
            w = _rec_copy(w, _REC_CLOSE)
    _rec_copy(w, _REC_TAIL)
    return body


def records_json(list records, object encode, object fallback, bytes suffix):
    """Each record's JSON as Fluent Bit writes it (jsonw.pxi; ``encode`` writes the values the
    writer leaves to it), followed by ``suffix``, in one pass (plain mode: a map or list several
    records reference is written once and copied after). A record not written here (not a dict, or holding what the writer gives up on) is
    ``fallback(index)``'s bytes, then ``suffix``."""
    cdef Py_ssize_t n = len(records), i, suffix_size = _bytes_size(suffix)
    cdef list encoded = [None] * n
    cdef _JsonWriter writer = _JsonWriter(encode, False)
    cdef _JsonOut out
    cdef object record
    out.data = NULL
    out.capacity = 0
    try:
        for i in range(n):
            record = records[i]
            out.size = 0
            out.raw = 0
            if type(record) is not dict or _json_dict(&out, <dict>record, writer, 0):
                encoded[i] = <bytes>fallback(i) + suffix
                continue
            _json_reserve(&out, suffix_size)
            _json_put(&out, _bytes_data(suffix), suffix_size, suffix_size)
            encoded[i] = _bytes_from_size(out.data, out.size)
    finally:
        PyMem_Free(out.data)
    return encoded
