"""Time_Format read as Fluent Bit's flb_parser_time_lookup + flb_strptime do (src/flb_parser.c, src/flb_strptime.c)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.parsers.time import TimeFormat, parse_offset
from tests.parsers.helpers import ns


def test_fractional_seconds_keep_all_nine_digits() -> None:
    fmt = TimeFormat("%Y-%m-%dT%H:%M:%S.%L%z")
    assert fmt.parse("2026-11-25T13:00:00.123456789+02:00") == ns(2026, 11, 25, 13, 0, 0, 123456789, 120)


def test_fraction_uses_fluent_bits_truncated_double_arithmetic() -> None:
    """flb_parser.c: tv_nsec = strtod("0.5195") * 1e9, truncated -> 519499999 ns, as in Fluent Bit's records."""
    assert TimeFormat("%Y-%m-%dT%H:%M:%S.%L").parse("2026-11-25T13:00:00.5195") == ns(2026, 11, 25, 13, 0, 0, 519499999)


def test_digits_past_the_ninth_are_ignored() -> None:
    assert TimeFormat("%Y-%m-%dT%H:%M:%S.%L").parse("2026-11-25T13:00:00.1234567891") == ns(
        2026, 11, 25, 13, 0, 0, 123456789)


def test_fraction_shorter_than_nine_digits_scales_to_nanoseconds() -> None:
    assert TimeFormat("%Y-%m-%dT%H:%M:%S.%L").parse("2026-11-25T13:00:00.5") == ns(2026, 11, 25, 13, 0, 0, 500_000_000)


def test_text_after_the_format_is_ignored_so_docker_z_suffix_reads_as_utc() -> None:
    """The docker parser's format has no %z: the trailing Z is never read, the time is UTC."""
    fmt = TimeFormat("%Y-%m-%dT%H:%M:%S.%L")
    assert fmt.parse("2026-11-25T13:00:00.851160855Z") == ns(2026, 11, 25, 13, 0, 0, 851160855)


@pytest.mark.parametrize("zone,offset_minutes", [("+0200", 120), ("-07:00", -420), ("Z", 0), ("UTC", 0),
                                                 ("GMT", 0), ("+05", 300), ("PST", -480)])
def test_percent_z_accepts_iso_and_rfc822_zones(zone: str, offset_minutes: int) -> None:
    assert TimeFormat("%d/%b/%Y:%H:%M:%S %z").parse(f"25/Nov/2026:13:00:00 {zone}") == ns(
        2026, 11, 25, 13, 0, 0, 0, offset_minutes)


def test_percent_capital_z_reads_zone_abbreviations() -> None:
    assert TimeFormat("%Y-%m-%d %H:%M:%S %Z").parse("2026-11-25 13:00:00 JST") == ns(2026, 11, 25, 13, 0, 0, 0, 540)


def test_month_names_are_case_insensitive_full_or_abbreviated() -> None:
    fmt = TimeFormat("%d %b %Y")
    assert fmt.parse("25 NOVEMBER 2026") == fmt.parse("25 nov 2026") == ns(2026, 11, 25)


def test_format_without_year_takes_the_current_utc_year() -> None:
    """Syslog's %b %d %H:%M:%S: Fluent Bit prepends the current year (flb_parser_time_lookup)."""
    now = calendar.timegm((2026, 6, 1, 0, 0, 0))
    fmt = TimeFormat("%b %d %H:%M:%S", now=lambda: now)
    assert fmt.parse("Nov 25 13:00:00") == ns(2026, 11, 25, 13)


def test_time_only_format_defaults_to_today() -> None:
    now = calendar.timegm((2026, 6, 1, 8, 0, 0))
    assert TimeFormat("%H:%M:%S", now=lambda: now).parse("13:00:01") == ns(2026, 6, 1, 13, 0, 1)


def test_epoch_seconds() -> None:
    assert TimeFormat("%s").parse("1764075600") == 1764075600 * 10**9


def test_two_digit_year_pivots_at_68() -> None:
    fmt = TimeFormat("%y-%m-%d")
    assert fmt.parse("68-01-01") == ns(2068, 1, 1)
    assert fmt.parse("69-01-01") == ns(1969, 1, 1)


def test_twelve_hour_clock() -> None:
    fmt = TimeFormat("%Y-%m-%d %I:%M:%S %p")
    assert fmt.parse("2026-11-25 01:00:00 PM") == ns(2026, 11, 25, 13)
    assert fmt.parse("2026-11-25 12:00:00 AM") == ns(2026, 11, 25, 0)


def test_whitespace_in_format_matches_any_run_of_spaces() -> None:
    assert TimeFormat("%b %d %H:%M:%S %Y").parse("Nov  5 13:00:00 2026") == ns(2026, 11, 5, 13)


def test_time_offset_applies_to_zoneless_formats_only() -> None:
    assert TimeFormat("%Y-%m-%d %H:%M:%S", offset=3600).parse("2026-11-25 13:00:00") == ns(2026, 11, 25, 12)
    assert TimeFormat("%Y-%m-%d %H:%M:%S %z", offset=3600).parse("2026-11-25 13:00:00 +0000") == ns(2026, 11, 25, 13)


def test_strict_time_that_does_not_match_is_none() -> None:
    assert TimeFormat("%Y-%m-%d").parse("not a date") is None
    assert TimeFormat("%Y-%m-%dT%H:%M:%S.%L").parse("2026-11-25T13:00:00") is None


def test_non_strict_time_keeps_what_was_read() -> None:
    """Time_Strict Off: a partial match is accepted with the fields read so far (flb_parser.c)."""
    assert TimeFormat("%Y-%m-%dT%H:%M:%S", strict=False).parse("2026-11-25") == ns(2026, 11, 25)


@pytest.mark.parametrize("value,seconds", [("+0900", 32400), ("-07:00", -25200), ("Z", 0)])
def test_time_offset_values(value: str, seconds: int) -> None:
    assert parse_offset(value) == seconds


@pytest.mark.parametrize("value", ["0900", "+9", "abc"])
def test_bad_time_offset_is_an_error(value: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(value)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 12, 31)),
       st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_rfc3339_agrees_with_datetime(moment: datetime, fraction: int, offset_minutes: int) -> None:
    """Property: the cached fast path and a fresh parse both equal Python's own calendar arithmetic."""
    sign = "+" if offset_minutes >= 0 else "-"
    zone = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}{zone}"
    fb_fraction = int(float(f"0.{fraction:09d}") * 1_000_000_000)  # Fluent Bit's double arithmetic
    expected = ns(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, fb_fraction,
                  offset_minutes)
    shared = _SHARED_RFC3339
    assert shared.parse(text) == expected
    assert TimeFormat("%Y-%m-%dT%H:%M:%S.%L%z").parse(text) == expected


_SHARED_RFC3339 = TimeFormat("%Y-%m-%dT%H:%M:%S.%L%z")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 12, 31)))
def test_nginx_time_agrees_with_datetime(moment: datetime) -> None:
    text = moment.replace(tzinfo=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    assert _SHARED_NGINX.parse(text) == ns(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                                           moment.second)


_SHARED_NGINX = TimeFormat("%d/%b/%Y:%H:%M:%S %z")


_RFC3339_TEXT = st.one_of(
    st.builds(lambda d, frac, zone: d.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone,
              st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 12, 31)),
              st.one_of(st.just(""), st.from_regex(r"\A\.[0-9]{0,12}\Z")),
              st.sampled_from(["", "Z", "+02:00", "-0700", "+05", "UTC", "GMT", "PST", " +01:00", "+1", "x"])),
    st.text(st.sampled_from("0123456789-T:.+Z "), max_size=40))


@pytest.mark.parametrize("fmt", ["%Y-%m-%dT%H:%M:%S.%L", "%Y-%m-%dT%H:%M:%S.%L%z"])
@given(text=_RFC3339_TEXT)
def test_compiled_rfc3339_reading_agrees_with_reference(fmt: str, text: str) -> None:
    """Property: _core.parse_time_rfc3339 (used for the standard parsers' formats) equals this port."""
    compiled = TimeFormat(fmt)
    if compiled._core is None:
        pytest.skip("_core.parse_time_rfc3339 not built")
    assert compiled.parse(text) == TimeFormat(fmt, compiled=False).parse(text)


_CLF = "%d/%b/%Y:%H:%M:%S %z"
# Common Log Format times: canonical ones in and out of range, with any-case month names, and
# near misses (a character of every kind at every position, wrong lengths, non-ASCII digits).
CLF_TEXT = st.one_of(
    st.builds(lambda d, month, zone: d.strftime("%d/") + month + d.strftime("/%Y:%H:%M:%S ") + zone,
              st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
              st.sampled_from(["Jan", "feb", "MAR", "aPr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
                               "Foo", "Ju1", "June"]),
              st.one_of(st.from_regex(r"\A[+-][0-9]{4}\Z"), st.sampled_from(["+00:00", "Z", "+000", "GMT", "+0٣00"]))),
    st.text(st.sampled_from("0123456789/:+- NnOoVvx٣"), min_size=24, max_size=28),
)


@settings(max_examples=500)
@given(text=CLF_TEXT)
def test_compiled_common_log_format_reading_agrees_with_reference(text: str) -> None:
    """Property: _core.parse_time_clf (the nginx and apache parsers' format) equals this port."""
    compiled = TimeFormat(_CLF)
    if compiled._core_clf is None:
        pytest.skip("_core.parse_time_clf not built")
    assert compiled.parse(text) == TimeFormat(_CLF, compiled=False).parse(text)


def test_common_log_format_times_beyond_the_canonical_form_are_read_as_strptime_reads_them() -> None:
    compiled = TimeFormat(_CLF)
    assert compiled._core_clf is not None and compiled._core_clf("5/Nov/2026:13:00:00 +0000") is None
    assert compiled.parse("5/Nov/2026:13:00:00 +0000") == ns(2026, 11, 5, 13)
    assert compiled.parse("05/november/2026:13:00:00   -01:30") == ns(2026, 11, 5, 14, 30)


def test_a_lenient_time_that_stops_matching_is_read_without_time_offset() -> None:
    """flb_parser_time_lookup returns before it sets the zone to Time_Offset (recorded:
    tests/data/fluent-bit/parser_time_partial)."""
    fmt = TimeFormat("%Y-%m-%d %H:%M:%S", offset=7200, strict=False)
    assert fmt.parse("2026-01-02 03:04:05") == ns(2026, 1, 2, 1, 4, 5)
    assert fmt.parse("2026-01-02 03:60:05") == ns(2026, 1, 2, 3, 6, 0)


def test_a_lenient_time_that_stops_matching_after_its_zone_keeps_the_zone() -> None:
    fmt = TimeFormat("%z %Y-%m-%d %H:%M:%S.%L", strict=False)
    assert fmt.parse("+0300 2026-01-02 03:04:xx") == ns(2026, 1, 2, 0, 4, 0)
