"""One plugin built outside an engine, as the engine builds it: its kind's base table plus its own
options bound from config-file properties, and a context of its own (real counters, a Fluent
Bit-style logger, the default [SERVICE])."""

from __future__ import annotations

from typing import Any

from flb_fast.config.common import BASE_TABLES, plugin_table
from flb_fast.config.model import Property
from flb_fast.config.service import SERVICE_OPTIONS
from flb_fast.filters.base import Filter
from flb_fast.inputs.base import Input
from flb_fast.log import plugin_logger
from flb_fast.metrics import Metrics
from flb_fast.parsers.base import ParserRegistry
from flb_fast.plugin import PluginContext


def plugin_for(cls: Any, emit: Any = None, parsers: ParserRegistry | None = None, **options: str | list[str]) -> Any:
    """``cls`` bound to ``options`` (keys as in a config file, each on its own line of test.conf;
    a list is the key repeated, one line per value, as ``Parser`` may be).

    An input emits through ``emit``; a filter finds its parsers in ``parsers`` (none by default).
    """
    kind, bound, _warnings = _bind(cls, options)
    instance = f"{cls.name}.0"
    service, _ = SERVICE_OPTIONS.bind([], "[SERVICE]")
    ctx = PluginContext(
        kind,
        cls.name,
        instance,
        instance,
        plugin_logger(kind, cls.name, instance),
        Metrics().register(kind, instance),
        parsers or ParserRegistry(),
        service,
        emit,
    )
    return cls(ctx, bound)


def config_warnings_for(cls: Any, **options: str | list[str]) -> list[str]:
    """The warnings binding ``options`` gives (``test.conf:<line>: ...``), as the engine logs them."""
    return [str(warning) for warning in _bind(cls, options)[2]]


def _bind(cls: Any, options: dict[str, str | list[str]]) -> tuple[str, Any, list[Any]]:
    kind = "input" if issubclass(cls, Input) else "filter" if issubclass(cls, Filter) else "output"
    lines = [
        (key, value) for key, values in options.items() for value in (values if isinstance(values, list) else [values])
    ]
    properties = [Property(key, value, "test.conf", number) for number, (key, value) in enumerate(lines, 1)]
    assert cls.OPTIONS.check_properties(properties, cls.name, BASE_TABLES[kind]) == []
    bound, warnings = plugin_table(kind, cls.OPTIONS).bind(properties, f"[{kind.upper()}] {cls.name}")
    return kind, bound, warnings
