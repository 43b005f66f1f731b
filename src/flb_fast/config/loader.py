"""Load a config or parsers file, classic or YAML, into the one config model.

The readers (``classic.py``, ``yaml.py``) know only their syntax; this module gives the
sections their meaning, as Fluent Bit's ``flb_config_load_config_format`` does: every
variable (``@SET``, ``env:``) is defined first, then ``${VAR}`` is expanded in every value,
then sections are sorted by kind. Loading is plugin-agnostic: whether ``Name systemd`` is a
plugin flb_fast has is for the engine to say when it builds the pipeline.
"""

from __future__ import annotations

import os
import re
import socket

from flb_fast.config.classic import Document, read_classic
from flb_fast.config.errors import ConfigError, ConfigWarning
from flb_fast.config.model import Config, Property, Section
from flb_fast.log import component_logger

PIPELINE_KINDS = ("input", "filter", "output")
PARSER_KINDS = ("parser", "multiline_parser")
KNOWN_KINDS = ("service", *PIPELINE_KINDS, *PARSER_KINDS)
# Sections Fluent Bit knows that flb_fast reads past with a warning rather than an error.
UNSUPPORTED_KINDS = frozenset({"plugins", "upstream", "upstream_servers", "node", "custom", "stream_processor"})
YAML_SUFFIXES = (".yaml", ".yml")

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def read_document(path: str) -> Document:
    """Read a file by its format, which Fluent Bit picks from the extension as well."""
    if path.lower().endswith(YAML_SUFFIXES):
        from flb_fast.config.yaml import read_yaml  # PyYAML only for a YAML file: a sixth of start-up imports

        return read_yaml(path)
    return read_classic(path)


class Variables:
    """``${VAR}`` lookup as ``flb_env_get``: config variables first, then the environment.

    An environment variable set to the empty string counts as unset, and ``HOSTNAME`` falls
    back to the host's name, as Fluent Bit presets it.
    """

    def __init__(self, document: Document) -> None:
        self._defined = {name: value for name, value, _, _ in document.variables}

    def lookup(self, name: str) -> str | None:
        if name in self._defined:
            return self._defined[name]
        value = os.environ.get(name)
        if value:
            return value
        if name == "HOSTNAME" and value is None:
            return socket.gethostname()
        return None

    def expand(self, prop: Property, warnings: list[ConfigWarning]) -> Property:
        """The property with every ``${VAR}`` replaced; an undefined one becomes "" with a warning."""
        if "${" not in prop.value:
            return prop

        def substitute(match: re.Match[str]) -> str:
            value = self.lookup(match.group(1))
            if value is None:
                warnings.append(
                    ConfigWarning(prop.file, prop.line, prop.key, f"variable ${{{match.group(1)}}} is used but not set")
                )
                return ""
            return value

        return Property(prop.key, _VARIABLE.sub(substitute, prop.value), prop.file, prop.line)

    def expand_section(self, section: Section, warnings: list[ConfigWarning]) -> Section:
        properties = [self.expand(prop, warnings) for prop in section.properties]
        processors = [self.expand_section(unit, warnings) for unit in section.processors]
        return Section(section.kind, properties, section.file, section.line, processors)


def _check_kind(section: Section, known: tuple[str, ...], warnings: list[ConfigWarning]) -> bool:
    """Whether to use the section; an unsupported kind warns, an unknown one stops the load."""
    if section.kind in known:
        return True
    if section.kind in UNSUPPORTED_KINDS:
        warnings.append(
            ConfigWarning(
                section.file, section.line, None, f"[{section.kind.upper()}] is not supported by flb_fast: section ignored"
            )
        )
        return False
    raise ConfigError(section.file, section.line, None, f"unknown section '{section.kind}'")


def _parsers_files(config_path: str, service: Section) -> list[Property]:
    """``Parsers_File`` entries with absolute paths.

    A relative path is taken from the config file's directory, else from the working directory
    (Fluent Bit tries the latter first; this order finds the same files without depending on
    where the agent was started). A missing file is an error at the line that names it.
    """
    base = os.path.dirname(os.path.abspath(config_path))
    resolved = []
    for prop in service.properties:
        if prop.key.lower() != "parsers_file":
            continue
        path = os.path.normpath(os.path.join(base, prop.value))
        if not os.path.isfile(path) and os.path.isfile(prop.value):
            path = os.path.abspath(prop.value)
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise ConfigError(prop.file, prop.line, prop.key, f"cannot open parsers file '{path}'")
        resolved.append(Property(prop.key, path, prop.file, prop.line))
    return resolved


def load_config(path: str) -> tuple[Config, list[ConfigWarning]]:
    """The whole config at ``path`` (classic or YAML) and what the user should fix in it.

    Raises ``ConfigError`` naming file:line for anything that must stop the agent from starting.
    """
    document = read_document(path)
    warnings = list(document.warnings)
    variables = Variables(document)
    config = Config(path=path)
    service: Section | None = None
    lists = {"input": config.inputs, "filter": config.filters, "output": config.outputs,
             "parser": config.parsers, "multiline_parser": config.multiline_parsers}
    for raw in document.sections:
        if not _check_kind(raw, KNOWN_KINDS, warnings):
            continue
        section = variables.expand_section(raw, warnings)
        if section.kind != "service":
            lists[section.kind].append(section)
        elif service is None:
            service = section
        else:
            service.properties.extend(section.properties)
    if service is not None:
        config.service = service
    config.parsers_files = _parsers_files(path, config.service)
    return config, warnings


def load_parsers_file(path: str) -> tuple[list[Section], list[Section]]:
    """The ``[PARSER]`` and ``[MULTILINE_PARSER]`` sections of a parsers file (classic or YAML).

    Other sections Fluent Bit knows are skipped, as its parser loader skips them; an unknown
    one is an error (a typo such as ``[PARSERS]`` would otherwise lose every parser in it).
    Warnings (an undefined ``${VAR}``) are logged, since this loader has no caller to hand them to.
    """
    document = read_document(path)
    warnings = list(document.warnings)
    variables = Variables(document)
    parsers: list[Section] = []
    multiline: list[Section] = []
    for raw in document.sections:
        if not _check_kind(raw, KNOWN_KINDS, warnings):
            continue
        if raw.kind in PARSER_KINDS:
            (parsers if raw.kind == "parser" else multiline).append(variables.expand_section(raw, warnings))
    log = component_logger("config")
    for warning in warnings:
        log.warning("%s", warning)
    return parsers, multiline
