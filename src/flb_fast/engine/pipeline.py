"""Build the pipeline a config describes: plugin instances with bound options, names and counters.

Everything that can be wrong in a config is found here, before anything runs, and reported
with its file:line: an unknown plugin, a bad option value, a bad ``Match_Regex``, a plugin
constructor's ``PluginConfigError``. Nothing here does I/O that could fail at run time
(plugins open files and sockets in ``start()``).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flb_fast import registry
from flb_fast.config.common import FILTER_BASE, INPUT_BASE, OUTPUT_BASE
from flb_fast.config.errors import ConfigError, ConfigErrors, ConfigWarning, PluginConfigError
from flb_fast.config.model import Config, Property, Section
from flb_fast.config.options import OptionTable, field_name
from flb_fast.config.service import SERVICE_OPTIONS
from flb_fast.engine.router import TagMatcher
from flb_fast.engine.scheduler import parse_retry_limit
from flb_fast.log import plugin_logger
from flb_fast.metrics import Metrics
from flb_fast.parsers.base import ParserRegistry
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

BASE_TABLE: dict[str, OptionTable] = {"input": INPUT_BASE, "filter": FILTER_BASE, "output": OUTPUT_BASE}

Sink = Callable[["InputInstance", Chunk], None]

# Options of the shared tables that flb_fast accepts but does not act on yet: a test of the
# bound value saying the user asked for the feature, and what happens instead.
UNSUPPORTED: dict[str, tuple[tuple[str, Callable[[Any], bool], str], ...]] = {
    "service": (
        ("daemon", bool, "run flb-fast under a supervisor instead"),
        ("plugins_file", lambda v: v is not None, "ignored"),
        ("streams_file", lambda v: v is not None, "ignored"),
        ("storage.path", lambda v: v is not None, "chunks are buffered in memory only"),
        ("storage.metrics", bool, "/api/v1/storage is not served"),
        ("hot_reload", bool, "restart the agent to apply a new config"),
    ),
    "input": (
        ("storage.type", lambda v: v.lower() != "memory", "chunks are buffered in memory"),
        ("storage.pause_on_chunks_overlimit", bool, "ignored"),
    ),
    "filter": (),
    "output": (("storage.total_limit_size", lambda v: v is not None, "ignored"),),
}


@dataclass(eq=False)
class Instance:
    """One configured plugin instance: ``tail.0``, ``kubernetes.0``, ``cloudwatch_logs.1``."""

    kind: str
    plugin_name: str
    name: str
    options: Any
    ctx: PluginContext = field(init=False)
    plugin: Any = field(init=False)

    @property
    def display_name(self) -> str:
        """The ``Alias`` when set, else the instance name: how metrics and logs name it."""
        return self.ctx.display_name


@dataclass(eq=False)
class InputInstance(Instance):
    mem_buf_limit: int = 0
    routable: bool = True
    sink: Sink | None = None

    def emit(self, chunk: Chunk) -> None:
        """``ctx.emit``: hand a batch to the engine (synchronous; may pause this input)."""
        if self.sink is None:
            raise RuntimeError(f"{self.name} emitted records before the engine started")
        self.sink(self, chunk)


@dataclass(eq=False)
class FilterInstance(Instance):
    matcher: TagMatcher = field(default_factory=lambda: TagMatcher(None, None))


@dataclass(eq=False)
class OutputInstance(Instance):
    matcher: TagMatcher = field(default_factory=lambda: TagMatcher(None, None))
    retry_limit: int = 1
    workers: int = 1


@dataclass
class Pipeline:
    """What ``engine.Engine`` runs: the service options and the instances in config order."""

    config: Config
    service: Any
    parsers: ParserRegistry
    metrics: Metrics
    inputs: list[InputInstance]
    filters: list[FilterInstance]
    outputs: list[OutputInstance]


def build(config: Config) -> tuple[Pipeline, list[ConfigWarning]]:
    """Validate ``config`` and create every plugin instance.

    Every section is checked even after one failed, and ``ConfigErrors`` lists all the errors:
    a user fixing a config wants each of them at once (``flb-fast --dry-run``).
    """
    from flb_fast.parsers import build_registry

    warnings: list[ConfigWarning] = []
    service, service_warnings = SERVICE_OPTIONS.bind(config.service.properties, "[SERVICE]")
    warnings.extend(service_warnings)
    warnings.extend(_unsupported("service", "[SERVICE]", service, config.service))
    parsers = build_registry(config)
    metrics = Metrics()
    numbering: dict[tuple[str, str], int] = defaultdict(int)
    conf_path = os.path.dirname(os.path.abspath(config.path)) if config.path else None

    def make(kind: str, section: Section) -> Instance:
        name_prop = section.find("name")
        if name_prop is None or not name_prop.value.strip():
            raise ConfigError(section.file, section.line, "Name", f"[{kind.upper()}] section without a 'Name'")
        plugin_name = name_prop.value.strip().lower()
        try:
            cls = registry.load(kind, plugin_name)
        except KeyError as exc:
            raise ConfigError(name_prop.file, name_prop.line, "Name", str(exc.args[0])) from None
        number = numbering[(kind, plugin_name)]
        numbering[(kind, plugin_name)] += 1
        instance_name = f"{plugin_name}.{number}"
        properties = list(section.properties)
        if kind == "input" and section.find("tag") is None:
            # Fluent Bit tags an input's records with its instance name when Tag is unset.
            properties.append(Property("Tag", instance_name, section.file, section.line))
        table = BASE_TABLE[kind] + cls.OPTIONS
        options, bind_warnings = table.bind(properties, f"[{kind.upper()}] {plugin_name}")
        warnings.extend(bind_warnings)
        warnings.extend(_unsupported(kind, instance_name, options, section))
        instance = _new_instance(kind, cls, plugin_name, instance_name, options, section, warnings)
        display = options.alias or instance_name
        instance.ctx = PluginContext(
            kind=kind,
            plugin=plugin_name,
            instance=instance_name,
            display_name=display,
            log=plugin_logger(kind, plugin_name, instance_name, options.log_level),
            metrics=metrics.register(kind, display),
            parsers=parsers,
            service=service,
            emit=instance.emit if isinstance(instance, InputInstance) else None,
            conf_path=conf_path,
        )
        try:
            instance.plugin = cls(instance.ctx, options)
        except PluginConfigError as exc:
            where = section.find(exc.option) if exc.option else None
            where = where or name_prop
            raise ConfigError(where.file, where.line, exc.option, f"{instance_name}: {exc.message}") from None
        # A plugin names options it accepts but does not honour yet; the warning points at their line.
        for option, message in getattr(instance.plugin, "config_warnings", ()):
            where = section.find(option) or name_prop
            warnings.append(ConfigWarning(where.file, where.line, option, f"{instance_name}: {message}"))
        return instance

    errors: list[ConfigError] = []

    def make_all(kind: str, sections: list[Section]) -> list[Any]:
        made = []
        for section in sections:
            try:
                made.append(make(kind, section))
            except ConfigError as exc:
                errors.append(exc)
        return made

    inputs = make_all("input", config.inputs)
    filters = make_all("filter", config.filters)
    outputs = make_all("output", config.outputs)
    if errors:
        raise ConfigErrors(errors, warnings)
    pipeline = Pipeline(config, service, parsers, metrics, inputs, filters, outputs)  # type: ignore[arg-type]
    return pipeline, warnings


def _unsupported(kind: str, owner: str, options: Any, section: Section) -> list[ConfigWarning]:
    found = []
    for option, asked, instead in UNSUPPORTED[kind]:
        value = getattr(options, field_name(option))
        if value is not None and asked(value):
            prop = section.find(option)
            found.append(ConfigWarning(prop.file if prop else section.file, prop.line if prop else section.line,
                                       option, f"{owner}: option '{option}' is not supported yet by flb_fast: "
                                       f"{instead}"))
    return found


def _new_instance(
    kind: str, cls: Any, plugin_name: str, name: str, options: Any, section: Section,
    warnings: list[ConfigWarning],
) -> Instance:
    if kind == "input":
        return InputInstance(kind, plugin_name, name, options, mem_buf_limit=options.mem_buf_limit or 0,
                             routable=bool(options.routable))
    matcher = _matcher(name, options, section, warnings)
    if kind == "filter":
        return FilterInstance(kind, plugin_name, name, options, matcher=matcher)
    retry_limit, valid = parse_retry_limit(options.retry_limit)
    if not valid:
        prop = section.find("retry_limit")
        warnings.append(ConfigWarning(prop.file if prop else section.file, prop.line if prop else section.line,
                                      "Retry_Limit", f"{name}: invalid Retry_Limit '{options.retry_limit}': "
                                      f"using the default, 1"))
    workers = cls.default_workers if options.workers is None else options.workers
    return OutputInstance(kind, plugin_name, name, options, matcher=matcher, retry_limit=retry_limit,
                          workers=max(1, workers))


def _matcher(name: str, options: Any, section: Section, warnings: list[ConfigWarning]) -> TagMatcher:
    try:
        matcher = TagMatcher(options.match, options.match_regex)
    except re.error as exc:
        prop = section.find("match_regex")
        raise ConfigError(prop.file if prop else section.file, prop.line if prop else section.line,
                          "Match_Regex", f"{name}: invalid regular expression: {exc}") from None
    if matcher.matches_nothing:
        warnings.append(ConfigWarning(section.file, section.line, "Match",
                                      f"{name} has no 'Match' or 'Match_Regex': it receives no records"))
    return matcher
