"""parse_time_rfc3339: time strings read as Fluent Bit's docker parser (%Y-%m-%dT%H:%M:%S.%L,
strict) and cri multiline parser (%Y-%m-%dT%H:%M:%S.%L%z, not strict) read them."""

from __future__ import annotations

import calendar
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast._core import parse_time_rfc3339

NEW_YEAR_2024_NS = 1704067200 * 10**9


def test_a_docker_time_with_nanoseconds():
    assert parse_time_rfc3339("2024-01-01T00:00:00.123456789Z") == NEW_YEAR_2024_NS + 123456789


def test_bytes_are_accepted():
    assert parse_time_rfc3339(b"2024-01-01T00:00:00.5Z") == NEW_YEAR_2024_NS + 500000000


def test_the_docker_format_ignores_a_zone_offset_and_reads_utc():
    # The docker parser's Time_Format has no %z: what follows %L is not read.
    assert parse_time_rfc3339("2024-01-01T00:00:00.5+02:00") == NEW_YEAR_2024_NS + 500000000


@pytest.mark.parametrize(
    ("suffix", "offset_seconds"),
    [
        ("Z", 0),
        ("+02:00", 7200),
        ("-05:30", -19800),
        ("+0100", 3600),
        ("+01", 3600),
        ("UTC", 0),
        ("GMT", 0),
        ("EST", -18000),
        ("pdt", -25200),
    ],
)
def test_the_cri_format_applies_the_zone(suffix, offset_seconds):
    value = f"2024-01-01T00:00:00.5{suffix}"
    assert parse_time_rfc3339(value, zone=True, strict=False) == NEW_YEAR_2024_NS + 500000000 - offset_seconds * 10**9


def test_a_time_without_fraction_fails_the_strict_docker_format():
    assert parse_time_rfc3339("2024-01-01T00:00:00Z") == -1


def test_a_time_without_fraction_keeps_its_seconds_in_the_lenient_cri_format():
    assert parse_time_rfc3339("2024-01-01T10:00:00Z", zone=True, strict=False) == NEW_YEAR_2024_NS + 36000 * 10**9


def test_a_missing_zone_is_utc_in_the_lenient_cri_format():
    assert parse_time_rfc3339("2024-01-01T00:00:00.25", zone=True, strict=False) == NEW_YEAR_2024_NS + 250000000
    assert parse_time_rfc3339("2024-01-01T00:00:00.25", zone=True, strict=True) == -1


def test_a_value_without_a_date_fails_even_when_lenient():
    assert parse_time_rfc3339("yesterday", zone=True, strict=False) == -1
    assert parse_time_rfc3339("", zone=True, strict=False) == -1


def test_digits_past_the_ninth_are_ignored():
    assert parse_time_rfc3339("2024-01-01T00:00:00.1234567891Z") == NEW_YEAR_2024_NS + 123456789


def test_nanoseconds_come_from_fluent_bits_truncated_double_arithmetic():
    # flb_parser_json.c: tv_nsec = strtod("0.5195") * 1000000000, truncated.
    assert parse_time_rfc3339("2024-01-01T00:00:00.5195Z") == NEW_YEAR_2024_NS + 519499999


def test_single_digit_fields_are_read_as_strptime_does():
    assert parse_time_rfc3339("2024-1-2T3:4:5.6") == calendar.timegm((2024, 1, 2, 3, 4, 5)) * 10**9 + 600000000


def test_a_day_past_the_end_of_the_month_rolls_over_as_timegm_does():
    assert parse_time_rfc3339("2024-02-31T00:00:00.0Z") == calendar.timegm((2024, 3, 2, 0, 0, 0)) * 10**9


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01T00:00:00.0Z",
        "2024-01-32T00:00:00.0Z",
        "2024-01-01T24:00:00.0Z",
        "2024-01-01T00:60:00.0Z",
        "2024-01-01T00:00:61.0Z",
        "2024-01-01 00:00:00.0Z",
    ],
)
def test_out_of_range_fields_and_wrong_separators_fail(value):
    assert parse_time_rfc3339(value) == -1


def test_a_time_string_longer_than_63_bytes_fails():
    value = "2024-01-01T00:00:00.5Z"
    assert parse_time_rfc3339(value + " " * (63 - len(value))) == NEW_YEAR_2024_NS + 500000000
    assert parse_time_rfc3339(value + " " * (64 - len(value))) == -1


def test_a_time_beyond_int64_nanoseconds_fails():
    assert parse_time_rfc3339("2262-04-11T23:47:15.0Z") == 9223372035 * 10**9
    assert parse_time_rfc3339("2263-01-01T00:00:00.0Z") == -1
    assert parse_time_rfc3339("1000-01-01T00:00:00.0Z") == -1


def test_times_before_the_epoch_are_negative():
    assert parse_time_rfc3339("1969-12-31T23:59:59.5Z") == -500000000


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2262, 4, 10)),
    digits=st.integers(1, 9),
    offset_minutes=st.integers(-23 * 60, 23 * 60),
)
def test_random_times_match_timegm_and_fluent_bits_fraction(moment, digits, offset_minutes):
    fraction = str(moment.microsecond * 1000 + 123).zfill(9)[:digits]
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment:%H:%M:%S}.{fraction}"
    seconds = calendar.timegm(moment.timetuple())
    nanoseconds = int(float("0." + fraction) * 1e9)
    assert parse_time_rfc3339(text + "Z") == seconds * 10**9 + nanoseconds
    zoned = f"{text}{sign}{hours:02d}:{minutes:02d}"
    assert parse_time_rfc3339(zoned, zone=True, strict=False) == (seconds - (offset_minutes * 60)) * 10**9 + nanoseconds
