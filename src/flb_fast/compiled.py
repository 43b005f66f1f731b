"""The compiled hot path's parts (``_core``), looked up by name so each caller keeps its Python path.

A checkout always has ``_core`` built, but an extension built before a part was added lacks
that part: the caller then runs its pure-Python code, which is also the reference the tests
compare the compiled one with.
"""

from __future__ import annotations

from typing import Any


def core_part(name: str) -> Any:
    """``_core.<name>``, or None when the extension or that part of it is not built."""
    try:
        from flb_fast import _core
    except ImportError:  # pragma: no cover - the extension is always built in a checkout
        return None
    return getattr(_core, name, None)
