"""Build the pipeline a config describes: plugin instances with bound options, names and counters.

Everything that can be wrong in a config is found here, before anything runs, and reported
with its file:line: an unknown plugin, a bad option value, a bad ``Match_Regex``, a plugin
constructor's ``PluginConfigError``. Nothing here does I/O that could fail at run time
(plugins open files and sockets in ``start()``).

The instance classes are ``msgspec.Struct`` classes: created at start-up without generating and
compiling code, unlike ``@dataclass``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from msgspec import Struct, field

from flb_fast import registry
from flb_fast.config.common import BASE_TABLES, plugin_table
from flb_fast.config.errors import ConfigError, ConfigErrors, ConfigWarning, PluginConfigError
from flb_fast.config.model import Config, Property, Section
from flb_fast.config.service import SERVICE_OPTIONS
from flb_fast.engine.router import TagMatcher
from flb_fast.engine.scheduler import parse_retry_limit
from flb_fast.log import plugin_logger
from flb_fast.metrics import STANDARD_COUNTERS, Counters, Metrics
from flb_fast.parsers.base import ParserRegistry
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

# Fluent Bit's storage.type values (flb_input.c) and storage.sync modes (flb_storage.c).
STORAGE_TYPES = frozenset({"memory", "memrb", "filesystem"})
STORAGE_SYNC_MODES = frozenset({"normal", "full"})

# The engine's entry for an input's batches; the int is the first of the input's processors to run.
Sink = Callable[["InputInstance", Chunk, int], None]

# The flag that names a plugin of each kind on fluent-bit's (and flb-fast's) command line.
KIND_FLAGS = {"input": "-i", "filter": "-F", "output": "-o", "processor": "-F"}


class Instance(Struct, eq=False):
    """One configured plugin instance: ``tail.0``, ``kubernetes.0``, ``cloudwatch_logs.1``."""

    kind: str
    plugin_name: str
    name: str
    options: Any
    # Set by ``build`` once the instance exists (its context holds the instance's own ``emit`` and
    # ``room``), then the plugin made with that context; None until then.
    ctx: PluginContext = None  # type: ignore[assignment]
    plugin: Any = None

    @property
    def display_name(self) -> str:
        """The ``Alias`` when set, else the instance name: how metrics and logs name it."""
        return self.ctx.display_name


class InputInstance(Instance):
    mem_buf_limit: int = 0
    routable: bool = True
    sink: Sink | None = None
    # The engine's reading of what this input may still hold (``room``).
    gauge: Callable[[InputInstance], int | None] | None = None
    # What stops the running engine, as a signal would (``request_exit``).
    exiter: Callable[[], None] | None = None
    # ``processors: logs:`` (YAML): run on every batch before it is counted, filtered and routed.
    processors: list[FilterInstance] = field(default_factory=list)
    # For the emitter input of a filter that re-emits records (rewrite_tag, multiline): that filter.
    emitter_of: FilterInstance | None = None

    def emit(self, chunk: Chunk) -> None:
        """``ctx.emit``: hand a batch to the engine (synchronous; may pause this input)."""
        if self.sink is None:
            raise RuntimeError(f"{self.name} emitted records before the engine started")
        self.sink(self, chunk, 0)

    def room(self) -> int | None:
        """``ctx.room``: bytes of records this input may still hold before its ``Mem_Buf_Limit``
        pauses it (batches in the filters counted as they will be once filtered); None without a limit."""
        return None if self.gauge is None else self.gauge(self)

    def request_exit(self) -> None:
        """``ctx.request_exit``: ask the agent to stop within ``Grace`` (``flb_engine_exit``)."""
        if self.exiter is None:
            raise RuntimeError(f"{self.name} asked the agent to stop before the engine started")
        self.exiter()

    def emit_after(self, stage: int, chunk: Chunk) -> None:
        """A batch the processor at ``stage`` puts back into this input: the processors after it,
        then the filters and routing (``flb_input_log_append_skip_processor_stages``)."""
        if self.sink is None:
            raise RuntimeError(f"{self.name} emitted records before the engine started")
        self.sink(self, chunk, stage + 1)


class FilterInstance(Instance):
    matcher: TagMatcher = field(default_factory=lambda: TagMatcher(None, None))


class OutputInstance(Instance):
    matcher: TagMatcher = field(default_factory=lambda: TagMatcher(None, None))
    retry_limit: int = 1
    workers: int = 1
    # ``processors: logs:`` (YAML): run on this output's own copy of each chunk before its flush.
    processors: list[FilterInstance] = field(default_factory=list)


class Pipeline(Struct):
    """What ``engine.Engine`` runs: the service options and the instances in config order."""

    config: Config
    service: Any
    parsers: ParserRegistry
    metrics: Metrics
    inputs: list[InputInstance]
    filters: list[FilterInstance]
    outputs: list[OutputInstance]

    @property
    def processors(self) -> list[FilterInstance]:
        """Every input's and output's processor units."""
        return [unit for owner in [*self.inputs, *self.outputs] for unit in owner.processors]


def build(config: Config) -> tuple[Pipeline, list[ConfigWarning]]:
    """Validate ``config`` and create every plugin instance.

    Every section is checked even after one failed, and ``ConfigErrors`` lists all the errors:
    a user fixing a config wants each of them at once (``flb-fast --dry-run``).
    """
    from flb_fast.parsers import build_registry

    warnings: list[ConfigWarning] = []
    service, service_warnings = SERVICE_OPTIONS.bind(config.service.properties, "[SERVICE]")
    warnings.extend(service_warnings)
    errors: list[ConfigError] = []
    if service.storage_sync.lower() not in STORAGE_SYNC_MODES:
        prop = config.service.find("storage.sync")
        errors.append(ConfigError(prop.file if prop else None, prop.line if prop else None, "storage.sync",
                                  f"invalid synchronization mode '{service.storage_sync}': normal or full"))
    parsers = build_registry(config)
    metrics = Metrics()
    # Fluent Bit numbers instances per kind, whatever their plugin (flb_input_new: ``ins->id``):
    # dummy.0, tail.1; metrics, logs and default emitter names carry these names.
    numbering: dict[str, int] = defaultdict(int)
    # Every input by instance name, emitters included; emitters look up the inputs they pause in it.
    inputs_by_name: dict[str, Any] = {}
    emitters: list[InputInstance] = []
    conf_path = os.path.dirname(os.path.abspath(config.path)) if config.path else None

    def make(kind: str, section: Section) -> Instance:
        name_prop = section.find("name")
        if name_prop is None or not name_prop.value.strip():
            raise ConfigError(section.file, section.line, "Name", f"[{kind.upper()}] section without a 'Name'")
        plugin_name = name_prop.value.strip().lower()
        try:
            cls = _load(kind, plugin_name)
        except KeyError as exc:
            raise ConfigError(name_prop.file, name_prop.line, "Name", str(exc.args[0])) from None
        # A filter in a processors list is a filter instance (flb_filter instance properties and numbers).
        base = "filter" if kind == "processor" and plugin_name not in registry.PROCESSORS else kind
        number = numbering[base]
        numbering[base] += 1
        instance_name = f"{plugin_name}.{number}"
        properties = list(section.properties)
        if kind == "input" and section.find("tag") is None:
            # Fluent Bit tags an input's records with its instance name when Tag is unset.
            properties.append(Property("Tag", instance_name, section.file, section.line))
        unknown = cls.OPTIONS.check_properties(properties, plugin_name, BASE_TABLES[base],
                                               f"try the command: flb-fast {KIND_FLAGS[kind]} {plugin_name} -h")
        if unknown:
            raise ConfigErrors(unknown, [])
        options, bind_warnings = plugin_table(base, cls.OPTIONS).bind(properties, f"[{kind.upper()}] {plugin_name}")
        warnings.extend(bind_warnings)
        tls_prop = section.find("tls") if kind in ("input", "output") else None
        if tls_prop is not None and options.tls and not cls.supports_tls:
            # flb_input_set_property / flb_output_set_property refuse ``tls on`` without FLB_IO_TLS.
            raise ConfigError(tls_prop.file, tls_prop.line, "tls", f"{instance_name} does not support TLS")
        if kind == "input":
            warnings.extend(_check_storage_type(instance_name, options, service, section))
        instance = _new_instance(kind, cls, plugin_name, instance_name, options, section, warnings)
        display = options.alias or instance_name
        instance.ctx = PluginContext(
            kind=kind,
            plugin=plugin_name,
            instance=instance_name,
            display_name=display,
            log=plugin_logger(kind, plugin_name, instance_name, options.log_level),
            # Processors have no counters in Fluent Bit's /api/v1/metrics: theirs are kept apart.
            metrics=(Counters((name, 0) for name in STANDARD_COUNTERS["filter"]) if kind == "processor"
                     else metrics.register(kind, display)),
            parsers=parsers,
            service=service,
            emit=instance.emit if isinstance(instance, InputInstance) else None,
            room=instance.room if isinstance(instance, InputInstance) else None,
            request_exit=instance.request_exit if isinstance(instance, InputInstance) else None,
            conf_path=conf_path,
        )
        try:
            instance.plugin = cls(instance.ctx, options)
        except PluginConfigError as exc:
            where = exc.prop or (section.find(exc.option) if exc.option else None)
            where = where or name_prop
            raise ConfigError(where.file, where.line, exc.option, f"{instance_name}: {exc.message}") from None
        # A plugin names values of its options it does not honour yet; the warning points at their line.
        for option, message in getattr(instance.plugin, "config_warnings", ()):
            where = section.find(option) or name_prop
            warnings.append(ConfigWarning(where.file, where.line, option, f"{instance_name}: {message}"))
        if isinstance(instance, (InputInstance, OutputInstance)):
            instance.processors = [make("processor", unit) for unit in section.processors]
        if isinstance(instance, InputInstance):
            inputs_by_name[instance.name] = instance.plugin
            for stage, unit in enumerate(instance.processors):
                if unit.plugin.uses_emitter:
                    # ingest_inline: in an input's processors, a re-emitting filter emits into the input.
                    unit.plugin.emitter = _inline_emitter(instance, stage, unit.name)
        elif isinstance(instance, FilterInstance) and instance.plugin.uses_emitter:
            # Fluent Bit creates the emitter input for a re-emitting processor too (an input's
            # processors do not use it; an output's do).
            emitter = _emitter(instance, section, inputs_by_name, metrics, parsers, service, warnings)
            emitters.append(emitter)
            inputs_by_name[emitter.name] = emitter.plugin
        return instance

    def make_all(kind: str, sections: list[Section]) -> list[Any]:
        made = []
        for section in sections:
            try:
                made.append(make(kind, section))
            except ConfigErrors as exc:
                errors.extend(exc.errors)
            except ConfigError as exc:
                errors.append(exc)
        return made

    inputs = make_all("input", config.inputs)
    filters = make_all("filter", config.filters)
    outputs = make_all("output", config.outputs)
    # Fluent Bit creates emitters while it initialises filters, after the configured inputs.
    inputs.extend(emitters)
    if errors:
        raise ConfigErrors(errors, warnings)
    pipeline = Pipeline(config, service, parsers, metrics, inputs, filters, outputs)  # type: ignore[arg-type]
    return pipeline, warnings


def _inline_emitter(owner: InputInstance, stage: int, processor: str) -> Any:
    from flb_fast.inputs.emitter import InlineEmitter

    return InlineEmitter(owner, stage, processor)


def _load(kind: str, plugin_name: str) -> Any:
    """The plugin class; a processor list may also name any filter (``flb_processor_unit_create``)."""
    if kind != "processor" or plugin_name in registry.PROCESSORS:
        return registry.load(kind, plugin_name)
    if plugin_name in registry.FILTERS or plugin_name in registry.NOT_YET_SUPPORTED["filter"]:
        return registry.load("filter", plugin_name)
    if plugin_name in registry.NOT_YET_SUPPORTED["processor"]:
        return registry.load(kind, plugin_name)
    raise KeyError(f"unknown processor plugin '{plugin_name}' (known: {', '.join(registry.names('processor'))}, "
                   "or any filter plugin)")


def _emitter(
    owner: FilterInstance, section: Section, inputs_by_name: dict[str, Any], metrics: Metrics,
    parsers: ParserRegistry, service: Any, warnings: list[ConfigWarning],
) -> InputInstance:
    """The emitter input of a filter that re-emits records (``emitter_create`` in rewrite_tag.c, ml.c).

    It is named by ``Emitter_Name`` (default ``emitter_for_<filter>``), which must not be the
    name or alias of another input, and holds at most ``Emitter_Mem_Buf_Limit`` bytes.
    """
    from flb_fast.inputs.emitter import EmitterInput

    options = owner.options
    name = options.emitter_name or f"emitter_for_{owner.display_name}"

    def where(option: str) -> Property:
        prop = section.find(option)
        return prop or Property(option, "", section.file, section.line)

    taken = {key for instance in inputs_by_name.values() for key in (instance.ctx.instance, instance.ctx.display_name)}
    if name in taken:
        prop = where("emitter_name")
        raise ConfigError(prop.file, prop.line, "Emitter_Name", f"{owner.name}: emitter_name '{name}' already exists")
    storage_type = options.emitter_storage_type.strip().lower()
    if storage_type not in ("memory", "filesystem"):
        prop = where("emitter_storage.type")
        raise ConfigError(prop.file, prop.line, "Emitter_Storage.type", f"{owner.name}: invalid "
                          "'emitter_storage.type' value. Only 'memory' or 'filesystem' types are allowed")
    if storage_type == "filesystem":
        prop = where("emitter_storage.type")
        warnings.append(ConfigWarning(prop.file, prop.line, "Emitter_Storage.type",
                                      f"{owner.name}: option 'emitter_storage.type' is not supported yet by "
                                      "flb_fast: chunks are buffered in memory"))
    properties = [Property("Name", "emitter", section.file, section.line),
                  Property("Tag", name, section.file, section.line),
                  Property("storage.type", storage_type, section.file, section.line)]
    bound, _ = plugin_table("input", EmitterInput.OPTIONS).bind(properties, f"[FILTER] {owner.plugin_name}")
    instance = InputInstance("input", "emitter", name, bound, mem_buf_limit=options.emitter_mem_buf_limit,
                             emitter_of=owner)
    instance.ctx = PluginContext(
        kind="input", plugin="emitter", instance=name, display_name=name,
        log=plugin_logger("input", "emitter", name, owner.options.log_level),
        metrics=metrics.register("input", name), parsers=parsers, service=service, emit=instance.emit,
    )
    instance.plugin = EmitterInput(instance.ctx, bound, inputs_by_name)
    owner.plugin.emitter = instance.plugin
    return instance


def _check_storage_type(name: str, options: Any, service: Any, section: Section) -> list[ConfigWarning]:
    """``storage.type`` is one Fluent Bit knows, and filesystem has a ``storage.path`` (flb_storage.c);
    ``memrb`` (a memory ring buffer that drops the oldest chunks) is not implemented yet."""
    storage_type = options.storage_type.lower()
    prop = section.find("storage.type")
    where = (prop.file, prop.line) if prop else (section.file, section.line)
    if storage_type == "memrb":
        return [ConfigWarning(*where, "storage.type", f"{name}: storage.type 'memrb' is not supported yet by "
                              "flb_fast: chunks are buffered in memory")]
    if storage_type in STORAGE_TYPES and (storage_type != "filesystem" or service.storage_path):
        return []
    if storage_type not in STORAGE_TYPES:
        raise ConfigError(*where, "storage.type", f"{name}: invalid storage.type '{options.storage_type}': "
                          "memory, memrb or filesystem")
    raise ConfigError(*where, "storage.type", f"instance '{name}' requested filesystem storage but no "
                      "filesystem path was defined ([SERVICE] storage.path)")


def _new_instance(
    kind: str, cls: Any, plugin_name: str, name: str, options: Any, section: Section,
    warnings: list[ConfigWarning],
) -> Instance:
    if kind == "input":
        return InputInstance(kind, plugin_name, name, options, mem_buf_limit=options.mem_buf_limit or 0,
                             routable=bool(options.routable))
    if kind == "processor":
        # A processor works on everything that passes its input or output.
        return FilterInstance(kind, plugin_name, name, options, matcher=TagMatcher("*", None))
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
