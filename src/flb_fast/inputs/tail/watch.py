"""How the tail input learns that a file changed: inotify on the loop, or stat polling.

Both backends report to the same three callbacks, so the input has one code path for
"this file may have data", "this file was renamed or unlinked" and "re-check everything".
A change costs a dict lookup by watch descriptor: no work proportional to the number of files
(Fluent Bit #11096 is about the cost of the opposite).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from flb_fast import _core

if TYPE_CHECKING:
    from flb_fast.inputs.tail.file import TailFile

# Fluent Bit's stat watcher (tail_fs_stat.c) checks its files every 250 ms.
STAT_POLL_SECONDS = 0.25

_IN = _core.Inotify
FILE_EVENTS = _IN.MODIFY | _IN.MOVE_SELF | _IN.DELETE_SELF | _IN.ATTRIB


class Callbacks:
    """What a watcher calls: data may be there, the file's name or links changed, check all."""

    def __init__(
        self,
        on_data: Callable[[TailFile], None],
        on_moved_or_unlinked: Callable[[TailFile], None],
        on_check_all: Callable[[], None],
    ) -> None:
        self.on_data = on_data
        self.on_moved_or_unlinked = on_moved_or_unlinked
        self.on_check_all = on_check_all


class InotifyWatcher:
    """One inotify fd on the loop; one watch per open file, set on ``/proc/self/fd/N``.

    Watching the open descriptor rather than the path pins the watch to the inode being read,
    even if the path was renamed between ``open`` and ``add_watch``.
    """

    name = "inotify"

    def __init__(self, callbacks: Callbacks, log: logging.LoggerAdapter) -> None:
        self._callbacks = callbacks
        self._log = log
        self._inotify = _core.Inotify()
        self._files: dict[int, TailFile] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._inotify.fileno(), self._on_readable)

    def add(self, file: TailFile) -> None:
        wd = self._inotify.add_watch(f"/proc/self/fd/{file.fd}", FILE_EVENTS)
        file.wd = wd
        self._files[wd] = file

    def remove(self, file: TailFile) -> None:
        if file.wd is not None and self._files.get(file.wd) is file:
            del self._files[file.wd]
            self._inotify.rm_watch(file.wd)
        file.wd = None

    def stop(self) -> None:
        if self._loop is not None and not self._inotify.closed:
            self._loop.remove_reader(self._inotify.fileno())
        self._inotify.close()
        self._files.clear()

    def _on_readable(self) -> None:
        try:
            events = self._inotify.read()
        except OSError as exc:
            self._log.error("inotify read failed: %s", exc)
            return
        callbacks = self._callbacks
        for wd, mask, _cookie, _name in events:
            if mask & _IN.Q_OVERFLOW:
                self._log.warning("inotify queue overflow: checking every file")
                callbacks.on_check_all()
                continue
            file = self._files.get(wd)
            if file is None:
                continue
            if mask & _IN.IGNORED:
                del self._files[wd]
                file.wd = None
            if mask & (_IN.MOVE_SELF | _IN.ATTRIB | _IN.DELETE_SELF):
                callbacks.on_moved_or_unlinked(file)
            if mask & (_IN.MODIFY | _IN.MOVE_SELF | _IN.DELETE_SELF | _IN.IGNORED):
                callbacks.on_data(file)


class StatWatcher:
    """``Inotify_Watcher Off`` (or no inotify): check every file's size and links on a timer."""

    name = "stat"

    def __init__(self, callbacks: Callbacks, log: logging.LoggerAdapter) -> None:
        self._callbacks = callbacks
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._poll())

    def add(self, file: TailFile) -> None:
        """Polling covers every open file already."""

    def remove(self, file: TailFile) -> None:
        """Polling covers every open file already."""

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(STAT_POLL_SECONDS)
            self._callbacks.on_check_all()


def make_watcher(use_inotify: bool, callbacks: Callbacks, log: logging.LoggerAdapter) -> InotifyWatcher | StatWatcher:
    """inotify unless switched off or unavailable (e.g. the per-user instance limit is reached)."""
    if use_inotify:
        try:
            return InotifyWatcher(callbacks, log)
        except OSError as exc:
            log.warning("inotify unavailable (%s): using the stat watcher", exc)
    return StatWatcher(callbacks, log)
