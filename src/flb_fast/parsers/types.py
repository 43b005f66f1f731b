"""``Types key:integer key:float key:bool key:hex key:string``: C conversions as Fluent Bit applies them.

``flb_parser_typecast`` (``src/flb_parser.c``) uses ``atoll``, ``atof`` and ``strtoull(..., 16)``,
which read the longest valid prefix and give 0 when there is none ("12ms" is 12, "abc" is 0);
``bool`` accepts values starting with ``true``/``false`` in any case, and anything else stays a
string with a warning ("cast error. save as string").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_INT_PREFIX = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_HEX_PREFIX = re.compile(r"[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)")
_FLOAT_PREFIX = re.compile(
    r"[ \t\n\v\f\r]*([+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan))", re.IGNORECASE
)


# strtod's hexadecimal form (C99 7.20.1.3): 0x, hex digits with an optional point, an optional
# binary exponent.
_HEX_FLOAT_PREFIX = re.compile(
    r"[ \t\n\v\f\r]*([+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
)


class CastError(ValueError):
    """The value does not convert; Fluent Bit keeps it as a string and warns."""


def to_integer(value: str) -> int:
    """``atoll``: the leading integer, 0 when there is none; clamped to int64 as ``strtoll`` does."""
    match = _INT_PREFIX.match(value)
    if not match:
        return 0
    return max(INT64_MIN, min(INT64_MAX, int(match.group(1))))


def to_hex(value: str) -> int:
    """``strtoull(value, NULL, 16)``: optional ``0x``; a negative value wraps as unsigned."""
    match = _HEX_PREFIX.match(value)
    if not match:
        return 0
    number = int(match.group(2), 16)
    if number > UINT64_MAX:
        return UINT64_MAX
    return (-number) % 2**64 if match.group(1) == "-" else number


def to_float(value: str) -> float:
    """``atof``: the leading number, decimal or hexadecimal (``0x1p3`` is 8.0, as strtod reads it),
    or inf/nan; 0.0 when there is none, an infinity past a double's range."""
    match = _HEX_FLOAT_PREFIX.match(value)
    if match:
        try:
            return float.fromhex(match.group(1))
        except OverflowError:
            return -math.inf if match.group(1).startswith("-") else math.inf
    match = _FLOAT_PREFIX.match(value)
    return float(match.group(1)) if match else 0.0


def to_bool(value: str) -> bool:
    lowered = value[:5].lower()
    if lowered.startswith("true"):
        return True
    if lowered == "false":
        return False
    raise CastError(value)


def to_string(value: str) -> str:
    return value


CASTS: dict[str, Callable[[str], object]] = {
    "integer": to_integer,
    "float": to_float,
    "bool": to_bool,
    "hex": to_hex,
    "string": to_string,
}


def parse_types(value: str) -> dict[str, Callable[[str], object]]:
    """``proc_types_str``: space-separated ``key:type``; entries without ':' are ignored, unknown
    types mean string, and the first entry for a key wins."""
    casts: dict[str, Callable[[str], object]] = {}
    for entry in value.split(" "):
        key, sep, type_name = entry.partition(":")
        if sep and key not in casts:
            casts[key] = CASTS.get(type_name.lower(), to_string)
    return casts
