"""A chunk file broken by a crash or a bad disk never stops the agent's start: it is set aside,
said so in the log, and every other record still arrives."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.agent import Agent
from tests.reliability.load import arrived
from tests.reliability.test_kill import CONFIG, MEM_BUF_LIMIT, WAIT_SECONDS

LINES = 1_000


def test_a_corrupt_chunk_file_at_start_is_moved_aside_and_the_rest_arrives(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "logs" / "app.log").write_text("".join(f"line {n} \n" for n in range(LINES)))
    chunks = tmp_path / "storage" / "tail.0"
    chunks.mkdir(parents=True)
    broken = chunks / "7-1700000000.0.flb"
    broken.write_bytes(b"\x00" * 4096)
    config = CONFIG.format(root=tmp_path, storage="filesystem", mem_buf_limit=MEM_BUF_LIMIT)
    out = [tmp_path / "out" / "out.txt"]
    with Agent(tmp_path, config) as agent:
        agent.wait_for(lambda: not arrived(out, LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0
    assert arrived(out, LINES).duplicates == 0
    assert (f"[error] [storage] chunk file {broken} is irrecoverable (not a chunk file (bad magic)): "
            f"moved to {broken}.corrupt") in result.stderr
    assert sorted(path.name for path in chunks.iterdir()) == [broken.name + ".corrupt"]
