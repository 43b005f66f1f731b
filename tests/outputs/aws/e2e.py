"""End-to-end helpers: the real ``flb-fast`` command tailing a file of numbered lines into an
AWS output that talks to moto (directly, or through the fault proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.agent import Agent
from tests.fakes.moto_server import FAKE_CREDENTIALS

SERVICE = """\
[SERVICE]
    Flush           0.2
    Grace           10
    Log_Level       info
    scheduler.base  0.2
    scheduler.cap   1

[INPUT]
    Name            tail
    Tag             kube.app
    Path            {log}
    Read_from_Head  On
    DB              {db}
"""


def numbered_log(folder: Path, count: int, start: int = 0) -> Path:
    """A log file of ``line <i>`` lines (appended to when it exists)."""
    path = folder / "app.log"
    with open(path, "a") as handle:
        handle.writelines(f"line {i}\n" for i in range(start, start + count))
    return path


def expected(count: int, start: int = 0) -> list[str]:
    """What tail without a parser makes of the numbered lines, as JSON."""
    return [f'{{"log":"line {i}"}}' for i in range(start, start + count)]


def agent(folder: Path, output: str, env: dict[str, str] | None = None, **fields: Any) -> Agent:
    """An agent tailing ``folder/app.log`` into the ``[OUTPUT]`` section ``output``."""
    config = SERVICE.format(log=folder / "app.log", db=folder / "tail.db") + "\n" + output.format(**fields)
    return Agent(folder, config, env={**FAKE_CREDENTIALS, **(env or {})})
