"""Retry policy: ``Retry_Limit`` meanings and the backoff between attempts.

Both follow Fluent Bit: ``flb_output.c`` for the ``Retry_Limit`` values and
``flb_scheduler.c`` ``backoff_full_jitter`` for the wait: a uniform random value between
``scheduler.base`` and ``min(scheduler.cap, (2 * base) ** attempt)`` seconds ("full jitter",
AWS architecture blog 2015). Fluent Bit adds one second to that value because its timers
tick in whole seconds; flb_fast's timers do not, so it waits the drawn value itself.
"""

from __future__ import annotations

import random
import re

# Fluent Bit's FLB_OUT_RETRY_UNLIMITED / FLB_OUT_RETRY_NONE (include/fluent-bit/flb_output.h).
RETRY_UNLIMITED = -1
RETRY_NONE = 0
DEFAULT_RETRY_LIMIT = 1

_UNLIMITED_WORDS = frozenset({"no_limits", "false", "off"})
_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")


def parse_retry_limit(value: str | None) -> tuple[int, bool]:
    """(retries allowed, whether the value was valid): N, RETRY_UNLIMITED or RETRY_NONE.

    Fluent Bit reads a number with ``atoi`` (so ``3x`` is 3) and turns anything that is not
    a positive number into the default, 1, with a warning.
    """
    if value is None:
        return DEFAULT_RETRY_LIMIT, True
    word = value.strip().lower()
    if word in _UNLIMITED_WORDS:
        return RETRY_UNLIMITED, True
    if word == "no_retries":
        return RETRY_NONE, True
    match = _LEADING_INT.match(word)
    limit = int(match.group(1)) if match else 0
    if limit <= 0:
        return DEFAULT_RETRY_LIMIT, False
    return limit, True


def backoff_seconds(base: float, cap: float, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
    try:
        grown = (2.0 * base) ** attempt
    except OverflowError:
        grown = float("inf")
    upper = min(float(cap), grown)
    if upper < base:
        upper = base
    return (rng or random).uniform(base, upper)
