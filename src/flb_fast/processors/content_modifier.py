"""The ``content_modifier`` processor: one action on one top-level key of every record
(plugins/processor_content_modifier: cm_config.c, cm_logs.c, cm_utils.c).

Actions, as Fluent Bit 4.2.8 applies them (recorded in tests/data/processors/content_modifier):

- ``insert``: add ``key: value`` at the end, unless the key exists;
- ``upsert``: remove the key if present, then add ``key: value`` at the end;
- ``delete``: remove the key;
- ``rename``: the key takes the name ``value`` in place (a later key of that name keeps its value);
- ``hash``: the value becomes the hex SHA-256 of its text (an empty text stays as it is);
- ``extract``: the named groups of ``pattern`` found in the key's string become keys (replacing
  keys of the same name, added at the end);
- ``convert``: the value, converted to ``converted_type`` (string, boolean, int, double) with
  ``cm_utils_variant_convert``'s rules, is moved to the end.

``hash``, ``extract`` and ``convert`` fail on a record without the key or with a value they cannot
handle (a map or an array; an int that does not parse; no match): as in Fluent Bit the whole
chunk then passes unchanged, with a warning. The ``metadata``/``attributes`` and OpenTelemetry
contexts name parts of a record that flb_fast does not carry: the action has nothing to act on.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.parsers.onigmo import compile_onigmo
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

ACTIONS = ("insert", "upsert", "delete", "rename", "hash", "extract", "convert")
CONVERTED_TYPES = ("string", "boolean", "int", "double")
BODY_CONTEXTS = ("body", "message", "record")
# set_context, FLB_PROCESSOR_LOGS: the contexts that exist for logs besides the body.
OTHER_LOG_CONTEXTS = ("metadata", "attributes", "otel_resource_attributes", "otel_scope_name", "otel_scope_version",
                      "otel_scope_attributes")
NEEDS_VALUE = ("insert", "upsert", "rename")
# cm_utils_variant_convert: text converted to int must fit a C int (negative) or unsigned int.
INT_MIN, INT_MAX, UINT_MAX = -(2**31), 2**31 - 1, 2**32 - 1
UINT64_MAX = 2**64 - 1

_C_SPACE = " \t\n\v\f\r"
_C_INTEGER = re.compile(r"([+-]?)(\d+)")
_C_DOUBLE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE)


class Failed(Exception):
    """A record the action cannot be applied to (Fluent Bit: FLB_PROCESSOR_FAILURE)."""


def _text_to_int(text: str) -> int:
    """``strtoimax``/``strtoumax`` over the whole text, then the C int / unsigned int range."""
    stripped = text.lstrip(_C_SPACE)
    match = _C_INTEGER.fullmatch(stripped)
    if text.startswith("-"):
        if match is None or not INT_MIN <= int(stripped) <= INT_MAX:
            raise Failed
        return int(stripped)
    if not text:
        return 0
    if match is None:
        raise Failed
    value = int(match.group(2))
    if value > UINT64_MAX:
        raise Failed
    if match.group(1) == "-":  # strtoumax wraps a negative number around
        value = (UINT64_MAX + 1 - value) % (UINT64_MAX + 1)
    if value > UINT_MAX:
        raise Failed
    return value


def _text_to_double(text: str) -> float:
    """``strtod``: the longest number at the start (0.0 when none); an overflow fails."""
    match = _C_DOUBLE.match(text.lstrip(_C_SPACE))
    if match is None:
        return 0.0
    value = float(match.group())
    if math.isinf(value) and "inf" not in match.group().lower():
        raise Failed
    return value


def _c_round(value: float) -> int:
    """C ``round``: halfway cases away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def convert(value: Any, to: str) -> Any:
    """``cm_utils_variant_convert``; ``Failed`` for maps, arrays and text that is not an int."""
    if isinstance(value, (dict, list)):
        raise Failed
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if to == "string":
            return value
        if to == "boolean":
            return value.lower() == "true"
        return _text_to_int(value) if to == "int" else _text_to_double(value)
    if value is None:
        return {"string": "null", "boolean": False, "int": 0, "double": 0.0}[to]
    if isinstance(value, bool):
        return {"string": "true" if value else "false", "boolean": value, "int": int(value),
                "double": float(value)}[to]
    if isinstance(value, int):
        return {"string": str(value), "boolean": value != 0, "int": value, "double": float(value)}[to]
    if to == "string":
        return f"{value:.17g}"
    return {"boolean": value != 0, "int": _c_round(value), "double": value}[to]


def hash_value(value: Any) -> Any:
    """``cm_utils_hash_transformer``: the hex SHA-256 of the value's text; empty text is kept."""
    text = convert(value, "string")
    if not text:
        return value
    return hashlib.sha256(text.encode()).hexdigest()


class ContentModifierProcessor(Filter):
    """A processor runs in an input's or an output's ``processors.logs`` list; it shares the
    filter protocol (a whole chunk per call) so that filters can stand in the same lists."""

    name = "content_modifier"
    description = "Modify the content of Logs"
    OPTIONS = OptionTable(
        Option("context", STR, None, "where the action applies: body (default), metadata, attributes, otel_*"),
        Option("action", STR, None, "insert, upsert, delete, rename, hash, extract or convert"),
        Option("key", STR, None, "key to apply the action to"),
        Option("value", STR, None, "value for insert and upsert; the new name for rename"),
        Option("pattern", STR, None, "regular expression with named groups, for extract"),
        Option("converted_type", STR, None, "type to convert to: string, boolean, int or double"),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        if not options.action:
            raise PluginConfigError("action", "no 'action' defined")
        self.action = options.action.strip().lower()
        if self.action not in ACTIONS:
            raise PluginConfigError("action", f"unknown action '{options.action}'")
        context = (options.context or "body").strip().lower()
        self.applies = context in BODY_CONTEXTS
        if not self.applies:
            if context not in OTHER_LOG_CONTEXTS:
                raise PluginConfigError("context", f"unknown logs context '{options.context}'")
            self.config_warnings.append(("context", f"context '{options.context}' is not carried by flb_fast "
                                                    "records: the action changes nothing"))
        self.regex: re.Pattern[str] | None = None
        if options.pattern:
            try:
                self.regex = compile_onigmo(options.pattern)
            except ValueError as exc:
                raise PluginConfigError("pattern", f"invalid regex pattern '{options.pattern}': {exc}") from None
        if not options.key:
            raise PluginConfigError("key", f"key is required for action '{self.action}'")
        self.key: str = options.key
        if self.action in NEEDS_VALUE and options.value is None:
            raise PluginConfigError("value", f"value is required for action '{self.action}'")
        self.value: str = options.value or ""
        if self.action == "extract" and self.regex is None:
            raise PluginConfigError("pattern", "for 'extract' action, a regular expression in 'pattern' is required")
        self.converted_type = ""
        if self.action == "convert":
            if not options.converted_type:
                raise PluginConfigError("converted_type", f"converted_type is required for action '{self.action}'")
            self.converted_type = options.converted_type.strip().lower()
            if self.converted_type not in CONVERTED_TYPES:
                raise PluginConfigError("converted_type", f"unsupported converted_type '{options.converted_type}'")
        self._apply: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, f"_{self.action}")

    async def filter(self, chunk: Chunk) -> Chunk | None:
        if not self.applies:
            return chunk
        records = chunk.records
        try:
            changed = [self._apply(record) for record in records]
        except Failed:
            self.ctx.log.warning("failed to process chunk")
            return chunk
        chunk.records = changed
        return chunk

    # Each action returns the record to keep: a new dict, so that a failure later in the chunk
    # leaves every record as it was.

    def _insert(self, record: dict[str, Any]) -> dict[str, Any]:
        return record if self.key in record else {**record, self.key: self.value}

    def _upsert(self, record: dict[str, Any]) -> dict[str, Any]:
        updated = {key: value for key, value in record.items() if key != self.key}
        updated[self.key] = self.value
        return updated

    def _delete(self, record: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in record.items() if key != self.key} if self.key in record else record

    def _rename(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.key not in record:
            return record
        renamed: dict[str, Any] = {}
        for key, value in record.items():
            renamed[self.value if key == self.key else key] = value
        return renamed

    def _hash(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.key not in record:
            return record
        return {**record, self.key: hash_value(record[self.key])}

    def _extract(self, record: dict[str, Any]) -> dict[str, Any]:
        assert self.regex is not None
        text = record.get(self.key)
        if not isinstance(text, str):
            raise Failed
        found = self.regex.search(text)
        if found is None:
            raise Failed
        captured = {name: value for name, value in found.groupdict().items() if value is not None}
        extracted = {key: value for key, value in record.items() if key not in captured}
        extracted.update(captured)
        return extracted

    def _convert(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.key not in record:
            raise Failed
        converted = {key: value for key, value in record.items() if key != self.key}
        converted[self.key] = convert(record[self.key], self.converted_type)
        return converted
