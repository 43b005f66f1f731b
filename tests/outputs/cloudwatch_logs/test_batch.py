"""PutLogEvents batching at the edges of every service limit: exactly at, and one over."""

from __future__ import annotations

from flb_fast.outputs.cloudwatch_logs.batch import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_BATCH_SPAN_MS,
    MAX_EVENT_BYTES,
    split_batches,
    truncate_message,
)


def test_limits_are_the_documented_ones() -> None:
    assert (MAX_BATCH_BYTES, EVENT_OVERHEAD_BYTES, MAX_BATCH_EVENTS) == (1_048_576, 26, 10_000)
    assert MAX_EVENT_BYTES == 1_048_576 - 26
    assert MAX_BATCH_SPAN_MS == 86_400_000


def test_no_events_make_no_batch() -> None:
    assert split_batches([], []) == []


def test_events_filling_exactly_the_byte_limit_make_one_batch() -> None:
    # 4 events whose messages plus 26 bytes each add up to exactly 1,048,576 bytes.
    size = MAX_BATCH_BYTES // 4 - EVENT_OVERHEAD_BYTES
    assert split_batches([0] * 4, [size] * 4) == [(0, 4)]


def test_one_byte_over_the_byte_limit_starts_a_second_batch() -> None:
    size = MAX_BATCH_BYTES // 4 - EVENT_OVERHEAD_BYTES
    assert split_batches([0] * 4, [size] * 3 + [size + 1]) == [(0, 3), (3, 4)]


def test_exactly_ten_thousand_events_make_one_batch() -> None:
    assert split_batches([0] * 10_000, [1] * 10_000) == [(0, 10_000)]


def test_ten_thousand_and_one_events_make_two_batches() -> None:
    assert split_batches([0] * 10_001, [1] * 10_001) == [(0, 10_000), (10_000, 10_001)]


def test_a_span_just_under_24_hours_stays_in_one_batch() -> None:
    assert split_batches([0, MAX_BATCH_SPAN_MS - 1], [1, 1]) == [(0, 2)]


def test_a_span_of_24_hours_starts_a_new_batch() -> None:
    assert split_batches([0, MAX_BATCH_SPAN_MS], [1, 1]) == [(0, 1), (1, 2)]


def test_the_span_is_measured_from_each_batch_first_event() -> None:
    day = MAX_BATCH_SPAN_MS
    assert split_batches([0, day, day + day - 1, 2 * day], [1] * 4) == [(0, 1), (1, 3), (3, 4)]


def test_a_largest_event_fills_a_batch_by_itself() -> None:
    assert split_batches([0, 0, 0], [1, MAX_EVENT_BYTES, 1]) == [(0, 1), (1, 2), (2, 3)]


def test_truncation_keeps_exactly_the_largest_event() -> None:
    assert len(truncate_message(b"x" * (MAX_EVENT_BYTES + 1))) == MAX_EVENT_BYTES
    assert truncate_message(b"x" * MAX_EVENT_BYTES) == b"x" * MAX_EVENT_BYTES


def test_truncation_never_splits_a_utf8_character() -> None:
    message = b"x" * (MAX_EVENT_BYTES - 1) + "é".encode() + b"tail"
    truncated = truncate_message(message)
    assert truncated == b"x" * (MAX_EVENT_BYTES - 1)
    truncated.decode("utf-8")
