"""A line's first JSON object, read as Fluent Bit's JSON parser reads a line that is not one JSON value.

Fluent Bit (4.2.8, recorded in tests/data/fluent-bit/docker_trailing_garbage) reads the JSON
values of a line one after the other (flb_pack.c ``flb_json_tokenise``, jsmn) and stops at the
first thing that is not one: the line is a record when it holds exactly one complete value, an
object, whatever unreadable bytes follow it (``{...} garbage``, ``{...} }``, ``{...} {"a"``). A
second complete value (``{...} 123``, ``{...} {}``, ``{...} "s" x``) makes it no record at all.

Both ways a line is parsed with a ``json`` format parser come here once msgspec has refused the
whole line: the compiled batch decoder of tail (``_core`` ``JsonLinesDecoder``) and the per-line
``parsers.json.JsonParser``, so the two give the same records. Only lines msgspec refuses get
here, so the standard library's scanner, which says where a value ends, is imported on the first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec

from flb_fast.text import INVALID_UTF8

# What JSON allows between values (RFC 8259 section 2).
JSON_SPACE = " \t\n\r"


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@functools.cache
def _scanner() -> Callable[[str, int], tuple[Any, int]]:
    """Python's scanner, which reports where a value ends; NaN and Infinity are not JSON."""
    import json

    return json.JSONDecoder(parse_constant=_not_json).raw_decode


@functools.cache
def _lone_surrogate() -> Any:
    """Surrogates that surrogateescape did not make (those are U+DC80-U+DCFF, one per invalid byte)."""
    import re

    return re.compile("[\ud800-\udc7f\udd00-\udfff]")


def fluent_text(value: Any) -> Any:
    """Strings read with surrogateescape, as Fluent Bit writes each one's invalid bytes (flb_fast/text.py)."""
    if type(value) is str:
        if value.isascii():
            return value
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", INVALID_UTF8)
        except UnicodeEncodeError:  # a \\u escape of a lone surrogate: U+FFFD, as the scanner does
            value = _lone_surrogate().sub("\ufffd", value)
            return value.encode("utf-8", "surrogateescape").decode("utf-8", INVALID_UTF8)
    if type(value) is dict:
        return {fluent_text(k): fluent_text(v) for k, v in value.items()}
    if type(value) is list:
        return [fluent_text(v) for v in value]
    return value


def first_json_object(line: bytes) -> dict[str, Any] | None:
    """The object ``line`` starts with, as Fluent Bit's JSON parser reads it; None if it has none.

    Invalid UTF-8 is kept as Fluent Bit writes it, string by string.
    """
    valid = True
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", "surrogateescape")
        valid = False
    scan = _scanner()
    start = len(text) - len(text.lstrip(JSON_SPACE))
    try:
        value, end = scan(text, start)
    except (ValueError, RecursionError):
        return None
    if type(value) is not dict:
        return None
    after = len(text) - len(text[end:].lstrip(JSON_SPACE))
    if after < len(text):
        try:
            scan(text, after)
        except (ValueError, RecursionError):
            pass
        else:
            return None
    if not valid:
        return fluent_text(value)
    try:
        return msgspec.json.decode(text[start:end].encode())
    except (ValueError, RecursionError):  # what Python's scanner allows and msgspec does not (a lone surrogate escape)
        return fluent_text(value)
