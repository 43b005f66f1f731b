"""The output-wide backoff gate."""

from __future__ import annotations

import pytest

from flb_fast.outputs.aws.backoff import OutputBackoff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    clock = Clock()
    backoff = OutputBackoff(base_seconds=1.0, cap_seconds=4.0, clock=clock)
    delays = [backoff.failed() for _ in range(5)]
    for delay, ceiling in zip(delays, [1, 2, 4, 4, 4], strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_success_resets_the_exponent() -> None:
    backoff = OutputBackoff(base_seconds=1.0, clock=Clock())
    backoff.failed()
    backoff.failed()
    backoff.succeeded()
    assert backoff.failed() <= 1.0


def test_remaining_time_runs_down_with_the_clock() -> None:
    clock = Clock()
    backoff = OutputBackoff(base_seconds=1.0, clock=clock)
    delay = backoff.failed()
    assert backoff.remaining_seconds == pytest.approx(delay)
    clock.now += delay
    assert backoff.remaining_seconds == 0.0


def test_wait_returns_at_once_when_not_backing_off(run) -> None:
    run(OutputBackoff().wait(), timeout=5)
