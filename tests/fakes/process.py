"""Child processes of a test die with it.

A test stuck past its timeout ends its pytest worker (``timeout_method = thread``), and its
``with`` blocks never run their clean-up: an agent or a moto server it started would go on
running, loading the machine for every later test. Started with ``preexec_fn=die_with_parent``,
a child gets SIGKILL from the kernel as soon as the process that started it is gone.

``honour_file_modes`` starts a child that root's capabilities do not let open every file, so
tests running as root can still deny the agent a file.
"""

from __future__ import annotations

import ctypes
import os
import signal

# prctl(2): PR_SET_PDEATHSIG, the signal a process gets when its parent dies; PR_CAPBSET_DROP.
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
# capabilities(7): what lets root open any file whatever its mode.
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)`` (Linux): SIGKILL this child when its parent exits."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def honour_file_modes() -> None:
    """For ``preexec_fn`` (Linux): the program the child runs is refused files its mode forbids, even as root.

    Root opens any file through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; dropped from the bounding
    set before ``exec``, the program starts without them, as an agent run as a plain user would.
    Raises ``OSError`` where they cannot be dropped (no CAP_SETPCAP); a non-root child has none to drop.
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))
