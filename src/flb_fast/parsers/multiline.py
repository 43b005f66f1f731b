"""Multiline parsers: ``[MULTILINE_PARSER]`` sections, the built-in go, java, python and ruby, and
the engine that joins lines into records, shared by tail's ``multiline.parser`` and the
``multiline`` filter.

Rules follow Fluent Bit's state machine (``src/multiline/flb_ml_rule.c``): a line that matches a
``start_state`` rule opens a group (flushing the previous one); a line that matches a rule
reachable from the last matched rule (start rules excepted) is appended to it, joined with
``\\n``; a rule whose next state is a start state closes the group at once. Which parser gets a
line, and what happens to a line no parser claims, follow ``flb_ml_append_text`` (see
``Multiline``). A group gets the time and the other fields of its first record; ``key_content``
holds the joined text. Groups idle for ``flush_timeout`` milliseconds are flushed by
``Multiline.flush_expired``.

Engine API (one ``Multiline`` per input instance or filter instance)::

    ml = Multiline([registry.get_multiline("java")], default_key="log")
    out = ml.feed(stream_id, timestamp_ns, record)        # completed (ts, record) pairs, in order
    out += ml.flush_expired(time.monotonic())              # call on a timer
    out += ml.flush_all()                                  # shutdown, file close
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Sequence
from typing import Any

from msgspec import Struct, field

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Section
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.log import component_logger
from flb_fast.parsers.base import Parser, ParserRegistry
from flb_fast.parsers.multiline_defaults import BUFFER_LIMIT_CHARS, BUILTIN_RULES
from flb_fast.parsers.onigmo import compile_onigmo

# FLB_ML_FLUSH_TIMEOUT, include/fluent-bit/multiline/flb_ml.h
FLUSH_TIMEOUT_MS = 4000
TYPES = ("regex", "endswith", "equal")

MULTILINE_PARSER_OPTIONS = OptionTable(
    Option("name", STR, None, "name tail's multiline.parser and the multiline filter refer to"),
    Option("type", STR, None, "regex, endswith or equal"),
    Option("parser", STR, None, "parser applied to each line before the rules"),
    Option("key_content", STR, None, "field holding the text the rules match (default: the whole line)"),
    Option("key_pattern", STR, None, "field compared with match_string (type equal)"),
    Option("key_group", STR, None, "field whose value separates groups within a stream"),
    Option("match_string", STR, None, "text that ends (endswith) or equals (equal) a partial line"),
    Option("negate", BOOL, "off", "invert match_string"),
    Option("flush_timeout", INT, str(FLUSH_TIMEOUT_MS), "milliseconds before an idle group is flushed"),
    Option("rule", STR, None, '"<from states>" "<regex>" "<next state>"', multi=True),
)

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


class Rule(Struct, eq=False):
    from_states: tuple[str, ...]
    regex: re.Pattern[str]
    to_state: str | None
    next_rules: list[Rule] = field(default_factory=list)

    @property
    def start(self) -> bool:
        return "start_state" in self.from_states

    @property
    def closes_group(self) -> bool:
        """Its next state is a start state: the group ends with this line (``try_flushing_buffer``)."""
        return any(rule.start for rule in self.next_rules)


def link_rules(rules: list[Rule]) -> None:
    """``flb_ml_rule_init``: each rule's successors are the rules whose from-states hold its to-state."""
    for rule in rules:
        rule.next_rules = [other for other in rules if rule.to_state in other.from_states]


class MultilineParser(Struct, eq=False):
    name: str
    type: str = "regex"
    rules: list[Rule] = field(default_factory=list)
    flush_timeout_ms: int = FLUSH_TIMEOUT_MS
    key_content: str | None = None
    key_pattern: str | None = None
    key_group: str | None = None
    match_string: str | None = None
    negate: bool = False
    parser: Parser | None = None

    def start_rule(self, text: str) -> Rule | None:
        for rule in self.rules:
            if rule.start and rule.regex.search(text):
                return rule
        return None


def _rule(from_states: str, pattern: str, to_state: str | None) -> Rule:
    states = tuple(state.strip() for state in from_states.split(",") if state.strip())
    return Rule(states, compile_onigmo(pattern), to_state)


def _builtin(name: str, rules: Sequence[tuple[str, str, str]]) -> MultilineParser:
    compiled = [_rule(*rule) for rule in rules]
    link_rules(compiled)
    return MultilineParser(name=name, rules=compiled)


def builtin_multiline_parser(name: str) -> MultilineParser:
    """The built-in multiline parser ``name`` (a key of ``BUILTIN_RULES``), compiled."""
    return _builtin(name, BUILTIN_RULES[name])


def builtin_multiline_parsers() -> list[MultilineParser]:
    """Every built-in multiline parser, compiled."""
    return [builtin_multiline_parser(name) for name in BUILTIN_RULES]


def create_multiline_parser(section: Section, registry: ParserRegistry) -> MultilineParser:
    """One ``[MULTILINE_PARSER]`` section; ``ConfigError`` names the parser and file:line."""
    name = (section.get("name") or "").strip()
    if not name:
        raise ConfigError(section.file, section.line, "name", "[MULTILINE_PARSER] section without a 'Name'")
    options, warnings = MULTILINE_PARSER_OPTIONS.bind(section.properties, f"multiline parser '{name}'")
    log = component_logger("multiline")
    for warning in warnings:
        log.warning("%s", warning)

    def error(key: str | None, message: str) -> ConfigError:
        prop = section.find(key) if key else None
        return ConfigError(prop.file if prop else section.file, prop.line if prop else section.line, key,
                           f"multiline parser '{name}': {message}")

    ml_type = (options.type or "").strip().lower()
    if ml_type not in TYPES:
        raise error("type" if options.type else None, f"type must be one of {', '.join(TYPES)}")
    parser = None
    if options.parser:
        parser = registry.get(options.parser.strip())
        if parser is None:
            raise error("parser", f"unknown parser '{options.parser.strip()}'")
    rules: list[Rule] = []
    for prop in section.properties:
        if prop.key.lower() != "rule":
            continue
        tokens = [quoted.replace('\\"', '"') if quoted is not None else bare
                  for quoted, bare in _TOKEN.findall(prop.value)]
        if len(tokens) < 2:
            raise ConfigError(prop.file, prop.line, "rule",
                              f'multiline parser \'{name}\': expected rule "<state>" "<regex>" "<next state>"')
        try:
            rules.append(_rule(tokens[0], tokens[1], tokens[2] if len(tokens) > 2 else None))
        except ValueError as exc:
            raise ConfigError(prop.file, prop.line, "rule", f"multiline parser '{name}': {exc}") from None
    if ml_type == "regex" and not any(rule.start for rule in rules):
        raise error(None, "type regex needs at least one rule from 'start_state'")
    if ml_type != "regex" and not options.match_string:
        raise error(None, f"type {ml_type} needs a 'match_string'")
    link_rules(rules)
    return MultilineParser(
        name=name, type=ml_type, rules=rules,
        flush_timeout_ms=options.flush_timeout if options.flush_timeout and options.flush_timeout > 0 else FLUSH_TIMEOUT_MS,
        key_content=options.key_content, key_pattern=options.key_pattern, key_group=options.key_group,
        match_string=options.match_string, negate=options.negate, parser=parser,
    )


class _Group:
    """One parser's group of one stream (``flb_ml_stream_group``): the text joined so far, the
    first record's fields and time (its "context"), and the rule state.

    As in Fluent Bit, the rule state and the time outlive a flush: only the text and the
    context are cleared (``flb_ml_flush_stream_group``).
    """

    __slots__ = ("timestamp", "record", "text", "rule", "updated", "breakline", "position")

    def __init__(self, breakline: bool) -> None:
        self.timestamp = 0
        self.record: dict[str, Any] | None = None
        self.text = ""
        self.rule: Rule | None = None
        self.updated = 0.0
        # A raw line's group whose parser has no key_content ends its text with a newline
        # (breakline_prepare): tail's records keep the line's "\n", joined or not.
        self.breakline = breakline
        # The caller's position of the line that made the group hold something (tail: its offset).
        self.position: int | None = None

    @property
    def holding(self) -> bool:
        return bool(self.text) or self.record is not None

    def cat(self, text: str, limit: int) -> bool:
        """``flb_ml_group_cat``: add ``text`` up to ``limit``; False when the limit cut it."""
        room = limit - len(self.text) if limit > 0 else len(text)
        self.text += text[: max(room, 0)]
        return room >= len(text)

    def newline(self) -> None:
        if self.text and not self.text.endswith("\n"):
            self.text += "\n"


Completed = list[tuple[int, dict[str, Any]]]


class Multiline:
    """Joins records per stream with one or more multiline parsers, as ``flb_ml_append_text``
    and ``flb_ml_append_object`` do (src/multiline/flb_ml.c).

    A line goes first to the parser that took the stream's previous line (Fluent Bit's "LRU"
    parser), then to the others in order; the first that claims it keeps it. Each parser keeps
    its own groups, so a trace another parser holds stays open meanwhile. A line no parser
    claims closes every open group of its stream, in parser order, then passes through on its
    own: a raw line under the first parser's key_content (else ``default_key``), an empty raw
    line not at all (Fluent Bit emits nothing for it), a record unchanged.
    """

    def __init__(self, parsers: Sequence[MultilineParser], default_key: str = "log",
                 clock: Any = time.monotonic, buffer_limit: int = BUFFER_LIMIT_CHARS) -> None:
        self.parsers = list(parsers)
        self.default_key = default_key
        self.buffer_limit = buffer_limit
        # Groups cut at buffer_limit (Fluent Bit's multiline_truncated counter).
        self.truncated = 0
        self._clock = clock
        self._groups: dict[tuple[Hashable, int, Any], _Group] = {}
        # (stream, parser index) of the parser that claimed the last line: flb_ml_group.lru_parser.
        self._lru: tuple[Hashable, int] | None = None

    def pending(self) -> int:
        return sum(1 for group in self._groups.values() if group.holding)

    def feed_text(self, stream: Hashable, timestamp: int, text: str, position: int | None = None) -> Completed:
        """A raw line (tail's path): parsed first by a parser's ``parser`` if it names one.

        ``position`` (tail: the line's file offset) is remembered by the group the line opens;
        ``held_position`` is the oldest such position still held.
        """
        return self._feed(stream, timestamp, None, text, position)

    def held_position(self) -> int | None:
        """The oldest ``position`` of a line some group still holds (``None`` if none holds one)."""
        return min((group.position for group in self._groups.values() if group.position is not None), default=None)

    def feed(self, stream: Hashable, timestamp: int, record: dict[str, Any]) -> Completed:
        """A record (the multiline filter's path); its ``key_content`` field is what the rules see,
        or, when the multiline parser names a ``parser``, the ``key_content`` of the record that
        parser makes of that field, which then stands for the record."""
        return self._feed(stream, timestamp, record, None)

    def _feed(self, stream: Hashable, timestamp: int, record: dict[str, Any] | None, text: str | None,
              position: int | None = None) -> Completed:
        out: Completed = []
        now = self._clock()
        lru = self._lru[1] if self._lru is not None and self._lru[0] == stream else None
        if lru is not None and self._try(lru, stream, timestamp, record, text, now, out, position):
            return out
        for index in range(len(self.parsers)):
            if index != lru and self._try(index, stream, timestamp, record, text, now, out, position):
                self._lru = (stream, index)
                return out
        out.extend(self._flush_stream(stream))
        if record is not None:
            out.append((timestamp, record))
        elif text:
            first = self.parsers[0]
            key = first.key_content or self.default_key
            if 0 < self.buffer_limit < len(text):
                # flb_ml_append_text puts a line no parser claims through flb_ml_group_cat too.
                text = text[: self.buffer_limit]
                self.truncated += 1
            out.append((timestamp, {key: text if first.key_content else text + "\n"}))
        return out

    def _try(self, index: int, stream: Hashable, timestamp: int, record: dict[str, Any] | None, text: str | None,
             now: float, out: Completed, position: int | None) -> bool:
        """``ml_append_try_parser``: whether parser ``index`` claims the line (and took it)."""
        parser = self.parsers[index]
        key = parser.key_content or self.default_key
        context, ts = record, timestamp
        if parser.parser is not None:
            # ml_append_try_parser_type_text / _type_map: a raw line, or a record's key_content value,
            # is parsed first; the rules see the key_content of what that gives, which stands for the
            # record (a record's other fields are gone). What it cannot read, the next parser may.
            raw = text if record is None else record.get(parser.key_content) if parser.key_content else None
            if not isinstance(raw, str):
                return False
            parsed = self._parse_raw(parser, raw, timestamp)
            if parsed is None:
                return False
            context, ts = parsed
            content = context.get(key)
        else:
            content = text if record is None else record.get(key)
        if not isinstance(content, str):
            return False
        group_value = context.get(parser.key_group) if parser.key_group and context is not None else None
        group_key = (stream, index, group_value if isinstance(group_value, str) else None)
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = _Group(record is None and parser.key_content is None)
        if parser.type == "regex":
            claimed = self._process_rules(parser, group, key, content, ts, context, out)
        else:
            claimed = self._process_match_string(parser, group, key, content, ts, context, out)
        if claimed:
            group.updated = now
            if group.holding and group.position is None:
                group.position = position
        return claimed

    @staticmethod
    def _parse_raw(parser: MultilineParser, text: str, timestamp: int) -> tuple[dict[str, Any], int] | None:
        """The record a raw line gives this parser, or None when its ``parser`` fails on it
        (``ml_append_try_parser_type_text``)."""
        assert parser.parser is not None
        result = parser.parser.parse_batch([text])[0]
        if result is None:
            return None
        return result[1], result[0] if result[0] not in (-1, 0) else timestamp

    def _process_rules(self, parser: MultilineParser, group: _Group, key: str, content: str, ts: int,
                       context: dict[str, Any] | None, out: Completed) -> bool:
        """``flb_ml_rule_process``: continue the group by a rule reachable from its state, or
        open one by a start rule (flushing what the group held); then flush at once when the
        rule leads back to a start state (``try_flushing_buffer``)."""
        rule = None
        if group.rule is not None:
            for candidate in group.rule.next_rules:
                if candidate.start or not candidate.regex.search(content):
                    continue
                group.newline()
                if not content:
                    group.text += "\n"
                elif not group.cat(content, self.buffer_limit):
                    # Full: flush what fits now; the rest of this group is dropped.
                    self.truncated += 1
                    out.extend(self._emit(group, key))
                    group.rule = None
                    return True
                rule = candidate
                break
        if rule is None:
            rule = parser.start_rule(content)
            if rule is None:
                return False
            if group.text:
                out.extend(self._emit(group, key))
            group.rule = rule
            if not group.cat(content, self.buffer_limit):
                self.truncated += 1
                return True
            group.timestamp, group.record = ts, context
        group.rule = rule
        if rule.closes_group and group.text:
            out.extend(self._emit(group, key))
        return True

    def _process_match_string(self, parser: MultilineParser, group: _Group, key: str, content: str, ts: int,
                              context: dict[str, Any] | None, out: Completed) -> bool:
        """``package_content`` in flb_ml.c: the line joins the group, and the group is flushed
        when the value (key_pattern's if set, else the content) ends with (``endswith``) or
        equals (``equal``) match_string; ``negate`` inverts the test. Without key_content the
        lines are joined with newlines (``breakline_prepare``). Such a group is not cut at the
        buffer limit: Fluent Bit 4.2.8 joins it with flb_sds_cat_safe, not flb_ml_group_cat
        (recorded: tests/data/inputs/tail/multiline-buffer-limit)."""
        match_string = parser.match_string or ""
        value = context.get(parser.key_pattern) if parser.key_pattern and context is not None else content
        if not isinstance(value, str):
            value = content
        if parser.type == "endswith":
            if len(value) < len(match_string):
                return False
            complete = value.endswith(match_string)
        else:
            complete = value == match_string
        if parser.negate:
            complete = not complete
        if not group.holding:
            group.timestamp, group.record = ts, context
        elif parser.key_content is None:
            group.newline()
        group.text += content
        if complete:
            out.extend(self._emit(group, key))
        return True

    @staticmethod
    def _emit(group: _Group, key: str) -> Completed:
        """``flb_ml_flush_stream_group``: the group as a record (none when it holds nothing),
        then an empty group that keeps its rule state."""
        if group.breakline:
            group.newline()
        if group.record is not None:
            record = dict(group.record)
            if group.text:
                record[key] = group.text
        elif group.text:
            record = {key: group.text}
        else:
            return []
        group.record, group.text, group.position = None, "", None
        return [(group.timestamp, record)]

    def _flush_stream(self, stream: Hashable) -> Completed:
        """Every open group of ``stream``, parser by parser (``flb_ml_flush_parser_instance``)."""
        out: Completed = []
        for index, parser in enumerate(self.parsers):
            for (group_stream, group_index, _), group in self._groups.items():
                if group_stream == stream and group_index == index:
                    out.extend(self._emit(group, parser.key_content or self.default_key))
        return out

    def flush_expired(self, now: float | None = None) -> Completed:
        """Groups idle longer than their parser's flush_timeout, in stream order; idle groups
        are then forgotten so that streams that come and go do not accumulate."""
        now = self._clock() if now is None else now
        out: Completed = []
        for group_key, group in list(self._groups.items()):
            parser = self.parsers[group_key[1]]
            if now - group.updated < parser.flush_timeout_ms / 1000:
                continue
            out.extend(self._emit(group, parser.key_content or self.default_key))
            del self._groups[group_key]
        return out

    def flush_all(self) -> Completed:
        out: Completed = []
        for (_stream, index, _), group in self._groups.items():
            out.extend(self._emit(group, self.parsers[index].key_content or self.default_key))
        self._groups.clear()
        return out
