"""Parsers: [PARSER] sections and the built-in formats, compiled once, applied per batch.

``build_registry(config)`` is the one entry point the engine calls. It loads each
``Parsers_File``/``-R`` file, then the ``[PARSER]`` and ``[MULTILINE_PARSER]`` sections of the
main config; as in Fluent Bit (``flb_parser_create``: "parser named '...' already exists, skip"),
the first definition of a name is kept and a later one is skipped with a warning at its
file:line. The bundled ``parsers.conf`` (Fluent Bit's standard set, found by default the way the
AWS image finds ``/fluent-bit/parsers/parsers.conf``) then supplies only the names the user did
not define, so a user's own ``docker`` parser wins over the bundled one.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Config, Section
from flb_fast.log import component_logger
from flb_fast.parsers.base import Deferred, Parser, ParserRegistry
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.spec import ParserSpec, spec_from_section

if TYPE_CHECKING:
    from flb_fast.parsers.multiline import MultilineParser

__all__ = ["DEFAULT_PARSERS_FILE", "FieldParser", "Parser", "ParserRegistry", "build_registry", "create_parser"]

# The package's own data file (importlib.resources would cost more to import than the whole
# parser registry takes to build, and pathlib is not imported by an agent that does not need it).
DEFAULT_PARSERS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "data", "parsers.conf")


def create_parser(section: Section) -> FieldParser:
    """Compile one ``[PARSER]`` section; ``ConfigError`` names the parser and file:line."""
    spec = spec_from_section(section)
    try:
        return _build(spec)
    except ValueError as exc:
        prop = section.find("regex")
        raise ConfigError(prop.file if prop else section.file, prop.line if prop else section.line, "regex",
                          f"parser '{spec.name}': {exc}") from None


def _build(spec: ParserSpec) -> FieldParser:
    if spec.format == "regex":
        from flb_fast.parsers.regex import RegexParser

        return RegexParser(spec)
    if spec.format == "json":
        from flb_fast.parsers.json import JsonParser

        return JsonParser(spec)
    if spec.format == "ltsv":
        from flb_fast.parsers.ltsv import LtsvParser

        return LtsvParser(spec)
    from flb_fast.parsers.logfmt import LogfmtParser

    return LogfmtParser(spec)


def build_registry(config: Config) -> ParserRegistry:
    """Every parser and multiline parser a config can name, checked before the agent starts.

    The built-in multiline parsers and the bundled file's parsers (and those of a parsers file
    identical to it) are known to compile: they are made on first use (``Deferred``), every
    other one now.
    """
    from flb_fast.config.loader import load_parsers_file
    from flb_fast.parsers.multiline_defaults import BUILTIN_RULES

    registry = ParserRegistry()
    for name in BUILTIN_RULES:
        registry.add_multiline(Deferred(name, functools.partial(_builtin_multiline_parser, name)))
    user_parsers: list[tuple[Section, bool]] = []
    user_multiline: list[Section] = []
    for path in (prop.value for prop in config.parsers_files):
        parsers, multiline = load_parsers_file(path)
        bundled = _is_bundled(path)
        user_parsers.extend((section, bundled) for section in parsers)
        user_multiline.extend(multiline)
    user_parsers.extend((section, False) for section in config.parsers)
    user_multiline.extend(config.multiline_parsers)
    bundled_parsers, bundled_multiline = load_parsers_file(DEFAULT_PARSERS_FILE)
    log = component_logger("parser")
    for section, bundled in user_parsers:
        if not registry.add(_deferred(section) if bundled else create_parser(section)):
            log.warning("%s:%s: parser named '%s' already exists, skip", section.file, section.line, section.get("name"))
    for section in bundled_parsers:
        if section.get("name") not in registry:
            registry.add(_deferred(section))
    for section in [*user_multiline, *bundled_multiline]:
        if not registry.add_multiline(_create_multiline_parser(section, registry)):
            log.warning("%s:%s: multiline parser named '%s' already exists, skip", section.file, section.line,
                        section.get("name"))
    return registry


def _builtin_multiline_parser(name: str) -> MultilineParser:
    """The multiline engine is imported when a multiline parser is first used (``parsers.multiline_defaults``)."""
    from flb_fast.parsers.multiline import builtin_multiline_parser

    return builtin_multiline_parser(name)


def _create_multiline_parser(section: Section, registry: ParserRegistry) -> MultilineParser:
    from flb_fast.parsers.multiline import create_multiline_parser

    return create_multiline_parser(section, registry)


def _deferred(section: Section) -> Deferred:
    return Deferred(section.get("name") or "", functools.partial(create_parser, section))


def _is_bundled(path: str) -> bool:
    """Whether the parsers file at ``path`` holds exactly the bundled file's bytes."""
    try:
        with open(path, "rb") as handle:
            return handle.read() == _bundled_bytes()
    except OSError:
        return False


@functools.cache
def _bundled_bytes() -> bytes:
    with open(DEFAULT_PARSERS_FILE, "rb") as handle:
        return handle.read()
