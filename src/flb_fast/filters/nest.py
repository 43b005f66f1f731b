"""The ``nest`` filter: move top-level keys under a new map, or lift a map's keys to the top (``filter_nest/nest.c``).

``Operation nest`` takes every top-level key a ``Wildcard`` names (a trailing ``*`` makes it a
prefix, otherwise the key itself), keeps the other keys in order and appends ``Nest_under``
holding the taken keys (``apply_nesting_rules``). ``Operation lift`` replaces each top-level
``Nested_under`` key whose value is a map by that map's entries, appended after the other keys
(``apply_lifting_rules``); a value that is not a map is left in place. ``Add_prefix`` /
``Remove_prefix`` rename the keys moved either way.

A record cannot hold a key twice, while Fluent Bit's msgpack map can: where Fluent Bit writes a
duplicate (a lifted key already at the top, ``Nest_under`` naming a key that stays, two keys
that one prefix removed makes the same), the later entry is kept at its own place and the
earlier one dropped, as Fluent Bit's JSON writer sends such a map to every output (flb_pack.c
``msgpack2json`` skips a key that appears again further on).

The maps moved are never changed in place: lifting ``kubernetes`` reads the pod's shared
metadata map and builds a new record around its entries.
"""

from __future__ import annotations

from typing import Any

from flb_fast.compiled import core_part
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

Record = dict[str, Any]
NEST, LIFT = "nest", "lift"
# Lift over a chunk in C; None when the extension lacks it, and _lift_all's Python loop runs.
_core_lift = core_part("nest_lift")


class NestFilter(Filter):
    name = "nest"
    description = "nest events by specified field values"
    OPTIONS = OptionTable(
        Option("Operation", STR, None, "nest or lift"),
        Option("Wildcard", STR, None, "key to nest; a trailing * matches keys starting with the rest", multi=True),
        Option("Nest_under", STR, None, "key of the new map holding the nested keys (nest)"),
        Option("Nested_under", STR, None, "key of the map whose entries are lifted (lift)"),
        Option("Add_prefix", STR, None, "prefix added to the keys nested or lifted"),
        Option("Remove_prefix", STR, None, "prefix removed from the keys nested or lifted that start with it"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        operation = options.operation or ""
        # configure() compares the first four characters, case-sensitively.
        if operation[:4] not in (NEST, LIFT):
            raise PluginConfigError("operation", f"Key \"operation\" has invalid value '{operation}'. "
                                                 "Expected 'nest' or 'lift'")
        self.operation = operation[:4]
        if options.add_prefix is not None and options.remove_prefix is not None:
            raise PluginConfigError("remove_prefix", "Add_prefix and Remove_prefix are exclusive")
        self.add_prefix: str = options.add_prefix or ""
        self.remove_prefix: str = options.remove_prefix or ""
        # Fluent Bit keeps one key for both options; each operation reads its own, else the other.
        first, second = (options.nest_under, options.nested_under) if self.operation == NEST else (
            options.nested_under, options.nest_under)
        self.key: str | None = first if first is not None else second
        self.config_warnings: list[tuple[str, str]] = []
        if self.key is None:
            # Fluent Bit starts and passes every record unchanged.
            wanted = "Nest_under" if self.operation == NEST else "Nested_under"
            self.config_warnings.append(
                ("operation", f"no '{wanted}' for Operation {self.operation}: records pass unchanged")
            )
        self.exact: set[str] = set()
        self.prefixes: tuple[str, ...] = ()
        for wildcard in options.wildcard:
            if wildcard.endswith("*"):
                self.prefixes += (wildcard[:-1],)
            else:
                self.exact.add(wildcard)

    def _rename(self, key: str) -> str:
        if self.add_prefix:
            return self.add_prefix + key
        if self.remove_prefix and key.startswith(self.remove_prefix):
            return key[len(self.remove_prefix):]
        return key

    def _nested(self, key: str) -> bool:
        return key in self.exact or key.startswith(self.prefixes)

    def _nest(self, record: Record) -> Record:
        taken = {key: value for key, value in record.items() if self._nested(key)}
        if not taken:
            return record
        out = {key: value for key, value in record.items() if key not in taken}
        key = str(self.key)
        out.pop(key, None)
        out[key] = self._renamed(taken)
        return out

    def _renamed(self, entries: Record) -> Record:
        """``entries`` renamed by ``Add_prefix`` / ``Remove_prefix``; of two that end up with one
        name, the later is kept, at its own place."""
        if self.add_prefix:
            prefix = self.add_prefix
            return {prefix + key: value for key, value in entries.items()}
        if not self.remove_prefix:
            return entries
        out: Record = {}
        for key, value in entries.items():
            name = self._rename(key)
            out.pop(name, None)
            out[name] = value
        return out

    def _lift_all(self, records: list[Record]) -> None:
        """Lift in place, record by record. The lifted map is shared (the pod's metadata) and only
        read: its renamed entries are built once per map and chunk, not once per record."""
        if _core_lift is not None:
            _core_lift(records, self.key, self.add_prefix, self.remove_prefix)
            return
        key = self.key
        renamed = bool(self.add_prefix or self.remove_prefix)
        # id(map) -> (map, its renamed entries); holding the map keeps its id from being reused.
        seen: dict[int, tuple[Record, Record]] = {}
        for record in records:
            inner = record.get(key)  # type: ignore[arg-type]
            if not isinstance(inner, dict):
                continue
            del record[key]  # type: ignore[arg-type]
            if renamed:
                entry = seen.get(id(inner))
                if entry is None:
                    entry = seen[id(inner)] = (inner, self._renamed(inner))
                inner = entry[1]
            for name in inner:
                if name in record:
                    del record[name]
            record.update(inner)

    async def filter(self, chunk: Chunk) -> Chunk | None:
        if self.key is None or (self.operation == NEST and not (self.exact or self.prefixes)):
            return chunk
        if self.operation == NEST:
            chunk.records = [self._nest(record) for record in chunk.records]
        else:
            self._lift_all(chunk.records)
        return chunk
