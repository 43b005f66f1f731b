# The logfmt parser's hot path: a batch of lines scanned in C (src/flb_parser_logfmt.c).
#
# Keys are runs of bytes above space other than '=' and '"'; anything else between pairs is
# skipped; `key="quoted value"` may hold backslash escapes; a bare `key` or `key=` is true and
# `key=""` is empty; the scan stops at the first line end after a pair. Every boundary falls on
# an ASCII byte, so decoding each token from UTF-8 (_INVALID_UTF8) gives the same text as decoding
# the line first, which is what the Python path (flb_fast/parsers/logfmt.py) does; a property
# test checks the two agree.

cdef object _LF_MISSING = object()


cdef inline bint _lf_ident(unsigned char c) noexcept nogil:
    return c > 32 and c != 61 and c != 34  # not space or control, '=', '"'


def parse_logfmt_lines(list lines, int64_t read_time_ns, str key, object time_key, bint time_keep,
                       bint no_bare_keys, bint typed, object time_parse, object time_failed, object unescape,
                       object finish=None) -> tuple:
    """``(timestamps_ns, records, failed)`` as ``LogfmtParser.parse_lines``.

    ``time_key`` is None without a Time_Format; ``time_parse(text) -> ns or None`` reads it (a
    time that does not parse fails the line, as in Fluent Bit) and ``time_failed(text)`` counts
    it. ``typed``: values stay as written (bare keys give "") for ``finish`` to cast;
    ``unescape(text)`` decodes a quoted value holding backslashes; ``finish(record) -> record``
    runs Types and decoders.
    """
    cdef list timestamps = []
    cdef list records = []
    cdef Py_ssize_t failed = 0
    cdef dict times_seen = {}
    cdef object read_time = read_time_ns
    cdef object line, name, value, ns, result
    cdef dict record
    cdef const unsigned char *s
    cdef Py_ssize_t n, c, key_start, key_end, value_start, value_end
    cdef bint value_set, quoted, escaped, bad
    for line in lines:
        if type(line) is not bytes:
            line = bytes(line)
        s = <const unsigned char *> _bytes_data(line)
        n = _bytes_size(line)
        record = {}
        ns = read_time
        bad = False
        c = 0
        while c < n:
            while c < n and not _lf_ident(s[c]):
                c += 1
            if c == n:
                break
            key_start = c
            while c < n and _lf_ident(s[c]):
                c += 1
            key_end = c
            value_set = quoted = escaped = False
            value_start = value_end = c
            if c < n and s[c] == 61:  # '='
                value_set = True
                c += 1
                if c < n:
                    if s[c] == 34:  # '"'
                        c += 1
                        quoted = True
                        value_start = c
                        while c < n:
                            if s[c] == 92:  # '\\'
                                escaped = True
                                c += 1
                                if c == n:
                                    break
                                c += 1
                            elif s[c] == 34:
                                break
                            else:
                                c += 1
                        value_end = c
                        if c < n and s[c] == 34:
                            c += 1
                    else:
                        value_start = c
                        while c < n and _lf_ident(s[c]):
                            c += 1
                        value_end = c
            if no_bare_keys and not value_set:
                bad = True
                break
            name = _str_from_utf8(<const char *> s + key_start, key_end - key_start, _INVALID_UTF8)
            value = _str_from_utf8(<const char *> s + value_start, value_end - value_start, _INVALID_UTF8) \
                if value_end > value_start else ""
            if time_key is not None and value_end > value_start and name == time_key:
                result = times_seen.get(value, _LF_MISSING)
                if result is _LF_MISSING:
                    result = time_parse(value)
                    times_seen[value] = result
                if result is None:
                    time_failed(value)
                    bad = True
                    break
                if result != 0:
                    ns = result
                if not time_keep:
                    name = None
            if name is not None:
                # A repeated key: Fluent Bit's record holds both and its JSON writer keeps the last
                # where it stands, so the earlier one makes way.
                if name in record:
                    del record[name]
                if typed:
                    record[name] = value
                elif value_end == value_start:
                    record[name] = "" if quoted else True
                elif escaped:
                    record[name] = unescape(value)
                else:
                    record[name] = value
            if c < n and (s[c] == 13 or s[c] == 10):
                break
        if bad or not record:
            failed += 1
            timestamps.append(read_time)
            records.append({key: _str_from_utf8(<const char *> s, n, _INVALID_UTF8)})
            continue
        if finish is not None:
            record = finish(record)
        timestamps.append(ns)
        records.append(record)
    return timestamps, records, failed
