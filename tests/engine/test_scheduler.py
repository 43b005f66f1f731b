"""Retry_Limit values and the retry backoff, as Fluent Bit reads and computes them."""

from __future__ import annotations

import random

import pytest

from flb_fast.engine.scheduler import RETRY_NONE, RETRY_UNLIMITED, backoff_seconds, parse_retry_limit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (1, True)),
        ("1", (1, True)),
        ("5", (5, True)),
        ("no_limits", (RETRY_UNLIMITED, True)),
        ("False", (RETRY_UNLIMITED, True)),
        ("OFF", (RETRY_UNLIMITED, True)),
        ("no_retries", (RETRY_NONE, True)),
        ("3x", (3, True)),
        ("0", (1, False)),
        ("-2", (1, False)),
        ("abc", (1, False)),
    ],
)
def test_retry_limit_values(value, expected):
    assert parse_retry_limit(value) == expected


def test_first_retry_waits_between_base_and_twice_base():
    rng = random.Random(7)
    waits = [backoff_seconds(5, 2000, 1, rng) for _ in range(200)]
    assert min(waits) >= 5 and max(waits) <= 10
    assert max(waits) - min(waits) > 2  # jittered, not a constant


def test_backoff_grows_exponentially_until_the_cap():
    rng = random.Random(3)
    assert all(5 <= backoff_seconds(5, 2000, 3, rng) <= 1000 for _ in range(100))
    assert all(5 <= backoff_seconds(5, 2000, 40, rng) <= 2000 for _ in range(100))


def test_backoff_never_waits_less_than_base():
    assert backoff_seconds(0.1, 2000, 2, random.Random(1)) == 0.1


def test_backoff_survives_huge_attempt_numbers():
    assert 5 <= backoff_seconds(5, 2000, 10_000, random.Random(1)) <= 2000
