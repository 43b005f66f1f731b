"""What a benchmark's figures were measured with, for ``--versions`` and the JSON reports.

One shape for every bench, so results from different scripts can be set side by side in
bench/README.md: the Python, the machine and its CPUs, and the packages that set the speed
of what that bench measures.
"""

from __future__ import annotations

import importlib
import os
import platform


def versions(*packages: str) -> dict[str, str]:
    """Python, each of ``packages`` (import names) with its ``__version__``, the machine and its CPU count."""
    found = {"python": platform.python_version()}
    for package in packages:
        found[package.lower()] = importlib.import_module(package).__version__
    found["machine"] = platform.machine()
    found["cpus"] = str(os.cpu_count())
    return found
