"""Journal entry fields -> one record, and the record's tag, as plugins/in_systemd/systemd.c builds them.

``systemd_enumerate_data_store``: each ``FIELD=value`` of the entry becomes a string member;
``Strip_Underscores`` drops one leading ``_`` and then ``Lowercase`` lowercases the key; a key
seen again turns into an array of its values, moved to where its second value appeared; at most
``Max_Fields`` values are taken. ``tag_compose``: a ``*`` in the tag is replaced by the entry's
``_SYSTEMD_UNIT``, or by ``unknown``.

One difference: the journal bindings hand over a field repeated under the same name as one list
at its first place, so such an array stays where its first value was, where Fluent Bit moves it to
its second value's place. Values, types and every other key's place are the same.
"""

from __future__ import annotations

from typing import Any

SYSTEMD_UNIT = "_SYSTEMD_UNIT"
UNKNOWN_UNIT = "unknown"


class RecordShaper:
    """Builds records from the binding's field dicts (``str`` values, a ``list`` for a repeated field)."""

    def __init__(self, strip_underscores: bool, lowercase: bool, max_fields: int) -> None:
        self.strip_underscores = strip_underscores
        self.lowercase = lowercase
        self.max_fields = max_fields
        self.keys_unchanged = not strip_underscores and not lowercase

    def record(self, fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """The record and the bytes of journal data behind it (``FIELD=value`` lengths).

        The common case (keys kept as they are, no repeated field, under ``Max_Fields``) takes
        the binding's dict, made fresh for each entry, as the record.
        """
        if self.keys_unchanged and len(fields) <= self.max_fields:
            values = fields.values()
            if list not in map(type, values):
                return fields, sum(map(len, fields)) + sum(map(len, values)) + len(fields)
        record: dict[str, Any] = {}
        taken = 0
        size = 0
        limit = self.max_fields
        for raw_key, raw_value in fields.items():
            key = raw_key[1:] if self.strip_underscores and raw_key[:1] == "_" else raw_key
            if self.lowercase:
                key = key.lower()
            for value in raw_value if isinstance(raw_value, list) else (raw_value,):
                if taken >= limit:
                    return record, size
                size += len(raw_key) + len(value) + 1
                taken += 1
                seen = record.get(key)
                if seen is None:
                    record[key] = value
                elif isinstance(seen, list):
                    seen.append(value)
                else:
                    del record[key]
                    record[key] = [seen, value]
        return record, size


class TagComposer:
    """The tag of an entry: fixed, or with ``*`` replaced by its systemd unit."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.prefix, star, self.suffix = tag.partition("*")
        self.dynamic = bool(star)

    def tag_for(self, fields: dict[str, Any]) -> str:
        if not self.dynamic:
            return self.tag
        unit = fields.get(SYSTEMD_UNIT)
        if isinstance(unit, list):
            unit = unit[0]
        return f"{self.prefix}{unit if unit is not None else UNKNOWN_UNIT}{self.suffix}"
