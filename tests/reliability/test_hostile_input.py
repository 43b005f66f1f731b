"""Hostile input never stops the agent: binary garbage, NUL bytes, deeply nested JSON, a 100 MB line
without a newline, files appearing and disappearing by the thousand, a file replaced by a directory.
Each is counted or passed through, memory stays bounded, and every line of a well-behaved file
tailed beside them arrives exactly once.

Permission denied is not tested here: the tests run as root, who can open any file (a non-root run
of ``test_an_unreadable_file_is_counted_and_the_rest_arrives`` checks it).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.e2e.test_tail import Tail, append
from tests.reliability.load import arrived

LINES = 2_000
WAIT_SECONDS = 90.0
NESTING_DEPTH = 100_000
LONG_LINE_BYTES = 100 * 1024 * 1024
# Peak RSS the agent may gain while it reads the 100 MB line: its read buffer, the line's first
# Buffer_Max_Size bytes and the records of the other file, far below the line itself.
LONG_LINE_RSS_BYTES = 48 * 1024 * 1024
# Files created and deleted again while the agent runs (10,000 in the soak; a tenth here
# keeps the suite's time on a loaded 2-core machine).
CHURN_FILES = 1_000
# Files created at once, then deleted once the agent opened them all.
CHURN_WAVE = 100


def app_lines(count: int = LINES) -> str:
    return "".join(f"line {n} well-behaved\n" for n in range(count))


def peak_rss(agent: Agent) -> int:
    """The agent process's peak resident set (VmHWM), in bytes."""
    assert agent.process is not None
    for row in Path(f"/proc/{agent.process.pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def open_files(agent: Agent, folder: Path) -> list[str]:
    """What the agent has open under ``folder`` (a deleted file shows as ``<path> (deleted)``)."""
    assert agent.process is not None
    fds = Path(f"/proc/{agent.process.pid}/fd")
    found = []
    for fd in os.listdir(fds):
        try:
            target = os.readlink(fds / fd)
        except OSError:
            continue
        if target.startswith(f"{folder}/"):
            found.append(target)
    return found


def test_garbage_nul_bytes_nested_json_and_a_file_turned_directory_leave_every_other_line_arriving(
        tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Parser json\nBuffer_Max_Size 1M")
    rng = random.Random(13)
    append(tail.logs / "garbage.log", bytes(rng.randrange(256) for _ in range(256 * 1024)))
    append(tail.logs / "nul.log", b"\x00" * 4096 + b"before\x00after\n")
    append(tail.logs / "nested.log", "{\"a\":" * NESTING_DEPTH + "1" + "}" * NESTING_DEPTH + "\n")
    append(tail.logs / "gone.log", "the last line of a file replaced by a directory\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.logs_of("gone.log")) == 1, "the line of the file to be replaced")
        (tail.logs / "gone.log").unlink()
        (tail.logs / "gone.log").mkdir()
        append(tail.logs / "app.log", app_lines())
        agent.wait_for(lambda: not arrived([tail.out], LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        agent.wait_for(lambda: len(tail.logs_of("nested.log")) == 1, "the nested JSON line", WAIT_SECONDS)
        unparsed = tail.counter(agent, "lines_unparsed")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert arrived([tail.out], LINES).duplicates == 0
    assert tail.logs_of("nul.log") == ["before\x00after"]
    assert tail.logs_of("nested.log") == ["{\"a\":" * NESTING_DEPTH + "1" + "}" * NESTING_DEPTH]
    assert unparsed >= LINES + 1  # the well-behaved lines are not JSON either
    assert "Traceback" not in result.stderr


def test_a_100_mb_line_without_newline_keeps_memory_bounded_and_the_rest_arrives(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Skip_Long_Lines On")
    with tail.agent() as agent:
        agent.wait_started(WAIT_SECONDS)
        before = peak_rss(agent)
        block = b"x" * (1024 * 1024)
        with open(tail.logs / "long.log", "ab") as handle:
            for _ in range(LONG_LINE_BYTES // len(block)):
                handle.write(block)
        append(tail.logs / "app.log", app_lines())
        agent.wait_for(lambda: not arrived([tail.out], LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        agent.wait_for(lambda: os.path.getsize(tail.logs / "long.log") == LONG_LINE_BYTES, "the long line written")
        append(tail.logs / "long.log", "\nafter the long line\n")
        agent.wait_for(lambda: tail.logs_of("long.log") == ["after the long line"], "the line after the long one",
                       WAIT_SECONDS)
        grown = peak_rss(agent) - before
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert grown < LONG_LINE_RSS_BYTES, f"peak RSS grew by {grown:,} bytes"
    assert "file=" in result.stderr and "have long lines. Skipping long lines." in result.stderr


def test_files_appearing_and_disappearing_by_the_thousand_leak_nothing_and_every_line_arrives(
        tmp_path: Path) -> None:
    tail = Tail(tmp_path)  # Refresh_Interval 0.5, Rotate_Wait 1
    names = [f"churn-{n}.log" for n in range(CHURN_FILES)]
    with tail.agent() as agent:
        agent.wait_started(WAIT_SECONDS)
        for wave in range(0, CHURN_FILES, CHURN_WAVE):
            for name in names[wave:wave + CHURN_WAVE]:
                append(tail.logs / name, f"short-lived {name}\n")
            agent.wait_for(lambda wave=wave: tail.metrics().get("files_opened", 0) >= wave + CHURN_WAVE,
                           "the wave of files to be opened", WAIT_SECONDS)
            for name in names[wave:wave + CHURN_WAVE]:
                (tail.logs / name).unlink()
        append(tail.logs / "app.log", app_lines())
        agent.wait_for(lambda: not arrived([tail.out], LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        # Every deleted file is closed once drained: only app.log stays open.
        agent.wait_for(lambda: open_files(agent, tail.logs) == [str(tail.logs / "app.log")],
                       "the deleted files to be closed", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert arrived([tail.out], LINES).duplicates == 0
    assert sorted(record["log"] for record in tail.records() if record["log"].startswith("short-lived")) == sorted(
        f"short-lived {name}" for name in names)


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any file whatever its mode: no permission to deny")
def test_an_unreadable_file_is_counted_and_the_rest_arrives(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    secret = tail.logs / "secret.log"
    append(secret, "not for us\n")
    secret.chmod(0)
    with tail.agent() as agent:
        append(tail.logs / "app.log", app_lines())
        agent.wait_for(lambda: not arrived([tail.out], LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        unreadable = tail.counter(agent, "files_unreadable")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert unreadable == 1
    assert f"cannot open {secret}: Permission denied" in result.stderr
