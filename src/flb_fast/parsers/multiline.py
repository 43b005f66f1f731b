"""Multiline parsers: ``[MULTILINE_PARSER]`` sections, the built-in go, java, python and ruby, and
the engine that joins lines into records, shared by tail's ``multiline.parser`` and the
``multiline`` filter.

Rules follow Fluent Bit's state machine (``src/multiline/flb_ml_rule.c``): a line that matches a
``start_state`` rule opens a group (flushing the previous one); while a group is open, a line that
matches a rule reachable from the last matched rule (start rules excepted) is appended to it,
joined with ``\\n``; a rule whose next state is a start state closes the group at once. A line no
rule claims flushes the stream's open group and passes through unchanged. A group gets the time
and the other fields of its first record; ``key_content`` holds the joined text. Groups idle for
``flush_timeout`` milliseconds are flushed by ``Multiline.flush_expired``.

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
from dataclasses import dataclass, field
from typing import Any

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Section
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable
from flb_fast.parsers.base import Parser, ParserRegistry
from flb_fast.parsers.onigmo import compile_onigmo

# FLB_ML_FLUSH_TIMEOUT, include/fluent-bit/multiline/flb_ml.h
FLUSH_TIMEOUT_MS = 4000
# FLB_ML_BUFFER_LIMIT_DEFAULT (same header; [SERVICE] multiline_buffer_limit): a group's text
# stops growing here, is flushed truncated and counted. flb_fast counts characters.
BUFFER_LIMIT_CHARS = 2 * 1024 * 1024
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


@dataclass(eq=False)
class Rule:
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


@dataclass(eq=False)
class MultilineParser:
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


def _builtin(name: str, rules: list[tuple[str, str, str]]) -> MultilineParser:
    compiled = [_rule(*rule) for rule in rules]
    link_rules(compiled)
    return MultilineParser(name=name, rules=compiled)


def builtin_multiline_parsers() -> list[MultilineParser]:
    """Fluent Bit's built-in regex multiline parsers (``src/multiline/flb_ml_parser_*.c``).

    ``docker`` and ``cri`` are not here: they are framing, handled by tail's Docker_Mode/CRI path.
    """
    return [
        _builtin("go", [
            ("start_state", r"/\bpanic: /", "go_after_panic"),
            ("start_state", r"/http: panic serving/", "go_goroutine"),
            ("go_after_panic", r"/^$/", "go_goroutine"),
            ("go_after_panic, go_after_signal, go_frame_1", r"/^$/", "go_goroutine"),
            ("go_after_panic", r"/^\[signal /", "go_after_signal"),
            ("go_goroutine", r"/^goroutine \d+ \[[^\]]+\]:$/", "go_frame_1"),
            ("go_frame_1", r"/^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by /", "go_frame_2"),
            ("go_frame_2", r"/^\s/", "go_frame_1"),
        ]),
        _builtin("java", [
            ("start_state, java_start_exception",
             r"/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]/", "java_after_exception"),
            ("java_after_exception", r"/^[\t ]*nested exception is:[\t ]*/", "java_start_exception"),
            ("java_after_exception", r"/^[\r\n]*$/", "java_after_exception"),
            ("java_after_exception, java", r"/^[\t ]+(?:eval )?at /", "java"),
            ("java_after_exception, java", r"/^[\t ]+--- End of inner exception stack trace ---$/", "java"),
            ("java_after_exception, java",
             r"/^--- End of stack trace from previous (?x:)location where exception was thrown ---$/", "java"),
            ("java_after_exception, java", r"/^[\t ]*(?:Caused by|Suppressed):/", "java_after_exception"),
            ("java_after_exception, java", r"/^[\t ]*... \d+ (?:more|common frames omitted)/", "java"),
        ]),
        _builtin("python", [
            ("start_state", r"/^Traceback \(most recent call last\):$/", "python"),
            ("python", r"/^[\t ]+File /", "python_code"),
            ("python_code", r"/[^\t ]/", "python"),
            ("python", r"/^(?:[^\s.():]+\.)*[^\s.():]+:/", "start_state"),
        ]),
        _builtin("ruby", [
            ("start_state, ruby_start_exception", r"/^.+:\d+:in\s+.*/", "ruby_after_exception"),
            ("ruby_after_exception, ruby", r"/^\s+from\s+.*:\d+:in\s+.*/", "ruby"),
        ]),
    ]


def create_multiline_parser(section: Section, registry: ParserRegistry) -> MultilineParser:
    """One ``[MULTILINE_PARSER]`` section; ``ConfigError`` names the parser and file:line."""
    name = (section.get("name") or "").strip()
    if not name:
        raise ConfigError(section.file, section.line, "name", "[MULTILINE_PARSER] section without a 'Name'")
    options, _warnings = MULTILINE_PARSER_OPTIONS.bind(section.properties, f"multiline parser '{name}'")

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
    """An open multiline group: the first record's time and fields, and the text so far."""

    __slots__ = ("timestamp", "record", "text", "rule", "updated")

    def __init__(self) -> None:
        self.timestamp = 0
        self.record: dict[str, Any] | None = None
        self.text = ""
        self.rule: Rule | None = None
        self.updated = 0.0

    def append(self, text: str, limit: int) -> bool:
        """Add a line (joined with a newline); False when the limit cut it (``flb_ml_group_cat``)."""
        if self.text and not self.text.endswith("\n"):
            self.text += "\n"
        text = text or "\n"
        room = limit - len(self.text) if limit > 0 else len(text)
        self.text += text[: max(room, 0)]
        return room >= len(text)


Completed = list[tuple[int, dict[str, Any]]]


class Multiline:
    """Joins records per stream with one or more multiline parsers, tried in order."""

    def __init__(self, parsers: Sequence[MultilineParser], default_key: str = "log",
                 clock: Any = time.monotonic, buffer_limit: int = BUFFER_LIMIT_CHARS) -> None:
        self.parsers = list(parsers)
        self.default_key = default_key
        self.buffer_limit = buffer_limit
        # Groups cut at buffer_limit (Fluent Bit's multiline_truncated counter).
        self.truncated = 0
        self._clock = clock
        self._groups: dict[tuple[Hashable, int, Any], _Group] = {}
        # The parser that claimed a stream's last line is tried first on its next line
        # (``group->lru_parser`` in flb_ml.c), so a line a parser tried earlier would also claim
        # (python's "ValueError: ..." is a java start line) stays in the open group.
        self._last_parser: dict[Hashable, int] = {}

    def pending(self) -> int:
        return sum(1 for group in self._groups.values() if group.record is not None)

    def feed_text(self, stream: Hashable, timestamp: int, text: str) -> Completed:
        """A raw line (tail's path): parsed first by a parser's ``parser`` if it names one."""
        return self._feed(stream, timestamp, None, text)

    def feed(self, stream: Hashable, timestamp: int, record: dict[str, Any]) -> Completed:
        """A record (the multiline filter's path); its ``key_content`` field is what the rules see."""
        return self._feed(stream, timestamp, record, None)

    def _feed(self, stream: Hashable, timestamp: int, record: dict[str, Any] | None, text: str | None) -> Completed:
        out: Completed = []
        now = self._clock()
        last = self._last_parser.get(stream)
        order = range(len(self.parsers)) if not last else [last, *(i for i in range(len(self.parsers)) if i != last)]
        for index in order:
            parser = self.parsers[index]
            rec, ts = record, timestamp
            key = parser.key_content or self.default_key
            if rec is None:
                assert text is not None
                parsed = self._parse_raw(parser, key, text, timestamp)
                if parsed is None:  # its parser does not read the line: the next parser may
                    continue
                rec, ts = parsed
            content = rec.get(key)
            if not isinstance(content, str):
                continue
            group_key = (stream, index, rec.get(parser.key_group) if parser.key_group else None)
            group = self._groups.get(group_key)
            if group is None:
                group = self._groups[group_key] = _Group()
            if self._process(parser, group, key, content, ts, rec, out):
                group.updated = now
                self._last_parser[stream] = index
                return out
        # No parser claimed the line: close this stream's open groups, then pass it through.
        out.extend(self._flush_stream(stream))
        if record is not None:
            out.append((timestamp, record))
        else:
            assert text is not None
            out.append((timestamp, {self.default_key: text}))
        return out

    @staticmethod
    def _parse_raw(parser: MultilineParser, key: str, text: str, timestamp: int) -> tuple[dict[str, Any], int] | None:
        """The record a raw line gives this parser, or None when its ``parser`` fails on it
        (``ml_append_try_parser_type_text``)."""
        if parser.parser is None:
            return {key: text}, timestamp
        result = parser.parser.parse_batch([text])[0]
        if result is None:
            return None
        return result[1], result[0] if result[0] not in (-1, 0) else timestamp

    def _process(self, parser: MultilineParser, group: _Group, key: str, content: str, ts: int,
                 record: dict[str, Any], out: Completed) -> bool:
        if parser.type != "regex":
            return self._process_match_string(parser, group, key, content, ts, record, out)
        rule = None
        if group.rule is not None and group.record is not None:
            for candidate in group.rule.next_rules:
                if not candidate.start and candidate.regex.search(content):
                    if not group.append(content, self.buffer_limit):
                        # Full: flush what fits now; the rest of this group is dropped.
                        self.truncated += 1
                        out.append(self._emit(group, key))
                        return True
                    rule = candidate
                    break
        if rule is None:
            rule = parser.start_rule(content)
            if rule is None:
                return False
            if group.record is not None:
                out.append(self._emit(group, key))
            group.timestamp, group.record, group.text = ts, record, ""
            if not group.append(content, self.buffer_limit):
                self.truncated += 1
        group.rule = rule
        if rule.closes_group:
            out.append(self._emit(group, key))
        return True

    def _process_match_string(self, parser: MultilineParser, group: _Group, key: str, content: str, ts: int,
                              record: dict[str, Any], out: Completed) -> bool:
        """``package_content`` in flb_ml.c: the line joins the group, and the group is flushed
        when the value (key_pattern's if set, else the content) ends with (``endswith``) or
        equals (``equal``) match_string; ``negate`` inverts the test. Without key_content the
        lines are joined with newlines (``breakline_prepare``)."""
        match_string = parser.match_string or ""
        value = record.get(parser.key_pattern) if parser.key_pattern else content
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
        if group.record is None:
            group.timestamp, group.record, group.text = ts, record, ""
        elif parser.key_content is None and group.text and not group.text.endswith("\n"):
            group.text += "\n"
        room = self.buffer_limit - len(group.text) if self.buffer_limit > 0 else len(content)
        group.text += content[: max(room, 0)]
        if room < len(content):
            self.truncated += 1
            complete = True
        if complete:
            out.append(self._emit(group, key))
        return True

    @staticmethod
    def _emit(group: _Group, key: str) -> tuple[int, dict[str, Any]]:
        assert group.record is not None
        record = dict(group.record)
        record[key] = group.text
        result = (group.timestamp, record)
        group.record, group.text, group.rule = None, "", None
        return result

    def _flush_stream(self, stream: Hashable) -> Completed:
        out: Completed = []
        for (group_stream, index, _), group in self._groups.items():
            if group_stream == stream and group.record is not None:
                parser = self.parsers[index]
                out.append(self._emit(group, parser.key_content or self.default_key))
        return out

    def flush_expired(self, now: float | None = None) -> Completed:
        """Groups idle longer than their parser's flush_timeout, in stream order; idle empty
        groups are forgotten so that streams that come and go do not accumulate."""
        now = self._clock() if now is None else now
        out: Completed = []
        for group_key, group in list(self._groups.items()):
            parser = self.parsers[group_key[1]]
            if now - group.updated < parser.flush_timeout_ms / 1000:
                continue
            if group.record is not None:
                out.append(self._emit(group, parser.key_content or self.default_key))
            del self._groups[group_key]
        streams = {stream for stream, _, _ in self._groups}
        self._last_parser = {stream: index for stream, index in self._last_parser.items() if stream in streams}
        return out

    def flush_all(self) -> Completed:
        out: Completed = []
        for (_stream, index, _), group in self._groups.items():
            if group.record is not None:
                out.append(self._emit(group, self.parsers[index].key_content or self.default_key))
        self._groups.clear()
        self._last_parser.clear()
        return out
