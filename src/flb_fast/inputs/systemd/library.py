"""Which libsystemd the systemd input reads the journal with, loaded at run time (_core/journal.pxi).

First the system's ``libsystemd.so.0`` (the libsystemd0 package, there on every systemd
machine), the library journald itself writes with. If there is none (a container image without
systemd, reading a journal mounted from the host), the copy that cysystemd's wheel carries
(``site-packages/cysystemd.libs/libsystemd-*.so.*``, installed with flb-fast): that copy has no
search path for the libraries it needs, which sit beside it, so they are loaded first. If neither
loads, the input fails to start naming both.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from flb_fast import _core

SYSTEM_LIBRARY = "libsystemd.so.0"
# cysystemd's wheel: auditwheel puts the libraries it bundles in <package>.libs beside the package.
BUNDLED_DIRECTORY = "cysystemd.libs"
BUNDLED_PATTERN = "libsystemd-*.so*"


def bundled_directory() -> Path | None:
    """cysystemd's ``cysystemd.libs`` folder, if cysystemd is installed (found, not imported)."""
    spec = importlib.util.find_spec("cysystemd")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).parent / BUNDLED_DIRECTORY
    return folder if folder.is_dir() else None


def load(system: str = SYSTEM_LIBRARY, bundled: Path | None = None) -> _core.SystemdLibrary:
    """``system`` if it loads, else the libsystemd in the ``bundled`` folder (with the libraries
    beside it loaded first); ``OSError`` saying what is missing if neither does."""
    try:
        return _core.SystemdLibrary(system, [])
    except OSError as exc:
        system_error = str(exc)
    copies = sorted(bundled.glob(BUNDLED_PATTERN)) if bundled is not None else []
    if not copies:
        where = f"no {BUNDLED_PATTERN} in {bundled}" if bundled is not None else "cysystemd is not installed"
        raise OSError(f"libsystemd is missing: {system_error}; and {where} "
                      f"(install libsystemd0, or pip install cysystemd)")
    assert bundled is not None
    beside = [str(path) for path in sorted(bundled.glob("*.so*")) if path not in copies]
    try:
        return _core.SystemdLibrary(str(copies[0]), beside)
    except OSError as exc:
        raise OSError(f"libsystemd is missing: {system_error}; and {exc}") from None


@functools.cache
def default() -> _core.SystemdLibrary:
    """The library every systemd input of the process uses, loaded by the first one to start."""
    return load(SYSTEM_LIBRARY, bundled_directory())
