"""The ``rewrite_tag`` filter: re-emit records under a tag built from their content (plugins/filter_rewrite_tag).

Each ``Rule $key regex new_tag keep`` is tried in config order on every record; the first whose
regex finds a match in the key's value (a string; numbers, maps and missing keys never match)
wins. Its ``new_tag`` is a record-accessor template: ``$TAG``, ``$TAG[n]``, record keys and the
match's ``$0`` (whole match) .. ``$9`` (groups); a missing key adds nothing (``flb_ra_translate``).
The record is re-emitted under that tag through the filter's emitter input (``emitter_for_<filter>``
unless ``Emitter_Name`` says otherwise), so it goes through every filter matching the new tag,
from the first, and is routed by it; ``keep`` (true, on or yes) also keeps the original in the
chunk. A record no rule matches stays as it is. In an input's YAML ``processors`` list the
records go back into that input after this processor instead (``ingest_inline``).

As Fluent Bit's ``flb_slist`` reads a rule, it is split on spaces into at most four fields
(double quotes group a field), the last taking the rest of the line.

A rule that re-emits into its own ``Match`` would loop forever in Fluent Bit 4.2.8; as Fluent Bit
5.1 does (``in_emitter_add_record``: "emitter cycle detected"), records that came from this
filter's own emitter are not emitted again: they stay in the chunk with their tag, and the cycle
is logged once.
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import Struct

from flb_fast.config.common import EMITTER_OPTIONS
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import STR, Option, OptionTable
from flb_fast.filters.base import Filter
from flb_fast.parsers.onigmo import compile_onigmo
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.record_accessor import KeyAccessor, Template

# FLB_CONFIG_MAP_SLIST_4: a rule has four fields, the last one taking the rest of the text.
RULE_FIELDS = 4
# flb_regex results: $0 (the whole match) to $9.
MAX_GROUPS = 10
# flb_utils_bool: only these spell true; any other keep value means false.
TRUE_WORDS = ("true", "on", "yes")

_FIELD = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def split_rule(text: str) -> list[str]:
    """``flb_slist_split_tokens(list, text, 4)``: up to three fields, then the rest of the text."""
    fields: list[str] = []
    position = 0
    while len(fields) < RULE_FIELDS - 1:
        match = _FIELD.match(text, position)
        if match is None:
            return fields
        quoted, bare = match.groups()
        fields.append(quoted.replace('\\"', '"') if quoted is not None else bare)
        position = match.end()
    rest = text[position:].strip()
    if len(rest) >= 2 and rest[0] == rest[-1] == '"':
        rest = rest[1:-1]
    if rest:
        fields.append(rest)
    return fields


class Rule(Struct, frozen=True):
    key: KeyAccessor
    regex: re.Pattern[str]
    tag: Template
    keep: bool


def _copy(value: Any) -> Any:
    """A copy sharing no map or list with ``value``: the kept record and the re-emitted one go
    through different filters, as two separate records do in Fluent Bit."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


class RewriteTagFilter(Filter):
    name = "rewrite_tag"
    description = "Rewrite records tags"
    OPTIONS = OptionTable(
        Option("rule", STR, None, "$key regex new_tag keep: re-emit records whose key matches under new_tag",
               multi=True),
    ) + EMITTER_OPTIONS

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        self.config_warnings: list[tuple[str, str]] = []
        self.rules = [self._rule(text) for text in options.rule]
        if not self.rules:
            raise PluginConfigError("rule", "at least one 'Rule' ($key regex new_tag keep) is required")
        # A processor unit matches everything, as a filter with 'Match *' does.
        if ctx.kind == "processor" or (options.match and not options.match.strip("*")):
            ctx.log.warning("'Match' may cause infinite loop.")
        self._cycle_reported = False
        self.ctx.metrics.setdefault("emit_records", 0)

    def _rule(self, text: str) -> Rule:
        fields = split_rule(text)
        if len(fields) < RULE_FIELDS:
            raise PluginConfigError("rule", f"invalid rule '{text}': expected $key regex new_tag keep")
        key_text, pattern, tag_text, keep_text = fields
        try:
            key = Template(key_text).first_key
        except ValueError as exc:
            raise PluginConfigError("rule", f"invalid record accessor key '{key_text}': {exc}") from None
        if key is None:
            raise PluginConfigError("rule", f"invalid record accessor key '{key_text}'")
        try:
            regex = compile_onigmo(pattern)
        except ValueError as exc:
            raise PluginConfigError("rule", f"could not compile regex pattern '{pattern}': {exc}") from None
        try:
            tag = Template(tag_text)
        except ValueError as exc:
            raise PluginConfigError("rule", f"could not compose tag: {tag_text}: {exc}") from None
        keep = keep_text.strip().lower() in TRUE_WORDS
        if not keep and keep_text.strip().lower() not in ("false", "off", "no"):
            self.config_warnings.append(("rule", f"keep '{keep_text}' is not true, on or yes: the original record "
                                                 "is not kept (as in Fluent Bit)"))
        return Rule(key, regex, tag, keep)

    @property
    def uses_emitter(self) -> bool:
        return True

    def _match(self, record: dict[str, Any]) -> tuple[Rule, re.Match[str]] | None:
        for rule in self.rules:
            value = rule.key.get(record)
            if isinstance(value, str):
                found = rule.regex.search(value)
                if found is not None:
                    return rule, found
        return None

    async def filter(self, chunk: Chunk) -> Chunk | None:
        assert self.emitter is not None
        if chunk.input_name == self.emitter.instance_name:
            self._report_cycle(chunk)
            return chunk
        emitted: dict[str, tuple[list[int], list[dict[str, Any]]]] = {}
        keep: list[bool] = []
        for timestamp, record in zip(chunk.timestamps, chunk.records, strict=True):
            matched = self._match(record)
            if matched is None:
                keep.append(True)
                continue
            rule, found = matched
            groups = [found.group(index) for index in range(min(found.re.groups + 1, MAX_GROUPS))]
            tag = rule.tag.render(chunk.tag, record, groups, check=False) or ""
            timestamps, records = emitted.setdefault(tag, ([], []))
            timestamps.append(timestamp)
            records.append(_copy(record) if rule.keep else record)
            keep.append(rule.keep)
        if not emitted:
            return chunk
        for tag, (timestamps, records) in emitted.items():
            self.emitter.add(tag, timestamps, records, chunk.input_name)
            self.ctx.metrics.inc("emit_records", len(records))
        if all(keep):
            return chunk
        chunk.keep(keep)
        return chunk if len(chunk) else None

    def _report_cycle(self, chunk: Chunk) -> None:
        if self._cycle_reported or not any(self._match(record) for record in chunk.records):
            return
        self._cycle_reported = True
        self.ctx.log.error("emitter cycle detected: the filter attached to this emitter matches the records it "
                           "emits (tag=%s), the emission is rejected. Adjust the filter 'Match' or its rules so "
                           "emitted records are not processed again", chunk.tag)
