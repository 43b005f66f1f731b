"""Fluent Bit's YAML format into the same ``Document`` the classic reader produces.

The file is composed, not constructed: every scalar stays the text the user wrote (``on``
stays ``on``, ``1.0`` stays ``1.0``), exactly as Fluent Bit's libyaml event reader sees it,
and every node keeps its line. A list value becomes repeated properties (``parsers_file``,
``rename``), and a multiline parser's ``rules:`` become ``rule`` properties in the classic
form ``"state" "regex" "next"``, so the rest of flb_fast sees one shape whatever the format.
"""

from __future__ import annotations

import yaml

from flb_fast.config.classic import Document, DocumentReader, define_variable, include_paths
from flb_fast.config.errors import ConfigError, ConfigWarning
from flb_fast.config.model import Property, Section

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PIPELINE_SECTIONS = {"inputs": "input", "filters": "filter", "outputs": "output"}
TOP_LEVEL_LISTS = {"parsers": "parser", "multiline_parsers": "multiline_parser"}
# Top-level keys of Fluent Bit's YAML that name features flb_fast does not have: the loader
# warns about the section kind they map to.
UNSUPPORTED_TOP_LEVEL = {"plugins": "plugins", "upstream_servers": "upstream_servers", "customs": "custom",
                         "stream_processor": "stream_processor"}
RULE_KEYS = ("state", "regex", "next_state")
# Sections that take a ``processors:`` mapping, and the signals other than logs it may list.
PROCESSOR_OWNERS = ("input", "output")
OTHER_SIGNALS = ("metrics", "traces", "profiles")


def translate_key(key: str) -> str:
    """``flb_cf_key_translate`` for YAML: a strict camelCase key becomes snake_case.

    Only keys that start lowercase and have no underscore are translated (``logLevel`` ->
    ``log_level``); ``Mem_Buf_Limit`` and ``storage.path`` are kept as written.
    """
    if not key or not key[0].islower() or "_" in key:
        return key
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in key)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_missing(node: yaml.Node) -> bool:
    """A plain scalar with no text (``key:``). ``null`` and ``~`` are text, as libyaml gives them
    to Fluent Bit: ``name: null`` is the null output."""
    return isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style


def quote_rule_field(value: str) -> str:
    """A field of a classic ``rule`` value: quoted, with ``"`` escaped as ``flb_slist`` unescapes it."""
    return '"' + value.replace('"', '\\"') + '"'


class YamlReader(DocumentReader):
    """A YAML file's top-level keys into sections, ``includes:`` and ``env:``."""

    def _read_text(self, text: str, path: str) -> None:
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(path, mark.line + 1 if mark else None, None, f"invalid YAML: {problem}") from None
        if root is None:
            return
        for key_node, value in self._mapping(root, path, "the top level").value:
            name = key_node.value.lower()
            if name == "env":
                self._env(value, path)
            elif name == "includes":
                for item in self._sequence(value, path, "includes"):
                    included = self._scalar(item, path, "includes")
                    for include in include_paths(included, path, self.root, path, _line(item)):
                        self._read_file(include, path, _line(item))
            elif name == "service":
                self._add_section("service", value, path)
            elif name == "pipeline":
                self._pipeline(value, path)
            elif name in TOP_LEVEL_LISTS:
                for item in self._sequence(value, path, name):
                    self._add_section(TOP_LEVEL_LISTS[name], item, path)
            elif name in UNSUPPORTED_TOP_LEVEL:
                self.document.sections.append(Section(UNSUPPORTED_TOP_LEVEL[name], [], path, _line(key_node)))
            else:
                raise ConfigError(path, _line(key_node), None, f"unknown section '{key_node.value}'")

    def _env(self, node: yaml.Node, path: str) -> None:
        for key_node, value in self._mapping(node, path, "env").value:
            text = self._scalar(value, path, key_node.value)
            self.document.variables.append(define_variable(key_node.value, text, path, _line(key_node)))

    def _pipeline(self, node: yaml.Node, path: str) -> None:
        for key_node, value in self._mapping(node, path, "pipeline").value:
            kind = PIPELINE_SECTIONS.get(key_node.value.lower())
            if kind is None:
                raise ConfigError(path, _line(key_node), None,
                                  f"unknown pipeline section '{key_node.value}' (expected inputs, filters or outputs)")
            for item in self._sequence(value, path, key_node.value):
                self._add_section(kind, item, path)

    def _add_section(self, kind: str, node: yaml.Node, path: str) -> None:
        self.document.sections.append(self._section(kind, node, path))

    def _section(self, kind: str, node: yaml.Node, path: str) -> Section:
        section = Section(kind, [], path, _line(node))
        for key_node, value in self._mapping(node, path, kind).value:
            if kind in PROCESSOR_OWNERS and self._scalar(key_node, path, "a key").lower() == "processors":
                section.processors.extend(self._processors(value, path))
            else:
                section.properties.extend(self._properties(kind, key_node, value, path))
        return section

    def _processors(self, node: yaml.Node, path: str) -> list[Section]:
        """``processors:`` by signal: the ``logs`` list becomes processor sections; flb_fast carries
        no metrics or traces, so their lists are ignored with a warning."""
        units: list[Section] = []
        for key_node, value in self._mapping(node, path, "processors").value:
            signal = key_node.value.lower()
            if signal == "logs":
                units.extend(self._section("processor", item, path) for item in self._sequence(value, path, "logs"))
            elif signal in OTHER_SIGNALS:
                self.document.warnings.append(ConfigWarning(
                    path, _line(key_node), key_node.value,
                    f"{key_node.value} processors are ignored: flb_fast carries logs only"))
            else:
                raise ConfigError(path, _line(key_node), key_node.value,
                                  f"unknown processors type '{key_node.value}' (expected logs, metrics or traces)")
        return units

    def _properties(self, kind: str, key_node: yaml.Node, value: yaml.Node, path: str) -> list[Property]:
        key = translate_key(self._scalar(key_node, path, "a key"))
        if isinstance(value, yaml.ScalarNode):
            if _is_missing(value):
                raise ConfigError(path, _line(key_node), key, "key has an empty value")
            return [Property(key, value.value, path, _line(value))]
        if kind == "multiline_parser" and key.lower() == "rules":
            return [self._rule(item, path) for item in self._sequence(value, path, key)]
        if isinstance(value, yaml.SequenceNode):
            return [Property(key, self._scalar(item, path, key), path, _line(item)) for item in value.value]
        if key.lower() == "processors":
            raise ConfigError(path, _line(key_node), key, "processors are only for inputs and outputs")
        raise ConfigError(path, _line(key_node), key, "expected a value or a list of values, not a mapping")

    def _rule(self, node: yaml.Node, path: str) -> Property:
        """One ``rules:`` entry as the classic ``rule "state" "regex" "next_state"``."""
        fields = {key.value.lower(): value for key, value in self._mapping(node, path, "rules").value}
        missing = [name for name in RULE_KEYS if name not in fields]
        if missing:
            raise ConfigError(path, _line(node), "rules", f"rule needs {', '.join(missing)}")
        value = " ".join(quote_rule_field(self._scalar(fields[name], path, name)) for name in RULE_KEYS)
        return Property("rule", value, path, _line(node))

    @staticmethod
    def _mapping(node: yaml.Node, path: str, where: str) -> yaml.MappingNode:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(path, _line(node), None, f"expected a mapping in {where}")
        return node

    @staticmethod
    def _sequence(node: yaml.Node, path: str, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(path, _line(node), None, f"expected a list in {where}")
        return node.value

    @staticmethod
    def _scalar(node: yaml.Node, path: str, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or _is_missing(node):
            raise ConfigError(path, _line(node), None, f"expected a value for {where}")
        return node.value


def read_yaml(path: str) -> Document:
    """Read a YAML config file (and what it includes); raises ``ConfigError`` with file:line."""
    return YamlReader(path).read()
