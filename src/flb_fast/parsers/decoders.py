"""``Decode_Field`` / ``Decode_Field_As``: decoding a field's text after parsing (``flb_parser_decoder.c``).

Rules are grouped per field, in file order. ``Decode_Field_As`` replaces the value in place (text
or, for ``json``, a map); ``Decode_Field`` appends the keys of a decoded JSON map at the end of the
record and keeps the field. The optional action says what happens next: none stops after the
first rule tried, ``try_next`` tries the next rule only when this one failed, ``do_next`` goes on
either way (feeding the next rule the decoded text). Only text values are decoded.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

BACKENDS = ("json", "escaped", "escaped_utf8", "mysql_quoted")
ACTIONS = ("try_next", "do_next")

_SIMPLE_ESCAPES = {"n": "\n", "a": "\a", "b": "\b", "t": "\t", "v": "\v", "f": "\f", "r": "\r"}
_json_decode = msgspec.json.Decoder().decode


def unescape(text: str) -> str:
    """``unescape_string``: C escapes become their characters, any other backslash is dropped."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if ch == "\\":
            if i + 1 < size:
                nxt = text[i + 1]
                if nxt in _SIMPLE_ESCAPES:
                    out.append(_SIMPLE_ESCAPES[nxt])
                    i += 2
                    continue
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _hex_run(text: str, start: int, limit: int) -> int:
    end = start
    while end < len(text) and end - start < limit and text[end] in "0123456789abcdefABCDEF":
        end += 1
    return end


def unescape_utf8(text: str) -> str:
    """``unescape_string_utf8``: C, octal, ``\\xHH``, ``\\uHHHH`` and ``\\UHHHHHHHH`` escapes;
    JSON's own escapes (``\\" \\' \\\\ \\/``) are left as written."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, size = 0, len(text)
    while i < size:
        ch = text[i]
        if ch != "\\" or i + 1 >= size or text[i + 1] in "\"'\\/":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif "0" <= nxt <= "7":
            end = i + 1
            while end < size and end - (i + 1) < 3 and "0" <= text[end] <= "7":
                end += 1
            out.append(chr(int(text[i + 1 : end], 8)))
            i = end
        elif nxt in "xuU":
            end = _hex_run(text, i + 2, {"x": 2, "u": 4, "U": 8}[nxt])
            if end > i + 2 and int(text[i + 2 : end], 16) < 0x110000:
                out.append(chr(int(text[i + 2 : end], 16)))
            else:
                out.append(nxt)
            i = end
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _decode_json(text: str) -> Any:
    """The field's text read as JSON as it stands (its own escapes are JSON's), after any leading
    spaces; only an object decodes, with nothing but whitespace after it. Fluent Bit 4.2.8 does
    not unescape first: ``{\\"a\\": 1}`` with literal backslashes stays text, and so do a
    leading tab, an array and trailing bytes (recorded: tests/data/fluent-bit/parser_decode_field_json*).
    """
    body = text.lstrip(" ")
    if not body.startswith("{"):
        return None
    try:
        value = _json_decode(body)
    except (msgspec.DecodeError, RecursionError):  # nested deeper than msgspec decodes
        return None
    return value if isinstance(value, dict) else None


def _decode_mysql_quoted(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return unescape(text[1:-1])
    return None


_DECODERS = {
    "json": _decode_json,
    "escaped": unescape,
    "escaped_utf8": unescape_utf8,
    "mysql_quoted": _decode_mysql_quoted,
}


class DecodeRule(Struct, frozen=True):
    backend: str
    in_place: bool  # Decode_Field_As
    action: str | None


class Decoders:
    """The decoder rules of one parser, applied to a parsed record."""

    def __init__(self, rules: list[tuple[str, DecodeRule]]) -> None:
        self.by_key: dict[str, list[DecodeRule]] = {}
        for key, rule in rules:
            self.by_key.setdefault(key, []).append(rule)

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        by_key = self.by_key
        if not any(key in record for key in by_key):
            return record
        extra: dict[str, Any] = {}
        for key, value in record.items():
            rules = by_key.get(key)
            if rules is None or not isinstance(value, str):
                continue
            replaced, appended = self._run(rules, value)
            if replaced is not None:
                record[key] = replaced
            if appended is not None:
                extra.update(appended)
        if extra:
            record.update(extra)
        return record

    @staticmethod
    def _run(rules: list[DecodeRule], value: str) -> tuple[Any, dict | None]:
        data: Any = value
        replaced: Any = None
        appended: dict | None = None
        for rule in rules:
            if not rule.in_place and rule.action == "do_next" and appended is not None:
                continue
            if replaced is not None and not isinstance(replaced, str):
                continue
            result = _DECODERS[rule.backend](data)
            if result is None:
                if rule.action in ACTIONS:
                    continue
                break
            if rule.in_place:
                replaced = data = result
            elif isinstance(result, dict):
                appended = result
            if rule.action == "do_next":
                continue
            break
        return replaced, appended
