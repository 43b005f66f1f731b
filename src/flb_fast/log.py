"""Fluent Bit's log format: ``[2026/11/25 13:00:00] [ info] [input:tail:tail.0] message``.

Plugins log through ``plugin_logger(kind, plugin, instance)``; the prefix is part of the
logger so every line names its instance, as Fluent Bit's ``flb_plg_info`` does.

Every line is written through ``FluentBitFormatter``, which redacts secrets (``redact``): AWS
error messages quote the request they refused (a signature error echoes the canonical request,
session token included), and exception text from botocore may hold credentials. Libraries'
loggers (botocore, urllib3) and Python warnings go through the same formatter.
"""

from __future__ import annotations

import functools
import logging
import os
import re
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
REDACTED = "[redacted]"


@functools.cache
def _secret_patterns() -> list[re.Pattern[str]]:
    """Secrets as they appear in AWS error messages, presigned URLs, botocore exceptions and HTTP
    headers; each pattern keeps its first group and replaces the secret after it. Compiled with
    the first line written: an agent at ``Log_Level warn`` may never write one."""
    return [
        # x-amz-security-token:VALUE (canonical request), X-Amz-Security-Token=VALUE (query), and
        # the session token, secret key and access key fields of credentials files and API answers.
        re.compile(
            r"((?:x-amz-security-token|aws_session_token|aws_security_token|session_?token|"
            r"aws_secret_access_key|secret_?access_?key|secret_?key|x-amz-credential|access_?key_?id|"
            r"aws_access_key_id)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;]+",
            re.IGNORECASE,
        ),
        # SigV4: Signature=<hex> (Authorization header) and X-Amz-Signature=<hex> (query).
        re.compile(r"((?:x-amz-)?signature\s*=\s*)[0-9a-f]{16,}", re.IGNORECASE),
        # Authorization: Bearer <token> / Basic <...>, and any other bearer token.
        re.compile(r"(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
        # Access key ids (AKIA long-term, ASIA temporary, ...): 20 characters.
        re.compile(r"()\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        # A bare secret access key: 40 characters of base64 with both cases and a digit.
        re.compile(r"()(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[a-z])(?=[A-Za-z0-9/+=]*[A-Z])(?=[A-Za-z0-9/+=]*[0-9])"
                   r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    ]


# What every match of ``_secret_patterns`` holds, in ASCII text: one of these words in any case,
# or an access key id's prefix or 40 characters of base64 (``_unkeyed_secret``). An ASCII line holding
# none (most lines: a pause of an input, a retry) is written as it is, without the patterns'
# search: 240 us a line, measured, most of it in the case-insensitive search for key names.
_SECRET_WORDS = ("token", "key", "credential", "signature", "bearer", "basic")


@functools.cache
def _unkeyed_secret() -> re.Pattern[str]:
    """Compiled with the first line written, as ``_secret_patterns`` are."""
    return re.compile(r"A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|BIA|CCA)|[A-Za-z0-9/+=]{40}")


def redact(text: str) -> str:
    """``text`` with AWS credentials, session tokens, signatures and bearer tokens replaced by
    ``[redacted]``; what surrounds them (the error, the header name) stays readable."""
    if text.isascii():
        # (Outside ASCII, a case-insensitive match may hold characters that are not the words':
        # "ſ" matches "s", "K" (Kelvin) matches "k".)
        lowered = text.lower()
        if not any(word in lowered for word in _SECRET_WORDS) and _unkeyed_secret().search(text) is None:
            return text
    for pattern in _secret_patterns():
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


class FluentBitFormatter(logging.Formatter):
    """``flb_log_construct`` (src/flb_log.c): ``[%Y/%m/%d %H:%M:%S.%03ld] [%5s] `` with the local
    time and its nanoseconds (at least three digits, not padded to nine, as Fluent Bit 4.2.8 prints
    them: ``[2026/12/06 17:11:36.146647690] [ warn] ...``)."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        nanos = int((record.created - seconds) * 1_000_000_000)
        stamp = f"{time.strftime('%Y/%m/%d %H:%M:%S', time.localtime(seconds))}.{nanos:03d}"
        level = _LEVEL_TAGS.get(record.levelno, record.levelname.lower()[:5].rjust(5))
        prefix = getattr(record, "flb_prefix", "")
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if not prefix and record.name != ROOT and not record.name.startswith(ROOT + "."):
            prefix = f"[{record.name}] "
        return utf8_safe(redact(f"[{stamp}] [{level}] {prefix}{message}"))


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
    """Send the agent's logs to stderr (or ``Log_File``) in Fluent Bit's format, and the
    warnings of the libraries it uses (and Python warnings) the same way, redacted alike."""
    agent = logging.getLogger(ROOT)
    for old in list(agent.handlers):
        agent.removeHandler(old)
        old.close()
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(FluentBitFormatter())
    handler.addFilter(_MessageCounter())
    agent.addHandler(handler)
    agent.setLevel(LEVELS.get(level.lower(), logging.INFO))
    agent.propagate = False
    # Libraries log through the root logger: their warnings and errors, fewer if Log_Level asks.
    libraries = logging.getLogger()
    for old in [old for old in libraries.handlers if isinstance(old.formatter, FluentBitFormatter)]:
        libraries.removeHandler(old)
    libraries.addHandler(handler)
    libraries.setLevel(max(logging.WARNING, agent.level))
    logging.captureWarnings(True)


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


def write_stderr(line: str) -> None:
    """``line`` written straight to stderr (fd 2), as Fluent Bit writes the lines it prints outside
    its logger, whatever ``Log_File`` says. Best effort: when stderr is a pipe whose reader has
    gone, what comes after (stopping on a signal, exiting on a Lua panic) must still happen."""
    try:
        os.write(2, line.encode(errors="replace"))
    except OSError:
        pass
