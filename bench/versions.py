"""What a benchmark's figures were measured with, for ``--versions`` and the JSON reports.

One shape for every bench, so results from different scripts can be set side by side in
bench/README.md: the Python, the machine, its CPU model and count, and the packages that set
the speed of what that bench measures. The CPU model matters: the VM these benchmarks run on has
been an Intel Xeon one day and an AMD EPYC another, and some costs differ between them (the
kernel's copy of a read into a buffer 16 bytes past the page cache's offset, bench_read_alignment).
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
    found["cpu"] = cpu_model()
    found["cpus"] = str(os.cpu_count())
    return found


def cpu_model() -> str:
    """The first CPU's model name from /proc/cpuinfo ("unknown" where there is none)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return "unknown"
