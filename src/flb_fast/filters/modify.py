"""The ``modify`` filter: rename, add, copy, move and remove top-level keys under conditions (``filter_modify/modify.c``).

Rules run in the order of the section's properties, whatever their kind (``setup`` walks
``f_ins->properties``); in YAML, where a key holds a list, that is key order with each list in
place. ``Condition`` lines are not rules: all of them are checked first, wherever they appear,
and a record that fails one is left untouched.

Each value is split at spaces with quoting as ``flb_utils_split_quoted`` does (``"a b"`` and
``'a b'`` are one word, ``\\"`` and ``\\\\`` escape inside quotes). One word takes ``Remove``,
``Remove_wildcard``, ``Remove_regex``, ``Move_to_start``, ``Move_to_end``; two words take the
others. Three words make any rule a ``Rename`` of the first word to the third, as Fluent Bit
does (a warning says so); more is an error. Fluent Bit also compiles every rule's key and value
as a regex and refuses one that does not compile (``Set msg (``); flb_fast checks only the
regexes it uses (``Remove_regex`` and conditions), since its Python translation of Onigmo is
stricter about escapes (``\\o``) and would refuse values Fluent Bit takes.

Rules compare keys and values as ``modify.c``'s helpers do: keys by exact string;
``Remove_wildcard`` and the ``Move_*`` rules by prefix (a ``*`` in it is a literal character);
regexes match string values and booleans as ``true``/``false``, never numbers. ``Set`` and
``Add`` write string values; ``Copy`` puts the copy right after its source. Conditions read
keys through the record accessor (``$kubernetes['labels']['app']``).

Only top-level keys change, so a map shared between records (the kubernetes filter's pod
metadata) is never written: a copied or renamed key holds the same map, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable, Repeated
from flb_fast.filters.base import Filter
from flb_fast.parsers.onigmo import compile_onigmo
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.record_accessor import MISSING, Template

Record = dict[str, Any]
# Set, Add, Remove and Rename over a chunk in C; None when the extension lacks it, and the
# _Rule._all_* Python loops run.
_core_rule = core_part("modify_rule")
# The rule kinds _core.modify_rule takes.
_CORE_KINDS = {"set": 0, "add": 1, "remove": 2, "rename": 3}
# setup() splits each value into at most this many words (flb_utils_split_quoted(val, ' ', 3)).
MAX_WORDS = 3
ONE_WORD_RULES = ("remove", "remove_wildcard", "remove_regex", "move_to_start", "move_to_end")
TWO_WORD_RULES = ("rename", "hard_rename", "add", "set", "copy", "hard_copy")
CONDITIONS = (
    "key_exists",
    "key_does_not_exist",
    "a_key_matches",
    "no_key_matches",
    "key_value_equals",
    "key_value_does_not_equal",
    "key_value_matches",
    "key_value_does_not_match",
    "matching_keys_have_matching_values",
    "matching_keys_do_not_have_matching_values",
)
_A_IS_REGEX = ("a_key_matches", "no_key_matches", "matching_keys_have_matching_values",
               "matching_keys_do_not_have_matching_values")
_B_IS_REGEX = ("key_value_matches", "key_value_does_not_match", "matching_keys_have_matching_values",
               "matching_keys_do_not_have_matching_values")


def split_quoted(line: str, max_split: int) -> list[str] | None:
    """``flb_utils_split_quoted(line, ' ', max_split)``; None for an unterminated quote."""
    words: list[str] = []
    length = len(line)
    i = 0
    while i < length:
        start = i
        while start < length and line[start] == " ":
            start += 1
        if start >= length or line[start] not in "\"'":
            space = line.find(" ", start)
            stop = space if space > 0 else length
            words.append(line[start:stop])
            i = stop
        else:
            quote = line[start]
            out: list[str] = []
            j = start + 1
            while True:
                if j >= length:
                    return None
                char = line[j]
                if char == "\\" and j + 1 < length and line[j + 1] in (quote, "\\"):
                    out.append(line[j + 1])
                    j += 2
                    continue
                if char == quote:
                    break
                out.append(char)
                j += 1
            words.append("".join(out))
            i = j
        i += 1
        if max_split > 0 and len(words) >= max_split and i < length:
            words.append(line[i:])
            break
    return words


def _regex_text(value: Any) -> str | None:
    """What ``helper_msgpack_object_matches_regex`` matches: strings, and booleans as true/false."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return None


def _matches(regex: re.Pattern[str], value: Any) -> bool:
    text = _regex_text(value)
    return text is not None and regex.search(text) is not None


class _Condition:
    __slots__ = ("holds", "key", "name", "a_regex", "b", "b_regex")

    def __init__(self, kind: str, a: str, b: str | None, a_regex: re.Pattern[str] | None,
                 b_regex: re.Pattern[str] | None) -> None:
        self.key = Template(a).first_key
        # A top-level key is read with one dict lookup; a nested one through the accessor.
        self.name = self.key.key if self.key is not None and not self.key.subkeys else None
        self.a_regex = a_regex
        self.b = b
        self.b_regex = b_regex
        self.holds: Callable[[Record], bool] = getattr(self, "_" + kind)

    def _value(self, record: Record) -> Any:
        if self.name is not None:
            return record.get(self.name, MISSING)
        return self.key.get(record) if self.key is not None else MISSING

    def _key_exists(self, record: Record) -> bool:
        return self._value(record) is not MISSING

    def _key_does_not_exist(self, record: Record) -> bool:
        return self._value(record) is MISSING

    def _a_key_matches(self, record: Record) -> bool:
        regex = self.a_regex
        return any(regex.search(key) for key in record) if regex is not None else False

    def _no_key_matches(self, record: Record) -> bool:
        return not self._a_key_matches(record)

    def _key_value_equals(self, record: Record) -> bool:
        value = self._value(record)
        return isinstance(value, str) and value == (self.b or "")

    def _key_value_does_not_equal(self, record: Record) -> bool:
        return self._key_exists(record) and not self._key_value_equals(record)

    def _key_value_matches(self, record: Record) -> bool:
        return self.b_regex is not None and _matches(self.b_regex, self._value(record))

    def _key_value_does_not_match(self, record: Record) -> bool:
        return self._key_exists(record) and not self._key_value_matches(record)

    def _matching_keys_have_matching_values(self, record: Record) -> bool:
        a_regex, b_regex = self.a_regex, self.b_regex
        if a_regex is None or b_regex is None:
            return False
        return all(_matches(b_regex, value) for key, value in record.items() if a_regex.search(key))

    def _matching_keys_do_not_have_matching_values(self, record: Record) -> bool:
        return not self._matching_keys_have_matching_values(record)


class _Rule:
    """One rule; ``apply`` returns the changed record (maybe a new dict) or None when it does not apply.

    ``apply_all`` runs the rule over the records of a chunk that met the conditions, in place in
    the list: the kinds real configs use most run in ``_core`` (or their loop written out here,
    the reference), the others call ``apply`` per record.
    """

    __slots__ = ("apply", "apply_all", "core_kind", "key", "val", "key_regex")

    def __init__(self, kind: str, key: str, val: str, key_regex: re.Pattern[str] | None) -> None:
        self.key = key
        self.val = val
        self.key_regex = key_regex
        self.apply: Callable[[Record], Record | None] = getattr(self, "_" + kind)
        self.core_kind = _CORE_KINDS.get(kind)
        self.apply_all: Callable[[list[Record], Iterable[int]], None] = (
            self._all_core if _core_rule is not None and self.core_kind is not None
            else getattr(self, "_all_" + kind, self._each)
        )

    def _all_core(self, records: list[Record], selected: Iterable[int]) -> None:
        _core_rule(records, None if isinstance(selected, range) else selected, self.core_kind, self.key, self.val)

    def _each(self, records: list[Record], selected: Iterable[int]) -> None:
        apply = self.apply
        for index in selected:
            changed = apply(records[index])
            if changed is not None:
                records[index] = changed

    def _all_set(self, records: list[Record], selected: Iterable[int]) -> None:
        key, val = self.key, self.val
        for index in selected:
            record = records[index]
            record.pop(key, None)
            record[key] = val

    def _all_add(self, records: list[Record], selected: Iterable[int]) -> None:
        key, val = self.key, self.val
        for index in selected:
            record = records[index]
            if key not in record:
                record[key] = val

    def _all_remove(self, records: list[Record], selected: Iterable[int]) -> None:
        key = self.key
        for index in selected:
            records[index].pop(key, None)

    def _all_rename(self, records: list[Record], selected: Iterable[int]) -> None:
        key, val = self.key, self.val
        for index in selected:
            record = records[index]
            if key in record and val not in record:
                records[index] = {(val if name == key else name): value for name, value in record.items()}

    def _set(self, record: Record) -> Record:
        record.pop(self.key, None)
        record[self.key] = self.val
        return record

    def _add(self, record: Record) -> Record | None:
        if self.key in record:
            return None
        record[self.key] = self.val
        return record

    def _remove(self, record: Record) -> Record | None:
        if self.key not in record:
            return None
        del record[self.key]
        return record

    def _remove_wildcard(self, record: Record) -> Record | None:
        prefix = self.key
        if not any(key.startswith(prefix) for key in record):
            return None
        return {key: value for key, value in record.items() if not key.startswith(prefix)}

    def _remove_regex(self, record: Record) -> Record | None:
        search = self.key_regex.search  # type: ignore[union-attr]
        if not any(search(key) for key in record):
            return None
        return {key: value for key, value in record.items() if not search(key)}

    def _move(self, record: Record, to_start: bool) -> Record | None:
        prefix = self.key
        moved = {key: value for key, value in record.items() if key.startswith(prefix)}
        if not moved:
            return None
        rest = {key: value for key, value in record.items() if not key.startswith(prefix)}
        return {**moved, **rest} if to_start else {**rest, **moved}

    def _move_to_start(self, record: Record) -> Record | None:
        return self._move(record, True)

    def _move_to_end(self, record: Record) -> Record | None:
        return self._move(record, False)

    def _rename(self, record: Record) -> Record | None:
        if self.key not in record or self.val in record:
            return None
        key, val = self.key, self.val
        return {(val if name == key else name): value for name, value in record.items()}

    def _hard_rename(self, record: Record) -> Record | None:
        if self.key not in record:
            return None
        key, val = self.key, self.val
        # apply_rule_HARD_RENAME: the existing target is dropped; renaming a key to itself drops it too.
        return {(val if name == key else name): value for name, value in record.items() if name != val}

    def _copy(self, record: Record) -> Record | None:
        if self.key not in record or self.val in record:
            return None
        return self._with_copy(record)

    def _hard_copy(self, record: Record) -> Record | None:
        # A key hard-copied onto itself: Fluent Bit 4.2.8 packs one entry less than the map
        # size it announces and the record comes out corrupted; here it is left as it is.
        if self.key not in record or self.key == self.val:
            return None
        return self._with_copy(record)

    def _with_copy(self, record: Record) -> Record:
        """Every key but the target, the copy right after its source (``apply_rule_HARD_COPY``)."""
        out: Record = {}
        key, val = self.key, self.val
        for name, value in record.items():
            if name == val:
                continue
            out[name] = value
            if name == key:
                out[val] = value
        return out


class ModifyFilter(Filter):
    name = "modify"
    description = "modify records by applying rules"
    OPTIONS = OptionTable(
        Option("Set", STR, None, "KEY VALUE: add KEY with VALUE, overwriting it if present", multi=True),
        Option("Add", STR, None, "KEY VALUE: add KEY with VALUE if KEY does not exist", multi=True),
        Option("Remove", STR, None, "KEY: remove KEY if it exists", multi=True),
        Option("Remove_wildcard", STR, None, "PREFIX: remove every key starting with PREFIX", multi=True),
        Option("Remove_regex", STR, None, "REGEX: remove every key matching REGEX", multi=True),
        Option("Move_To_Start", STR, None, "PREFIX: move keys starting with PREFIX to the start", multi=True),
        Option("Move_To_End", STR, None, "PREFIX: move keys starting with PREFIX to the end", multi=True),
        Option("Rename", STR, None, "KEY NEW: rename KEY to NEW if KEY exists and NEW does not", multi=True),
        Option("Hard_Rename", STR, None, "KEY NEW: rename KEY to NEW if KEY exists, replacing NEW", multi=True),
        Option("Copy", STR, None, "KEY NEW: copy KEY to NEW if KEY exists and NEW does not", multi=True),
        Option("Hard_copy", STR, None, "KEY NEW: copy KEY to NEW if KEY exists, replacing NEW", multi=True),
        Option(
            "Condition", STR, None,
            "TYPE A [B]: apply the rules only to records meeting every condition: Key_exists, "
            "Key_does_not_exist, A_key_matches, No_key_matches, Key_value_equals, Key_value_does_not_equal, "
            "Key_value_matches, Key_value_does_not_match, Matching_keys_have_matching_values, "
            "Matching_keys_do_not_have_matching_values",
            multi=True,
        ),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        self.conditions: list[_Condition] = []
        self.rules: list[_Rule] = []
        for entry in options.sequence:
            words = split_quoted(entry.value, MAX_WORDS)
            if not words or len(words) > MAX_WORDS:
                raise PluginConfigError(entry.prop.key, f"Invalid config for {entry.prop.key}", entry.prop)
            if entry.field == "condition":
                self.conditions.append(self._condition(entry, words))
            else:
                self.rules.append(self._rule(entry, words))

    @staticmethod
    def _regex(entry: Repeated, pattern: str, what: str) -> re.Pattern[str]:
        try:
            return compile_onigmo(pattern)
        except ValueError as exc:
            raise PluginConfigError(
                entry.prop.key, f"Unable to create regex({what}) from {pattern}: {exc}", entry.prop
            ) from None

    def _condition(self, entry: Repeated, words: list[str]) -> _Condition:
        kind = words[0].lower()
        if kind not in CONDITIONS or len(words) < 2:
            raise PluginConfigError(entry.prop.key, f"Invalid config for {entry.prop.key} : {entry.value}", entry.prop)
        a = words[1]
        b = words[2] if len(words) == MAX_WORDS else None
        a_regex = b_regex = None
        if kind in _A_IS_REGEX:
            if not a:
                raise PluginConfigError(entry.prop.key, f"Unable to create regex for condition {entry.value}",
                                        entry.prop)
            a_regex = self._regex(entry, a, "key")
        if kind in _B_IS_REGEX:
            if not b:
                raise PluginConfigError(entry.prop.key, f"Unable to create regex for condition {entry.value}",
                                        entry.prop)
            b_regex = self._regex(entry, b, "val")
        try:
            return _Condition(kind, a, b, a_regex, b_regex)
        except ValueError as exc:
            raise PluginConfigError(entry.prop.key, str(exc), entry.prop) from None

    def _rule(self, entry: Repeated, words: list[str]) -> _Rule:
        kind = entry.field
        if len(words) == MAX_WORDS:
            # setup() leaves such a rule's type at 0, which is RENAME, with the first and last words.
            self.config_warnings.append((
                entry.prop.key,
                f"'{entry.prop.key} {entry.value}' has three words: it renames '{words[0]}' to '{words[2]}', "
                "as Fluent Bit does; quote a value that holds spaces",
            ))
            kind = "rename"
        elif kind not in (ONE_WORD_RULES if len(words) == 1 else TWO_WORD_RULES):
            raise PluginConfigError(
                entry.prop.key, f"Invalid operation {entry.prop.key} : {entry.value} in configuration", entry.prop
            )
        key, val = words[0], words[-1]
        return _Rule(kind, key, val, self._regex(entry, key, "key") if kind == "remove_regex" else None)

    def _selected(self, records: list[Record]) -> Iterable[int]:
        """The positions of the records that meet every condition."""
        selected: Iterable[int] = range(len(records))
        for condition in self.conditions:
            holds = condition.holds
            selected = [index for index in selected if holds(records[index])]
        return selected

    async def filter(self, chunk: Chunk) -> Chunk | None:
        # Rule by rule over the chunk: each record still sees the rules in their order.
        if self.rules:
            records = chunk.records
            selected = self._selected(records)
            for rule in self.rules:
                rule.apply_all(records, selected)
        return chunk
