"""A ``[PARSER]`` section read into a validated spec (``parser_conf_file`` in ``flb_parser.c``).

Every problem is a ``ConfigError`` that names the parser and the file:line of the offending
line, raised at start-up: a parser that cannot be built must never silently pass lines through.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from msgspec import Struct, field

from flb_fast.config.errors import ConfigError, ConfigWarning
from flb_fast.config.model import Section
from flb_fast.config.options import BOOL, STR, Option, OptionTable
from flb_fast.log import component_logger
from flb_fast.parsers.decoders import ACTIONS, BACKENDS, Decoders, DecodeRule
from flb_fast.parsers.time import TimeFormat, parse_offset
from flb_fast.parsers.types import parse_types

FORMATS = ("regex", "json", "ltsv", "logfmt")
# Conversions flb_strptime.c knows (plus %L, handled by flb_parser.c); any other fails every time.
_TIME_DIRECTIVES = frozenset("%aAbBhcCdDeFgGHIjklLmMnOEprRsStTuUVwWxXyYzZ")

PARSER_OPTIONS = OptionTable(
    Option("name", STR, None, "name other sections use to refer to this parser"),
    Option("format", STR, None, "regex, json, ltsv or logfmt"),
    Option("regex", STR, None, "Onigmo (Ruby) regular expression with named groups (Format regex)"),
    Option("time_key", STR, "time", "field holding the record's time"),
    Option("time_format", STR, None, "strptime format of the time field (%L: fractional seconds)"),
    Option("time_keep", BOOL, "off", "keep the time field in the record after using it"),
    Option("time_offset", STR, None, "fixed UTC offset (+HHMM) for times without a zone"),
    Option("time_strict", BOOL, "on", "a time that does not match the whole format is an error"),
    Option("time_system_timezone", BOOL, "off", "read zone-less times in the host's time zone"),
    Option("types", STR, None, "space-separated key:type (integer, float, bool, hex, string)"),
    Option("decode_field", STR, None, "decoder field [try_next|do_next]: append a decoded map", multi=True),
    Option("decode_field_as", STR, None, "decoder field [try_next|do_next]: replace the value", multi=True),
    Option("skip_empty_values", BOOL, "on", "drop empty captures (Format regex)"),
    Option("logfmt_no_bare_keys", BOOL, "off", "a logfmt key without a value fails the line"),
)


class ParserSpec(Struct):
    """What a ``[PARSER]`` section asks for, checked and compiled where that can fail."""

    name: str
    format: str
    file: str | None = None
    line: int | None = None
    regex: str | None = None
    time: TimeFormat | None = None
    time_key: str = "time"
    time_format: str | None = None
    time_keep: bool = False
    types: dict[str, Callable[[str], object]] = field(default_factory=dict)
    decoders: Decoders | None = None
    skip_empty_values: bool = True
    logfmt_no_bare_keys: bool = False


def _error(section: Section, key: str | None, name: str, message: str) -> ConfigError:
    prop = section.find(key) if key else None
    file = prop.file if prop else section.file
    line = prop.line if prop else section.line
    return ConfigError(file, line, key, f"parser '{name}': {message}")


def _value(options: object, attr: str) -> str | None:
    """Fluent Bit's ``get_parser_key``: an empty value is the same as no value."""
    value = getattr(options, attr)
    return value.strip() or None if isinstance(value, str) else value


def spec_from_section(section: Section) -> ParserSpec:
    """Validate one ``[PARSER]`` section; ``ConfigError`` names the parser and file:line."""
    name = (section.get("name") or "").strip()
    if not name:
        raise ConfigError(section.file, section.line, "name", "[PARSER] section without a 'Name'")
    options, warnings = PARSER_OPTIONS.bind(section.properties, f"parser '{name}'")
    log = component_logger("parser")
    for warning in warnings:
        log.warning("%s", warning)
    fmt = (_value(options, "format") or "").lower()
    if not fmt:
        raise _error(section, None, name, "no 'Format' given (regex, json, ltsv or logfmt)")
    if fmt not in FORMATS:
        raise _error(section, "format", name, f"unknown format '{fmt}' (expected regex, json, ltsv or logfmt)")
    spec = ParserSpec(name=name, format=fmt, file=section.file, line=section.line)
    spec.regex = _value(options, "regex")
    if fmt == "regex" and not spec.regex:
        raise _error(section, None, name, "Format regex needs a 'Regex'")
    spec.time_key = _value(options, "time_key") or "time"
    spec.time_keep = options.time_keep
    spec.skip_empty_values = options.skip_empty_values
    spec.logfmt_no_bare_keys = options.logfmt_no_bare_keys
    spec.time_format = _value(options, "time_format")
    if spec.time_format:
        offset = 0
        offset_text = _value(options, "time_offset")
        if offset_text and not options.time_system_timezone:
            try:
                offset = parse_offset(offset_text)
            except ValueError as exc:
                raise _error(section, "time_offset", name, str(exc)) from None
        spec.time = TimeFormat(spec.time_format, offset=offset, strict=options.time_strict,
                               system_timezone=options.time_system_timezone)
        unknown = sorted({f"%{c}" for c in re.findall(r"%(.)", spec.time_format) if c not in _TIME_DIRECTIVES})
        if unknown:
            prop = section.find("time_format")
            log.warning("%s", ConfigWarning(prop.file if prop else None, prop.line if prop else None, "time_format",
                                            f"parser '{name}': Time_Format directive {', '.join(unknown)} is not one "
                                            f"Fluent Bit's strptime knows: no time will parse"))
    types = _value(options, "types")
    if types:
        spec.types = parse_types(types)
    spec.decoders = _decoders(section, name)
    return spec


def _decoders(section: Section, name: str) -> Decoders | None:
    """Decoder rules in file order across both keys (their relative order matters per field)."""
    rules: list[tuple[str, DecodeRule]] = []
    for prop in section.properties:
        key = prop.key.lower()
        if key not in ("decode_field", "decode_field_as"):
            continue
        words = prop.value.split()
        if len(words) < 2:
            raise ConfigError(prop.file, prop.line, prop.key,
                              f"parser '{name}': expected '<decoder> <field> [try_next|do_next]'")
        backend = words[0].lower()
        if backend not in BACKENDS:
            raise ConfigError(prop.file, prop.line, prop.key,
                              f"parser '{name}': unknown decoder '{words[0]}' (expected {', '.join(BACKENDS)})")
        action = words[2].lower() if len(words) > 2 else None
        rules.append((words[1], DecodeRule(backend, key == "decode_field_as", action if action in ACTIONS else None)))
    return Decoders(rules) if rules else None
