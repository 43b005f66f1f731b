"""The real command: dummy -> file, flushing on SIGTERM within Grace and exiting 0."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

from tests.e2e.agent import Agent, lines
from tests.fakes.ports import free_port

CONFIG = """\
[SERVICE]
    Flush        {flush}
    Grace        5
    Log_Level    info
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}

[INPUT]
    Name              dummy
    Tag               demo
    Dummy             {{"message":"dummy","n":1}}
    Rate              50
    Samples           {samples}
    Start_time_sec    1700000000
    Fixed_Timestamp   on

[OUTPUT]
    Name   file
    Match  demo
    Path   {out}
    Mkdir  on
"""

LINE = 'demo: [1700000000.000000000, {"message":"dummy","n":1}]'


def metrics(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5) as response:
            return json.load(response)
    except OSError:
        return {}


def input_records(port: int) -> int:
    return metrics(port).get("input", {}).get("dummy.0", {}).get("records", 0)


def test_records_arrive_at_each_flush(tmp_path):
    port = free_port()
    out = tmp_path / "out"
    with Agent(tmp_path, CONFIG.format(flush=0.2, port=port, samples=0, out=out)) as agent:
        agent.wait_for(lambda: len(lines(out / "demo")) >= 20, "20 lines in the output file")
        result = agent.stop()
    written = lines(out / "demo")
    assert result.returncode == 0, result.stderr
    assert set(written) == {LINE}
    assert "[engine] caught signal (SIGTERM)" in result.stderr


def test_sigterm_flushes_pending_chunks_within_grace_and_exits_zero(tmp_path):
    port = free_port()
    out = tmp_path / "out"
    with Agent(tmp_path, CONFIG.format(flush=3600, port=port, samples=25, out=out)) as agent:
        agent.wait_for(lambda: input_records(port) == 25, "25 records read by the input")
        assert lines(out / "demo") == []
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert result.stop_seconds < 5 + 10  # Grace, plus start-up slack of a loaded machine
    assert lines(out / "demo") == [LINE] * 25
    assert "[engine] service has stopped (0 pending tasks)" in result.stderr


def test_exits_within_grace_while_stdout_is_a_pipe_nobody_reads(tmp_path):
    port = free_port()
    config = CONFIG.format(flush=0.2, port=port, samples=0, out=tmp_path / "out")
    config = config[:config.index("    Name   file\n")] + "    Name   stdout\n    Match  demo\n"
    config = config.replace("    Rate              50\n", "    Rate              50\n    Copies            200\n")
    config = config.replace("    Grace        5\n", "    Grace        1\n")
    with Agent(tmp_path, config, stdout_pipe=True) as agent:
        # 20,000 records of ~60 bytes are far more than a pipe holds: the stdout writer is stuck.
        agent.wait_for(lambda: input_records(port) >= 20_000, "20000 records read by the input")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert result.stop_seconds < 1 + 10
    assert "worker threads still busy" in result.stderr


SHUTDOWN = Path(__file__).resolve().parents[1] / "data" / "engine" / "shutdown"


def line_form(line: str) -> str:
    """A log line with each number written N: its form, which must be Fluent Bit's (times vary by run)."""
    return re.sub(r"\d+", "N", line)


def test_shutdown_lines_have_the_form_fluent_bit_gives_them(tmp_path: Path) -> None:
    """Fluent Bit 4.2.8 recorded (tests/data/engine/shutdown): the signal line (time to the second,
    no level), the grace warning, 'pausing all inputs..', each input's pausing line, and the stop."""
    shutil.copy(SHUTDOWN / "input.log", tmp_path)
    with Agent(tmp_path, (SHUTDOWN / "fluent-bit.conf").read_text()) as agent:
        agent.wait_for(lambda: len(lines(agent.stdout_path)) == 2, "the 2 records")
        result = agent.stop()
    ours = result.stderr.splitlines()
    ours = ours[next(i for i, line in enumerate(ours) if "caught signal" in line):][:5]
    theirs = (SHUTDOWN / "fluent-bit.log").read_text().splitlines()[:5]
    assert [line_form(line) for line in ours] == [line_form(line) for line in theirs]
