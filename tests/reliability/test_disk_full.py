"""The file system of ``storage.path`` fills up under load: the agent says so once, keeps the records
it could not write in memory (held against ``Mem_Buf_Limit``, so reading pauses rather than grows),
delivers them, and writes chunk files again once there is room.

``storage.path`` is a 2 MB tmpfs the test mounts (root only; skipped where mounting is refused)
and fills with a file of its own while the agent runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.reliability.load import SteadyWriter, arrived
from tests.reliability.test_kill import CONFIG, WAIT_SECONDS

LINES = 12_000
LINES_PER_SECOND = 3_000
MEM_BUF_LIMIT = 64 * 1024
TMPFS_SIZE = "2m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs at ``tmp_path/storage``, unmounted afterwards."""
    mount = tmp_path / "storage"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk refuses more; return it."""
    filler = disk / "filler"
    block = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError:
            pass
    return filler


def test_a_full_storage_disk_is_logged_the_records_still_arrive_and_chunk_files_resume_after(
        tmp_path: Path, small_disk: Path) -> None:
    (tmp_path / "out").mkdir()
    out = [tmp_path / "out" / "out.txt"]
    config = CONFIG.format(root=tmp_path, storage="filesystem", mem_buf_limit=MEM_BUF_LIMIT)
    with Agent(tmp_path, config) as agent:
        agent.wait_started(WAIT_SECONDS)
        filler = fill(small_disk)
        writer = SteadyWriter(tmp_path / "logs" / "app.log", LINES, LINES_PER_SECOND).start()
        agent.wait_for(lambda: "No space left on device" in agent.stderr(), "the full disk to be logged",
                       WAIT_SECONDS)
        filler.unlink()
        writer.join(WAIT_SECONDS)
        agent.wait_for(lambda: not arrived(out, LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        agent.wait_for(lambda: f"writing chunks to {small_disk} again" in agent.stderr(),
                       "chunk files to be written again", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert arrived(out, LINES).duplicates == 0
    assert result.stderr.count("No space left on device") == 1
    assert "its records are kept in memory until delivered" in result.stderr
