"""Fluent Bit's record accessor: ``$key``, ``$key['sub'][0]``, ``$TAG``, ``$TAG[n]``, ``$0``..``$9``.

Every plugin option that names a record field or composes text from one goes through here, so
it means what it means in Fluent Bit (``src/flb_record_accessor.c``, ``src/flb_ra_key.c``,
``src/record_accessor/ra.l`` and ``ra.y``). A pattern is compiled once, when the option is read:

- ``Template(text)`` splits the text as ``ra_parse_buffer`` does: literal text, ``$TAG``,
  ``$TAG[n]``, regex ids ``$0``..``$9`` and keys. A key runs from ``$`` to the next ``.`` (outside
  quotes), space, comma or ``"``; its text must follow the grammar ``$ident['str'][int]...``
  (single quotes only, ``''`` escapes a quote), else ``ValueError``. The splitter's quirks are
  kept, since configs in the wild were written against them: the character right after ``$TAG``
  or ``$TAG[n]`` is not scanned for ``$``, and a ``.`` after the last key at the very end is
  dropped.
- ``render`` turns values into text as ``ra_translate_keymap`` does: strings as they are, ints
  as ``%PRId64``, floats as ``%f``, ``true``/``false``, maps as JSON, null as ``null``. An array
  (or a missing key) has no text: ``render`` returns None so the caller can fall back, as
  ``flb_ra_translate_check`` does; with ``check=False`` it contributes nothing, as
  ``flb_ra_translate``.
- ``KeyAccessor`` reads, writes and deletes one key path in a record. As ``flb_ra_key_to_value``,
  subkeys apply only when the top-level value is a map or an array: ``$log['level']`` on a
  string ``log`` reads ``log`` itself.

Writes never change a nested map or array in place: every container on the path is copied
first. The kubernetes filter attaches one shared dict per pod to many records and keeps it in
its cache, so an in-place write would change every other record of that pod.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What ``KeyAccessor.get`` returns when the path does not exist (a present null is ``None``)."""

# ra_parse_buffer ends a key at the first of these characters (a '.' inside quotes excepted).
_KEY_END = ".,\" "
# ra.l tokens, tried in this order at each position (flex takes the longest, these do not overlap).
_TOKEN = re.compile(r"(?P<int>[1-9][0-9]*|0)|'(?P<str>(?:[^']|'')*)'|(?P<ident>[_A-Za-z][A-Za-z0-9_.]*)|(?P<punct>[$\[\].,;])")
_BLANK = " \t\n"
_LEADING_DIGITS = re.compile(r"\d*")


def _atoi(text: str) -> int:
    """C ``atoi``: the leading digits, 0 when there are none."""
    digits = _LEADING_DIGITS.match(text)
    return int(digits.group()) if digits and digits.group() else 0


class KeyAccessor:
    """One key path, ``$kubernetes['labels']['app']`` -> ``kubernetes``, ("labels", "app")."""

    __slots__ = ("text", "key", "subkeys")

    def __init__(self, key: str, subkeys: tuple[str | int, ...] = (), text: str | None = None) -> None:
        self.key = key
        self.subkeys = subkeys
        self.text = text if text is not None else "$" + key + "".join(
            f"[{sub}]" if isinstance(sub, int) else "['" + sub.replace("'", "''") + "']" for sub in subkeys
        )

    def __repr__(self) -> str:
        return f"KeyAccessor({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyAccessor) and (self.key, self.subkeys) == (other.key, other.subkeys)

    def __hash__(self) -> int:
        return hash((self.key, self.subkeys))

    @classmethod
    def parse(cls, text: str) -> KeyAccessor:
        """``$ident['str'][int]...`` by the grammar of ``ra.y``; ``ValueError`` if it does not parse.

        As the flex scanner, blanks between tokens are ignored and a character no token starts
        with is skipped (Fluent Bit logs it and goes on).
        """
        tokens: list[tuple[str, str | int]] = []
        position = 0
        while position < len(text):
            if text[position] in _BLANK:
                position += 1
                continue
            match = _TOKEN.match(text, position)
            if match is None:
                position += 1
                continue
            kind = match.lastgroup or ""
            value: str | int = match.group(kind)
            if kind == "int":
                value = int(value)
            elif kind == "str":
                value = str(value).replace("''", "'")
            tokens.append((kind, value))
            position = match.end()
        if len(tokens) < 2 or tokens[0] != ("punct", "$") or tokens[1][0] != "ident":
            raise ValueError(f"invalid record accessor '{text}' (expected $key, $key['sub'] or $key[0])")
        subkeys: list[str | int] = []
        rest = tokens[2:]
        while rest:
            if len(rest) < 3 or rest[0] != ("punct", "[") or rest[1][0] not in ("str", "int") or rest[2] != ("punct", "]"):
                raise ValueError(f"invalid record accessor '{text}' (expected ['key'] or [index] after ${tokens[1][1]})")
            subkeys.append(rest[1][1])
            rest = rest[3:]
        return cls(str(tokens[1][1]), tuple(subkeys), text)

    def get(self, record: dict[str, Any]) -> Any:
        """The value at the path, or ``MISSING``."""
        value = record.get(self.key, MISSING)
        if not self.subkeys or not isinstance(value, (dict, list)):
            return value
        for sub in self.subkeys:
            if isinstance(sub, int):
                if not isinstance(value, list) or sub >= len(value):
                    return MISSING
                value = value[sub]
            else:
                if not isinstance(value, dict) or sub not in value:
                    return MISSING
                value = value[sub]
        return value

    def _parent(self, record: dict[str, Any]) -> dict[str, Any] | list[Any] | None:
        """The container holding the last subkey, copied with every container above it, or None."""
        top = record.get(self.key)
        if not isinstance(top, (dict, list)):
            return None
        chain: list[dict[str, Any] | list[Any]] = [top]
        for sub in self.subkeys[:-1]:
            current = chain[-1]
            if isinstance(sub, int):
                if not isinstance(current, list) or sub >= len(current):
                    return None
                child = current[sub]
            else:
                if not isinstance(current, dict) or sub not in current:
                    return None
                child = current[sub]
            if not isinstance(child, (dict, list)):
                return None
            chain.append(child)
        last = self.subkeys[-1]
        if isinstance(last, int) != isinstance(chain[-1], list):
            return None
        copies = [container.copy() for container in chain]
        record[self.key] = copies[0]
        for parent, sub, child in zip(copies, self.subkeys, copies[1:], strict=False):
            parent[sub] = child  # type: ignore[index]
        return copies[-1]

    def set(self, record: dict[str, Any], value: Any) -> bool:
        """Write ``value`` at the path (adding the last key if absent); False if a parent is missing.

        Maps and arrays on the path are copied, never changed in place.
        """
        if not self.subkeys:
            record[self.key] = value
            return True
        parent = self._parent(record)
        if parent is None:
            return False
        last = self.subkeys[-1]
        if isinstance(parent, list):
            if not isinstance(last, int) or last >= len(parent):
                return False
            parent[last] = value
        else:
            parent[last] = value  # type: ignore[index]
        return True

    def delete(self, record: dict[str, Any]) -> bool:
        """Remove the path's entry; False if it is not there. Containers on the path are copied."""
        if self.get(record) is MISSING:
            return False
        if not self.subkeys:
            del record[self.key]
            return True
        parent = self._parent(record)
        if parent is None:
            return False
        del parent[self.subkeys[-1]]  # type: ignore[arg-type]
        return True


class _Tag:
    __slots__ = ()


class _TagPart:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _RegexId:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_Part = str | KeyAccessor | _Tag | _TagPart | _RegexId
TAG: Final = _Tag()


def value_text(value: Any) -> str | None:
    """``ra_translate_keymap``'s text for a value; None for what it cannot print (arrays)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


def _split(text: str) -> list[_Part]:
    """``ra_parse_buffer``, step for step (its index arithmetic is what users' patterns rely on)."""
    parts: list[_Part] = []
    length = len(text)
    pre = end = i = 0
    while i < length:
        if text[i] != "$":
            i += 1
            continue
        if i > pre:
            parts.append(text[pre:i])
        pre = i
        n = i + 1
        if n >= length:
            break
        if "0" <= text[n] <= "9":
            parts.append(_RegexId(_atoi(text[n:])))
            i += 1
            pre = i + 1
        elif n + 2 < length and text.startswith("TAG", n):
            if n + 4 < length and text[n + 3] == "[":
                t = n + 3
                close = text.find("]", t)
                end = close - t if close > t else -1
                parts.append(_TagPart(_atoi(text[t + 1 :])))
                i = t + end + 1
                pre = i
            else:
                parts.append(TAG)
                i = n + 3
                pre = n + 3
        else:
            quotes = 0
            end = i + 1
            while end < length:
                char = text[end]
                if char == "'":
                    quotes += 1
                elif char == "." and quotes & 1:
                    pass
                elif char in _KEY_END:
                    break
                end += 1
            parts.append(KeyAccessor.parse(text[i:end]))
            pre = i = end
        i += 1
    if (i - 1 > end and pre < i) or i == 1:
        parts.append(text[pre:])
    return [part for part in parts if part != ""]


class Template:
    """A compiled record-accessor pattern: literal text with keys, tag parts and regex ids."""

    __slots__ = ("text", "parts")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[_Part] = _split(text)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"

    @property
    def is_static(self) -> bool:
        """True when the result depends on nothing but the tag (``flb_ra_is_static``)."""
        return not any(isinstance(part, (KeyAccessor, _RegexId)) for part in self.parts)

    @property
    def uses_record(self) -> bool:
        return any(isinstance(part, KeyAccessor) for part in self.parts)

    @property
    def first_key(self) -> KeyAccessor | None:
        """The key a single-key option names (``get_ra_parser``: the first part, literal or key).

        Plain text is a key of that name; a pattern starting with ``$TAG`` or ``$0`` names none.
        """
        if not self.parts:
            return None
        first = self.parts[0]
        if isinstance(first, str):
            return KeyAccessor(first, (), first)
        return first if isinstance(first, KeyAccessor) else None

    def render(
        self, tag: str, record: dict[str, Any] | None = None, groups: Sequence[str | None] | None = None,
        check: bool = True,
    ) -> str | None:
        """The text for one record. A missing key (or an array) makes it None when ``check``;
        otherwise it adds nothing. ``groups[n]`` is ``$n`` (the caller's regex match); a tag part
        past the tag's last dot adds nothing."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, KeyAccessor):
                text = value_text(part.get(record)) if record is not None else None
                if text is None:
                    if check:
                        return None
                    continue
                out.append(text)
            elif isinstance(part, _Tag):
                out.append(tag)
            elif isinstance(part, _TagPart):
                pieces = tag.split(".")
                if part.index < len(pieces):
                    out.append(pieces[part.index])
            elif groups is not None and part.index < len(groups):
                out.append(groups[part.index] or "")
        return "".join(out)
