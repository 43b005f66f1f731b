"""Name templates in the AWS Go plugins' ``$(...)`` syntax (``Name cloudwatch``, ``firehose``, ``kinesis``).

``$(kubernetes['namespace_name'])``, ``$(key)``, ``$(tag)``, ``$(tag[n])`` and ``$(uuid)``, as
amazon-cloudwatch-logs-for-fluent-bit's ``parseDataMapTags`` reads them. The key inside is
looked up by the shared record accessor, so ``$(a['b'][0])`` reads what ``$a['b'][0]`` reads in
Fluent Bit's own templates (``flb_fast.record_accessor.Template``, used by the C plugins'
``log_group_template``). A template is parsed once into literal and variable parts; ``render``
returns None when a variable has no value in the record, so the caller falls back to the static
name, as the Go plugin does.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flb_fast.record_accessor import MISSING, KeyAccessor

_SUBKEYS = r"((?:\[(?:'[^']*'|\"[^\"]*\"|\d+)\])*)"
_VARIABLE = re.compile(r"\$\(\s*([A-Za-z_][\w\-]*)" + _SUBKEYS + r"\s*\)")
_SUBKEY = re.compile(r"\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]")


class _TagPart:
    __slots__ = ("index",)

    def __init__(self, index: int | None) -> None:
        self.index = index


class _Uuid:
    __slots__ = ()


_Part = str | KeyAccessor | _TagPart | _Uuid


def _variable(head: str, subkeys: str) -> _Part:
    path: list[str | int] = [int(index) if index else (quoted or double) for quoted, double, index in
                             _SUBKEY.findall(subkeys)]
    if head.lower() == "tag":
        return _TagPart(path[0] if path and isinstance(path[0], int) else None)
    if head.lower() == "uuid":
        return _Uuid()
    return KeyAccessor(head, tuple(path))


class GoTemplate:
    """A parsed ``$(...)`` template."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[_Part] = []
        position = 0
        for match in _VARIABLE.finditer(text):
            if match.start() > position:
                self.parts.append(text[position : match.start()])
            self.parts.append(_variable(match.group(1), match.group(2)))
            position = match.end()
        if position < len(text):
            self.parts.append(text[position:])

    @property
    def is_static(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    @property
    def uses_record(self) -> bool:
        return any(isinstance(part, KeyAccessor) for part in self.parts)

    def render(self, tag: str, record: dict[str, Any] | None = None) -> str | None:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, _Uuid):
                out.append(str(uuid.uuid4()))
            elif isinstance(part, _TagPart):
                if part.index is None:
                    out.append(tag)
                    continue
                pieces = tag.split(".")
                if part.index >= len(pieces):
                    return None
                out.append(pieces[part.index])
            else:
                value = _text(part.get(record) if record is not None else MISSING)
                if value is None:
                    return None
                out.append(value)
        return "".join(out)


def _text(value: Any) -> str | None:
    """The Go plugin prints scalars; a map, array, null or missing key has no name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None
