"""Fluent Bit's log format: ``[2026/11/25 13:00:00] [ info] [input:tail:tail.0] message``.

Plugins log through ``plugin_logger(kind, plugin, instance)``; the prefix is part of the
logger so every line names its instance, as Fluent Bit's ``flb_plg_info`` does. Nothing here
prints option values: plugins must never pass credentials or tokens to a log call.
"""

from __future__ import annotations

import logging
import sys
import time

TRACE = 5
logging.addLevelName(TRACE, "trace")
# Fluent Bit's flb_help lines: shown whatever the log level, as errors are.
HELP = logging.ERROR + 1
logging.addLevelName(HELP, "help")

# Fluent Bit's level names, padded to five characters inside the brackets.
_LEVEL_TAGS = {
    logging.ERROR: "error",
    logging.CRITICAL: "error",
    HELP: " help",
    logging.WARNING: " warn",
    logging.INFO: " info",
    logging.DEBUG: "debug",
    TRACE: "trace",
}

LEVELS = {
    "off": logging.CRITICAL + 10,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE,
}

ROOT = "flb_fast"


class FluentBitFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(record.created))
        level = _LEVEL_TAGS.get(record.levelno, record.levelname.lower()[:5].rjust(5))
        prefix = getattr(record, "flb_prefix", "")
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        return utf8_safe(f"[{stamp}] [{level}] {prefix}{message}")


def utf8_safe(text: str) -> str:
    """``text`` with any lone surrogate written as ``\\udXXX``.

    Log lines quote what the agent read (a line that did not parse), and a stream or a pipe
    refuses to encode a lone surrogate; the line is written with it escaped instead of lost.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _PrefixAdapter(logging.LoggerAdapter):
    def process(self, msg: object, kwargs: dict) -> tuple[object, dict]:
        kwargs.setdefault("extra", {})["flb_prefix"] = self.extra["flb_prefix"]  # type: ignore[index]
        return msg, kwargs


class _MessageCounter(logging.Filter):
    """Counts the lines written per Fluent Bit message type (``fluentbit_logger_logs_total``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        kind = _MESSAGE_TYPES.get(record.levelno)
        if kind is not None:
            MESSAGES_LOGGED[kind] += 1
        return True


# Fluent Bit's message types (flb_log.c) and the lines written of each since start.
_MESSAGE_TYPES = {logging.ERROR: "error", logging.WARNING: "warn", logging.INFO: "info", logging.DEBUG: "debug",
                  TRACE: "trace"}
MESSAGES_LOGGED = {"error": 0, "warn": 0, "info": 0, "debug": 0, "trace": 0}


def setup(level: str = "info", path: str | None = None) -> None:
    """Send the agent's logs to stderr (or ``Log_File``) in Fluent Bit's format."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(FluentBitFormatter())
    handler.addFilter(_MessageCounter())
    root.addHandler(handler)
    root.setLevel(LEVELS.get(level.lower(), logging.INFO))
    root.propagate = False


def plugin_logger(kind: str, plugin: str, instance: str, level: str | None = None) -> logging.LoggerAdapter:
    """A logger whose lines read ``[input:tail:tail.0] ...``; ``level`` is the plugin's Log_Level."""
    logger = logging.getLogger(f"{ROOT}.{kind}.{instance}")
    if level:
        logger.setLevel(LEVELS.get(level.lower(), logging.INFO))
    return _PrefixAdapter(logger, {"flb_prefix": f"[{kind}:{plugin}:{instance}] "})


def component_logger(component: str) -> logging.LoggerAdapter:
    """A logger for the agent itself, e.g. ``[engine] ...``, ``[config] ...``."""
    return _PrefixAdapter(logging.getLogger(f"{ROOT}.{component}"), {"flb_prefix": f"[{component}] "})


def log_help(text: str) -> None:
    """A ``[ help]`` line with no component, as ``fluent-bit`` follows a config error with one."""
    logging.getLogger(ROOT).log(HELP, "%s", text)
