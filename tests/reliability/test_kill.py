"""``kill -9`` under a steady load, then a restart: every line written arrives at least once.

The real agent tails a file a writer thread appends to, into the ``file`` output, and is killed
at ``KILLS`` random moments while the writer writes (the seed is in the failure message, to replay
a run); every one of them must lose nothing. With filesystem storage
the records are on disk before the tail offset moves; with memory storage the offset moves only
once the output accepted them. Either way a killed agent reads again, at worst, what it held.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from flb_fast.inputs.tail import READ_BUFFER_BYTES
from flb_fast.storage.store import CHUNK_MAX_BYTES
from tests.e2e.agent import Agent
from tests.reliability.load import PADDING, SteadyWriter, arrived

LINES_PER_SECOND = 1_000
# The guarantee: kill -9 at 20 random moments, 20 of 20 lose nothing.
KILLS = 20
# The writer writes until the last kill is done: this bound is never reached.
MAX_LINES = LINES_PER_SECOND * 3_600
MEM_BUF_LIMIT = 64 * 1024
# "line 1234567 " + padding + newline: the most a record's line costs.
LINE_BYTES = len(f"line {MAX_LINES} {PADDING}\n")
WAIT_SECONDS = 90.0

CONFIG = """\
[SERVICE]
    Flush        0.2
    Grace        2
    Log_Level    info
    storage.path {root}/storage
[INPUT]
    Name             tail
    Path             {root}/logs/*.log
    Read_From_Head   On
    Refresh_Interval 1
    DB               {root}/tail.db
    Mem_Buf_Limit    {mem_buf_limit}
    storage.type     {storage}
[OUTPUT]
    Name   file
    Match  *
    Path   {root}/out
    File   out.txt
    Format plain
"""


@pytest.mark.parametrize("storage", ["filesystem", "memory"])
def test_kill_9_at_random_moments_under_load_loses_no_line(tmp_path: Path, storage: str) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    config = CONFIG.format(root=tmp_path, storage=storage, mem_buf_limit=MEM_BUF_LIMIT)
    out = [tmp_path / "out" / "out.txt"]
    out[0].parent.mkdir()
    writer = SteadyWriter(tmp_path / "logs" / "app.log", MAX_LINES, LINES_PER_SECOND).start()
    for _ in range(KILLS):
        with Agent(tmp_path, config) as agent:
            agent.wait_started(WAIT_SECONDS)
            time.sleep(rng.uniform(0.1, 1.0))  # the kill moment itself, not a wait for a condition
            agent.stop(signal.SIGKILL)
    writer.stop()
    lines = writer.written
    with Agent(tmp_path, config) as agent:
        agent.wait_started(WAIT_SECONDS)
        agent.wait_for(lambda: not arrived(out, lines).missing, f"all {lines} lines (seed {seed})", WAIT_SECONDS)
        result = agent.stop()
    got = arrived(out, lines)
    assert result.returncode == 0
    assert got.missing == [], f"seed {seed}"
    # At most what the agent held when it was killed comes again: with memory storage what it had
    # not delivered (Mem_Buf_Limit plus the read that crossed it), with filesystem storage the
    # chunk the output was writing.
    held = MEM_BUF_LIMIT + READ_BUFFER_BYTES if storage == "memory" else CHUNK_MAX_BYTES
    assert got.duplicates <= KILLS * held // LINE_BYTES
