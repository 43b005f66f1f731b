"""Child processes of a test die with it.

A test stuck past its timeout ends its pytest worker (``timeout_method = thread``), and its
``with`` blocks never run their clean-up: an agent or a moto server it started would go on
running, loading the machine for every later test. Started with ``preexec_fn=die_with_parent``,
a child gets SIGKILL from the kernel as soon as the process that started it is gone.
"""

from __future__ import annotations

import ctypes
import signal

# prctl(2): PR_SET_PDEATHSIG, the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)`` (Linux): SIGKILL this child when its parent exits."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
