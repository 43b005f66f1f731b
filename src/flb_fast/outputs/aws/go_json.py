"""Records' JSON as the AWS Go plugins for Fluent Bit write it (``Name cloudwatch``, ``firehose``,
``kinesis``).

Their ``processRecord`` writes a record with ``jsoniter.ConfigCompatibleWithStandardLibrary``
(json-iterator/go 1.1.12, the version the plugins pin), after fluent-bit-go decoded it into a Go
map; ``log_key`` with a value that is not a string goes through ``encoding/json`` instead
(``plugins.EncodeLogKey``). What that means for the bytes (recorded from both libraries:
tests/data/outputs/go_json, ``python -m tools.record_go_json``):

- a map's keys are written sorted (Go compares strings byte by byte, which for text is the order
  of its code points), at every depth: the record's key order is not kept;
- in strings ``<``, ``>`` and ``&`` are escaped (``\\u003c``, ``\\u003e``, ``\\u0026``), as are
  U+2028 and U+2029; control characters other than ``\\n``, ``\\r`` and ``\\t`` are ``\\u00XX``
  (``\\b`` is ``\\u0008``); DEL and every other non-ASCII character are written as they are
  (UTF-8); text that is not valid UTF-8 becomes U+FFFD;
- a float is Go's shortest form, in fixed notation (``3``, ``0.5``, ``100000000000000000000``)
  unless its magnitude is below 1e-6 or from 1e21 on, then in exponent notation with at least
  two exponent digits (``1e-07``, ``1e+21``; ``encoding/json`` trims ``e-07`` to ``e-7``); NaN
  and the infinities are refused, and the plugins then drop the record.

A ``log_key`` value that is a map, or a list holding one, is refused by ``encoding/json``
(fluent-bit-go's maps have interface keys), so the plugins drop that record too.
"""

from __future__ import annotations

import math
import re
from typing import Any

# What the Go plugins append to a record they cut to the service's size (processRecord).
TRUNCATED_SUFFIX = b"[Truncated...]"


class GoJsonError(ValueError):
    """A value the Go plugins cannot write; they drop the record and log the error."""


# Characters of a string jsoniter (EscapeHTML) escapes: control characters, '"', '\\', the HTML
# characters, U+2028/U+2029, and lone surrogates (never valid UTF-8: written as U+FFFD).
_SPECIAL = re.compile("[\x00-\x1f\"\\\\<>&\u2028\u2029\ud800-\udfff]")
_ESCAPES = {chr(code): f"\\u{code:04x}" for code in range(0x20)}
_ESCAPES.update({"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"})
_ESCAPES.update({char: f"\\u{ord(char):04x}" for char in "<>&\u2028\u2029"})
_REPLACEMENT = "\\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# Go's strconv writes exponents with at least two digits; jsoniter 1.1.12 keeps them so and
# encoding/json trims a negative one below ten to one digit (encode.go floatEncoder).
_EXPONENT_NOTATION_BELOW = 1e-6
_EXPONENT_NOTATION_FROM = 1e21


def _escape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(), _REPLACEMENT)


def go_string(text: str) -> str:
    """``text`` as a JSON string, quotes included, as jsoniter writes it with EscapeHTML."""
    return '"' + _SPECIAL.sub(_escape, text) + '"'


def go_float(value: float, *, trim_exponent: bool = False) -> str:
    """A float64 as jsoniter 1.1.12 writes it (``trim_exponent``: as encoding/json does)."""
    if math.isnan(value) or math.isinf(value):
        raise GoJsonError(f"unsupported value: {value}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    # Python's repr and Go's strconv (precision -1) both give the shortest digits that read
    # back as the same float; only the notation differs.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    if _EXPONENT_NOTATION_BELOW <= abs(value) < _EXPONENT_NOTATION_FROM:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    power = point - 1
    width = 1 if trim_exponent and power < 0 else 2
    fraction_part = "." + digits[1:] if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{fraction_part}e{'-' if power < 0 else '+'}{abs(power):0{width}d}"


def _first(entry: tuple[str, Any]) -> str:
    return entry[0]


def _map_key(key: Any) -> str:
    """A map key as jsoniter names it: a string as it is, a number or bool as its text."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return go_float(key)
    return str(key)


def _write(value: Any, parts: list[str], std: bool) -> None:
    if isinstance(value, str):
        parts.append(go_string(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        parts.append(go_float(value, trim_exponent=std))
    elif isinstance(value, dict):
        if std:
            raise GoJsonError("json: unsupported type: map[interface {}]interface {}")
        # Sorted as Go sorts them: by the key as its JSON reads back (U+FFFD for what is not text).
        entries = sorted(((_SURROGATE.sub("\ufffd", _map_key(key)), item) for key, item in value.items()),
                         key=_first)
        parts.append("{")
        for index, (key, item) in enumerate(entries):
            if index:
                parts.append(",")
            parts.append(go_string(key))
            parts.append(":")
            _write(item, parts, std)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts, std)
        parts.append("]")
    elif isinstance(value, (bytes, bytearray)):
        # One U+FFFD for each byte that is not part of valid UTF-8, as Go reads strings.
        parts.append(go_string(bytes(value).decode("utf-8", "surrogateescape")))
    else:
        parts.append(go_string(str(value)))


def go_json(value: Any) -> bytes:
    """``value`` (a record) as the Go plugins' jsoniter writes it; GoJsonError when it refuses."""
    parts: list[str] = []
    _write(value, parts, std=False)
    return "".join(parts).encode()


def go_log_key_json(value: Any) -> bytes:
    """A ``log_key`` value that is not a string, as the plugins' ``encoding/json`` writes it;
    GoJsonError for a map (or a list holding one), which it refuses."""
    parts: list[str] = []
    _write(value, parts, std=True)
    return "".join(parts).encode()
