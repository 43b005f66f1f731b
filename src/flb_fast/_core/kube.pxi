# Merge_Log of the kubernetes filter (filters/kubernetes/merge.py): the per-record loops of a
# chunk in C, as JSON (kube_merge_json_logs) or through a parser (kube_merge_parsed_logs). Each record whose `log` is exactly one JSON object (whitespace around it
# allowed) is merged into the record, at the top level or under a key, as Fluent Bit's
# pack_map_content does. The log is read by Fluent Bit's jsmn reader's rules (flb_fast/jsmn.py):
# msgspec reads it first, and the rare log msgspec refuses or may read otherwise (a float with an
# unsigned exponent somewhere in the text, an integer past 64 bits, a key that repeats) goes to
# that reader. This loop saves the Python-level calls around them (one per record) and rejects
# plain-text lines on their first character.


cdef object _kube_jsmn_read(str text):
    """flb_fast.jsmn.read_object, imported on first use: its regular expressions cost start-up
    time an agent whose logs never need it would pay for nothing."""
    from flb_fast.jsmn import read_object
    return read_object(text)


cdef object _kube_jsmn_read_ordered(str text):
    """flb_fast.jsmn.read_ordered, imported on first use as _kube_jsmn_read is."""
    from flb_fast.jsmn import read_ordered
    return read_ordered(text)

# A Decoder's method: a third less per call than msgspec.json.decode, which parses its keywords each time.
cdef object _kube_json_decode = msgspec.json.Decoder().decode
cdef object _kube_decode_error = msgspec.DecodeError


cdef inline bint _kube_space(Py_UCS4 c):
    return c == u' ' or c == u'\t' or c == u'\r' or c == u'\n'


cdef str _kube_trim(str value):
    """kubernetes.c value_trim_size: trailing newlines and literal \\n / \\r pairs, never the
    first character."""
    cdef Py_ssize_t length = len(value)
    cdef Py_ssize_t size = length
    cdef Py_ssize_t i = length - 1
    cdef Py_UCS4 c
    while i > 0:
        c = value[i]
        if c == u'\n':
            size -= 1
            i -= 1
        elif value[i - 1] == u'\\' and (c == u'n' or c == u'r'):
            size -= 2
            i -= 2
        else:
            break
    return value if size == length else value[:size]


cdef extern from "Python.h":
    bint _kube_dict_next "PyDict_Next"(object d, Py_ssize_t *pos, PyObject **key, PyObject **value)
    Py_UCS4 _kube_read_char "PyUnicode_READ_CHAR"(object o, Py_ssize_t index)
    int _kube_str_kind "PyUnicode_KIND"(object o)
    Py_ssize_t _kube_dict_size "PyDict_GET_SIZE"(object o)
    long long _kube_long_overflow "PyLong_AsLongLongAndOverflow"(object o, int *overflow) except? -1


cdef object _KUBE_UINT64_MAX = (1 << 64) - 1


cdef extern from *:
    """
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    /* The colons of s[0:n] whose previous byte is a quote or a blank (at most a space): every
       member of a JSON object has one after its key, and a colon in a time ("10:00") or a URL
       ("http://") is not one. Sixteen bytes at a time where SSE2 is there (every x86-64): each
       lane of acc counts its colons (a compare gives -1) for at most 255 rounds, then the lanes
       are summed. */
    static inline Py_ssize_t flb_member_colons(const unsigned char *s, Py_ssize_t n) {
        Py_ssize_t count = 0, i = 1;
    #if defined(__SSE2__)
        const __m128i colon = _mm_set1_epi8(':'), quote = _mm_set1_epi8('"'), blank = _mm_set1_epi8(' ');
        const __m128i zero = _mm_setzero_si128();
        while (n - i >= 16) {
            __m128i acc = zero, sums;
            int rounds;
            for (rounds = 0; rounds < 255 && n - i >= 16; rounds++, i += 16) {
                __m128i here = _mm_loadu_si128((const __m128i *)(s + i));
                __m128i before = _mm_loadu_si128((const __m128i *)(s + i - 1));
                __m128i after_key = _mm_or_si128(_mm_cmpeq_epi8(before, quote),
                                                 _mm_cmpeq_epi8(_mm_min_epu8(before, blank), before));
                acc = _mm_sub_epi8(acc, _mm_and_si128(_mm_cmpeq_epi8(here, colon), after_key));
            }
            sums = _mm_sad_epu8(acc, zero);
            count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        }
    #endif
        for (; i < n; i++)
            count += s[i] == ':' && (s[i - 1] == '"' || s[i - 1] <= ' ');
        return count;
    }
    """
    Py_ssize_t _kube_member_colons "flb_member_colons"(const unsigned char *s, Py_ssize_t n)


cdef inline int _kube_number_kind(PyObject *item) except -1:
    """2: an integer past 64 bits; 1: a float; 0: neither; -2: a dict or list to look into."""
    cdef int overflow = 0
    cdef object value
    if type(<object>item) is str:
        return 0
    if type(<object>item) is float:
        return 1
    if type(<object>item) is int:
        value = <object>item
        _kube_long_overflow(value, &overflow)
        return 2 if overflow < 0 or (overflow > 0 and value > _KUBE_UINT64_MAX) else 0
    if type(<object>item) is dict or type(<object>item) is list:
        return -2
    return 0


cdef inline int _kube_value_kind(PyObject *item, Py_ssize_t *keys) except -1:
    """_kube_number_kind with a dict or list looked into (_kube_unusual)."""
    cdef int kind = _kube_number_kind(item)
    return _kube_unusual(<object>item, keys) if kind == -2 else kind


cdef int _kube_unusual(object value, Py_ssize_t *keys) except -1:
    """merge.py _unusual_number: 2 when a decoded dict or list holds an integer past 64 bits, else
    1 when it holds a float, else 0 (one pass over the values; containers looked into in turn).
    The keys of the objects looked into are added to ``keys`` (all of them unless it answers 2)."""
    cdef int found = 0
    cdef int kind
    cdef Py_ssize_t i
    if type(value) is dict:
        return _kube_trim_values(<dict>value, False, keys)
    for i in range(len(<list>value)):
        kind = _kube_value_kind(<PyObject *>(<list>value)[i], keys)
        if kind == 2:
            return 2
        if kind > found:
            found = kind
    return found


cdef bint _kube_repeats_a_key(str text, Py_ssize_t keys):
    """merge.py _repeats_a_key: more colons outside the strings of ``text`` (one per member,
    docker.pxi's scan) than the decoded log has keys at every depth. The colons a member may
    have (flb_member_colons, sixteen bytes at a time) are counted first: no more of them than
    keys needs no scan. A one-byte str is read as it is stored: both look only at ASCII bytes."""
    cdef bint long_number
    cdef object stored = text if _kube_str_kind(text) == 1 else text.encode("utf-8", "surrogatepass")
    cdef const unsigned char *data
    cdef Py_ssize_t n
    if type(stored) is str:
        data = <const unsigned char *>_str_data(stored)
        n = _str_length(stored)
    else:
        data = <const unsigned char *>_bytes_data(stored)
        n = _bytes_size(stored)
    if _kube_member_colons(data, n) <= keys:
        return False
    return _colons_outside_strings(data, n, &long_number) > keys


cdef bint _kube_unsigned_exponent(str text):
    """jsmn.has_unsigned_exponent: an 'e' or 'E' followed by a digit anywhere in ``text``."""
    cdef Py_ssize_t n = _str_length(text)
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    for i in range(n - 1):
        c = _kube_read_char(text, i)
        if c == u'e' or c == u'E':
            c = _kube_read_char(text, i + 1)
            if u'0' <= c <= u'9':
                return True
    return False


cdef int _kube_trim_values(dict obj, bint trim, Py_ssize_t *keys) except -1:
    """Merge_Log_Trim (when ``trim``) on every string value of ``obj``, in place: one look at each
    value's last character (replacing a value keeps the dict's keys, as PyDict_Next allows while
    iterating). In the same pass, merge.py _unusual_number's answer for ``obj``: 2 when it holds
    an integer past 64 bits, else 1 when it holds a float, else 0; and json_line.count_keys's count,
    added to ``keys`` (complete unless the answer is 2)."""
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t length
    cdef PyObject *key
    cdef PyObject *value
    cdef Py_UCS4 last
    cdef int found = 0
    cdef int kind
    keys[0] += _kube_dict_size(obj)
    while _kube_dict_next(obj, &pos, &key, &value):
        if type(<object>value) is str:
            if trim:
                length = _str_length(<object>value)
                if length > 1:
                    last = _kube_read_char(<object>value, length - 1)
                    if last == u'\n' or last == u'n' or last == u'r':
                        obj[<object>key] = _kube_trim(<str>value)
            continue
        kind = _kube_value_kind(value, keys)
        if kind > found:
            found = kind
    return found


def kube_trim_value(str value):
    """value_trim_size on one string (exposed for tests against the Python twin)."""
    return _kube_trim(value)


cdef inline int _kube_merge(dict rec, dict obj, object key, bint trim, bint keep_log) except -1:
    """pack_map_content for one record: ``obj`` merged at the top level (a key the record has
    is removed first, so the merged one follows the record's keys) or under ``key``."""
    cdef object name
    cdef Py_ssize_t keys = 0
    if trim:
        _kube_trim_values(obj, True, &keys)
    if not keep_log:
        del rec[u"log"]
    if key is None:
        for name in obj:
            if name in rec:
                del rec[name]
        rec.update(obj)
    elif obj:
        rec[key] = obj
    return 0


def kube_merge_json_logs(list records, object key, bint trim, bint keep_log):
    """Merge each record's JSON-object ``log`` in place; returns how many records merged.

    A ``log`` that is already a map merges untrimmed. ``key`` None merges at the top level
    (a key that exists keeps its place and takes the merged value); otherwise the object goes
    under ``key`` when it has entries. ``keep_log`` False drops ``log`` once merged.
    """
    cdef Py_ssize_t merged = 0
    cdef Py_ssize_t n, j
    cdef object item, log, decoded
    cdef dict rec, obj
    cdef str text
    cdef Py_UCS4 first
    cdef bint trim_this
    cdef int unusual
    cdef Py_ssize_t keys
    for item in records:
        rec = <dict>item
        log = rec.get(u"log")
        if log is None:
            continue
        if type(log) is dict:
            obj = <dict>log
            trim_this = False
        elif type(log) is str:
            text = <str>log
            n = len(text)
            if n == 0:
                continue
            first = text[0]
            if first != u'{':
                if not _kube_space(first):
                    continue
                j = 1
                while j < n and _kube_space(text[j]):
                    j += 1
                if j == n or text[j] != u'{':
                    continue
            try:
                decoded = _kube_json_decode(text)
            except _kube_decode_error:
                decoded = _kube_jsmn_read(text)
                if decoded is None:
                    continue
                obj = <dict>decoded
                trim_this = trim
            else:
                if type(decoded) is not dict:
                    continue
                obj = <dict>decoded
                # The trim pass also answers whether msgspec may have read a number otherwise,
                # and counts the keys: fewer than the text has members, one repeats.
                keys = 0
                unusual = _kube_trim_values(obj, trim, &keys)
                trim_this = False
                if unusual == 2 or (unusual == 1 and _kube_unsigned_exponent(text)):
                    decoded = _kube_jsmn_read(text)
                    if decoded is None:
                        continue
                    obj = <dict>decoded
                    trim_this = trim
                elif _kube_repeats_a_key(text, keys):
                    obj = <dict>_kube_jsmn_read_ordered(text)
                    trim_this = trim
        else:
            continue
        _kube_merge(rec, obj, key, trim_this, keep_log)
        merged += 1
    return merged


def kube_merge_parsed_logs(list records, list timestamps, list indexes, object parse_batch, object key, bint trim,
                           bint keep_log, int64_t now_ns):
    """Merge_Log through a parser for ``records[i]``, ``i`` in ``indexes``, in place: the string
    ``log`` values go through ``parse_batch`` in one call; each one parsed sets the record's
    time (``now_ns`` when the parser found none) and merges; a ``log`` that is already a map
    merges untrimmed and keeps the time. Returns how many records merged."""
    cdef list texts = []
    cdef list parsed = []
    cdef Py_ssize_t merged = 0
    cdef Py_ssize_t j
    cdef object index, log, result, ts, obj
    cdef dict rec
    for index in indexes:
        rec = <dict>records[index]
        log = rec.get(u"log")
        if type(log) is str:
            texts.append(log)
            parsed.append(index)
        elif type(log) is dict:
            _kube_merge(rec, <dict>log, key, False, keep_log)
            merged += 1
    if not texts:
        return merged
    j = 0
    for result in parse_batch(texts):
        if result is not None:
            ts, obj = result
            index = parsed[j]
            timestamps[<Py_ssize_t> index] = ts if ts > 0 else now_ns
            _kube_merge(<dict>records[index], obj, key, trim, keep_log)
            merged += 1
        j += 1
    return merged


cdef inline int _kube_set_last(dict rec, str name, object value) except -1:
    """``rec[name] = value`` with ``name`` after every other key: set first (one lookup when the
    record lacks it, as it nearly always does), then moved last if it was already there."""
    cdef Py_ssize_t before = len(rec)
    rec[name] = value
    if len(rec) == before:
        del rec[name]
        rec[name] = value
    return 0


def kube_attach(list records, object kube, object namespace):
    """``kubernetes`` then ``kubernetes_namespace`` (each only when not None) set last in every
    record: a key the record already has is removed first, so the metadata goes after its keys."""
    cdef object item
    for item in records:
        if kube is not None:
            _kube_set_last(<dict>item, u"kubernetes", kube)
        if namespace is not None:
            _kube_set_last(<dict>item, u"kubernetes_namespace", namespace)
