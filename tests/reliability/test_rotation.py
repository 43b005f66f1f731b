"""Rotation every second under a steady load, in kubelet's layout (a symlink in containers/ to
pods/.../0.log), through the real agent into the ``file`` output.

Rename-and-create: every line arrives exactly once. copytruncate: what the agent had not read
when the file was truncated is gone from the file it tails (the copy holds it), so lines may be
lost, but only the last ones written before a truncation, none twice, and every line after it
arrives. ``python -m bench.rotation`` runs the same at 20,000 lines/s beside Fluent Bit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.reliability.load import RotatingWriter, arrived

LINES_PER_SECOND = 3_000
# Four rotations, one a second.
LINES = 4 * LINES_PER_SECOND + LINES_PER_SECOND // 2
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


def runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive numbers as ``(first, last)`` runs."""
    found: list[tuple[int, int]] = []
    for n in numbers:
        if found and found[-1][1] == n - 1:
            found[-1] = (found[-1][0], n)
        else:
            found.append((n, n))
    return found


def run_with_rotation(tmp_path: Path, mode: str) -> tuple[RotatingWriter, list[Path]]:
    out = [tmp_path / "out" / "out.txt"]
    out[0].parent.mkdir()
    writer = RotatingWriter(tmp_path, LINES, LINES_PER_SECOND, mode)
    with Agent(tmp_path, CONFIG.format(root=tmp_path)) as agent:
        agent.wait_started(WAIT_SECONDS)
        writer.start()
        agent.wait_for(lambda: writer.done, "the writer to end", WAIT_SECONDS)
        after_last_rotation = writer.truncated_at[-1] if writer.truncated_at else 0

        def delivered_after_the_last_rotation() -> bool:
            return all(n < after_last_rotation for n in arrived(out, LINES).missing)

        agent.wait_for(delivered_after_the_last_rotation, "the lines written after the last rotation", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert writer.rotations >= 4
    return writer, out


def test_rename_rotation_every_second_through_kubelet_symlinks_loses_and_doubles_nothing(tmp_path: Path) -> None:
    _writer, out = run_with_rotation(tmp_path, "rename")
    got = arrived(out, LINES)
    assert (got.missing, got.duplicates) == ([], 0)


def test_copytruncate_every_second_loses_only_lines_unread_at_a_truncation_and_doubles_none(tmp_path: Path) -> None:
    writer, out = run_with_rotation(tmp_path, "copytruncate")
    got = arrived(out, LINES)
    assert got.duplicates == 0
    # Each lost run is the end of what was written before a truncation.
    assert [last + 1 for _first, last in runs(got.missing) if last + 1 not in writer.truncated_at] == []


@pytest.mark.parametrize("numbers, expected", [([], []), ([3], [(3, 3)]), ([1, 2, 3, 7, 9, 10], [(1, 3), (7, 7), (9, 10)])])
def test_runs_groups_consecutive_numbers(numbers: list[int], expected: list[tuple[int, int]]) -> None:
    assert runs(numbers) == expected
