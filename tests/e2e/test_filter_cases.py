"""Every filter case recorded from Fluent Bit 4.2.8 (tests/data/filters/<filter>/<case>) run by the
real agent on its own config: tail reads ``input.jsonl`` with Exit_On_Eof, the filters run, and
stdout's ``json_lines`` is byte for byte what Fluent Bit printed, before the agent exits by itself.

tests/filters/golden.py replays the same cases through the filters in-process; this runs the
command a user runs, so the config loading, the engine, the output's JSON and the exit are checked
too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.filters.golden import DATA

# A case runs in well under a second; generous for a loaded 2-core machine.
WAIT_SECONDS = 60.0


def recorded_cases() -> list[str]:
    return sorted(str(path.parent.relative_to(DATA)) for path in DATA.glob("*/*/expected.jsonl"))


@pytest.mark.parametrize("case", recorded_cases())
def test_the_agent_prints_what_fluent_bit_printed_and_exits(tmp_path: Path, case: str) -> None:
    # A copy, with the shared parsers.conf two folders up as the config names it.
    shutil.copy(DATA / "parsers.conf", tmp_path / "parsers.conf")
    folder = tmp_path / case
    shutil.copytree(DATA / case, folder)
    config = "fluent-bit.yaml" if (folder / "fluent-bit.yaml").exists() else "fluent-bit.conf"
    result = subprocess.run([sys.executable, "-m", "flb_fast", "-q", "-c", config], cwd=folder,
                            capture_output=True, stdin=subprocess.DEVNULL, timeout=WAIT_SECONDS)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == (folder / "expected.jsonl").read_text()
