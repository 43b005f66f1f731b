"""CPU seconds and resident memory of a running process, read from /proc.

The benchmarks measure the real ``flb-fast`` process from the outside, as one would measure
Fluent Bit, so what is reported includes start-up, imports and the event loop.
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces and
    parentheses): ``[0]`` is the state, ``[7]`` minflt, ``[11]`` utime, ``[12]`` stime."""
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used by ``pid`` so far."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def page_faults(pid: int) -> int:
    """Minor page faults of ``pid`` so far: each a page the kernel mapped (and zeroed, for new
    memory) on first touch. Memory allocated anew for every request or batch shows here."""
    return int(_stat_fields(pid)[7])


def memory_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of ``pid`` in MiB (VmRSS, VmHWM)."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _unit = line.split()
                values[key] = int(amount) / 1024
    return values["VmRSS:"], values["VmHWM:"]


def steal_seconds() -> float:
    """CPU seconds the hypervisor has taken from this machine's CPUs since boot (``steal`` in
    /proc/stat, all CPUs together): a run during which it grew ran on a slower machine, which
    short runs feel most."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    return int(fields[8]) / _TICKS
