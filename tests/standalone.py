"""One plugin built outside an engine, as the engine builds it: its kind's base table plus its own
options bound from config-file properties, and a context of its own (real counters, a Fluent
Bit-style logger, the default [SERVICE])."""

from __future__ import annotations

from typing import Any

from flb_fast.config.common import FILTER_BASE, INPUT_BASE, OUTPUT_BASE
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
    kind = "input" if issubclass(cls, Input) else "filter" if issubclass(cls, Filter) else "output"
    base = {"input": INPUT_BASE, "filter": FILTER_BASE, "output": OUTPUT_BASE}[kind]
    lines = [
        (key, value) for key, values in options.items() for value in (values if isinstance(values, list) else [values])
    ]
    properties = [Property(key, value, "test.conf", number) for number, (key, value) in enumerate(lines, 1)]
    bound, warnings = (base + cls.OPTIONS).bind(properties, f"[{kind.upper()}] {cls.name}")
    assert warnings == []
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
