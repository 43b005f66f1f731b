"""The file system of ``storage.path`` fills up under load: the agent says so once, keeps the records
it could not write in memory (held against ``Mem_Buf_Limit``, so reading pauses rather than grows),
delivers them, and writes chunk files again once there is room.

With the output down as well (kinesis_streams through the fault proxy), nothing can leave
memory: reading pauses at ``Mem_Buf_Limit`` and everything arrives once both are back.

``storage.path`` is a 2 MB tmpfs the test mounts (root only; skipped where mounting is refused)
and fills with a file of its own while the agent runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent import Agent
from tests.fakes.ports import free_port
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived as stream_records
from tests.outputs.kinesis_streams.test_kinesis_streams import create_stream
from tests.reliability.load import SteadyWriter, arrived
from tests.reliability.test_kill import CONFIG, WAIT_SECONDS
from tests.reliability.test_outage import MEM_BUF_LIMIT as OUTAGE_MEM_BUF_LIMIT
from tests.reliability.test_outage import (
    OUTAGE_CALLS,
    all_arrived,
    lines_arrived,
    make_agent,
    read_buffer_footprint,
    serves,
    size_of,
    storage_status,
)

LINES = 12_000
# Written while the disk is full and the output down: about 500 KB, more than memory may hold.
HELD_LINES = 10_000
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


def test_a_full_storage_disk_while_the_output_is_down_holds_memory_at_mem_buf_limit_and_everything_arrives_after(
        moto, fault_proxy, tmp_path: Path, small_disk: Path) -> None:
    create_stream(moto)
    fault_proxy.add("PutRecords", "error500", times=OUTAGE_CALLS)
    port = free_port()
    samples: list[dict[str, Any]] = []
    with make_agent(tmp_path, "filesystem", fault_proxy.url, port) as agent:
        agent.wait_started(WAIT_SECONDS)
        agent.wait_for(lambda: serves(port), "the monitoring server", WAIT_SECONDS)
        filler = fill(small_disk)
        writer = SteadyWriter(tmp_path / "logs" / "app.log", HELD_LINES, LINES_PER_SECOND).start()

        def sampled_after_the_writer() -> bool:
            samples.append(storage_status(port))
            return writer.done and len(fault_proxy.calls_to("PutRecords")) >= 5

        agent.wait_for(sampled_after_the_writer, "the load to end while the disk is full and the output fails",
                       WAIT_SECONDS)
        held = max(size_of(sample["input_chunks"]["tail.0"]["status"]["mem_size"]) for sample in samples)
        filler.unlink()
        fault_proxy.clear()
        agent.wait_for(all_arrived(moto, HELD_LINES), f"all {HELD_LINES} lines", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert sorted(lines_arrived(moto)) == list(range(HELD_LINES))
    assert len(stream_records(moto)) == HELD_LINES
    # Mem_Buf_Limit counts what the records cost in memory: the limit plus one read buffer's records.
    assert held <= OUTAGE_MEM_BUF_LIMIT + read_buffer_footprint()
    assert "[input] tail.0 paused (mem buf overlimit - event of size " in result.stderr
    assert result.stderr.count("No space left on device") == 1
