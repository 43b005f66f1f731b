"""TLS client contexts, one per distinct setting, shared by every plugin instance that asks for it.

A context that trusts the system's CA store parses every certificate of the bundle when it is
made: about 30 ms of CPU and 2.4 MiB of RSS for the first, 0.8 MiB for each one after (OpenSSL
keeps its own copy per context). A config with several AWS outputs (Container Insights has three
``cloudwatch_logs`` outputs) or several kubernetes filters would pay that per instance. An
``ssl.SSLContext`` serves any number of connections and threads, so instances with the same
settings share one. A CA file or folder that changes on disk (a rotated certificate, then a hot
reload) gets a new context.

Contexts are ``ClientContext``s: an ASCII server name is handed to OpenSSL without the ``idna``
codec (``flb_fast.hostnames``: 0.4 MiB of RSS that the first connection would import).
"""

from __future__ import annotations

import functools
import os
import ssl

from flb_fast.hostnames import unchanged_by_idna

# Distinct TLS settings kept at once: a config names a handful; past this the least recently
# used one is made again when next asked for.
MAX_CONTEXTS = 16


class CAError(OSError):
    """The CA file or folder a config names cannot be loaded: a missing file, one that holds no
    certificate. Fluent Bit's plugins fail to start on it ("Failed to create tls context"); the
    message names what was given, as Fluent Bit's ``[tls] ca_file '...'`` line does."""


class ClientContext(ssl.SSLContext):
    """``ssl.SSLContext`` that hands an ASCII server name on as the ``idna`` codec would, without the
    codec; any other name goes to the codec as before (``flb_fast.hostnames``)."""

    def _encode_hostname(self, hostname: str | bytes | None) -> str | None:
        if isinstance(hostname, str) and unchanged_by_idna(hostname):
            return hostname
        return super()._encode_hostname(hostname)


def client_context(ca_file: str | None, ca_path: str | None, verify: bool = True,
                   check_hostname: bool = True) -> ssl.SSLContext:
    """``ssl.create_default_context`` trusting ``ca_file``/``ca_path`` (the system's CA store when
    neither is given), checking the peer's name only with ``check_hostname`` and nothing at all
    without ``verify``. Shared: callers must not change it. ``CAError`` when the CA cannot be loaded."""
    return _context(ca_file or None, ca_path or None, verify, check_hostname, _stamp(ca_file), _stamp(ca_path))


def _stamp(path: str | None) -> tuple[int, int, int] | None:
    """What tells that a CA file or folder changed: its inode, size and modification time."""
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=MAX_CONTEXTS)
def _context(ca_file: str | None, ca_path: str | None, verify: bool, check_hostname: bool,
             _file_stamp: tuple[int, int, int] | None, _path_stamp: tuple[int, int, int] | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=ca_file, capath=ca_path)
    except OSError as exc:  # FileNotFoundError, ssl.SSLError
        named = f"CA file '{ca_file}'" if ca_file else f"CA folder '{ca_path}'"
        raise CAError(f"cannot load {named}: {exc.strerror or exc}") from exc
    # The context create_default_context made, given our class: the stdlib's default settings
    # (which differ between Python versions: 3.13 adds strict X.509 checks) kept as they are.
    context.__class__ = ClientContext
    context.check_hostname = check_hostname and verify
    if not verify:
        context.verify_mode = ssl.CERT_NONE
    return context
