"""Option tables: each plugin declares its options once, as Fluent Bit's ``config_map`` does.

The same table validates a config section, produces the frozen options struct the plugin
reads, renders ``flb-fast -h <plugin>``, refuses unknown options with their file:line and
names the Fluent Bit options flb_fast does not implement yet, with what happens instead.
Values are converted with Fluent Bit's own rules (``flb_utils_size_to_bytes``,
``flb_utils_bool``, ``flb_utils_time_to_seconds``), so a config means what it meant there.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from flb_fast.config.errors import ConfigError, ConfigWarning, UnknownOptionError
from flb_fast.config.model import Property


class OptionType(enum.Enum):
    STR = "string"
    INT = "integer"
    DOUBLE = "double"
    BOOL = "boolean"
    SIZE = "size"
    BINARY_SIZE = "binary size"
    TIME = "time"
    CLIST = "comma-separated list"
    SLIST = "space-separated list"


STR = OptionType.STR
INT = OptionType.INT
DOUBLE = OptionType.DOUBLE
BOOL = OptionType.BOOL
SIZE = OptionType.SIZE
BINARY_SIZE = OptionType.BINARY_SIZE
TIME = OptionType.TIME
CLIST = OptionType.CLIST
SLIST = OptionType.SLIST

# Fluent Bit's flb_utils_size_to_bytes uses decimal units (KB = 1000), src/flb_utils.c.
_SIZE_UNITS = {"K": 1000, "M": 1000**2, "G": 1000**3}
# flb_utils_size_to_binary_bytes (same file) uses binary ones (KB = 1024), also spelled KiB.
_BINARY_SIZE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}
_SIZE_RE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-z]{0,2})\s*$")
_BINARY_SIZE_RE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-z]{0,3})\s*$")
_TIME_UNITS = {"": 1, "S": 1, "M": 60, "H": 3600, "D": 86400}
_TIME_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]?)\s*$")
_TRUE = frozenset({"true", "on", "yes"})
_FALSE = frozenset({"false", "off", "no"})


def parse_bool(value: str) -> bool:
    """``flb_utils_bool``: on/off, true/false, yes/no in any case; anything else is an error."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"invalid boolean '{value}' (expected on/off, true/false or yes/no)")


def parse_size(value: str) -> int:
    """``flb_utils_size_to_bytes``: ``5MB``, ``32k``, ``1.5G``; ``false`` is 0; units are decimal."""
    if value.strip().lower() == "false":
        return 0
    match = _SIZE_RE.match(value)
    if not match:
        raise ValueError(f"invalid size '{value}' (expected a number with an optional K, KB, M, MB, G or GB)")
    number, unit = float(match.group(1)), match.group(2).upper()
    if not unit:
        return int(number)
    if (len(unit) == 2 and unit[1] != "B") or unit[0] not in _SIZE_UNITS:
        raise ValueError(f"invalid size unit in '{value}' (expected K, KB, M, MB, G or GB)")
    return int(number * _SIZE_UNITS[unit[0]])


def parse_binary_size(value: str) -> int:
    """``flb_utils_size_to_binary_bytes``: ``2MB``, ``4k``, ``1MiB``; ``false`` is 0; units are binary."""
    if value.strip().lower() == "false":
        return 0
    match = _BINARY_SIZE_RE.match(value)
    expected = "expected a number with an optional K, KB, KiB, M, MB, MiB, G, GB or GiB"
    if not match:
        raise ValueError(f"invalid size '{value}' ({expected})")
    number, unit = float(match.group(1)), match.group(2).upper()
    if not unit:
        return int(number)
    if unit[0] not in _BINARY_SIZE_UNITS or unit[1:] not in ("", "B", "IB"):
        raise ValueError(f"invalid size unit in '{value}' ({expected})")
    return int(number * _BINARY_SIZE_UNITS[unit[0]])


def parse_time(value: str) -> float:
    """Seconds from ``10``, ``2.5``, ``30s``, ``5m``, ``1h``, ``7d`` (``flb_utils_time_to_seconds``).

    Fluent Bit's ``atoi`` reads ``abc`` as 0; we reject it, since a silent zero interval is
    never what the user meant.
    """
    match = _TIME_RE.match(value)
    if not match or match.group(2).upper() not in _TIME_UNITS:
        raise ValueError(f"invalid time '{value}' (expected seconds, optionally with s, m, h or d)")
    return float(match.group(1)) * _TIME_UNITS[match.group(2).upper()]


def parse_int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"invalid integer '{value}'") from None


def parse_double(value: str) -> float:
    try:
        return float(value.strip())
    except ValueError:
        raise ValueError(f"invalid number '{value}'") from None


def parse_clist(value: str) -> list[str]:
    """Comma-separated list, each entry trimmed (Fluent Bit's CLIST), empty entries dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_slist(value: str) -> list[str]:
    """Space-separated words, as ``flb_slist_split_tokens`` reads them: ``"a b"`` is one word
    (``\\"`` is a quote inside it; a quote left open runs to the end)."""
    words: list[str] = []
    position, length = 0, len(value)
    while position < length:
        while position < length and value[position] == " ":
            position += 1
        if position >= length:
            break
        if value[position] == '"':
            start = end = position + 1
            while end < length and not (value[end] == '"' and value[end - 1] != "\\"):
                end += 1
            if end < length or end > start:
                words.append(value[start:end].replace('\\"', '"'))
        else:
            start = position
            end = value.find(" ", start)
            end = length if end < 0 else end
            words.append(value[start:end])
        position = end + 1
    return words


_CONVERTERS = {
    STR: lambda value: value,
    INT: parse_int,
    DOUBLE: parse_double,
    BOOL: parse_bool,
    SIZE: parse_size,
    BINARY_SIZE: parse_binary_size,
    TIME: parse_time,
    CLIST: parse_clist,
    SLIST: parse_slist,
}

_PY_TYPES: dict[OptionType, Any] = {
    STR: str,
    INT: int,
    DOUBLE: float,
    BOOL: bool,
    SIZE: int,
    BINARY_SIZE: int,
    TIME: float,
    CLIST: list,
    SLIST: list,
}


def field_name(option_name: str) -> str:
    """The struct field for an option: ``DB.sync`` -> ``db_sync``, ``K8S-Logging.Parser`` -> ``k8s_logging_parser``."""
    return re.sub(r"[.\-]", "_", option_name.lower())


SEQUENCE_FIELD = "sequence"
"""The bound struct's field listing every value of a repeatable option in config order."""


class Repeated(msgspec.Struct, frozen=True):
    """One value of a repeatable option, with the line it came from.

    Bound options keep these in config order across option names (``sequence``): Fluent Bit's
    modify and grep apply their rules in the order of the filter's properties, whatever their
    kind, and a bad rule is reported at its own line.
    """

    field: str
    value: Any
    prop: Property


class Option(msgspec.Struct, frozen=True):
    """One option: its Fluent Bit name, type, default (as Fluent Bit writes it) and meaning.

    ``multi`` options may repeat (``Parsers_File``, ``rule``) and bind to a list of values.
    ``unsupported`` marks a Fluent Bit option flb_fast accepts but does not implement yet; it
    says what happens instead ("chunks are buffered in memory only"). Setting such an option to
    anything but its default is a warning at its file:line, and ``-h`` says it too.

    A ``prefix`` option is Fluent Bit's ``FLB_CONFIG_MAP_*_PREFIX``: any key that starts with its
    name and is no other option of the table sets it (tail's ``Parser_1`` ... ``Parser_N``); it
    binds, as a ``multi`` option, to the values in config order.
    """

    name: str
    type: OptionType
    default: str | None
    description: str
    multi: bool = False
    unsupported: str | None = None
    prefix: bool = False

    def __post_init__(self) -> None:
        if self.prefix and not self.multi:
            raise ValueError(f"prefix option '{self.name}' must be multi")

    @property
    def field(self) -> str:
        return field_name(self.name)

    def convert(self, value: str) -> Any:
        return _CONVERTERS[self.type](value)

    def default_value(self) -> Any:
        if self.multi:
            return [] if self.default is None else [self.convert(self.default)]
        return None if self.default is None else self.convert(self.default)

    def asks_unsupported(self, converted: Any) -> bool:
        """Whether a value given for an ``unsupported`` option asks for what flb_fast lacks.

        The default never does (``storage.type memory``, ``Hot_Reload Off``), in any case.
        """
        if self.unsupported is None:
            return False
        default = None if self.default is None else self.convert(self.default)
        if isinstance(converted, str) and isinstance(default, str):
            return converted.lower() != default.lower()
        return converted != default


class OptionTable:
    """An ordered set of options; later tables may be combined with ``+`` (base + plugin)."""

    def __init__(self, *options: Option) -> None:
        self._options: dict[str, Option] = {}
        for option in options:
            key = option.name.lower()
            if key in self._options:
                raise ValueError(f"option '{option.name}' declared twice")
            self._options[key] = option
        self._prefixes = [option for option in self._options.values() if option.prefix]
        self._struct: type[msgspec.Struct] | None = None

    def __add__(self, other: OptionTable) -> OptionTable:
        return OptionTable(*self._options.values(), *other._options.values())

    def __iter__(self) -> Iterable[Option]:
        return iter(self._options.values())

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def get(self, name: str) -> Option | None:
        key = name.lower()
        option = self._options.get(key)
        if option is None:
            option = next((prefix for prefix in self._prefixes if key.startswith(prefix.name.lower())), None)
        return option

    def struct_type(self, struct_name: str = "Options") -> type[msgspec.Struct]:
        if self._struct is None:
            if SEQUENCE_FIELD in (opt.field for opt in self._options.values()):
                raise ValueError(f"option field '{SEQUENCE_FIELD}' is reserved")
            fields = [
                (opt.field, list if opt.multi else (_PY_TYPES[opt.type] | None), msgspec.field(default=None))
                for opt in self._options.values()
            ]
            fields.append((SEQUENCE_FIELD, tuple, msgspec.field(default=())))
            self._struct = msgspec.defstruct(struct_name, fields, frozen=True, kw_only=True)
        return self._struct

    def bind(self, properties: Iterable[Property], context: str) -> tuple[Any, list[ConfigWarning]]:
        """Convert a section's properties into the frozen options struct.

        A bad value raises ``ConfigError`` naming file:line and the option. Warnings name each
        ``unsupported`` option given a value other than its default, and each option the table
        does not declare (ignored here: ``[SERVICE]`` and parsers files tolerate them as Fluent
        Bit does; plugin sections are checked first with ``check_properties``).
        """
        values: dict[str, Any] = {opt.field: opt.default_value() for opt in self._options.values()}
        seen_multi: set[str] = set()
        sequence: list[Repeated] = []
        warnings: list[ConfigWarning] = []
        for prop in properties:
            option = self.get(prop.key)
            if option is None:
                warnings.append(
                    ConfigWarning(prop.file, prop.line, prop.key, f"unknown option '{prop.key}' for {context}: ignored")
                )
                continue
            try:
                converted = option.convert(prop.value)
            except ValueError as exc:
                raise ConfigError(prop.file, prop.line, prop.key, f"{context}: {exc}") from None
            if option.asks_unsupported(converted):
                warnings.append(ConfigWarning(prop.file, prop.line, option.name,
                                              f"{context}: option '{option.name}' is not supported yet by flb_fast: "
                                              f"{option.unsupported}"))
            if option.multi:
                if option.field not in seen_multi:
                    values[option.field] = []
                    seen_multi.add(option.field)
                values[option.field].append(converted)
                sequence.append(Repeated(option.field, converted, prop))
            else:
                values[option.field] = converted
        values[SEQUENCE_FIELD] = tuple(sequence)
        return self.struct_type()(**values), warnings

    def check_properties(
        self, properties: Iterable[Property], plugin: str, shared: OptionTable, hint: str | None = None
    ) -> list[ConfigError]:
        """Fluent Bit's ``flb_config_map_properties_check`` for a plugin section, ``self`` being
        the plugin's own table and ``shared`` the options every plugin of its kind accepts.

        An unknown option is an error listing the plugin's own options in Fluent Bit's words,
        plus the closest known name; one of the plugin's own options set twice (and not ``multi``)
        is an error too. Both stop the start, as they do in Fluent Bit; ``hint`` follows an
        unknown option (``try the command: flb-fast -i dummy -h``).
        """
        properties = list(properties)
        errors: list[ConfigError] = []
        seen: dict[str, int] = {}
        for prop in properties:
            key = prop.key.lower()
            option = self.get(key)
            if option is None and key not in shared:
                error = UnknownOptionError(prop.file, prop.line, key, self._unknown_message(plugin, prop.key, shared))
                error.hint = hint
                errors.append(error)
            elif option is not None and not option.multi:
                seen[key] = seen.get(key, 0) + 1
                if seen[key] == 2:
                    count = sum(1 for other in properties if other.key.lower() == key)
                    errors.append(UnknownOptionError(prop.file, prop.line, key,
                                                     f"{plugin}: configuration property '{key}' is set {count} times"))
        return errors

    def _unknown_message(self, plugin: str, key: str, shared: OptionTable) -> str:
        names = [opt.name for opt in self._options.values()]
        message = f"{plugin}: unknown configuration property '{key.lower()}'"
        if names:
            listed = f"{names[0]}." if len(names) == 1 else f"{', '.join(names[:-1])}, and {names[-1]}."
            message += f". The following properties are allowed: {listed}"
        import difflib  # only a config with a misspelt option needs it

        known = {opt.name.lower(): opt.name for opt in (*shared._options.values(), *self._options.values())}
        close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.75)
        if close:
            message += f" Did you mean '{_spelled_like(known[close[0]], key)}'?"
        return message

    def help_lines(self) -> list[str]:
        """``flb-fast -h <plugin>`` text: name, type, default and meaning of each option, and what
        happens instead when flb_fast does not implement it yet."""
        width = max((len(opt.name) for opt in self._options.values()), default=0)
        lines = []
        for opt in self._options.values():
            default = "" if opt.default is None else f" (default: {opt.default})"
            multi = ", may repeat" if opt.multi else ""
            text = f"  {opt.name.ljust(width)}  {opt.type.value}{multi}{default}\n  {' ' * width}  {opt.description}"
            if opt.unsupported:
                text += f"\n  {' ' * width}  not supported yet by flb_fast: {opt.unsupported}"
            lines.append(text)
        return lines


def _spelled_like(name: str, typed: str) -> str:
    """``name`` in the user's style: ``Mem_Buf_Limit`` for ``Mem_Buf_Limt``, ``mem_buf_limit`` for ``mem_buf_limt``."""
    if typed == typed.lower():
        return name
    return re.sub(r"(^|[_.\-])([a-z])", lambda match: match.group(1) + match.group(2).upper(), name)
