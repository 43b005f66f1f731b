"""The ``grep`` filter: keep or drop records by regular expressions on their fields (``filter_grep/grep.c``).

Each ``Regex KEY REGEX`` / ``Exclude KEY REGEX`` is one rule, split at the first space: the rest
of the line, spaces included, is the Onigmo regex. ``KEY`` is a record accessor (``$`` is added
when missing), so ``$kubernetes['labels']['app']`` and ``$tags[0]`` reach nested maps and arrays.
Only string values are matched (``flb_ra_key_regex_match``): a number, boolean, null, map or
array never matches, so a ``Regex`` on it drops the record and an ``Exclude`` keeps it.

``Logical_Op legacy`` (the default) goes through the rules in config order and stops at the
first decision (``grep_filter_data``): a ``Regex`` that fails drops the record, an ``Exclude``
that matches drops it, a ``Regex`` that matches keeps it at once, so the rules after it are not
looked at. ``AND`` / ``OR`` combine rules of one kind (``grep_filter_data_and_or``); mixing
``Regex`` and ``Exclude`` with them is a config error, as in Fluent Bit.
"""

from __future__ import annotations

import re
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.parsers.onigmo import compile_onigmo
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.record_accessor import KeyAccessor, Template

LEGACY, AND, OR = "legacy", "and", "or"
# Logical_Op as _core.grep_keep takes it.
_CORE_OPS = {LEGACY: 0, AND: 1, OR: 2}
# The rules over a whole chunk in C (about 3x the Python path on bench_filters); None when the
# extension lacks it, and the Python path (_keep_legacy / _keep_and_or) runs.
_core_keep = core_part("grep_keep")


class _Rule:
    __slots__ = ("exclude", "key", "name", "nested", "search")

    def __init__(self, exclude: bool, key: KeyAccessor | None, regex: re.Pattern[str]) -> None:
        self.exclude = exclude
        self.key = key
        # A top-level key is read with one dict lookup; a nested one through the accessor.
        self.name = key.key if key is not None else None
        self.nested = key is not None and bool(key.subkeys)
        self.search = regex.search


class GrepFilter(Filter):
    name = "grep"
    description = "grep events by specified field values"
    OPTIONS = OptionTable(
        Option("regex", STR, None, "KEY REGEX: keep records whose KEY matches REGEX", multi=True),
        Option("exclude", STR, None, "KEY REGEX: drop records whose KEY matches REGEX", multi=True),
        Option("logical_op", STR, "legacy", "how rules combine: legacy, AND or OR"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        self.logical_op = (options.logical_op or LEGACY).strip().lower()
        if self.logical_op not in (LEGACY, AND, OR):
            # cb_grep_init keeps legacy for any other value.
            self.config_warnings.append(
                ("logical_op", f"unknown Logical_Op '{options.logical_op}': legacy is used (legacy, AND or OR)")
            )
            self.logical_op = LEGACY
        self.rules: list[_Rule] = []
        for entry in options.sequence:
            if entry.field not in ("regex", "exclude"):
                continue
            exclude = entry.field == "exclude"
            if self.logical_op != LEGACY and self.rules and self.rules[0].exclude != exclude:
                raise PluginConfigError(entry.prop.key, "Both 'regex' and 'exclude' are set.", entry.prop)
            field, sep, pattern = entry.value.partition(" ")
            if not sep or not field:
                raise PluginConfigError(
                    entry.prop.key, "invalid regex, expected field and regular expression", entry.prop
                )
            try:
                key = Template(field if field.startswith("$") else "$" + field).first_key
            except ValueError as exc:
                raise PluginConfigError(entry.prop.key, str(exc), entry.prop) from None
            try:
                regex = compile_onigmo(pattern)
            except ValueError as exc:
                raise PluginConfigError(
                    entry.prop.key, f"could not compile regex pattern '{pattern}': {exc}", entry.prop
                ) from None
            self.rules.append(_Rule(exclude, key, regex))
        # The rules as _core.grep_keep takes them, one list per field.
        self._columns = (
            [rule.exclude for rule in self.rules],
            [rule.name for rule in self.rules],
            [rule.key.subkeys if rule.key is not None else () for rule in self.rules],
            [rule.search for rule in self.rules],
            _CORE_OPS[self.logical_op],
        )

    def _hits(self, rule: _Rule, records: list[dict[str, Any]]) -> list[bool]:
        """Whether ``rule`` matches each record: one column at a time, the per-record work kept in comprehensions."""
        if rule.nested:
            get = rule.key.get  # type: ignore[union-attr]
            values = [get(record) for record in records]
        else:
            name = rule.name
            values = [record.get(name) for record in records]  # type: ignore[arg-type]
        search = rule.search
        return [isinstance(value, str) and search(value) is not None for value in values]

    def _keep_legacy(self, records: list[dict[str, Any]]) -> list[bool]:
        """``grep_filter_data``: the first rule that decides a record decides it; none keeps it."""
        keep = [True] * len(records)
        pending = list(range(len(records)))
        for rule in self.rules:
            if not pending:
                break
            hits = self._hits(rule, [records[index] for index in pending])
            undecided = []
            for index, hit in zip(pending, hits, strict=True):
                if hit:
                    keep[index] = not rule.exclude
                elif rule.exclude:
                    undecided.append(index)
                else:
                    keep[index] = False
            pending = undecided
        return keep

    def _keep_and_or(self, records: list[dict[str, Any]]) -> list[bool]:
        """``grep_filter_data_and_or``: AND needs every rule to match, OR one; Exclude rules invert."""
        found = [self.logical_op == AND] * len(records)
        pending = list(range(len(records)))
        for rule in self.rules:
            if not pending:
                break
            hits = self._hits(rule, [records[index] for index in pending])
            undecided = []
            for index, hit in zip(pending, hits, strict=True):
                if hit == (self.logical_op == OR):
                    found[index] = hit
                else:
                    undecided.append(index)
            pending = undecided
        exclude = self.rules[0].exclude
        return [hit != exclude for hit in found]

    def keep(self, records: list[dict[str, Any]]) -> list[bool]:
        """Whether each record stays: in C when ``_core`` has it, else the Python path."""
        if _core_keep is None:
            return self._keep_legacy(records) if self.logical_op == LEGACY else self._keep_and_or(records)
        return _core_keep(records, *self._columns)

    async def filter(self, chunk: Chunk) -> Chunk | None:
        if not self.rules:
            return chunk
        mask = self.keep(chunk.records)
        if not all(mask):
            chunk.keep(mask)
        return chunk
