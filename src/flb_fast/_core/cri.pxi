# CRI log lines, `<time> <stream> <P|F> <log>`, as Fluent Bit's built-in `cri` multiline
# parser reads them (src/multiline/flb_ml_parser_cri.c): the regex
#   ^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$
# gives the record {"time", "stream", "_p", "log"} in that order (Time_Keep on), the time is
# read non-strictly with %Y-%m-%dT%H:%M:%S.%L%z (see _core/time.pxi; a time that does not even
# hold a date, or an epoch-0 time, gives the read time), and a line the regex does not match
# becomes {"log": <line>} with the read time. Lines marked P are partial: the multiline
# parser joins their "log" with the following lines of the same stream up to an F line.
# One deliberate difference: an F line with an empty log ("<time> stdout F ") is decoded here,
# where Fluent Bit 4.2 packs the raw line (fluent/fluent-bit#4284, open).

from libc.stdint cimport int64_t
from libc.string cimport memchr, memcmp


def decode_cri_lines(list lines, int64_t read_time_ns) -> tuple:
    """``(timestamps_ns, records, partials, failed)`` for a batch of CRI lines (bytes).

    ``partials`` lists the indices of the records marked ``P`` (usually none), for the tail to
    join; ``failed`` counts lines that are not CRI lines (each became ``{"log": line}``).
    """
    cdef list timestamps = []
    cdef list records = []
    cdef list partials = []
    cdef Py_ssize_t failed = 0
    cdef Py_ssize_t index = -1
    cdef object read_time = read_time_ns
    cdef object line
    cdef const unsigned char *s
    cdef const unsigned char *space
    cdef Py_ssize_t n, sep
    cdef int64_t ns
    cdef bint partial
    for line in lines:
        index += 1
        if type(line) is not bytes:
            line = bytes(line)
        s = <const unsigned char *> _bytes_data(line)
        n = _bytes_size(line)
        sep = -1
        space = <const unsigned char *> memchr(s + 1, b' ', n - 1) if n > 1 else NULL
        while space != NULL and (space - s) + 10 <= n:
            if ((memcmp(space + 1, b"stdout ", 7) == 0 or memcmp(space + 1, b"stderr ", 7) == 0)
                    and (space[8] == b'F' or space[8] == b'P') and space[9] == b' '):
                sep = space - s
                break
            space = <const unsigned char *> memchr(space + 1, b' ', n - (space - s) - 1)
        if sep < 0:
            failed += 1
            timestamps.append(read_time)
            records.append({"log": _str_from_utf8(<const char *> s, n, _INVALID_UTF8)})
            continue
        partial = s[sep + 8] == b'P'
        ns = 0
        if _parse_time(s, sep, True, False, &ns) and ns != 0:
            timestamps.append(ns)
        else:
            timestamps.append(read_time)
        records.append({
            "time": _str_from_utf8(<const char *> s, sep, _INVALID_UTF8),
            "stream": "stdout" if s[sep + 4] == b'o' else "stderr",
            "_p": "P" if partial else "F",
            "log": _str_from_utf8(<const char *> s + sep + 10, n - sep - 10, _INVALID_UTF8),
        })
        if partial:
            partials.append(index)
    return timestamps, records, partials, failed
