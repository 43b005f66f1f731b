"""The ``record_modifier`` filter: append fixed fields, drop or keep keys, add a UUID (``filter_record_modifier``).

``Remove_key`` drops, and ``Allowlist_key`` (or its old name ``Whitelist_key``) keeps only, the
top-level keys it names: compared without regard to case, a trailing ``*`` making the rest a
prefix (``make_bool_map``). The two are exclusive. Then each ``Record KEY VALUE`` is appended in
order, and last ``Uuid_key`` gets a new random UUID. Fluent Bit appends them to its map even when
the key is there already; its JSON writer then sends only the later one, at its place (flb_pack.c
``msgpack2json``), which is the record here: a key of exactly that name is removed first.

``Record`` is a list of words as Fluent Bit's config map reads it (``"a b"`` is one word): fewer
than two is a config error, more than two is skipped with a warning, as Fluent Bit logs and
skips it.
Only top-level keys change, so maps shared between records are never written.

A record left with no key at all is dropped (``cb_modifier_filter`` skips it: nothing to
encode), unless every record of the batch is: then Fluent Bit's encoder has written nothing,
the filter answers "not touched" and the whole batch passes unchanged. A batch is what the
input emitted at once (for tail, one read).
"""

from __future__ import annotations

import uuid
from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import SLIST, STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

Record = dict[str, Any]


class _KeySet:
    """Keys named by ``Remove_key`` / ``Allowlist_key``: exact or (trailing ``*``) prefix, any case."""

    def __init__(self, names: list[str]) -> None:
        self.exact = {name.lower() for name in names if not name.endswith("*")}
        self.prefixes = tuple(name[:-1].lower() for name in names if name.endswith("*"))

    def __contains__(self, key: str) -> bool:
        lowered = key.lower()
        return lowered in self.exact or lowered.startswith(self.prefixes)


class RecordModifierFilter(Filter):
    name = "record_modifier"
    description = "modify record"
    OPTIONS = OptionTable(
        Option("record", SLIST, None, "KEY VALUE: append this field to every record", multi=True),
        Option("remove_key", STR, None, "remove this key (a trailing * matches a prefix)", multi=True),
        Option("allowlist_key", STR, None, "keep only the keys named (a trailing * matches a prefix)", multi=True),
        Option("whitelist_key", STR, None, "alias of allowlist_key", multi=True),
        Option("uuid_key", STR, None, "add a random UUID under this key to every record"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        allow = options.allowlist_key + options.whitelist_key
        if options.remove_key and allow:
            raise PluginConfigError("remove_key", "remove_keys and allowlist_keys are exclusive with each other.")
        self.remove = _KeySet(options.remove_key) if options.remove_key else None
        self.allow = _KeySet(allow) if allow else None
        self.fields: dict[str, str] = {}
        for words in options.record:
            if len(words) < 2:
                # The config map's "minimum 2" check stops Fluent Bit at start-up.
                raise PluginConfigError("record", f"property 'record' expects 2 values (only {len(words)} were found)")
            if len(words) > 2:
                self.config_warnings.append(
                    ("record", f"invalid record parameters, expects 'KEY VALUE' (quote a value with spaces): "
                               f"{' '.join(words)!r} is skipped")
                )
                continue
            self.fields.pop(words[0], None)
            self.fields[words[0]] = words[1]
        self.uuid_key: str | None = options.uuid_key

    def _modify(self, record: Record) -> Record:
        if self.remove is not None:
            remove = self.remove
            record = {key: value for key, value in record.items() if key not in remove}
        elif self.allow is not None:
            allow = self.allow
            record = {key: value for key, value in record.items() if key in allow}
        for key, value in self.fields.items():
            record.pop(key, None)
            record[key] = value
        if self.uuid_key is not None:
            record.pop(self.uuid_key, None)
            record[self.uuid_key] = str(uuid.uuid4())
        return record

    async def filter(self, chunk: Chunk) -> Chunk | None:
        modified = [self._modify(record) for record in chunk.records]
        kept = [bool(record) for record in modified]
        if not any(kept):
            return chunk
        chunk.records = modified
        if not all(kept):
            chunk.keep(kept)
        return chunk
