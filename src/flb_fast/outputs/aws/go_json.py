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

import msgspec

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
_HTML_OR_SEPARATOR = re.compile("[<>&\u2028\u2029]")
# In a JSON string msgspec wrote: an escaped backslash, or a \\b or \\f escape.
_SHORT_ESCAPES = re.compile(r"(\\\\)|\\([bf])")
_ENCODE = msgspec.json.Encoder().encode
# Map keys' JSON, kept as written: records repeat the same few keys. Bounded, as keys taken from
# log content (a Merge_Log map) need not repeat.
MAX_KEPT_KEYS = 4096
_KEY_JSON: dict[str, str] = {}
# Maps whose JSON a call keeps (``go_json``'s memo): the first met are the pod metadata maps of
# the chunk's pod (a chunk holds one container's records), the rest maps a record holds alone.
MAX_KEPT_MAPS = 256
_SURROGATE = re.compile("[\ud800-\udfff]")
# Go's strconv writes exponents with at least two digits; jsoniter 1.1.12 keeps them so and
# encoding/json trims a negative one below ten to one digit (encode.go floatEncoder).
_EXPONENT_NOTATION_BELOW = 1e-6
_EXPONENT_NOTATION_FROM = 1e21


def _escape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(), _REPLACEMENT)


def _short_escape(match: re.Match[str]) -> str:
    """msgspec's \\b and \\f as jsoniter writes them; an escaped backslash as it is."""
    return match.group(1) or ("\\u0008" if match.group(2) == "b" else "\\u000c")


def go_string(text: str) -> str:
    """``text`` as a JSON string, quotes included, as jsoniter writes it with EscapeHTML.

    msgspec writes a string's JSON ten times as fast as a Python loop and differs from jsoniter
    only where mended here: it leaves ``<>&`` and U+2028/U+2029 as they are, writes \\b and \\f
    short, and refuses lone surrogates (then the string is escaped character by character)."""
    try:
        written = _ENCODE(text).decode()
    except UnicodeEncodeError:
        return '"' + _SPECIAL.sub(_escape, text) + '"'
    if _HTML_OR_SEPARATOR.search(written):
        written = _HTML_OR_SEPARATOR.sub(_escape, written)
    if "\\b" in written or "\\f" in written:
        written = _SHORT_ESCAPES.sub(_short_escape, written)
    return written


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


def _key_json(key: str) -> str:
    written = go_string(key)
    if len(_KEY_JSON) < MAX_KEPT_KEYS:
        _KEY_JSON[key] = written
    return written


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


def _object(value: dict[Any, Any], memo: dict[int, str] | None, std: bool, remember: bool = True) -> str:
    """A map, sorted; ``remember``: kept in (and taken from) ``memo``."""
    if std:
        raise GoJsonError("json: unsupported type: map[interface {}]interface {}")
    remember = remember and memo is not None
    if remember:
        known = memo.get(id(value))  # type: ignore[union-attr]
        if known is not None:
            return known
    try:
        # Keys are unique, so only keys are compared; str keys sort as Go sorts their bytes.
        entries = sorted(value.items())
        plain = not _SURROGATE.search("".join(value))
    except TypeError:
        plain = False
    if not plain:
        # Sorted as Go sorts them: by the key as its JSON reads back (U+FFFD for what is not text).
        entries = sorted(((_SURROGATE.sub("\ufffd", _map_key(key)), item) for key, item in value.items()),
                         key=_first)
    text = "{" + ",".join([(_KEY_JSON.get(key) or _key_json(key)) + ":" + _value(item, memo, std)
                           for key, item in entries]) + "}"
    if remember and len(memo) < MAX_KEPT_MAPS:  # type: ignore[arg-type]
        memo[id(value)] = text  # type: ignore[index]
    return text


def _value(value: Any, memo: dict[int, str] | None, std: bool) -> str:
    kind = type(value)
    if kind is str:
        return go_string(value)
    if kind is dict:
        return _object(value, memo, std)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value, trim_exponent=std)
    if isinstance(value, dict):
        return _object(value, memo, std)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join([_value(item, memo, std) for item in value]) + "]"
    if isinstance(value, (bytes, bytearray)):
        # One U+FFFD for each byte that is not part of valid UTF-8, as Go reads strings.
        return go_string(bytes(value).decode("utf-8", "surrogateescape"))
    if isinstance(value, str):
        return go_string(value)
    return go_string(str(value))


def go_json(value: Any, memo: dict[int, str] | None = None) -> bytes:
    """``value`` (a record) as the Go plugins' jsoniter writes it; GoJsonError when it refuses.

    ``memo`` keeps the JSON of each map met inside records, by identity, so that a map many
    records share (the pod metadata the kubernetes filter attaches) is written once: the caller
    passes one only while the maps inside the records it writes stay alive and unchanged. The
    record itself is not kept (it may be a copy the caller lets go of, whose identity may come
    again)."""
    if type(value) is dict:
        return _object(value, memo, False, remember=False).encode()
    return _value(value, memo, False).encode()


def go_log_key_json(value: Any) -> bytes:
    """A ``log_key`` value that is not a string, as the plugins' ``encoding/json`` writes it;
    GoJsonError for a map (or a list holding one), which it refuses."""
    return _value(value, None, True).encode()
