"""A line's JSON object, read exactly as Fluent Bit's JSON parser reads it (yyjson 0.12 with its flags).

Fluent Bit 4.2.8 parses a ``json`` format line (``flb_parser_json.c`` ``flb_parser_json_do``) with
``flb_pack_json_recs_ext`` and the yyjson backend (``flb_pack.c`` ``pack_json_to_msgpack_yyjson``),
reading with ``YYJSON_READ_STOP_WHEN_DONE | YYJSON_READ_ALLOW_INVALID_UNICODE |
YYJSON_READ_REPLACE_INVALID_UNICODE`` (lib/yyjson-0.12.0/src/yyjson.c, ``read_str`` and
``read_uni_esc``). What that means, recorded in tests/data/fluent-bit/docker_trailing_garbage,
parser_filter_json_trailing_bytes and json_yyjson_quirks:

- values are read one after the other: the line is a record when it holds exactly one complete
  value, an object, whatever unreadable bytes follow it (``{...} garbage``, ``{...} }``); a second
  complete value (``{...} 123``, ``{...} {}``) makes it no record at all;
- raw control characters and bytes that are not UTF-8 inside a string are kept as they are;
- ``\\u`` with fewer than four hex digits is kept as the text ``\\u`` and those digits, and the one
  byte after them is dropped (unless it is the closing quote);
- a high surrogate escape not followed by ``\\u`` is U+FFFD; followed by ``\\u`` it takes that
  escape with it: a low surrogate makes the pair's character, anything else one U+FFFD for both
  (``\\ud83d\\ud83d`` is one U+FFFD); a lone low surrogate escape is U+FFFD;
- any other escape than ``\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u`` makes the line no JSON;
- an integer is kept when it fits int64 or uint64, else it is read as a double; a number too big
  for a double (``1e400``) makes the line no JSON;
- of keys that repeat, Fluent Bit's JSON writer keeps the last, where it stands
  (``{"a":1,"b":2,"a":3}`` is written ``{"b":2,"a":3}``), which is the record kept here.

The compiled batch decoder of tail (``_core`` ``JsonLinesDecoder``) and the per-line
``parsers.json.JsonParser`` both try msgspec first and come here with the lines msgspec refuses
or may read otherwise, so the two give the same records; this reader is also the reference the
compiled scanner is tested against.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

import msgspec

from flb_fast.compiled import core_part
from flb_fast.text import INVALID_UTF8

# What JSON allows between values (RFC 8259 section 2).
JSON_SPACE = " \t\n\r"
# yyjson keeps an integer in an int64 (negative) or a uint64; others are read as doubles.
INT64_MIN = -(2**63)
UINT64_MAX = 2**64 - 1
# An integer needs at least this many digits to fall outside int64/uint64 (2**63 has 19).
OUT_OF_RANGE_DIGITS = 19
_LONG_DIGIT_RUN = re.compile(rb"[0-9]{%d}" % OUT_OF_RANGE_DIGITS)
# A string literal; one left open runs to the end of the line.
_STRING_LITERAL = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.S)
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_HEX = re.compile(r"[0-9a-fA-F]{0,4}")
_SHORT_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = (("true", True), ("false", False), ("null", None))
REPLACEMENT = "\ufffd"
# Surrogates that surrogateescape makes, one per byte that is not UTF-8 (U+DC80-U+DCFF).
_ESCAPED_BYTE_BASE = 0xDC00


MISSING = object()  # read_json_object: the line has no time key


class _NotJson(Exception):
    """The text at this place is no JSON value yyjson reads."""


class _Reader:
    """One pass of yyjson over ``text`` (the line decoded with surrogateescape)."""

    def __init__(self, text: str, key: str | None = None, without: bool = False) -> None:
        self.text = text
        self.stray_bytes = False  # a dropped byte left the rest of a UTF-8 sequence behind
        self.key = key  # the time key: the value of its first occurrence in the top object is kept
        self.first: Any = MISSING
        self.without = without  # and that occurrence left out of the record

    def value(self, pos: int) -> tuple[Any, int]:
        text = self.text
        if pos >= len(text):
            raise _NotJson
        char = text[pos]
        if char == "{":
            return self._object(pos + 1)
        if char == "[":
            return self._array(pos + 1)
        if char == '"':
            return self._string(pos + 1)
        for word, literal in _LITERALS:
            if text.startswith(word, pos):
                return literal, pos + len(word)
        return self._number(pos)

    def _space(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and text[pos] in JSON_SPACE:
            pos += 1
        return pos

    def _object(self, pos: int) -> tuple[dict, int]:
        text = self.text
        record: dict[str, Any] = {}
        key_of_time, self.key = self.key, None
        without = self.without
        pos = self._space(pos)
        if text.startswith("}", pos):
            return record, pos + 1
        while True:
            if not text.startswith('"', pos):
                raise _NotJson
            key, pos = self._string(pos + 1)
            pos = self._space(pos)
            if not text.startswith(":", pos):
                raise _NotJson
            value, pos = self.value(self._space(pos + 1))
            if key == key_of_time:  # the parser reads (and may remove) its first occurrence only
                key_of_time = None
                self.first = value
                kept = not without
            else:
                kept = True
            if kept:
                record.pop(key, None)
                record[key] = value
            pos = self._space(pos)
            if text.startswith(",", pos):
                pos = self._space(pos + 1)
            elif text.startswith("}", pos):
                return record, pos + 1
            else:
                raise _NotJson

    def _array(self, pos: int) -> tuple[list, int]:
        text = self.text
        items: list[Any] = []
        pos = self._space(pos)
        if text.startswith("]", pos):
            return items, pos + 1
        while True:
            value, pos = self.value(pos)
            items.append(value)
            pos = self._space(pos)
            if text.startswith(",", pos):
                pos = self._space(pos + 1)
            elif text.startswith("]", pos):
                return items, pos + 1
            else:
                raise _NotJson

    def _number(self, pos: int) -> tuple[int | float, int]:
        text = self.text
        match = _NUMBER.match(text, pos)
        if match is None:
            raise _NotJson
        end = match.end()
        after = text[end:end + 1]
        whole, fraction, exponent = match.groups()
        # yyjson refuses what the grammar leaves half read: 01, 1., 1e
        if (after.isdigit() and after.isascii() and whole == "0") or (after == "." and fraction is None) \
                or (after in ("e", "E") and exponent is None):
            raise _NotJson
        number = match.group()
        if fraction is None and exponent is None:
            integer = int(number)
            if INT64_MIN <= integer <= UINT64_MAX:
                return integer, end
        real = float(number)
        if math.isinf(real):
            raise _NotJson
        return real, end

    def _string(self, pos: int) -> tuple[str, int]:
        """A string from after its opening quote. The text between escapes is found with
        ``str.find`` (a Docker_Mode part's ``log`` is up to 16 KB, which a regular expression
        walked character by character). Without a closing quote its escapes are still read
        (one may drop a byte) before it is found to be no JSON."""
        text = self.text
        parts = []
        quote = -1
        while True:
            if quote < pos:
                quote = text.find('"', pos)
                if quote < 0:
                    quote = len(text)
            backslash = text.find("\\", pos, quote)
            if backslash < 0:
                if quote == len(text):
                    raise _NotJson
                parts.append(text[pos:quote])
                return "".join(parts), quote + 1
            parts.append(text[pos:backslash])
            pos = backslash
            escape = text[pos + 1:pos + 2]
            if escape in _SHORT_ESCAPES:
                parts.append(_SHORT_ESCAPES[escape])
                pos += 2
            elif escape == "u":
                char, pos = self._unicode_escape(pos + 2)
                parts.append(char)
            else:
                raise _NotJson

    def _unicode_escape(self, pos: int) -> tuple[str, int]:
        """``read_uni_esc`` with YYJSON_READ_REPLACE_INVALID_UNICODE, from after ``\\u``."""
        text = self.text
        digits = _HEX.match(text, pos).group()
        if len(digits) < 4:
            pos += len(digits)
            kept = "\\u" + digits
            if pos < len(text) and text[pos] not in "\0\"'":
                kept += self._rest_of_dropped_byte(text[pos])
                pos += 1
            return kept, pos
        high = int(digits, 16)
        pos += 4
        if high & 0xF800 != 0xD800:
            return chr(high), pos
        if high & 0xFC00 != 0xD800:  # a low surrogate first
            return REPLACEMENT, pos
        if not text.startswith("\\u", pos):
            return REPLACEMENT, pos
        digits = _HEX.match(text, pos + 2).group()
        if len(digits) < 4:
            return REPLACEMENT, pos + 2 + len(digits)
        low = int(digits, 16)
        if low & 0xFC00 != 0xDC00:
            return REPLACEMENT, pos + 6
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), pos + 6

    def _rest_of_dropped_byte(self, char: str) -> str:
        """yyjson drops one byte: of a character of several UTF-8 bytes the others stay, each a
        byte that is not UTF-8 (surrogateescape's form, made Fluent Bit's text at the end)."""
        if char.isascii() or _ESCAPED_BYTE_BASE + 0x80 <= ord(char) <= _ESCAPED_BYTE_BASE + 0xFF:
            return ""
        self.stray_bytes = True
        return "".join(chr(_ESCAPED_BYTE_BASE + byte) for byte in char.encode("utf-8")[1:])


def string_value_span(line: bytes, key: str) -> tuple[int, int] | None:
    """The byte span of the string value (quotes included) of the first ``key`` of the object
    ``line`` starts with, as tail_dockermode.c ``modify_json_cond`` finds ``log`` to splice the
    joined text into: None when the line is no such object or that value is no string."""
    text = line.decode("utf-8", "surrogateescape")
    reader = _Reader(text)
    pos = reader._space(0)
    if not text.startswith("{", pos):
        return None
    try:
        pos = reader._space(pos + 1)
        while text.startswith('"', pos):
            name, pos = reader._string(pos + 1)
            pos = reader._space(pos)
            if not text.startswith(":", pos):
                return None
            start = reader._space(pos + 1)
            _, end = reader.value(start)
            if name == key:
                if not text.startswith('"', start):
                    return None
                head = text[:start].encode("utf-8", "surrogateescape")
                return len(head), len(head) + len(text[start:end].encode("utf-8", "surrogateescape"))
            pos = reader._space(end)
            if not text.startswith(",", pos):
                return None
            pos = reader._space(pos + 1)
    except (_NotJson, RecursionError):
        return None
    return None


def fluent_text(value: Any) -> Any:
    """Strings read with surrogateescape, as Fluent Bit writes each one's invalid bytes (flb_fast/text.py)."""
    if type(value) is str:
        if value.isascii():
            return value
        return value.encode("utf-8", "surrogateescape").decode("utf-8", INVALID_UTF8)
    if type(value) is dict:
        return {fluent_text(k): fluent_text(v) for k, v in value.items()}
    if type(value) is list:
        return [fluent_text(v) for v in value]
    return value


def first_json_object(line: bytes, without: str | None = None) -> dict[str, Any] | None:
    """The object ``line`` holds, as Fluent Bit's JSON parser reads it; None if it holds none.

    ``without``: a key whose first occurrence is left out (the time key the parser removes).
    Invalid UTF-8 is kept as Fluent Bit writes it, string by string.
    """
    return read_json_object(line, without, True)[0]


def read_json_object(line: bytes, time_key: str | None, without: bool = False) -> tuple[dict[str, Any] | None, Any]:
    """``(record, time)``: the object ``line`` holds (None if none) and the value of the first
    ``time_key`` in it (``MISSING`` if none), the one Fluent Bit's parser reads the time from;
    ``without``: that occurrence is left out of the record (Time_Keep Off and the time read)."""
    try:
        text = line.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        text = line.decode("utf-8", "surrogateescape")
        valid = False
    reader = _Reader(text, time_key, without)
    start = len(text) - len(text.lstrip(JSON_SPACE))
    try:
        value, end = reader.value(start)
    except (_NotJson, RecursionError):
        return None, MISSING
    if type(value) is not dict:
        return None, MISSING
    after = len(text) - len(text[end:].lstrip(JSON_SPACE))
    if after < len(text):
        try:
            reader.value(after)
        except (_NotJson, RecursionError):
            pass
        else:
            return None, MISSING
    if not valid or reader.stray_bytes:
        return fluent_text(value), fluent_text(reader.first)
    return value, reader.first


def json_shape(line: bytes, value: Any) -> tuple[int, int, bool]:
    """``(colons, keys, long_number)``: the ``:`` of ``line`` that are not inside a string (one per
    key of a line that is one JSON value), the keys of every object in ``value`` (nested ones
    included), and whether a run of OUT_OF_RANGE_DIGITS digits stands outside the strings. The
    reference of ``_core.json_shape``."""
    outside = _STRING_LITERAL.sub(b" ", line)
    return outside.count(b":"), count_keys(value), _LONG_DIGIT_RUN.search(outside) is not None


def count_keys(value: Any) -> int:
    """The keys of every object in ``value``, nested ones included."""
    if type(value) is dict:
        return len(value) + sum(count_keys(item) for item in value.values() if type(item) in (dict, list))
    if type(value) is list:
        return sum(count_keys(item) for item in value if type(item) in (dict, list))
    return 0


@functools.cache
def _shape_of() -> Callable[[bytes, Any], tuple[int, int, bool]]:
    """``_core.json_shape`` when built (it scans sixteen bytes at a time: a Docker_Mode line joined
    from 16 KB of parts took about 19,000 instructions in the regular expressions), else the
    reference. Looked up on first use: ``_core`` imports this module."""
    return core_part("json_shape") or json_shape


def msgspec_may_differ(line: bytes, value: Any) -> bool:
    """Whether msgspec's ``value`` for ``line``, which it read whole, may differ from Fluent Bit's:
    an integer outside int64/uint64 (msgspec keeps it whole, Fluent Bit makes it a double) needs a
    run of that many digits; a repeated key (msgspec keeps the first place, Fluent Bit's JSON the
    last) leaves fewer keys than the line has colons outside strings. ``_core`` has the same test."""
    colons, keys, long_number = _shape_of()(line, value)
    return long_number or colons != keys


def decode_json_object(data: bytes, time_key: str | None = None) -> tuple[Any, Any]:
    """``(value, time)``: the value Fluent Bit's JSON parser reads from ``data`` when it is an object
    (else None, or whatever msgspec read that is no object), and the first ``time_key`` in it
    (``MISSING`` if none): msgspec's reading when it takes the line and reads it the same."""
    try:
        value = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return read_json_object(data, time_key)
    if type(value) is not dict:
        return value, MISSING
    if msgspec_may_differ(data, value):
        return read_json_object(data, time_key)
    return value, value.get(time_key, MISSING) if time_key is not None else MISSING
