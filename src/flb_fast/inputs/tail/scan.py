"""Which files ``Path`` names now: globs, minus ``Exclude_Path``, minus files ``Ignore_Older`` rules out.

Runs off the event loop (a glob over /var/log/containers with 1,000 entries stats every one
of them); the result is a list the loop then compares with the files it already tails.
"""

from __future__ import annotations

import glob
import os
import stat
import time
from fnmatch import fnmatchcase


def is_excluded(path: str, excludes: list[str]) -> bool:
    """Fluent Bit matches each pattern against the whole path with fnmatch (``*`` spans ``/``)."""
    return any(fnmatchcase(path, pattern) for pattern in excludes)


def is_too_old(st: os.stat_result, ignore_older_s: float, now: float) -> bool:
    return ignore_older_s > 0 and now - st.st_mtime > ignore_older_s


def scan(patterns: list[str], excludes: list[str], ignore_older_s: float) -> list[tuple[str, os.stat_result]]:
    """``(path, stat of the target)`` for every regular file matched, each inode once.

    Symlinks (``/var/log/containers/*.log``) are followed: the stat is the target's, while the
    path stays the link's, which is what tags and ``Path_Key`` show.
    """
    now = time.time()
    found: list[tuple[str, os.stat_result]] = []
    seen: set[tuple[int, int]] = set()
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.expanduser(pattern))):
            if is_excluded(path, excludes):
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or is_too_old(st, ignore_older_s, now):
                continue
            key = (st.st_dev, st.st_ino)
            if key not in seen:
                seen.add(key)
                found.append((path, st))
    return found
