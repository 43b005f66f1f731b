"""Journal entry fields -> one record, and the record's tag, as plugins/in_systemd/systemd.c builds them.

The Python reference of the compiled reader (_core/journal.pxi ``journal_record`` and
``Journal.read``), checked against it by tests/inputs/systemd/test_records.py.

``systemd_enumerate_data_store``: each ``FIELD=value`` data of the entry, in the journal's order,
becomes a string member; ``Strip_Underscores`` drops one leading ``_`` and then ``Lowercase``
lowercases the key (``tolower``: ASCII letters only); a key seen again turns into an array of its
values, moved to where its second value appeared (``cfl_kvlist_remove`` then an insert at the
end), later values appended to it in place; at most ``Max_Fields`` values are taken; a data with
no ``=`` is left out and counted ("Skip %d broken entries"). Keys and values are decoded as UTF-8
with invalid bytes as Fluent Bit's JSON outputs write them (flb_fast/text.py). ``tag_compose``: a
``*`` in the tag is replaced by the entry's first ``_SYSTEMD_UNIT`` value, or by ``unknown``.

Fluent Bit looks keys up ignoring case (``cfl_kvlist_fetch_s``); journal field names are
upper-case ASCII (journald refuses others), and all lower-case with ``Lowercase``, so an exact
lookup finds the same key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flb_fast.text import decode

UNKNOWN_UNIT = "unknown"


class RecordShaper:
    """Builds records from an entry's raw ``FIELD=value`` datas."""

    def __init__(self, strip_underscores: bool, lowercase: bool, max_fields: int) -> None:
        self.strip_underscores = strip_underscores
        self.lowercase = lowercase
        self.max_fields = max_fields

    def record(self, datas: Iterable[bytes]) -> tuple[dict[str, Any], int, int]:
        """The record, the bytes of journal data taken into it, and the datas left out for having no ``=``."""
        record: dict[str, Any] = {}
        taken = size = broken = 0
        for data in datas:
            if taken >= self.max_fields:
                break
            field = data[1:] if self.strip_underscores and data[:1] == b"_" else data
            raw_key, sep, raw_value = field.partition(b"=")
            if not sep:
                broken += 1
                continue
            key = decode(raw_key.lower() if self.lowercase else raw_key)
            value = decode(raw_value)
            taken += 1
            size += len(data)
            seen = record.get(key)
            if seen is None:
                record[key] = value
            elif isinstance(seen, list):
                seen.append(value)
            else:
                del record[key]
                record[key] = [seen, value]
        return record, size, broken


class TagComposer:
    """The tag of an entry: fixed, or with ``*`` replaced by its systemd unit."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.prefix, star, self.suffix = tag.partition("*")
        self.dynamic = bool(star)

    def tag_for(self, unit: bytes | None) -> str:
        """The tag of an entry whose first ``_SYSTEMD_UNIT`` value is ``unit`` (None: it has none)."""
        if not self.dynamic:
            return self.tag
        return f"{self.prefix}{decode(unit) if unit is not None else UNKNOWN_UNIT}{self.suffix}"
