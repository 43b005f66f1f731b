"""A file tailed with a DB and renamed while the real ``flb-fast`` is stopped, as Fluent Bit 4.2.8
handles it (recorded: tests/data/inputs/tail/restart-after-rename, with record.sh's steps).

When the renamed file still matches Path, it is found again by its inode: reading goes on from
its DB offset (nothing is read twice) and its records are tagged from the name it has now. When
it no longer matches, its DB row is deleted as stale once the first scan is done, as Fluent Bit's
``db: delete unmonitored stale inodes from the database: count=N`` says, and its new lines are not
read. In both cases a new file under the old name is a new file, read from its head.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.agent import Agent, lines

RECORDING = Path(__file__).resolve().parents[1] / "data" / "inputs" / "tail" / "restart-after-rename"


def out_lines(folder: Path) -> list[str]:
    out = folder / "out"
    return [line for name in sorted(os.listdir(out)) for line in lines(out / name)] if out.exists() else []


@pytest.mark.parametrize(("case", "glob"), [("glob-matches-renamed", "*.log*"), ("glob-misses-renamed", "*.log")])
def test_a_file_renamed_while_stopped_is_resumed_or_forgotten_as_fluent_bit_does(
    case: str, glob: str, tmp_path: Path
) -> None:
    config = (RECORDING / "fluent-bit.conf").read_text()
    env = {"GLOB": glob}
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("first 1\nfirst 2\nfirst 3\n")
    with Agent(tmp_path, config, env=env) as agent:
        agent.wait_for(lambda: len(out_lines(tmp_path)) == 3, "the first 3 records")
        first = agent.stop()
    (tmp_path / "stderr1.txt").write_text(first.stderr)
    (tmp_path / "renamed.inode").write_text(str(os.stat(logs / "app.log").st_ino))
    os.rename(logs / "app.log", logs / "app.log.1")
    with Agent(tmp_path, config, env=env) as agent:
        agent.wait_for(lambda: "db: delete unmonitored stale inodes" in agent.stderr(), "the stale rows to go")
        with open(logs / "app.log.1", "a") as renamed:
            renamed.write("after restart\n")
        (logs / "app.log").write_text("new file\n")
        expected = 5 if case == "glob-matches-renamed" else 4
        agent.wait_for(lambda: len(out_lines(tmp_path)) == expected, f"{expected} records")
        second = agent.stop()
    (tmp_path / "stderr2.txt").write_text(second.stderr)
    summary = subprocess.run([sys.executable, str(RECORDING / "summarize.py"), str(tmp_path)],
                             check=True, capture_output=True, text=True).stdout
    assert json.loads(summary) == json.loads((RECORDING / f"{case}.json").read_text())
