"""Parsers: [PARSER] sections and the built-in formats, compiled once, applied per batch.

``build_registry(config)`` is the one entry point the engine calls. It loads, in order, the
bundled ``parsers.conf`` (Fluent Bit's standard set, found by default the way the AWS image finds
``/fluent-bit/parsers/parsers.conf``), each ``Parsers_File``/``-R`` file, then the ``[PARSER]`` and
``[MULTILINE_PARSER]`` sections of the main config; a later definition of a name replaces an
earlier one, so a user's own ``docker`` parser wins over the bundled one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flb_fast.config.errors import ConfigError
from flb_fast.config.model import Config, Section
from flb_fast.parsers.base import Parser, ParserRegistry
from flb_fast.parsers.common import FieldParser
from flb_fast.parsers.spec import ParserSpec, spec_from_section

__all__ = ["DEFAULT_PARSERS_FILE", "FieldParser", "Parser", "ParserRegistry", "build_registry", "create_parser"]

DEFAULT_PARSERS_FILE = str(Path(str(resources.files("flb_fast") / "data" / "parsers.conf")))


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
    """Every parser and multiline parser a config can name, checked before the agent starts."""
    from flb_fast.config.loader import load_parsers_file
    from flb_fast.parsers.multiline import builtin_multiline_parsers, create_multiline_parser

    registry = ParserRegistry()
    for ml_parser in builtin_multiline_parsers():
        registry.add_multiline(ml_parser)
    parser_sections: list[Section] = []
    multiline_sections: list[Section] = []
    for path in [DEFAULT_PARSERS_FILE, *(prop.value for prop in config.parsers_files)]:
        parsers, multiline = load_parsers_file(path)
        parser_sections.extend(parsers)
        multiline_sections.extend(multiline)
    parser_sections.extend(config.parsers)
    multiline_sections.extend(config.multiline_parsers)
    for section in parser_sections:
        registry.add(create_parser(section))
    for section in multiline_sections:
        registry.add_multiline(create_multiline_parser(section, registry))
    return registry
