# Time strings read exactly as Fluent Bit's parsers read them (src/flb_parser.c
# flb_parser_time_lookup(), src/flb_strptime.c), for the two formats container runtimes write:
#
#   docker parser       Time_Format %Y-%m-%dT%H:%M:%S.%L     Time_Strict On (the default)
#   cri multiline       Time_Format %Y-%m-%dT%H:%M:%S.%L%z   Time_Strict Off (flb_ml_parser_cri.c)
#
# Fluent Bit cuts the format at %L: strptime reads "%Y-%m-%dT%H:%M:%S.", parse_subseconds()
# reads up to 9 digits as strtod("0.<digits>"), and strptime reads what follows %L. Hence:
# - docker: whatever follows the fraction ("Z", "+02:00") is ignored and the time is UTC;
# - a time without a fraction ("...T10:00:00Z") does not match (strict: the parse fails);
# - digits past the ninth are ignored;
# - nanoseconds are `(long)(strtod("0.<digits>") * 1000000000)`: truncated double arithmetic,
#   so ".5195" gives 519499999 ns, as in Fluent Bit's records;
# - fields are range-checked one by one (month 1-12, day 1-31, hour 0-23, minute 0-59, second
#   0-60) but not against each other: timegm() turns February 31 into March 3;
# - a string longer than 63 bytes fails;
# - and, ours: a time outside int64 nanoseconds (before 1677-09-21, after 2262-04-11) fails.
# Not strict (cri): a string that stops matching after the date keeps the fields read so far
# (a missing fraction is 0 ns, a missing zone is UTC). One that does not even hold a date fails
# here, where Fluent Bit would date the record from a zeroed struct tm (year 1899).

from libc.stdint cimport int64_t
from libc.string cimport memcmp, memcpy


cdef extern from "<strings.h>" nogil:
    int strncasecmp(const char *s1, const char *s2, size_t n)


# Whole seconds whose nanoseconds fit an int64 (the record model's timestamp).
cdef int64_t _NS_MAX_SECONDS = 9223372035
cdef int64_t _NS_MIN_SECONDS = -9223372036
cdef double[10] _POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]
# RFC 822 North American zones that flb_strptime's %z accepts: UTC-5..-8, daylight one hour less.
cdef const char *_NA_STANDARD = b"ESTCSTMSTPST"
cdef const char *_NA_DAYLIGHT = b"EDTCDTMDTPDT"


cdef inline bint _conv_num(const unsigned char *s, Py_ssize_t n, Py_ssize_t *pos,
                           int low, int high, int *dest) noexcept:
    """flb_strptime's _conv_num(): as many digits as ``high`` has, then a range check."""
    cdef Py_ssize_t i = pos[0]
    cdef int result = 0
    cdef int digits_left = high
    if i >= n or s[i] < b'0' or s[i] > b'9':
        return False
    while True:
        result = result * 10 + (s[i] - 48)
        i += 1
        digits_left //= 10
        if not (result * 10 <= high and digits_left and i < n and b'0' <= s[i] <= b'9'):
            break
    if result < low or result > high:
        return False
    pos[0] = i
    dest[0] = result
    return True


cdef inline bint _literal(const unsigned char *s, Py_ssize_t n, Py_ssize_t *pos, unsigned char c) noexcept:
    if pos[0] < n and s[pos[0]] == c:
        pos[0] += 1
        return True
    return False


cdef inline bint _is_space(unsigned char c) noexcept:
    return c == b' ' or (b'\t' <= c <= b'\r')


cdef bint _zone_offset(const unsigned char *s, Py_ssize_t n, Py_ssize_t *pos, int *offset) noexcept:
    """flb_strptime's %z: Z, [+-]hh, [+-]hhmm, [+-]hh:mm, UT, UTC, GMT, EST/EDT...PST/PDT."""
    cdef Py_ssize_t i = pos[0]
    cdef unsigned char c
    cdef int seconds, k
    while i < n and _is_space(s[i]):
        i += 1
    if i >= n:
        return False
    c = s[i]
    i += 1
    if c == b'Z':
        offset[0] = 0
    elif c == b'G':
        if not (i + 1 < n and s[i] == b'M' and s[i + 1] == b'T'):
            return False
        i += 2
        offset[0] = 0
    elif c == b'U':
        if not (i < n and s[i] == b'T'):
            return False
        i += 1
        if i < n and s[i] == b'C':
            i += 1
        offset[0] = 0
    elif c == b'+' or c == b'-':
        if not (i + 1 < n and b'0' <= s[i] <= b'9' and b'0' <= s[i + 1] <= b'9'):
            return False
        seconds = ((s[i] - 48) * 10 + (s[i + 1] - 48)) * 3600
        i += 2
        if i < n and s[i] == b':':
            i += 1
        if i < n and b'0' <= s[i] <= b'9':
            if not (i + 1 < n and b'0' <= s[i + 1] <= b'9'):
                return False
            seconds += ((s[i] - 48) * 10 + (s[i + 1] - 48)) * 60
            i += 2
        offset[0] = -seconds if c == b'-' else seconds
    else:
        i -= 1
        if n - i < 3:
            return False
        for k in range(4):
            if strncasecmp(<const char *> s + i, _NA_STANDARD + 3 * k, 3) == 0:
                offset[0] = (-5 - k) * 3600
                break
            if strncasecmp(<const char *> s + i, _NA_DAYLIGHT + 3 * k, 3) == 0:
                offset[0] = (-4 - k) * 3600
                break
        else:
            return False
        i += 3
    pos[0] = i
    return True


cdef inline int64_t _days_from_civil(int64_t y, int64_t m, int64_t d) noexcept:
    """Days since 1970-01-01 (H. Hinnant's algorithm); days past the month's end roll over."""
    cdef int64_t era, yoe, doy, doe
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline int _two_digits(const unsigned char *s) noexcept:
    """The value of two ASCII digits, or -1."""
    if b'0' <= s[0] <= b'9' and b'0' <= s[1] <= b'9':
        return (s[0] - 48) * 10 + (s[1] - 48)
    return -1


cdef inline bint _canonical_datetime(const unsigned char *s, Py_ssize_t n, int *year, int *month, int *day,
                                     int *hour, int *minute, int *second) noexcept:
    """The fast path for "YYYY-MM-DDTHH:MM:SS." with every field in range, which the runtimes
    always write: strptime reads exactly these digits then. Anything else takes the slow path."""
    cdef int century, y, mo, d, h, mi, sec
    if n < 20 or s[4] != b'-' or s[7] != b'-' or s[10] != b'T' or s[13] != b':' or s[16] != b':' or s[19] != b'.':
        return False
    century = _two_digits(s)
    y = _two_digits(s + 2)
    mo = _two_digits(s + 5)
    d = _two_digits(s + 8)
    h = _two_digits(s + 11)
    mi = _two_digits(s + 14)
    sec = _two_digits(s + 17)
    if (century < 0 or y < 0 or not 1 <= mo <= 12 or not 1 <= d <= 31 or not 0 <= h <= 23
            or not 0 <= mi <= 59 or not 0 <= sec <= 60):
        return False
    year[0] = century * 100 + y
    month[0] = mo
    day[0] = d
    hour[0] = h
    minute[0] = mi
    second[0] = sec
    return True


cdef inline int64_t _fraction_ns(const unsigned char *s, Py_ssize_t n, Py_ssize_t *pos) noexcept:
    """%L at ``pos[0]`` (moved past its digits): up to nine digits as nanoseconds, truncated as
    Fluent Bit's strtod arithmetic is; -1 when there is no digit."""
    cdef Py_ssize_t i = pos[0]
    cdef Py_ssize_t digits = 0
    cdef int64_t fraction = 0
    while digits < _TIME_FRACTION_DIGITS and i < n and b'0' <= s[i] <= b'9':
        fraction = fraction * 10 + (s[i] - 48)
        i += 1
        digits += 1
    pos[0] = i
    if digits == 0:
        return -1
    return <int64_t> ((<double> fraction / _POW10[digits]) * 1000000000.0)


ctypedef struct _TimeHead:
    # "YYYY-MM-DDTHH:MM:SS." of the last canonical docker time read, and its seconds since the epoch.
    unsigned char text[20]
    int64_t seconds
    bint valid


cdef bint _parse_time_docker(const unsigned char *s, Py_ssize_t n, _TimeHead *head, int64_t *out_ns) noexcept:
    """``_parse_time(s, n, False, True, out_ns)``, the docker parser's format, with the date and
    clock read once while consecutive times share them (a busy container's lines of one second):
    ``head`` keeps the last canonical ones read."""
    cdef int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
    cdef int64_t seconds, nanoseconds
    cdef Py_ssize_t pos = 20
    if n > _TIME_MAX_BYTES:
        return False
    if head.valid and n >= 20 and memcmp(s, head.text, 20) == 0:
        seconds = head.seconds
    elif _canonical_datetime(s, n, &year, &month, &day, &hour, &minute, &second):
        seconds = (_days_from_civil(year, month, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second
        if not _NS_MIN_SECONDS <= seconds <= _NS_MAX_SECONDS:
            return False
        memcpy(head.text, s, 20)
        head.seconds = seconds
        head.valid = True
    else:
        return _parse_time(s, n, False, True, out_ns)
    nanoseconds = _fraction_ns(s, n, &pos)
    if nanoseconds < 0:
        return False
    out_ns[0] = seconds * 1000000000 + nanoseconds
    return True


cdef bint _parse_time(const unsigned char *s, Py_ssize_t n, bint zone, bint strict, int64_t *out_ns) noexcept:
    """Nanoseconds since the epoch for the docker (``zone`` false) or cri (``zone`` true) format."""
    cdef Py_ssize_t pos = 0
    cdef int year = 1900, month = 1, day = 0, hour = 0, minute = 0, second = 0
    cdef int offset = 0
    cdef int64_t nanoseconds = 0
    cdef int64_t seconds
    cdef bint clock
    if n > _TIME_MAX_BYTES:
        return False
    if _canonical_datetime(s, n, &year, &month, &day, &hour, &minute, &second):
        pos = 20
        clock = True
    else:
        if not (_conv_num(s, n, &pos, 0, 9999, &year) and _literal(s, n, &pos, b'-')
                and _conv_num(s, n, &pos, 1, 12, &month) and _literal(s, n, &pos, b'-')
                and _conv_num(s, n, &pos, 1, 31, &day)):
            return False
        clock = (_literal(s, n, &pos, b'T') and _conv_num(s, n, &pos, 0, 23, &hour)
                 and _literal(s, n, &pos, b':') and _conv_num(s, n, &pos, 0, 59, &minute)
                 and _literal(s, n, &pos, b':') and _conv_num(s, n, &pos, 0, 60, &second)
                 and _literal(s, n, &pos, b'.'))
        if not clock and strict:
            return False
    if clock:
        nanoseconds = _fraction_ns(s, n, &pos)
        if nanoseconds < 0:
            if strict:
                return False
            nanoseconds = 0
        else:
            if zone and not _zone_offset(s, n, &pos, &offset):
                if strict:
                    return False
                offset = 0
    seconds = (_days_from_civil(year, month, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second - offset
    if not _NS_MIN_SECONDS <= seconds <= _NS_MAX_SECONDS:
        return False
    out_ns[0] = seconds * 1000000000 + nanoseconds
    return True


def parse_time_rfc3339(value, bint zone=False, bint strict=True) -> int:
    """Nanoseconds since the epoch of a container runtime's time string, or -1 if it does not parse.

    With the defaults this is Fluent Bit's ``docker`` parser (``%Y-%m-%dT%H:%M:%S.%L``, strict:
    a zone suffix is ignored); ``zone=True, strict=False`` is the built-in ``cri`` multiline
    parser (``%Y-%m-%dT%H:%M:%S.%L%z``). See the notes at the top of ``_core/time.pxi``.
    """
    cdef bytes raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    cdef int64_t ns = 0
    if _parse_time(<const unsigned char *> <const char *> raw, len(raw), zone, strict, &ns):
        return ns
    return -1


cdef const char *_CLF_MONTHS = b"janfebmaraprmayjunjulaugsepoctnovdec"


# What _clf_ns returns for a text that is not a canonical CLF time (a CLF time is whole seconds,
# so no valid result is -1 ns).
cdef int64_t _CLF_NONE = -1


cdef int64_t _clf_ns(str value) noexcept:
    """parse_time_clf without a Python object in or out of the way: its nanoseconds, or _CLF_NONE
    (the regex parsers' batch loop reads nginx's and apache's times with it)."""
    if not _str_is_ascii(value):
        return _CLF_NONE
    return _clf_ns_ascii(<const unsigned char *> _str_data(value), len(value))


cdef int64_t _clf_ns_ascii(const unsigned char *s, Py_ssize_t n) noexcept:
    """``_clf_ns`` of the ASCII text ``s[:n]`` (a group of a line the regex matched, read in place)."""
    cdef int day, month, year, hour, minute, second, offset_hours, offset_minutes, i
    cdef int64_t seconds
    if n != 26:
        return _CLF_NONE
    if s[2] != b'/' or s[6] != b'/' or s[11] != b':' or s[14] != b':' or s[17] != b':' or s[20] != b' ' \
            or (s[21] != b'+' and s[21] != b'-'):
        return _CLF_NONE
    day = _two_digits(s)
    year = _two_digits(s + 7) * 100 + _two_digits(s + 9)
    hour = _two_digits(s + 12)
    minute = _two_digits(s + 15)
    second = _two_digits(s + 18)
    offset_hours = _two_digits(s + 22)
    offset_minutes = _two_digits(s + 24)
    if (not 1 <= day <= 31 or _two_digits(s + 7) < 0 or _two_digits(s + 9) < 0 or not 0 <= hour <= 23
            or not 0 <= minute <= 59 or not 0 <= second <= 60 or offset_hours < 0 or offset_minutes < 0):
        return _CLF_NONE
    month = -1
    for i in range(12):
        if (s[3] | 0x20) == _CLF_MONTHS[3 * i] and (s[4] | 0x20) == _CLF_MONTHS[3 * i + 1] \
                and (s[5] | 0x20) == _CLF_MONTHS[3 * i + 2]:
            month = i + 1
            break
    if month < 0:
        return _CLF_NONE
    seconds = (_days_from_civil(year, month, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second
    seconds -= (offset_hours * 3600 + offset_minutes * 60) * (-1 if s[21] == b'-' else 1)
    if not _NS_MIN_SECONDS <= seconds <= _NS_MAX_SECONDS:
        return _CLF_NONE
    return seconds * 1000000000


def parse_time_clf(str value):
    """Nanoseconds since the epoch of a Common Log Format time (``%d/%b/%Y:%H:%M:%S %z``: the
    nginx and apache parsers), or None when ``value`` is not exactly ``DD/Mon/YYYY:HH:MM:SS
    +HHMM`` with every field in range and nanoseconds within 64 bits. For such a text strptime reads exactly these characters
    (a month name in any case, an offset's digits unchecked, as flb_strptime's %z); anything
    else is left to the Python reading (flb_fast/parsers/time.py), which this must equal."""
    cdef int64_t ns = _clf_ns(value)
    return None if ns == _CLF_NONE else ns
