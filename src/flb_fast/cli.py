"""The ``flb-fast`` command, with ``fluent-bit``'s flags so an existing DaemonSet command line carries over.

``flb-fast -c /fluent-bit/etc/fluent-bit.conf`` runs a config; ``-i dummy -o stdout`` builds a
pipeline from flags as ``fluent-bit`` does (``-p``, ``-m`` and ``-t`` apply to the last
``-i``/``-F``/``-o``); ``-D`` validates without starting; ``-h PLUGIN`` prints a plugin's options
from its option table. The engine is imported only once a pipeline is to be built, so help,
version and config errors answer without loading it. ``argparse`` reads the command line and is
let go of before the pipeline runs (see ``_let_go_of``).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flb_fast import __version__, registry
from flb_fast.config.common import plugin_table
from flb_fast.config.errors import ConfigError, ConfigErrors
from flb_fast.config.loader import load_config
from flb_fast.config.model import Config, Property, Section
from flb_fast.log import LEVELS, component_logger, log_help, setup

if TYPE_CHECKING:
    import argparse

FLUENT_BIT_COMPATIBLE = "4.2"
PIPELINE_FLAGS = {"-i": "input", "--input": "input", "-F": "filter", "--filter": "filter",
                  "-o": "output", "--output": "output"}
SECTION_LISTS = {"input": "inputs", "filter": "filters", "output": "outputs"}
# The Go plugins AWS for Fluent Bit loads with -e are flb_fast's own outputs.
BUILT_IN_GO_PLUGINS = "cloudwatch, firehose and kinesis"
# fluent-bit exits with EXIT_FAILURE for any command line it cannot run.
USAGE_ERROR = 1
# The width argparse's own check of each flag formats it at (argparse.HelpFormatter's fallback).
CHECK_WIDTH = 80
# What reading the command line imports that nothing else of the agent does (``locale``, which
# gettext imports too, comes with asyncio's ``subprocess`` anyway).
PARSING_MODULES = ("argparse", "gettext")


class UsageError(Exception):
    """A command line that cannot be run (``-p`` before any plugin, ``-p`` without ``=``)."""


def _argument_parser() -> argparse.ArgumentParser:
    # Imported here and the action class made here: nothing at module level refers to argparse,
    # so _let_go_of can free it.
    import argparse

    class _InOrder(argparse.Action):
        """Keeps -i/-F/-o/-p/-m/-t in command-line order: -p applies to the plugin flag before it."""

        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: Any, option_string: str | None = None) -> None:
            namespace.pipeline.append((option_string, values))

    parser = argparse.ArgumentParser(
        prog="flb-fast",
        add_help=False,
        usage="flb-fast [OPTION]",
        description="A drop-in, faster replacement for AWS for Fluent Bit; fluent-bit's flags.",
        # add_argument formats each flag once to check it; a formatter sized to the terminal
        # imports shutil (with bz2, lzma and zlib), about 1% of the agent's start-up.
        formatter_class=functools.partial(argparse.HelpFormatter, width=CHECK_WIDTH),
    )
    add = parser.add_argument
    add("-c", "--config", metavar="FILE", help="configuration file (classic fluent-bit.conf or YAML)")
    add("-R", "--parser", metavar="FILE", action="append", default=[], help="parsers file (repeatable)")
    add("-f", "--flush", metavar="SECONDS", help="flush interval in seconds (overrides [SERVICE] Flush)")
    add("-i", "--input", metavar="INPUT", dest="pipeline", action=_InOrder, help="add an input")
    add("-F", "--filter", metavar="FILTER", dest="pipeline", action=_InOrder, help="add a filter")
    add("-o", "--output", metavar="OUTPUT", dest="pipeline", action=_InOrder, help="add an output")
    add("-p", "--prop", metavar="KEY=VALUE", dest="pipeline", action=_InOrder,
        help="set a property of the last -i/-F/-o")
    add("-m", "--match", metavar="MATCH", dest="pipeline", action=_InOrder,
        help="Match of the last -F/-o, same as -p match=MATCH")
    add("-t", "--tag", metavar="TAG", dest="pipeline", action=_InOrder, help="Tag, same as -p tag=TAG")
    add("-D", "--dry-run", action="store_true", help="validate the configuration and exit")
    add("-H", "--http", "--http_server", action="store_true", help="enable the monitoring HTTP server")
    add("-P", "--port", "--http_port", metavar="PORT", help="monitoring HTTP server port (default: 2020)")
    add("-L", "--http_listen", metavar="ADDRESS", help="monitoring HTTP server address (default: 0.0.0.0)")
    add("-l", "--log_file", metavar="FILE", help="write the agent's log to FILE")
    add("-b", "--storage_path", metavar="PATH", help="storage buffering path ([SERVICE] storage.path)")
    add("-e", "--plugin", metavar="FILE", action="append", default=[],
        help=f"external plugin: ignored, the Go plugins {BUILT_IN_GO_PLUGINS} are built in")
    add("-w", "--workdir", metavar="DIR", help="change to DIR before reading the configuration")
    add("-v", "--verbose", action="count", default=0, help="debug log; -vv: trace")
    add("-q", "--quiet", action="store_true", help="quiet: log errors only")
    add("-V", "--version", action="store_true", help="print the version and exit")
    add("-h", "--help", nargs="?", const=True, metavar="PLUGIN",
        help="print this help, or a plugin's options (also: -i PLUGIN -h)")
    parser.set_defaults(pipeline=[])
    # Help, usage and errors are sized to the terminal.
    parser.formatter_class = argparse.HelpFormatter
    return parser


def _usage(parser: argparse.ArgumentParser) -> str:
    """Usage, then each kind's plugins with their one-line descriptions, as ``fluent-bit -h`` lists them."""
    lines = [parser.format_help().rstrip()]
    for kind in ("input", "filter", "output", "processor"):
        lines.append(f"\n{kind.capitalize()}s")
        lines.extend(f"  {name:<23} {registry.load(kind, name).description}" for name in registry.names(kind))
    return "\n".join(lines) + "\n"


def _plugin_help(name: str, kinds: Sequence[str]) -> str:
    """A plugin's description and options: its kind's base table plus its own ``OPTIONS``."""
    found = []
    reasons = []
    for kind in kinds:
        try:
            cls = registry.load(kind, name)
        except KeyError as exc:
            reasons.append(str(exc.args[0]))
            continue
        except ImportError as exc:
            raise UsageError(f"{kind} plugin '{name}' cannot be loaded: {exc}") from None
        table = plugin_table(kind, cls.OPTIONS)
        found.append("\n".join([f"HELP\n{cls.name} {kind} plugin", f"\nDESCRIPTION\n{cls.description}",
                                "\nOPTIONS", *table.help_lines()]))
    if found:
        return "\n\n".join(found) + "\n"
    not_yet = [reason for reason in reasons if "does not support yet" in reason]
    raise UsageError(not_yet[0] if not_yet else f"unknown plugin '{name}'")


def _command_line_sections(pipeline: list[tuple[str, str]]) -> list[Section]:
    """Sections from -i/-F/-o and the -p/-m/-t that follow each, as ``fluent-bit`` builds them."""
    sections: list[Section] = []
    for flag, value in pipeline:
        if flag in PIPELINE_FLAGS:
            sections.append(Section(PIPELINE_FLAGS[flag], [Property("name", value)]))
            continue
        if not sections:
            raise UsageError(f"{flag} {value}: give it after the -i, -F or -o it applies to")
        if flag in ("-p", "--prop"):
            key, sep, prop_value = value.partition("=")
            if not sep or not key.strip():
                raise UsageError(f"{flag} {value}: expected KEY=VALUE")
            sections[-1].properties.append(Property(key.strip(), prop_value.strip()))
        elif flag in ("-m", "--match"):
            if sections[-1].kind == "input":
                raise UsageError(f"{flag} {value}: Match applies to a filter or an output, not an input")
            sections[-1].properties.append(Property("match", value))
        else:
            sections[-1].properties.append(Property("tag", value))
    return sections


def _apply_command_line(config: Config, args: types.SimpleNamespace) -> None:
    """Command-line sections come before the file's (as in fluent-bit); service flags override the file."""
    sections = _command_line_sections(args.pipeline)
    for kind, attribute in SECTION_LISTS.items():
        ours = [section for section in sections if section.kind == kind]
        setattr(config, attribute, ours + getattr(config, attribute))
    overrides = [("flush", args.flush), ("http_server", "on" if args.http else None), ("http_port", args.port),
                 ("http_listen", args.http_listen), ("log_file", args.log_file), ("storage.path", args.storage_path)]
    for key, value in overrides:
        if value is not None:
            kept = [prop for prop in config.service.properties if prop.key.lower() != key]
            config.service.properties[:] = [*kept, Property(key, value)]
    for path in args.parser:
        resolved = os.path.abspath(path)
        if not os.path.isfile(resolved) or not os.access(resolved, os.R_OK):
            raise ConfigError(None, None, "-R", f"cannot open parsers file '{path}'")
        config.parsers_files.append(Property("parsers_file", resolved))


def _log_level(args: types.SimpleNamespace, service_level: str | None) -> str:
    """Flags win over ``[SERVICE] Log_Level``: -q errors only, -v debug, -vv trace."""
    if args.quiet:
        return "error"
    if args.verbose:
        return "trace" if args.verbose > 1 else "debug"
    return service_level or "info"


def _setup_logging(args: types.SimpleNamespace, config: Config) -> None:
    """Log at the level flags and ``[SERVICE]`` ask for, to ``Log_File`` if set; a log file that
    cannot be opened stops the start.

    A dry run answers on the terminal and shows every warning whatever the level (a config that
    sets ``Log_Level error`` must still hear which of its options flb_fast does not implement).
    """
    level = _log_level(args, config.service.get("log_level"))
    if args.dry_run and LEVELS.get(level.lower(), logging.INFO) > logging.WARNING:
        level = "warn"
    log_file = None if args.dry_run else config.service.find("log_file")
    try:
        setup(level, log_file.value if log_file else None)
    except OSError as exc:
        assert log_file is not None
        setup(level)
        raise ConfigError(log_file.file, log_file.line, log_file.key,
                          f"cannot open log file '{log_file.value}': {exc.strerror}") from None


def _run(args: types.SimpleNamespace) -> int:
    log = component_logger("config")
    if args.workdir:
        os.chdir(args.workdir)
    config, warnings = load_config(args.config) if args.config else (Config(), [])
    _apply_command_line(config, args)
    if not (config.inputs or config.outputs or config.filters):
        raise UsageError("nothing to run: give a configuration file (-c FILE) or a pipeline (-i INPUT -o OUTPUT)")
    _setup_logging(args, config)
    component_logger("flb-fast").info("version=%s (Fluent Bit compatible %s), pid=%d",
                                      __version__, FLUENT_BIT_COMPATIBLE, os.getpid())
    for plugin in args.plugin:
        component_logger("plugin").warning(
            "external plugin '%s' ignored: flb_fast does not load shared libraries (the Go plugins %s are built in)",
            plugin, BUILT_IN_GO_PLUGINS)
    for warning in warnings:
        log.warning("%s", warning)

    from flb_fast.engine.pipeline import build

    try:
        pipeline, build_warnings = build(config)
    except ConfigErrors as exc:
        for warning in exc.warnings:
            log.warning("%s", warning)
        for error in exc.errors:
            _log_error(error)
        return exc.exit_code
    for warning in build_warnings:
        log.warning("%s", warning)
    if args.dry_run:
        print("configuration test is successful", file=sys.stderr)
        return 0

    from flb_fast.runner import run

    def reload_config() -> Any:
        """The pipeline of the config file as it is now, with the same command line (hot reload)."""
        config, warnings = load_config(args.config) if args.config else (Config(), [])
        _apply_command_line(config, args)
        for warning in warnings:
            log.warning("%s", warning)
        reloaded, build_warnings = build(config)
        for warning in build_warnings:
            log.warning("%s", warning)
        return reloaded

    return run(pipeline, reload_config)


def _let_go_of(parsing_imported: set[str]) -> None:
    """Take ``PARSING_MODULES`` out of ``sys.modules`` once the command line is read.

    Nothing the agent runs uses them again, and once nothing refers to them (the parser is
    dropped, the flags are kept as a plain namespace) the collection ``runner.run`` makes before
    the first record frees their code and objects: about 0.3 MiB the agent would otherwise hold
    for its life, which its records then reuse (peak RSS into ``null`` 0.2 MiB lower,
    bench_pipeline kubernetes). Only those the parsing itself loaded are taken out (an
    embedding program's own ``argparse`` stays); a later import loads them afresh.
    """
    for name in parsing_imported.intersection(PARSING_MODULES):
        del sys.modules[name]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``flb-fast``; returns the process exit code."""
    loaded_before = set(sys.modules)
    parser = _argument_parser()
    try:
        args = types.SimpleNamespace(**vars(parser.parse_args(argv)))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    parsing_imported = set(sys.modules) - loaded_before
    setup(_log_level(args, None))
    try:
        if args.version:
            print(f"flb-fast v{__version__}\nFluent Bit compatible {FLUENT_BIT_COMPATIBLE}")
            return 0
        if args.help is not None:
            return _help(args, parser)
        del parser
        _let_go_of(parsing_imported)
        return _run(args)
    except UsageError as exc:
        print(f"flb-fast: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except ConfigError as exc:
        _log_error(exc)
        return exc.exit_code


def _log_error(error: ConfigError) -> None:
    """A config error, then its ``[ help]`` line when it has one (as ``fluent-bit`` prints them)."""
    component_logger("config").error("%s", error)
    if error.hint:
        log_help(error.hint)


def _help(args: types.SimpleNamespace, parser: argparse.ArgumentParser) -> int:
    """``-h``: usage and plugins; ``-h PLUGIN``: that plugin's options; ``-i PLUGIN -h``: same, by kind."""
    if isinstance(args.help, str):
        sys.stdout.write(_plugin_help(args.help, ("input", "filter", "output", "processor")))
        return 0
    plugins = [(flag, value) for flag, value in args.pipeline if flag in PIPELINE_FLAGS]
    if plugins:
        flag, name = plugins[-1]
        sys.stdout.write(_plugin_help(name, (PIPELINE_FLAGS[flag],)))
        return 0
    sys.stdout.write(_usage(parser))
    return 0
