"""Rotation every second under a steady load, in kubelet's layout (a symlink in containers/ to
pods/.../0.log), through the real agent into the ``file`` output.

Rename-and-create and copytruncate alike: every line arrives exactly once. With copytruncate the
lines written after the agent's last read and before the truncation are read from the copy.
``python -m bench.rotation`` runs the same beside Fluent Bit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.reliability.load import RotatingWriter, arrived

# Four rotations, one a second, at a slow and at a fast writer's rate.
RATES = [3_000, 20_000]
WAIT_SECONDS = 90.0

CONFIG = """\
[SERVICE]
    Flush        0.2
    Grace        2
    Log_Level    info
[INPUT]
    Name             tail
    Path             {root}/containers/*.log
    Read_From_Head   On
    Refresh_Interval 1
    DB               {root}/tail.db
[OUTPUT]
    Name   file
    Match  *
    Path   {root}/out
    File   out.txt
    Format plain
"""


def lines_at(rate: int) -> int:
    """Lines written in 4.5 s: four rotations."""
    return 4 * rate + rate // 2


def run_with_rotation(tmp_path: Path, mode: str, rate: int) -> list[Path]:
    out = [tmp_path / "out" / "out.txt"]
    out[0].parent.mkdir()
    lines = lines_at(rate)
    writer = RotatingWriter(tmp_path, lines, rate, mode)
    # The log exists before the agent starts, so it is tailed from the start-up scan: found by a
    # later scan (Refresh_Interval), which a loaded machine can delay past the first rotation, its
    # first lines would be only in a rotated file the agent never tailed, as with Fluent Bit.
    writer.container.create()
    with Agent(tmp_path, CONFIG.format(root=tmp_path)) as agent:
        agent.wait_started(WAIT_SECONDS)
        writer.start()
        agent.wait_for(lambda: writer.done, "the writer to end", WAIT_SECONDS)
        agent.wait_for(lambda: not arrived(out, lines).missing, "every line written", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert writer.rotations >= 4
    return out


@pytest.mark.parametrize("rate", RATES)
def test_rename_rotation_every_second_through_kubelet_symlinks_loses_and_doubles_nothing(tmp_path: Path,
                                                                                        rate: int) -> None:
    out = run_with_rotation(tmp_path, "rename", rate)
    got = arrived(out, lines_at(rate))
    assert (got.missing, got.duplicates) == ([], 0)


@pytest.mark.parametrize("rate", RATES)
def test_copytruncate_every_second_loses_and_doubles_nothing(tmp_path: Path, rate: int) -> None:
    out = run_with_rotation(tmp_path, "copytruncate", rate)
    got = arrived(out, lines_at(rate))
    assert (got.missing, got.duplicates) == ([], 0)
