"""``Time_Format`` with Fluent Bit's exact reading: ``flb_parser_time_lookup`` over ``flb_strptime``.

Fluent Bit does not use the C library's strptime; it ships OpenBSD's (``src/flb_strptime.c``)
with extensions, and wraps it (``src/flb_parser.c``):

- ``%L`` (fractional seconds, up to 9 digits) splits the format in two: the text before it is
  parsed, then the digits, then the rest of the format on what follows;
- a format without ``%Y``/``%y``/``%s`` gets the current UTC year prepended (``"%Y "`` + format),
  and month and day default to today's (syslog's ``%b %d %H:%M:%S``);
- ``%z`` reads ``Z``, ``UT``, ``UTC``, ``GMT``, ``+hh``, ``+hhmm``, ``+hh:mm`` and the US zone
  names; ``%Z`` reads a table of zone abbreviations; without either, ``Time_Offset`` applies;
- whitespace in the format matches any run of whitespace, numbers take at most as many digits
  as their range allows, and text after the last directive is ignored;
- ``Time_Strict Off`` turns a failed parse into whatever fields were read so far;
- ``Time_System_Timezone On`` converts with ``mktime`` (the host's zone) instead of ``timegm``.

- nanoseconds are Fluent Bit's ``(long)(strtod("0.<digits>") * 1e9)``: the same IEEE double
  arithmetic, truncated, so ``.5195`` gives 519499999 ns exactly as in Fluent Bit's records (and
  as ``_core``'s docker path computes them).

Parsed results are cached per text (per text before ``%L`` when the format allows it), because
log lines repeat the same second many times; that keeps the per-line cost to a dict lookup.
"""

from __future__ import annotations

import functools
import time as _time
from collections.abc import Callable

from flb_fast.compiled import core_part

NS = 1_000_000_000
_CACHE_LIMIT = 4096

_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_HOUR = 3600
# flb_strptime.c flb_known_timezones, in table order (first prefix match wins).
_ZONE_ABBREVIATIONS: tuple[tuple[str, int], ...] = (
    ("GMT", 0), ("UTC", 0), ("Z", 0), ("UT", 0),
    ("EST", -5 * _HOUR), ("EDT", -4 * _HOUR), ("CST", -6 * _HOUR), ("CDT", -5 * _HOUR),
    ("MST", -7 * _HOUR), ("MDT", -6 * _HOUR), ("PST", -8 * _HOUR), ("PDT", -7 * _HOUR),
    ("AKST", -9 * _HOUR), ("AKDT", -8 * _HOUR), ("HST", -10 * _HOUR), ("HADT", -9 * _HOUR),
    ("AST", -4 * _HOUR), ("ADT", -3 * _HOUR), ("NST", -12600), ("NDT", -9000),
    ("WET", 0), ("WEST", _HOUR), ("CET", _HOUR), ("CEST", 2 * _HOUR), ("EET", 2 * _HOUR),
    ("EEST", 3 * _HOUR), ("MSK", 3 * _HOUR),
    ("ART", -3 * _HOUR), ("BRT", -3 * _HOUR), ("BRST", -2 * _HOUR), ("CLT", -4 * _HOUR), ("CLST", -3 * _HOUR),
    ("AEST", 10 * _HOUR), ("AEDT", 11 * _HOUR), ("ACST", 34200), ("ACDT", 37800), ("AWST", 8 * _HOUR),
    ("NZST", 12 * _HOUR), ("NZDT", 13 * _HOUR),
    ("JST", 9 * _HOUR), ("KST", 9 * _HOUR), ("SGT", 8 * _HOUR), ("IST", 19800), ("GST", 4 * _HOUR),
    ("ICT", 7 * _HOUR), ("WIB", 7 * _HOUR), ("WITA", 8 * _HOUR), ("WIT", 9 * _HOUR), ("MYT", 8 * _HOUR),
    ("BDT", 6 * _HOUR), ("NPT", 20700),
    ("WAT", _HOUR), ("CAT", 2 * _HOUR), ("EAT", 3 * _HOUR), ("SAST", 2 * _HOUR),
    ("A", 1 * _HOUR), ("B", 2 * _HOUR), ("C", 3 * _HOUR), ("D", 4 * _HOUR), ("E", 5 * _HOUR),
    ("F", 6 * _HOUR), ("G", 7 * _HOUR), ("H", 8 * _HOUR), ("I", 9 * _HOUR), ("K", 10 * _HOUR),
    ("L", 11 * _HOUR), ("M", 12 * _HOUR), ("N", -1 * _HOUR), ("O", -2 * _HOUR), ("P", -3 * _HOUR),
    ("Q", -4 * _HOUR), ("R", -5 * _HOUR), ("S", -6 * _HOUR), ("T", -7 * _HOUR), ("U", -8 * _HOUR),
    ("V", -9 * _HOUR), ("W", -10 * _HOUR), ("X", -11 * _HOUR), ("Y", -12 * _HOUR),
)
# RFC 822 names %z accepts (flb_strptime.c nast/nadt).
_US_ZONES = (("EST", -5), ("CST", -6), ("MST", -7), ("PST", -8), ("EDT", -4), ("CDT", -5), ("MDT", -6), ("PDT", -7))
# C locale composites (nl_langinfo D_T_FMT, D_FMT, T_FMT) and fixed composites.
_COMPOSITES = {"c": "%a %b %e %H:%M:%S %Y", "D": "%m/%d/%y", "x": "%m/%d/%y", "X": "%H:%M:%S", "F": "%Y-%m-%d",
               "R": "%H:%M", "r": "%I:%M:%S %p", "T": "%H:%M:%S"}
# Numeric directives: (tm field index or None, low, high).
_NUMBERS = {"C": (None, 0, 99), "d": (2, 1, 31), "e": (2, 1, 31), "H": (3, 0, 23), "k": (3, 0, 23),
            "I": (3, 1, 12), "l": (3, 1, 12), "j": (None, 1, 366), "M": (4, 0, 59), "m": (1, 1, 12),
            "S": (5, 0, 60), "U": (None, 0, 53), "W": (None, 0, 53), "w": (None, 0, 6), "u": (None, 1, 7),
            "g": (None, 0, 99), "V": (None, 0, 53), "Y": (0, 0, 9999), "y": (None, 0, 99)}
_SPACE = " \t\n\v\f\r"
_MON_LENGTHS = ((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))

# tm layout: [year, mon (0-11), mday, hour, min, sec, gmtoff, yday]
_YEAR, _MON, _MDAY, _HOURF, _MIN, _SEC, _GMTOFF, _YDAY = range(8)


def _isleap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (proleptic Gregorian; month 1-12, day may overflow as timegm allows)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + day - 1


def _timegm(tm: list[int]) -> int:
    year, mon = tm[_YEAR], tm[_MON]
    year += mon // 12
    mon %= 12
    days = days_from_civil(year, mon + 1, 1) + tm[_MDAY] - 1
    return days * 86400 + tm[_HOURF] * 3600 + tm[_MIN] * 60 + tm[_SEC]


def _conv_num(text: str, pos: int, low: int, high: int) -> tuple[int, int]:
    """``_conv_num``: at most as many digits as ``high`` allows; (value, new pos) or (-1, pos)."""
    if pos >= len(text) or not "0" <= text[pos] <= "9":
        return -1, pos
    result = 0
    limit = high
    while True:
        result = result * 10 + ord(text[pos]) - 48
        pos += 1
        limit //= 10
        if not (result * 10 <= high and limit and pos < len(text) and "0" <= text[pos] <= "9"):
            break
    if result < low or result > high:
        return -1, pos
    return result, pos


def _match_name(text: str, pos: int, names: tuple[str, ...]) -> tuple[int, int]:
    """Full then abbreviated (3-letter) name, case-insensitive, as the C locale's names."""
    lowered = text[pos : pos + 10].lower()
    for index, name in enumerate(names):
        if lowered.startswith(name):
            return index, pos + len(name)
        if lowered.startswith(name[:3]):
            return index, pos + 3
    return -1, pos


class _State:
    __slots__ = ("century", "relyear", "fields")

    def __init__(self) -> None:
        self.century = 1900
        self.relyear = -1
        self.fields = 0


_F_MON, _F_MDAY, _F_WDAY, _F_YDAY, _F_YEAR = 1, 2, 4, 8, 16


def strptime(text: str, pos: int, fmt: str, tm: list[int]) -> int:
    """``flb_strptime``: parse ``text`` from ``pos`` into ``tm``; the position after it, or -1."""
    tm[_GMTOFF] = 0
    state = _State()
    pos = _run(text, pos, fmt, tm, state)
    if pos < 0:
        return -1
    if state.relyear != -1:
        if state.century == 1900:
            tm[_YEAR] = state.relyear + (2000 if state.relyear <= 68 else 1900)
        else:
            tm[_YEAR] = state.relyear + state.century
        state.fields |= _F_YEAR
    if state.fields & _F_YEAR:
        lengths = _MON_LENGTHS[_isleap(tm[_YEAR])]
        if not state.fields & _F_YDAY and state.fields & _F_MON and state.fields & _F_MDAY:
            state.fields |= _F_YDAY
        elif state.fields & _F_YDAY:
            days = tm[_YDAY]
            if not state.fields & _F_MON:
                mon = 0
                while mon < 12 and days >= lengths[mon]:
                    days -= lengths[mon]
                    mon += 1
                tm[_MON] = mon
            if not state.fields & _F_MDAY:
                tm[_MDAY] = days + 1
    return pos


def _run(text: str, pos: int, fmt: str, tm: list[int], state: _State) -> int:  # noqa: C901 - one switch, as in C
    end = len(text)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c in _SPACE:
            while pos < end and text[pos] in _SPACE:
                pos += 1
            i += 1
            continue
        if pos >= end:
            return -1
        if c != "%":
            if text[pos] != c:
                return -1
            pos += 1
            i += 1
            continue
        i += 1
        if i >= len(fmt):
            return -1
        c = fmt[i]
        while c in "EO" and i + 1 < len(fmt):
            i += 1
            c = fmt[i]
        i += 1
        if c == "%":
            if text[pos] != "%":
                return -1
            pos += 1
        elif c in _COMPOSITES:
            pos = _run(text, pos, _COMPOSITES[c], tm, state)
            if pos < 0:
                return -1
        elif c in "aA":
            index, pos = _match_name(text, pos, _DAYS)
            if index < 0:
                return -1
            state.fields |= _F_WDAY
        elif c in "bBh":
            index, pos = _match_name(text, pos, _MONTHS)
            if index < 0:
                return -1
            tm[_MON] = index
            state.fields |= _F_MON
        elif c in _NUMBERS:
            if c == "e" and pos < end and text[pos] in _SPACE:
                pos += 1
            field, low, high = _NUMBERS[c]
            value, pos = _conv_num(text, pos, low, high)
            if value < 0:
                return -1
            if c == "C":
                state.century = value * 100
            elif c == "y":
                state.relyear = value
            elif c == "Y":
                state.relyear = -1
                tm[_YEAR] = value
                state.fields |= _F_YEAR
            elif c == "j":
                tm[_YDAY] = value - 1
                state.fields |= _F_YDAY
            elif c == "m":
                tm[_MON] = value - 1
                state.fields |= _F_MON
            elif c in "de":
                tm[_MDAY] = value
                state.fields |= _F_MDAY
            elif c in "wu":
                state.fields |= _F_WDAY
            elif field is not None:
                tm[field] = value
        elif c == "G":
            pos += 1
            while pos < end and "0" <= text[pos] <= "9":
                pos += 1
        elif c == "p":
            word = text[pos : pos + 2].upper()
            if word == "AM":
                if tm[_HOURF] > 12:
                    return -1
                if tm[_HOURF] == 12:
                    tm[_HOURF] = 0
            elif word == "PM":
                if tm[_HOURF] > 12:
                    return -1
                if tm[_HOURF] < 12:
                    tm[_HOURF] += 12
            else:
                return -1
            pos += 2
        elif c == "s":
            start = pos
            while pos < end and "0" <= text[pos] <= "9":
                pos += 1
            if pos == start or pos - start > 18:
                return -1
            epoch = int(text[start:pos])
            days, secs = divmod(epoch, 86400)
            year, mon, mday = _civil_from_days(days)
            tm[_YEAR], tm[_MON], tm[_MDAY] = year, mon - 1, mday
            tm[_HOURF], tm[_MIN], tm[_SEC] = secs // 3600, secs % 3600 // 60, secs % 60
            tm[_GMTOFF] = 0
            state.fields = 0xFFFF
        elif c == "Z":
            pos = _zone_abbreviation(text, pos, tm)
            if pos < 0:
                return -1
        elif c == "z":
            pos = _zone_offset(text, pos, tm)
            if pos < 0:
                return -1
        elif c in "nt":
            while pos < end and text[pos] in _SPACE:
                pos += 1
        else:
            return -1
    return pos


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = (days if days >= 0 else days - 146096) // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _zone_abbreviation(text: str, pos: int, tm: list[int]) -> int:
    upper = text[pos : pos + 5].upper()
    for abbr, offset in _ZONE_ABBREVIATIONS:
        if upper.startswith(abbr):
            after = pos + len(abbr)
            if after >= len(text) or not text[after].isalnum():
                tm[_GMTOFF] = offset
                return after
    # The C code falls back to the host's tzname; flb_fast runs in UTC containers, where that is UTC.
    local = _time.tzname
    for index, name in enumerate(local):
        if name and text.startswith(name, pos):
            tm[_GMTOFF] = -(_time.altzone if index and _time.daylight else _time.timezone)
            return pos + len(name)
    return -1


def _zone_offset(text: str, pos: int, tm: list[int]) -> int:
    end = len(text)
    while pos < end and text[pos] in _SPACE:
        pos += 1
    if pos >= end:
        return -1
    c = text[pos]
    pos += 1
    if c == "G":
        if text[pos : pos + 2] != "MT":
            return -1
        tm[_GMTOFF] = 0
        return pos + 2
    if c == "U":
        if text[pos : pos + 1] != "T":
            return -1
        pos += 1
        if text[pos : pos + 1] == "C":
            pos += 1
        tm[_GMTOFF] = 0
        return pos
    if c == "Z":
        tm[_GMTOFF] = 0
        return pos
    if c not in "+-":
        pos -= 1
        upper = text[pos : pos + 3].upper()
        for name, hours in _US_ZONES:
            if upper == name:
                tm[_GMTOFF] = hours * _HOUR
                return pos + 3
        return -1
    digits = text[pos : pos + 2]
    if len(digits) < 2 or not digits.isdigit() or not digits.isascii():
        return -1
    offset = int(digits) * _HOUR
    pos += 2
    if pos < end and text[pos] == ":":
        pos += 1
    if pos < end and "0" <= text[pos] <= "9":
        if pos + 1 >= end or not "0" <= text[pos + 1] <= "9":
            return -1
        offset += int(text[pos : pos + 2]) * 60
        pos += 2
    tm[_GMTOFF] = -offset if c == "-" else offset
    return pos


def parse_offset(value: str) -> int:
    """``Time_Offset`` (``+0900``, ``-07:00``, ``Z``) in seconds east of UTC (``flb_parser_tzone_offset``)."""
    text = value.strip()
    if text == "Z":
        return 0
    if len(text) < 5 or text[0] not in "+-" or not text[1:3].isdigit():
        raise ValueError(f"invalid time offset '{value}' (expected +HHMM, -HH:MM or Z)")
    minutes = text[4:6] if text[3] == ":" else text[3:5]
    if not minutes.isdigit() or len(minutes) != 2 or len(text) > 6:
        raise ValueError(f"invalid time offset '{value}' (expected +HHMM, -HH:MM or Z)")
    hours, mins = int(text[1:3]), int(minutes)
    if hours > 59 or mins > 59:
        raise ValueError(f"invalid time offset '{value}'")
    seconds = hours * 3600 + mins * 60
    return -seconds if text[0] == "-" else seconds


# Formats _core reads in C with the same rules (container runtimes' and RFC 5424 times).
_CORE_FORMATS = {"%Y-%m-%dT%H:%M:%S.%L": False, "%Y-%m-%dT%H:%M:%S.%L%z": True}
_CLF_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


class TimeFormat:
    """One parser's compiled ``Time_Format``: ``parse(text) -> ns`` or ``None`` when it does not parse.

    The two RFC 3339 formats of the standard parsers are read by ``_core.parse_time_rfc3339``
    (every line has its own fraction, so no cache helps there); ``compiled=False`` keeps this
    module's reading, the reference the tests compare it with.
    """

    def __init__(self, fmt: str, offset: int = 0, strict: bool = True, system_timezone: bool = False,
                 now: Callable[[], float] = _time.time, compiled: bool = True) -> None:
        self.format = fmt
        self.strict = strict
        self.system_timezone = system_timezone
        self._now = now
        self.with_year = "%Y" in fmt or "%y" in fmt or "%s" in fmt
        working = fmt if self.with_year else "%Y " + fmt
        # Time_Offset replaces the parsed zone only when the format names none (flb_parser.c).
        self.with_tz = any(mark in fmt for mark in ("%z", "%Z", "%SZ", "%S.%LZ"))
        self.offset = 0 if system_timezone else offset
        head, sep, tail = working.partition("%L")
        self.head, self.tail, self.has_fraction = head, tail, bool(sep)
        # A cached head is valid for any text that starts with it when the head ends in a literal
        # character: then nothing after it was looked at (see _conv_num's look-ahead).
        self._prefix_cacheable = (self.has_fraction and self.with_year and len(head) >= 2
                                  and head[-2] != "%" and head[-1] not in _SPACE)
        self._cache: dict[str, int | None] = {}
        self._head_cache: dict[str, tuple[list[int], int]] = {}
        self._head_len = 0
        # Common Log Format times (nginx, apache) in canonical form are read in C; others here.
        self._core_clf = core_part("parse_time_clf") if compiled and fmt == _CLF_FORMAT and not system_timezone \
            else None
        zone = _CORE_FORMATS.get(fmt)
        self._core = core_part("parse_time_rfc3339") if compiled and zone is not None and strict and not system_timezone \
            and (zone or not offset) else None
        self._core_zone = bool(zone)

    @property
    def reads_clf_in_core(self) -> bool:
        """Whether a canonical Common Log Format text parses as ``_core.parse_time_clf`` reads it
        (the regex parsers' compiled batch then reads such times itself)."""
        return self._core_clf is not None

    def parse(self, text: str) -> int | None:
        """Nanoseconds since the epoch, or ``None`` (a strict format that does not match)."""
        if self._core is not None:
            ns = self._core(text, self._core_zone, True)
            return None if ns == -1 else ns
        if not self.has_fraction:
            if not self.with_year:
                return self._lookup(text)
            cached = self._cache.get(text, -1)
            if cached != -1:
                return cached
            result = self._lookup(text)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = result
            return result
        if self._prefix_cacheable and self._head_len:
            hit = self._head_cache.get(text[: self._head_len])
            if hit is not None:
                return self._finish_fraction(text, list(hit[0]), hit[1])
        return self._lookup(text)

    def _lookup(self, text: str) -> int | None:
        if len(text) > 63:
            return None
        if self._core_clf is not None:
            ns = self._core_clf(text)
            if ns is not None:
                return ns
        tm = [1900, 0, 0, 0, 0, 0, 0, 0]
        if self.with_year:
            working = text
        else:
            today = _time.gmtime(self._now())
            tm[_MON], tm[_MDAY] = today.tm_mon - 1, today.tm_mday
            working = f"{today.tm_year} {text}"
        pos = strptime(working, 0, self.head, tm)
        if pos < 0:
            return None if self.strict else self._partial_ns(tm, 0)
        if not self.has_fraction:
            return self._to_ns(tm, 0)
        if self._prefix_cacheable:
            if len(self._head_cache) >= _CACHE_LIMIT:
                self._head_cache.clear()
            self._head_cache[working[:pos]] = (list(tm), pos)
            self._head_len = pos
        return self._finish_fraction(working, tm, pos)

    def _finish_fraction(self, text: str, tm: list[int], pos: int) -> int | None:
        digits_end = pos
        while digits_end < len(text) and digits_end - pos < 9 and "0" <= text[digits_end] <= "9":
            digits_end += 1
        if digits_end == pos:
            return None if self.strict else self._partial_ns(tm, 0)
        frac_ns = int(float("0." + text[pos:digits_end]) * NS)
        if self.tail:
            if strptime(text, digits_end, self.tail, tm) < 0:
                return None if self.strict else self._partial_ns(tm, frac_ns)
        else:
            tm[_GMTOFF] = 0
        return self._to_ns(tm, frac_ns)

    def _partial_ns(self, tm: list[int], frac_ns: int) -> int:
        """A time that stopped matching, with Time_Strict off: flb_parser_time_lookup returns the
        fields read before it sets the zone to Time_Offset, so the zone is what a ``%z`` read
        before the mismatch gave, or none (recorded: tests/data/fluent-bit/parser_time_partial)."""
        if self.system_timezone:
            return self._to_ns(tm, frac_ns)
        return (_timegm(tm) - tm[_GMTOFF]) * NS + frac_ns

    def _to_ns(self, tm: list[int], frac_ns: int) -> int:
        if self.system_timezone:
            seconds = int(_time.mktime((tm[_YEAR], tm[_MON] + 1, tm[_MDAY], tm[_HOURF], tm[_MIN], tm[_SEC], 0, 0, -1)))
        else:
            seconds = _timegm(tm) - (tm[_GMTOFF] if self.with_tz else self.offset)
        return seconds * NS + frac_ns


# flb_time.c flb_time_append_to_msgpack: the seconds of an event time are a uint32_t.
EVENT_TIME_SPAN_NS = 2**32 * NS


@functools.cache
def _lenient_format(fmt: str) -> TimeFormat:
    return TimeFormat(fmt, strict=False)


def lenient_time_ns(fmt: str, text: str) -> int | None:
    """``text`` read with ``fmt`` as a parser whose time is not strict reads it (the built-in docker
    and cri multiline parsers, flb_ml_parser_docker.c / flb_ml_parser_cri.c: time_strict off): a
    text that stops matching gives the fields read up to there (flb_parser.c flb_parser_time_lookup),
    ``garbage`` the year 1900. The record keeps the seconds as Fluent Bit's event time holds them,
    an unsigned 32-bit number (flb_time.c flb_time_append_to_msgpack): 1900 is 2036 there."""
    ns = _lenient_format(fmt).parse(text)
    return None if ns is None else ns % EVENT_TIME_SPAN_NS

