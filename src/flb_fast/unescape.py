"""Fluent Bit's ``flb_unescape_string_utf8`` (src/flb_unescape.c): the one reading of backslash
escapes that its logfmt parser (quoted values) and its older JSON reader (jsmn strings, the
kubernetes filter's Merge_Log) share.

- ``\\"`` ``\\'`` ``\\\\`` ``\\/`` ``\\n`` ``\\b`` ``\\t`` ``\\f`` ``\\r`` ``\\v`` ``\\a`` are their characters;
- ``\\ooo``: one to three octal digits; ``\\xHH``: one or two hex digits (``\\x`` alone is ``x``);
  ``\\UHHHHHHHH``: one to eight hex digits (``\\U`` alone is ``U``);
- ``\\uHHHH``: a high surrogate takes a following ``\\uHHHH`` low surrogate with it; a lone or
  unpaired surrogate, or one to three hex digits, is U+FFFD; ``\\u`` with no hex digit is U+0000;
- a backslash before any other character is dropped, and one at the end is kept;
- a NUL ends the text (the C loop stops there).

A code point past U+10FFFF (``\\U``) is written by Fluent Bit as its low byte alone, and a
surrogate (``\\U0000D800``) as its three UTF-8-style bytes; both are then bytes that are not
UTF-8, read here as Fluent Bit's JSON outputs write them (``text.decode``).
"""

from __future__ import annotations

from flb_fast.text import decode

_SIMPLE = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "b": "\b", "t": "\t", "f": "\f", "r": "\r",
           "v": "\v", "a": "\a"}
_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")
_REPLACEMENT = 0xFFFD


def _digits(text: str, start: int, allowed: frozenset[str], most: int) -> str:
    """The run of up to ``most`` characters of ``allowed`` at ``start``."""
    end = start
    while end < len(text) and end - start < most and text[end] in allowed:
        end += 1
    return text[start:end]


def _u_escape(text: str, start: int) -> tuple[int, int]:
    """``(code point, end)`` of the ``\\u`` escape whose hex digits start at ``start``
    (u8_read_escape_sequence's ``u`` branch)."""
    digits = _digits(text, start, _HEX, 4)
    end = start + len(digits)
    if 0 < len(digits) < 4:
        return _REPLACEMENT, end
    code = int(digits, 16) if digits else 0
    if 0xDC00 <= code <= 0xDFFF:
        return _REPLACEMENT, end
    if not 0xD800 <= code <= 0xDBFF:
        return code, end
    if not (end + 2 < len(text) and text[end] == "\\" and text[end + 1] == "u"):
        return _REPLACEMENT, end
    low_digits = _digits(text, end + 2, _HEX, 4)
    end += 2 + len(low_digits)
    low = int(low_digits, 16) if len(low_digits) == 4 else -1
    if not 0xDC00 <= low <= 0xDFFF:
        return _REPLACEMENT, end
    return 0x10000 + ((code - 0xD800) << 10 | (low - 0xDC00)), end


def _escape(text: str, start: int) -> tuple[int | str, int]:
    """What the escape whose character after the backslash is at ``start`` stands for (a code
    point, or a character when it is one taken as it is), and where the text goes on."""
    kind = text[start]
    if kind in _SIMPLE:
        return _SIMPLE[kind], start + 1
    if kind in _OCTAL:
        digits = _digits(text, start, _OCTAL, 3)
        return int(digits, 8), start + len(digits)
    if kind in "xU":
        digits = _digits(text, start + 1, _HEX, 2 if kind == "x" else 8)
        return (int(digits, 16) if digits else kind), start + 1 + len(digits)
    if kind == "u":
        return _u_escape(text, start + 1)
    return kind, start + 1


def _written(code: int) -> bytes:
    """A code point's bytes as ``u8_wc_toutf8`` writes them (past U+10FFFF: its low byte alone)."""
    if code > 0x10FFFF:
        return bytes([code & 0xFF])
    return chr(code).encode("utf-8", "surrogatepass")


def unescape_utf8(text: str) -> str:
    """``text`` with its escapes read as ``flb_unescape_string_utf8`` reads them (see the module doc)."""
    end = text.find("\0")
    if end >= 0:
        text = text[:end]
    if "\\" not in text:
        return text
    out: list[bytes] = []
    odd = False
    i, size = 0, len(text)
    while i < size:
        backslash = text.find("\\", i)
        if backslash < 0 or backslash + 1 >= size:
            out.append(text[i:].encode())
            break
        out.append(text[i:backslash].encode())
        value, i = _escape(text, backslash + 1)
        if isinstance(value, str):
            out.append(value.encode())
        else:
            odd = odd or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF
            out.append(_written(value))
    data = b"".join(out)
    # Bytes that are not UTF-8 (only an odd \\U makes them) read in their place, as the outputs write them.
    return decode(data) if odd else data.decode()
