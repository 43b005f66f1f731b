"""A steady log writer and a count of what arrived, for the reliability tests and bench/kill_restart.py.

Each line is ``line <n> <padding>`` with n counting from 0, so what arrived is read back from any
output format (and even from a line a killed writer left half-written) by finding the numbers.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_NUMBER = re.compile(rb"line (\d+) ")
# Lines written per write call: a steady stream, not one burst.
BATCH_LINES = 200
PADDING = "x" * 40


class SteadyWriter:
    """Appends ``lines`` numbered lines to ``path`` at about ``per_second`` lines a second, in a thread."""

    def __init__(self, path: Path, lines: int, per_second: int) -> None:
        self.path = path
        self.lines = lines
        self.per_second = per_second
        self.written = 0
        self._thread = threading.Thread(target=self._write, name="steady-writer", daemon=True)

    def start(self) -> SteadyWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def _write(self) -> None:
        started = time.monotonic()
        with open(self.path, "a", encoding="ascii") as handle:
            while self.written < self.lines:
                count = min(BATCH_LINES, self.lines - self.written)
                handle.write("".join(f"line {n} {PADDING}\n" for n in range(self.written, self.written + count)))
                handle.flush()
                self.written += count
                ahead = self.written / self.per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)


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
    numbers: list[int] = []
    for path in paths:
        try:
            numbers.extend(int(match) for match in _NUMBER.findall(path.read_bytes()))
        except FileNotFoundError:
            continue
    distinct = set(numbers)
    return Arrived(expected, len(numbers), len(distinct), [n for n in range(expected) if n not in distinct])
