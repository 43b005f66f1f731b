"""The lua filter with ``Protected_Mode Off`` in the real agent: a Lua error ends it as it ends
Fluent Bit 4.2.8 (recorded: tests/data/filters/lua/protected-mode-off, with its record.sh)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.agent import WAIT_SECONDS, Agent, lines
from tests.fakes.process import die_with_parent

RECORDING = Path(__file__).resolve().parents[1] / "data" / "filters" / "lua" / "protected-mode-off"


def test_a_lua_error_outside_protected_mode_ends_the_agent_with_luajits_panic_line(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(RECORDING, folder)
    agent = Agent(folder, (folder / "fluent-bit.conf").read_text())
    with agent:
        result = agent.wait_exit()
    assert result.returncode == int((RECORDING / "exit-status.txt").read_text())
    assert [line for line in result.stderr.splitlines() if line.startswith("PANIC")] == (
        (RECORDING / "panic.txt").read_text().splitlines())
    assert lines(agent.stdout_path) == (RECORDING / "stdout.jsonl").read_text().splitlines()


def test_the_panic_ends_the_agent_with_status_1_when_its_stderr_reader_has_gone(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(RECORDING, folder)
    agent = subprocess.Popen([sys.executable, "-m", "flb_fast", "-c", "fluent-bit.conf"], cwd=folder,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    try:
        assert agent.stderr is not None
        agent.stderr.close()  # long before the interpreter has started: the PANIC line cannot be written
        assert agent.wait(timeout=WAIT_SECONDS) == int((RECORDING / "exit-status.txt").read_text())
    finally:
        agent.kill()
        agent.wait()
