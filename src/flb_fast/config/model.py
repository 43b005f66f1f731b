"""The one config model both file formats (classic and YAML) load into.

Every value keeps the file and line it came from, so that any later check, in the option
tables or in a plugin, can point the user at the exact place.

The classes are ``msgspec.Struct`` classes: created at start-up without generating and compiling
code, unlike ``@dataclass`` (a tenth of the CPU per class), with the same init, eq, hash and repr.
"""

from __future__ import annotations

from msgspec import Struct, field


class Property(Struct, frozen=True):
    key: str
    value: str
    file: str | None = None
    line: int | None = None


class Section(Struct):
    """``[INPUT]``, ``[FILTER]``, ... with its properties in file order (keys may repeat)."""

    kind: str
    properties: list[Property] = field(default_factory=list)
    file: str | None = None
    line: int | None = None
    # An input's or output's ``processors: logs:`` list (YAML only), each a "processor" section.
    processors: list[Section] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        """The last value given for ``key`` (case-insensitive), as Fluent Bit's property lookup."""
        found = None
        for prop in self.properties:
            if prop.key.lower() == key.lower():
                found = prop.value
        return found

    def find(self, key: str) -> Property | None:
        found = None
        for prop in self.properties:
            if prop.key.lower() == key.lower():
                found = prop
        return found

    @property
    def plugin_name(self) -> str | None:
        name = self.get("name")
        return name.strip().lower() if name else None


class Config(Struct):
    """A whole loaded configuration: the service section and the pipeline, in file order."""

    path: str | None = None
    service: Section = field(default_factory=lambda: Section("service"))
    inputs: list[Section] = field(default_factory=list)
    filters: list[Section] = field(default_factory=list)
    outputs: list[Section] = field(default_factory=list)
    parsers: list[Section] = field(default_factory=list)
    multiline_parsers: list[Section] = field(default_factory=list)
    parsers_files: list[Property] = field(default_factory=list)
