"""Text from log bytes that are not always UTF-8, kept as Fluent Bit's JSON outputs write them.

Fluent Bit passes a line's bytes through untouched (msgpack strings are bytes); its JSON encoder
(``flb_msgpack_to_json`` -> ``flb_utils_write_str``, src/flb_utils.c: stdout's JSON formats, file,
and the AWS outputs, e.g. cloudwatch_api.c ``process_event``) then writes each string's bytes
that are not valid UTF-8 as follows (Fluent Bit 4.2.8, recorded in
tests/data/fluent-bit/tail_invalid_utf8*):

- a byte of an invalid sequence becomes the private-use character U+E000 + byte
  (``b"\\xff\\xfe"`` -> U+E0FF U+E0FE), and the next byte is read afresh;
- a lead byte whose sequence would run past the end of the string is left out (``b"a\\xc3"`` ->
  ``"a"``); the sequence length comes from the lead byte alone: 2 for C0-DF, 3 for E0-EF, 4 for
  F0-F7, 5 for F8-FB, 6 for FC-FF, 1 for a stray continuation byte 80-BF;
- an overlong but well-formed sequence decodes to its code point (``b"\\xc0\\x80"`` -> U+0000);
  a surrogate or a code point past U+10FFFF is invalid.

Records here hold ``str``, so lines are decoded with the ``INVALID_UTF8`` error handler, which
makes exactly those substitutions: the record stays one ``dict`` of ``str``, every output encodes
it as usual, and what a JSON output sends is Fluent Bit's text. (Fluent Bit's msgpack-printing
stdout format alone writes the raw bytes; there flb-fast writes the private-use characters.)
"""

from __future__ import annotations

import codecs

# The codec error handler's registered name (``bytes.decode("utf-8", INVALID_UTF8)``).
INVALID_UTF8 = "flb_fast.invalid_utf8"
# flb_utils_write_str: an invalid byte b is written as the code point 0xE000 + b.
PRIVATE_USE_BASE = 0xE000
MAX_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)


def _sequence_length(lead: int) -> int:
    """How many bytes Fluent Bit expects for a sequence starting with ``lead`` (>= 0x80)."""
    if lead < 0xC0:
        return 1
    if lead < 0xE0:
        return 2
    if lead < 0xF0:
        return 3
    if lead < 0xF8:
        return 4
    if lead < 0xFC:
        return 5
    return 6


def _lenient_code_point(sequence: bytes) -> int | None:
    """The code point of a well-formed 2-4 byte sequence, overlong or not; None if it is no code point."""
    if not 2 <= len(sequence) <= 4 or any(byte & 0xC0 != 0x80 for byte in sequence[1:]):
        return None
    value = sequence[0] & (0x7F >> len(sequence))
    for byte in sequence[1:]:
        value = (value << 6) | (byte & 0x3F)
    if value in SURROGATES or value > MAX_CODE_POINT:
        return None
    return value


def _private_use(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    data, start = error.object, error.start
    lead = data[start]
    length = _sequence_length(lead)
    if start + length > len(data):
        return "", start + 1
    code_point = _lenient_code_point(data[start:start + length])
    if code_point is not None:
        return chr(code_point), start + length
    return chr(PRIVATE_USE_BASE + lead), start + 1


codecs.register_error(INVALID_UTF8, _private_use)


def decode(data: bytes) -> str:
    """``data`` as text, its invalid bytes as Fluent Bit's JSON outputs write them (see the module doc)."""
    return data.decode("utf-8", INVALID_UTF8)
