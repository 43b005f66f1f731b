"""Name templates for log groups, streams and keys, in both plugins' syntaxes.

- Fluent Bit record accessors (``log_group_template``): ``$kubernetes['namespace_name']``,
  ``$key``, ``$TAG``, ``$TAG[n]``.
- The Go plugins' ``$(...)`` syntax (``Name cloudwatch``): ``$(kubernetes['namespace_name'])``,
  ``$(key)``, ``$(tag)``, ``$(tag[n])``, ``$(uuid)``.

A bare ``$key`` name is word characters (a key with dashes goes in brackets:
``$kubernetes['labels']['app-name']``). A template is parsed once into literal and variable
parts; ``render`` returns None when a variable has no value in the record, so the caller falls
back to the static name, as both plugins do.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

_SUBKEYS = r"((?:\[(?:'[^']*'|\"[^\"]*\"|\d+)\])*)"
_C_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)" + _SUBKEYS)
_GO_VARIABLE = re.compile(r"\$\(\s*([A-Za-z_][\w\-]*)" + _SUBKEYS + r"\s*\)")
_SUBKEY = re.compile(r"\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]")

_TAG = "tag"
_UUID = "uuid"


def _path(head: str, subkeys: str) -> tuple[str | int, ...]:
    parts: list[str | int] = [head]
    for quoted, double, index in _SUBKEY.findall(subkeys):
        parts.append(int(index) if index else (quoted or double))
    return tuple(parts)


class Template:
    """A parsed name template; ``go=True`` reads the Go plugins' ``$(...)`` syntax."""

    def __init__(self, text: str, go: bool = False) -> None:
        self.text = text
        self.parts: list[str | tuple[str | int, ...]] = []
        pattern = _GO_VARIABLE if go else _C_VARIABLE
        position = 0
        for match in pattern.finditer(text):
            if match.start() > position:
                self.parts.append(text[position : match.start()])
            head = match.group(1)
            if (go and head.lower() in (_TAG, _UUID)) or (not go and head == "TAG"):
                head = head.lower()
            self.parts.append(_path(head, match.group(2)))
            position = match.end()
        if position < len(text):
            self.parts.append(text[position:])

    @property
    def is_static(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    @property
    def uses_record(self) -> bool:
        return any(not isinstance(part, str) and part[0] not in (_TAG, _UUID) for part in self.parts)

    def render(self, tag: str, record: dict[str, Any] | None = None) -> str | None:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _lookup(part, tag, record)
            if value is None:
                return None
            out.append(value)
        return "".join(out)


def _lookup(path: tuple[str | int, ...], tag: str, record: dict[str, Any] | None) -> str | None:
    head = path[0]
    if head == _TAG:
        if len(path) == 1:
            return tag
        pieces = tag.split(".")
        index = path[1]
        return pieces[index] if isinstance(index, int) and index < len(pieces) else None
    if head == _UUID:
        return str(uuid.uuid4())
    value: Any = record
    for key in path:
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
        if value is None:
            return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None
