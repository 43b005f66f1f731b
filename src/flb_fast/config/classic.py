"""Fluent Bit's classic format (``fluent-bit.conf``), read line by line as ``flb_cf_fluentbit.c`` does.

The reader only knows the syntax: section headers, indented ``Key Value`` entries, comments,
``@INCLUDE`` and ``@SET``. What the sections mean is the loader's job, so the same reader
serves the main config and parsers files. Values are kept raw (``${VAR}`` unexpanded)
because Fluent Bit applies every ``@SET`` of every file before it expands any value.

Deliberate leniency, none of which changes the meaning of a file Fluent Bit accepts:
comment and whitespace-only lines are skipped at any indentation (Fluent Bit checks their
indentation), and a tab separates a key from its value as a space does.
"""

from __future__ import annotations

import glob
import os
from abc import ABC, abstractmethod

from msgspec import Struct, field

from flb_fast.config.errors import ConfigError, ConfigWarning
from flb_fast.config.model import Property, Section

_BLANKS = " \t"
_INCLUDE = "@include "


class Document(Struct):
    """What a config file (with everything it includes) says, before variables are expanded.

    Both readers (classic and YAML) produce it; ``variables`` are the ``@SET`` / ``env:``
    definitions in file order, as (name, value, file, line).
    """

    sections: list[Section] = field(default_factory=list)
    variables: list[tuple[str, str, str, int]] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)


class IncludeGuard:
    """Files already read, by device and inode: Fluent Bit refuses to read a file twice."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, int]] = set()

    def enter(self, path: str, file: str | None, line: int | None) -> None:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise ConfigError(file, line, None, f"cannot open config file '{path}': {exc.strerror}") from None
        key = (stat.st_dev, stat.st_ino)
        if key in self._seen:
            raise ConfigError(file, line, None, f"file already included: '{path}'")
        self._seen.add(key)


class DocumentReader(ABC):
    """Reads one top-level file and the files it includes into a ``Document``.

    Both formats share how a file is reached (the include guard, then its text, with errors at
    the place that named it); a subclass only says what the text means, in ``_read_text``.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.document = Document()
        self._guard = IncludeGuard()

    def read(self) -> Document:
        self._read_file(self.root, None, None)
        return self.document

    def _read_file(self, path: str, from_file: str | None, from_line: int | None) -> None:
        self._guard.enter(path, from_file, from_line)
        self._read_text(read_text(path, from_file, from_line), path)

    @abstractmethod
    def _read_text(self, text: str, path: str) -> None:
        """Add what one file's text says to ``self.document``; ``path`` names it in errors."""


def read_text(path: str, file: str | None = None, line: int | None = None) -> str:
    """A config file's text; a missing or unreadable file is an error at the place that named it.

    A UTF-8 byte order mark (some Windows editors write one) is dropped rather than read as
    part of the first line.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(file, line, None, f"cannot open config file '{path}': {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, None, f"config file is not valid UTF-8 (byte offset {exc.start})") from None


def include_paths(pattern: str, including: str, root: str, file: str, line: int) -> list[str]:
    """The files an ``@INCLUDE`` / ``includes:`` entry names.

    A relative name is looked up next to the including file, then next to the top-level config
    (Fluent Bit's ``root_path``), then as given (Fluent Bit stats it as given first; looking
    next to the config first makes the result independent of the working directory, and still
    finds every file Fluent Bit would). A glob matches in the same places; no match is an
    error, as in Fluent Bit, where ``read_glob`` fails the load. Matches are sorted, where
    Fluent Bit's ``GLOB_NOSORT`` leaves the order to the filesystem.
    """
    if os.path.isabs(pattern):
        candidates = [pattern]
    else:
        bases = (os.path.dirname(including), os.path.dirname(root))
        candidates = list(dict.fromkeys([*(os.path.join(base, pattern) for base in bases), pattern]))
    if glob.has_magic(pattern):
        for candidate in candidates:
            matches = sorted(glob.glob(candidate))
            if matches:
                return matches
        raise ConfigError(file, line, None, f"no file matches @INCLUDE pattern '{pattern}'")
    for candidate in candidates:
        if os.path.exists(candidate):
            return [candidate]
    raise ConfigError(file, line, None, f"cannot open included file '{pattern}': No such file or directory")


def define_variable(name: str, value: str, file: str, line: int) -> tuple[str, str, str, int]:
    """A config variable; a value ``file://PATH`` is that file's content (``flb_env_set``)."""
    if value.startswith("file://"):
        source = value[len("file://"):]
        value = read_text(source, file, line)
        if value.endswith(("\n", "\r")):
            value = value[:-1]
        if not value:
            raise ConfigError(file, line, None, f"variable {name}: file '{source}' is empty")
    return name, value, file, line


def set_variable(params: str, file: str, line: int) -> tuple[str, str, str, int]:
    """``@SET KEY=VALUE``."""
    name, sep, value = params.partition("=")
    if not sep or not name.strip():
        raise ConfigError(file, line, None, f"invalid @SET parameter '{params}' (expected @SET KEY=VALUE)")
    return define_variable(name.strip(), value.strip(), file, line)


def _indent_level(text: str, indent: str, file: str, line: int) -> int:
    """Where the key starts, checked against the file's indentation (``check_indent``).

    The first indented entry of a file fixes its indentation string; every entry must start
    with exactly that string, or with it twice (Fluent Bit's group content, which outside a
    group belongs to the section).
    """
    level = 0
    while level < len(indent) and level < len(text) and text[level] == indent[level]:
        level += 1
    if level < len(indent):
        if level < len(text) and text[level] in _BLANKS:
            raise ConfigError(file, line, None, "invalid indentation level: inconsistent use of tab and space")
        raise ConfigError(file, line, None, "invalid indentation level: indentation level is too low")
    extra = 0
    while level + extra < len(text) and text[level + extra] in _BLANKS:
        extra += 1
    if extra and extra != level:
        raise ConfigError(file, line, None, "invalid indentation level: extra indentation level found")
    return level + extra


class ClassicReader(DocumentReader):
    """The classic format's lines into sections, ``@INCLUDE`` and ``@SET``."""

    def _read_text(self, text: str, path: str) -> None:
        indent: str | None = None
        section: Section | None = None
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw[:-1] if raw.endswith("\r") else raw
            stripped = line.strip(_BLANKS)
            if not stripped or stripped.startswith("#"):
                continue
            if line[0] == "@":
                self._command(line, path, number)
                continue
            if line[0] == "[":
                section = self._header(line, section, path, number)
                continue
            if line[0] not in _BLANKS:
                raise ConfigError(path, number, None, "invalid indentation level: key/value entries must be indented")
            if indent is None:
                indent = line[: len(line) - len(line.lstrip(_BLANKS))]
            start = _indent_level(line, indent, path, number)
            self._entry(line[start:], section, path, number)
        self._warn_if_empty(section)

    def _command(self, line: str, path: str, number: int) -> None:
        if line[: len(_INCLUDE)].lower() == _INCLUDE and line[len(_INCLUDE):].strip():
            for included in include_paths(line[len(_INCLUDE):].strip(), path, self.root, path, number):
                self._read_file(included, path, number)
            return
        command, _, params = line[1:].partition(" ")
        if command.lower() == "set":
            self.document.variables.append(set_variable(params, path, number))
        elif command.lower() == "include":
            raise ConfigError(path, number, None, "@INCLUDE needs a file name")
        else:
            self.document.warnings.append(
                ConfigWarning(path, number, None, f"unknown command '@{command}': ignored (known: @INCLUDE, @SET)")
            )

    def _header(self, line: str, previous: Section | None, path: str, number: int) -> Section:
        end = line.find("]")
        name = line[1:end].strip() if end > 0 else ""
        if not name:
            raise ConfigError(path, number, None, "bad header definition (expected [SECTION])")
        self._warn_if_empty(previous)
        section = Section(name.lower(), [], path, number)
        self.document.sections.append(section)
        return section

    def _entry(self, entry: str, section: Section | None, path: str, number: int) -> None:
        if entry.startswith("["):
            raise ConfigError(path, number, None, "nested groups inside a section are not supported by flb_fast")
        separator = next((i for i, char in enumerate(entry) if char in _BLANKS), len(entry))
        key, value = entry[:separator], entry[separator:].strip(_BLANKS)
        if not value:
            raise ConfigError(path, number, key, "key has an empty value")
        if section is None:
            raise ConfigError(path, number, key, "key/value entry outside of a section")
        section.properties.append(Property(key, value, path, number))

    def _warn_if_empty(self, section: Section | None) -> None:
        if section is not None and not section.properties:
            self.document.warnings.append(
                ConfigWarning(section.file, section.line, None, f"section [{section.kind.upper()}] has no keys")
            )


def read_classic(path: str) -> Document:
    """Read a classic-format file (and what it includes); raises ``ConfigError`` with file:line."""
    return ClassicReader(path).read()
