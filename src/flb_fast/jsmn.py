"""Merge_Log's JSON reader: Fluent Bit 4.2.8's ``flb_pack_json_recs`` (jsmn, then tokens to msgpack).

The kubernetes filter's ``merge_log_handler`` reads a ``log`` with the older jsmn reader, not
yyjson, and that reader differs from JSON (recorded: tests/data/fluent-bit/kube_merge_log_numbers):

- A number is the bytes of a jsmn primitive given to ``strtod`` when they hold a ``.`` or an
  ``e``/``E`` followed by a sign (``pack_numeric_token``'s ``is_float``), else to ``strtoull``
  (``strtoll`` after a ``-``) that stop at the first non-digit: ``1e300`` is 1, ``01`` is 1,
  ``1abc`` is 1, ``-`` is 0, ``1.2.3`` is 1.2; an integer past 64 bits (``ERANGE``) is a double.
- A primitive starts with ``-``, a digit, ``t``, ``f`` or ``n`` and runs to a delimiter; one
  starting ``t`` is true, ``f`` false, ``n`` null (``tru``, ``nan``).
- Strings take raw control characters; escapes are JSON's, ``\\u`` surrogates paired or U+FFFD
  (``flb_unescape_string_utf8``). A NUL ends the text (jsmn stops there).
- Structure is jsmn's (strict, parent links): commas are optional and may repeat, and a map
  holds as many pairs as it has keys, the tokens after them left out (``{"a":1 "b":2}`` is
  ``{"a":1}``). The text must be one object: a second value after it is not merged.
- A key that repeats in an object holds its last value, at its last place, at every depth
  (``{"a":1,"b":2,"a":3}`` is ``{"b":2,"a":3}``, as Fluent Bit 4.2.8 writes the record;
  recorded: tests/data/fluent-bit/kube_merge_log_repeated_keys).

``read_object`` is the one home of these rules; the fast paths (msgspec, in merge.py and
_core/kube.pxi) hand it every text where they could differ. ``read_ordered`` is its answer for the
one case left where msgspec read a text whole and its numbers as jsmn does: a key that repeats.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flb_fast.parsers.types import INT64_MIN, UINT64_MAX, to_float
from flb_fast.unescape import unescape_utf8

_OBJECT, _ARRAY, _STRING, _PRIMITIVE = 1, 2, 3, 4
_PRIMITIVE_START = frozenset("-0123456789tfn")
_DELIMITERS = frozenset("\t\r\n ,]}")
# The escapes strict jsmn accepts in a string besides \\u (jsmn_parse_string).
_STRING_ESCAPES = frozenset('"/\\bfrnt')
_HEX = frozenset("0123456789abcdefABCDEF")
_STRTOULL = re.compile(r"[+-]?[0-9]*")
_UNSIGNED_EXPONENT = re.compile(r"[eE][0-9]")


class _Invalid(Exception):
    """jsmn's JSMN_ERROR_INVAL / JSMN_ERROR_PART: the log is not merged."""


def read_object(text: str) -> dict[str, Any] | None:
    """``text`` as Merge_Log reads it: the object, or None when Fluent Bit does not merge it."""
    end = text.find("\0")
    if end >= 0:
        text = text[:end]
    try:
        tokens = _tokenise(text)
    except _Invalid:
        return None
    if not tokens or tokens[0][0] != _OBJECT or sum(1 for t in tokens if t[4] == -1) != 1:
        return None
    try:
        value, _ = _build(tokens, 0, text)
    except (_Invalid, IndexError):
        return None
    return value


def _last_place(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs in order, a repeated key at its last place (both readers build objects so)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            del obj[key]
        obj[key] = value
    return obj


_read_pairs = json.JSONDecoder(object_pairs_hook=_last_place).decode


def read_ordered(text: str) -> dict[str, Any]:
    """``read_object(text)`` for a text msgspec reads whole, whose numbers it reads as jsmn does,
    and where a key repeats. Such a text is standard JSON whose values the stdlib's C reader reads
    as msgspec does (msgspec refuses the lone surrogates and raw control characters where they
    part); each object is built from its pairs in order, a repeated key at its last place. A
    sixth of ``read_object``'s time: a logger that writes a key twice in every line costs 1.6 µs a
    log here rather than 10."""
    return _read_pairs(text)


def has_unsigned_exponent(text: str) -> bool:
    """Whether ``text`` holds an 'e' or 'E' followed by a digit: where a float msgspec read may
    be a number jsmn's reader reads otherwise (``1e5`` is 1); a float with a '.' or a signed
    exponent is strtod's number, as msgspec reads it."""
    return _UNSIGNED_EXPONENT.search(text) is not None


def _tokenise(js: str) -> list[list]:
    """jsmn_parse (JSMN_STRICT, JSMN_PARENT_LINKS): tokens as [type, start, end, size, parent]."""
    tokens: list[list] = []
    toksuper = -1
    pos, length = 0, len(js)
    while pos < length:
        c = js[pos]
        if c in "{[":
            if toksuper != -1:
                if tokens[toksuper][0] == _OBJECT:
                    raise _Invalid
                tokens[toksuper][3] += 1
            tokens.append([_OBJECT if c == "{" else _ARRAY, pos, -1, 0, toksuper])
            toksuper = len(tokens) - 1
        elif c in "}]":
            kind = _OBJECT if c == "}" else _ARRAY
            if not tokens:
                raise _Invalid
            index = len(tokens) - 1
            while True:
                token = tokens[index]
                if token[1] != -1 and token[2] == -1:
                    if token[0] != kind:
                        raise _Invalid
                    token[2] = pos + 1
                    toksuper = token[4]
                    break
                if token[4] == -1:
                    if token[0] != kind or toksuper == -1:
                        raise _Invalid
                    break
                index = token[4]
        elif c == '"':
            start = pos + 1
            pos = _string_end(js, pos)
            tokens.append([_STRING, start, pos, 0, toksuper])
            if toksuper != -1:
                tokens[toksuper][3] += 1
        elif c in "\t\r\n ":
            pass
        elif c == ":":
            toksuper = len(tokens) - 1
        elif c == ",":
            if toksuper != -1 and tokens[toksuper][0] not in (_ARRAY, _OBJECT):
                toksuper = tokens[toksuper][4]
        elif c in _PRIMITIVE_START:
            if toksuper != -1:
                sup = tokens[toksuper]
                if sup[0] == _OBJECT or (sup[0] == _STRING and sup[3] != 0):
                    raise _Invalid
            start = pos
            while pos < length and js[pos] not in _DELIMITERS:
                if not " " <= js[pos] < "\x7f":
                    raise _Invalid
                pos += 1
            if pos == length:
                raise _Invalid  # strict: a primitive must be followed by a delimiter
            tokens.append([_PRIMITIVE, start, pos, 0, toksuper])
            if toksuper != -1:
                tokens[toksuper][3] += 1
            pos -= 1
        else:
            raise _Invalid
        pos += 1
    for token in tokens:
        if token[1] != -1 and token[2] == -1:
            raise _Invalid
    return tokens


def _string_end(js: str, pos: int) -> int:
    """jsmn_parse_string from the opening quote at ``pos``: the closing quote's index."""
    pos += 1
    length = len(js)
    while pos < length:
        c = js[pos]
        if c == '"':
            return pos
        if c == "\\" and pos + 1 < length:
            pos += 1
            e = js[pos]
            if e == "u":
                pos += 1
                i = 0
                while i < 4 and pos < length:
                    if js[pos] not in _HEX:
                        raise _Invalid
                    pos += 1
                    i += 1
                pos -= 1
            elif e not in _STRING_ESCAPES:
                raise _Invalid
        pos += 1
    raise _Invalid


def _build(tokens: list[list], index: int, js: str) -> tuple[Any, int]:
    """tokens_to_msgpack then unpacked: the value at ``index`` (a container takes as many values
    as its size) and the index after it."""
    kind, start, end, size, _ = tokens[index]
    index += 1
    if kind == _OBJECT:
        pairs: list[tuple[str, Any]] = []
        for _ in range(size):
            key, index = _build(tokens, index, js)
            if key.__class__ is not str:
                raise _Invalid
            value, index = _build(tokens, index, js)
            pairs.append((key, value))
        return _last_place(pairs), index
    if kind == _ARRAY:
        items = []
        for _ in range(size):
            item, index = _build(tokens, index, js)
            items.append(item)
        return items, index
    if kind == _STRING:
        return unescape_utf8(js[start:end]), index
    return primitive(js[start:end]), index


def primitive(token: str) -> Any:
    """tokens_to_msgpack's JSMN_PRIMITIVE: by its first character, else pack_numeric_token."""
    first = token[0]
    if first == "t":
        return True
    if first == "f":
        return False
    if first == "n":
        return None
    if _is_float(token):
        # strtod: decimal, hexadecimal, inf/infinity or nan (is_float lets the last ones through
        # only with a '.' or e+/- after them, as in ``-inf.``), past a double's range infinite.
        return to_float(token)
    digits = _STRTOULL.match(token).group()
    value = int(digits) if digits.lstrip("+-") else 0
    if first == "-" and value < INT64_MIN or first != "-" and value > UINT64_MAX:
        return to_float(token)  # ERANGE
    return value


def _is_float(token: str) -> bool:
    """pack_numeric_token's is_float: a '.', or an 'e'/'E' followed by a sign."""
    if "." in token:
        return True
    for i in range(len(token) - 1):
        if token[i] in "eE" and token[i + 1] in "+-":
            return True
    return False
