"""What a benchmark's figures were measured with, for ``--versions`` and the JSON reports.

One shape for every bench, so results from different scripts can be set side by side in
bench/README.md: the Python, the machine and its CPUs, and the packages that set the speed
of what that bench measures.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata


def versions(*packages: str) -> dict[str, str]:
    """Python, each of ``packages`` (distribution names) with its installed version, the machine and its CPUs.

    Read from package metadata, not by importing: Cython, for one, is only a build requirement
    and is absent from an environment that installed flb-fast from a wheel or an isolated build.
    """
    found = {"python": platform.python_version()}
    for package in packages:
        try:
            found[package.lower()] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package.lower()] = "not installed"
    found["machine"] = platform.machine()
    found["cpus"] = str(os.cpu_count())
    return found
