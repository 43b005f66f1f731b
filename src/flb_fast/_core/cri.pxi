# CRI log lines, `<time> <stream> <P|F> <log>`, as Fluent Bit's built-in `cri` multiline
# parser reads them (src/multiline/flb_ml_parser_cri.c): the regex
#   ^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$
# gives the record {"time", "stream", "_p", "log"} in that order (Time_Keep on), the time is
# read non-strictly with %Y-%m-%dT%H:%M:%S.%L%z (see _core/time.pxi; a time that stops matching
# gives the fields read up to there, an epoch-0 time the read time), and a line the regex does not match
# becomes {"log": <line>} with the read time. Lines marked P are partial: the multiline
# parser joins their "log" with the following lines of the same stream up to an F line.
# One deliberate difference: an F line with an empty log ("<time> stdout F ") is decoded here,
# where Fluent Bit 4.2 packs the raw line (fluent/fluent-bit#4284, open).

from libc.stdint cimport int64_t
from libc.string cimport memchr, memcmp


# flb_ml_parser_cri.c: the cri multiline parser's Time_Format.
_CRI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z"


cdef object _cri_lenient_time(bytes text, object read_time):
    """A time _parse_time does not read (a field out of range, no date at all), as the lenient
    parser reads it: the fields up to where it stops matching (parsers/time.py lenient_time_ns);
    the read time when that gives none, or exactly the epoch."""
    from flb_fast.parsers.time import lenient_time_ns

    ns = lenient_time_ns(_CRI_TIME_FORMAT, text.decode("utf-8", "surrogateescape"))
    return ns if ns else read_time


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
        if _parse_time(s, sep, True, False, &ns):
            timestamps.append(ns if ns != 0 else read_time)
        else:
            timestamps.append(_cri_lenient_time(line[:sep], read_time))
        records.append({
            "time": _str_from_utf8(<const char *> s, sep, _INVALID_UTF8),
            "stream": "stdout" if s[sep + 4] == b'o' else "stderr",
            "_p": "P" if partial else "F",
            "log": _str_from_utf8(<const char *> s + sep + 10, n - sep - 10, _INVALID_UTF8),
        })
        if partial:
            partials.append(index)
    return timestamps, records, partials, failed
