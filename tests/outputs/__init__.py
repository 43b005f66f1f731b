"""Output plugin tests; ``plugin_for`` builds a plugin from option strings as the engine would."""

from __future__ import annotations

from typing import Any

from flb_fast.config.common import INPUT_BASE, OUTPUT_BASE
from flb_fast.config.model import Property
from flb_fast.config.service import SERVICE_OPTIONS
from flb_fast.log import plugin_logger
from flb_fast.metrics import Metrics
from flb_fast.parsers.base import ParserRegistry
from flb_fast.plugin import PluginContext


def plugin_for(cls: Any, emit: Any = None, **options: str) -> Any:
    """``cls`` bound to ``options`` (keys as in a config, ``_`` for ``.``) with its own context."""
    kind = "input" if emit is not None else "output"
    base = INPUT_BASE if kind == "input" else OUTPUT_BASE
    properties = [Property(key, value, "test.conf", number) for number, (key, value) in enumerate(options.items(), 1)]
    bound, warnings = (base + cls.OPTIONS).bind(properties, f"[{kind.upper()}] {cls.name}")
    assert warnings == []
    instance = f"{cls.name}.0"
    service, _ = SERVICE_OPTIONS.bind([], "[SERVICE]")
    ctx = PluginContext(kind, cls.name, instance, instance, plugin_logger(kind, cls.name, instance),
                        Metrics().register(kind, instance), ParserRegistry(), service, emit)
    return cls(ctx, bound)
