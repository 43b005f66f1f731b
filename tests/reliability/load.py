"""A steady log writer and a count of what arrived, for the reliability tests and bench/kill_restart.py.

Each line is ``line <n> <padding>`` with n counting from 0, so what arrived is read back from any
output format (and even from a line a killed writer left half-written) by finding the numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NUMBER = re.compile(rb"line (\d+) ")
# Lines written per write call: a steady stream, not one burst.
BATCH_LINES = 200
PADDING = "x" * 40


class _PacedWriter(ABC):
    """Writes ``lines`` numbered lines in batches at about ``per_second`` lines a second, in a thread."""

    def __init__(self, lines: int, per_second: int, name: str) -> None:
        self.lines = lines
        self.per_second = per_second
        self.written = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._write, name=name, daemon=True)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def stop(self) -> None:
        """End the writing after the batch being written; ``written`` then counts every line written."""
        self._stopped.set()
        self._thread.join()

    @property
    def _more(self) -> bool:
        """Whether lines are left to write and no one stopped the writer."""
        return self.written < self.lines and not self._stopped.is_set()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @abstractmethod
    def _write(self) -> None:
        """The thread's work: write every line, paced."""

    def _write_batch(self, handle: Any) -> None:
        """The next batch of lines, flushed at once."""
        count = min(BATCH_LINES, self.lines - self.written)
        handle.write("".join(f"line {n} {PADDING}\n" for n in range(self.written, self.written + count)))
        handle.flush()
        self.written += count

    def _keep_pace(self, started: float) -> None:
        """Sleep until the lines written so far are due, so the rate stays ``per_second``."""
        ahead = self.written / self.per_second - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


class SteadyWriter(_PacedWriter):
    """Appends ``lines`` numbered lines to ``path`` at about ``per_second`` lines a second, in a thread."""

    def __init__(self, path: Path, lines: int, per_second: int) -> None:
        super().__init__(lines, per_second, "steady-writer")
        self.path = path

    def start(self) -> SteadyWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def _write(self) -> None:
        started = time.monotonic()
        with open(self.path, "a", encoding="ascii") as handle:
            while self._more:
                self._write_batch(handle)
                self._keep_pace(started)


# kubelet keeps containerLogMaxFiles (5) files per container: the live one and 4 rotated ones.
KEEP_ROTATED = 4


@dataclass(frozen=True)
class ContainerLog:
    """One container's log in kubelet's layout: the file ``pods/<ns>_<pod>_<uid>/<container>/0.log``
    and the tailed relative symlink ``containers/<pod>_<ns>_<container>-<id>.log`` to it, as on a node."""

    root: Path
    namespace: str
    pod: str
    uid: str
    container: str
    container_id: str

    @property
    def pod_dir(self) -> Path:
        return self.root / "pods" / f"{self.namespace}_{self.pod}_{self.uid}"

    @property
    def log(self) -> Path:
        return self.pod_dir / self.container / "0.log"

    @property
    def link(self) -> Path:
        return self.root / "containers" / f"{self.pod}_{self.namespace}_{self.container}-{self.container_id}.log"

    def create(self, data: bytes = b"") -> None:
        """Write the log, then link it (the link never points at a file not yet written)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_bytes(data)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        self.link.symlink_to(os.path.relpath(self.log, self.link.parent))

    def remove(self) -> None:
        """The pod is gone: its folder is deleted, then the symlink (left dangling in between, as kubelet does)."""
        shutil.rmtree(self.pod_dir)
        self.link.unlink()


class RotatingWriter(_PacedWriter):
    """Writes ``lines`` numbered lines at ``per_second`` to a container log in kubelet's layout,
    rotating it every ``rotate_seconds`` (``math.inf``: only when ``request_rotation`` asks), in a thread.

    The file and the tailed symlink to it are a ``ContainerLog``'s. ``rename``: 0.log is renamed to
    0.log.<n>, one more batch goes to the renamed file (the runtime writes until it reopens) and a
    new 0.log is created. ``copytruncate``: 0.log is copied to
    0.log.<n> and truncated, and writing goes on at its head; ``truncated_at`` holds the number of
    lines written at each truncation. Rotated files beyond ``KEEP_ROTATED`` are deleted. ``pod``
    names the pod, so that several writers can share one ``root``.
    """

    def __init__(self, root: Path, lines: int, per_second: int, mode: str, rotate_seconds: float = 1.0,
                 pod: str = "web-1") -> None:
        if mode not in ("rename", "copytruncate"):
            raise ValueError(f"unknown rotation mode {mode!r}")
        super().__init__(lines, per_second, "rotating-writer")
        self.container = ContainerLog(root, "prod", pod, "0f7c", "app", "0123abcd")
        self.log = self.container.log
        self.link = self.container.link
        self.mode = mode
        self.rotate_seconds = rotate_seconds
        self.rotations = 0
        self.truncated_at: list[int] = []
        self._requested = threading.Event()

    def start(self) -> RotatingWriter:
        """Start writing; the container log is created first unless the caller created it already."""
        if not self.link.is_symlink():
            self.container.create()
        self._thread.start()
        return self

    def request_rotation(self) -> None:
        """Rotate after the next batch, whatever the clock says (the writer thread rotates, between batches)."""
        self._requested.set()

    def _write(self) -> None:
        started = time.monotonic()
        next_rotation = started + self.rotate_seconds
        handle = open(self.log, "a", encoding="ascii")
        reopen = False
        try:
            while self._more:
                self._write_batch(handle)
                if reopen:
                    handle.close()
                    handle = open(self.log, "a", encoding="ascii")
                    reopen = False
                due = self._requested.is_set() or time.monotonic() >= next_rotation
                if due and self._more:
                    self._requested.clear()
                    reopen = self._rotate()
                    next_rotation += self.rotate_seconds
                self._keep_pace(started)
        finally:
            handle.close()

    def _rotate(self) -> bool:
        """Rotate 0.log; True when the writer must reopen it after its next batch."""
        self.rotations += 1
        rotated = self.log.with_name(f"0.log.{self.rotations}")
        if self.mode == "rename":
            os.rename(self.log, rotated)
        else:
            shutil.copyfile(self.log, rotated)
            os.truncate(self.log, 0)
            self.truncated_at.append(self.written)
        old = self.log.with_name(f"0.log.{self.rotations - KEEP_ROTATED}")
        old.unlink(missing_ok=True)
        return self.mode == "rename"


@dataclass(frozen=True)
class Arrived:
    """What an output holds of the ``expected`` lines 0..expected-1."""

    expected: int
    total: int
    distinct: int
    missing: list[int]

    @property
    def duplicates(self) -> int:
        return self.total - self.distinct


def arrived(paths: list[Path], expected: int) -> Arrived:
    """What the files at ``paths`` (those that exist) hold."""
    texts = []
    for path in paths:
        try:
            texts.append(path.read_bytes())
        except FileNotFoundError:
            continue
    return arrived_in(texts, expected)


def arrived_in(texts: Iterable[bytes], expected: int) -> Arrived:
    """What ``texts`` (an output's files, or the messages a server received) hold."""
    numbers = [int(match) for text in texts for match in _NUMBER.findall(text)]
    distinct = set(numbers)
    return Arrived(expected, len(numbers), len(distinct), [n for n in range(expected) if n not in distinct])
