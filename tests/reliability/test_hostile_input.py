"""Hostile input never stops the agent: binary garbage, NUL bytes, deeply nested JSON, a 100 MB line
without a newline, 10,000 container logs appearing and disappearing, a file replaced by a directory
and back, a directory replaced by a file, a file the agent may not read. Each is counted or passed
through, memory stays bounded, and every line of every readable file arrives exactly once.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.e2e.test_tail import Tail, append
from tests.fakes.ports import free_port
from tests.fakes.process import honour_file_modes
from tests.reliability.load import ContainerLog, arrived

LINES = 2_000
WAIT_SECONDS = 90.0
NESTING_DEPTH = 100_000
LONG_LINE_BYTES = 100 * 1024 * 1024
# Peak RSS the agent may gain while it reads the 100 MB line: its read buffer, the line's first
# Buffer_Max_Size bytes and the records of the other file, far below the line itself.
LONG_LINE_RSS_BYTES = 48 * 1024 * 1024

# Container logs created and deleted while the agent runs, CHURN_WAVE at a time: the 10,000.
CHURN_PODS = 10_000
CHURN_WAVE = 1_000
# Pods of each wave deleted again at once, one after the other, so their lifetimes spread from
# nothing to about two rescans (Refresh_Interval 0.5): some are never seen, some are listed by a
# rescan but gone before they are opened (their names sort after the wave's other pods, which a
# rescan opens first), some are opened and read.
CHURN_EPHEMERAL = 50
EPHEMERAL_SPACING_SECONDS = 0.02
POD_LINES = 3
# The agent's peak RSS over its own once started, for the whole churn. Measured 4.5 to 6.8 MB in five
# runs, of which about 3 MB for the first wave's 1,000 files open at once; keeping what 10,000 closed
# files cost would add about 30 MB.
CHURN_RSS_BYTES = 16 * 1024 * 1024

FLUENT_BIT_LONG_LINES = Path(__file__).parents[1] / "data" / "inputs" / "tail" / "long-line-counters"


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


def all_counters(tail: Tail, agent: Agent) -> dict:
    """The input's counters, waiting for the monitoring API to answer (it is slow under load)."""
    found: dict = {}

    def answered() -> bool:
        found.update(tail.metrics())
        return bool(found)

    agent.wait_for(answered, "the input's counters")
    return found


def test_garbage_nul_bytes_and_nested_json_leave_every_other_line_arriving(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Parser json\nBuffer_Max_Size 1M")
    rng = random.Random(13)
    append(tail.logs / "garbage.log", bytes(rng.randrange(256) for _ in range(256 * 1024)))
    append(tail.logs / "nul.log", b"\x00" * 4096 + b"before\x00after\n")
    append(tail.logs / "nested.log", "{\"a\":" * NESTING_DEPTH + "1" + "}" * NESTING_DEPTH + "\n")
    with tail.agent() as agent:
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
        skipped = tail.counter(agent, "long_line_skipped")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert grown < LONG_LINE_RSS_BYTES, f"peak RSS grew by {grown:,} bytes"
    assert skipped == 1
    assert "file=" in result.stderr and "have long lines. Skipping long lines." in result.stderr


def test_long_lines_skipped_and_truncated_are_counted_under_fluent_bits_names(tmp_path: Path) -> None:
    """Against Fluent Bit 4.2.8's /api/v1/metrics for the same files (recorded, see the folder's README)."""
    for kind in ("skip", "truncate"):
        (tmp_path / kind).mkdir()
        append(tmp_path / kind / "app.log", "before\n" + ("L" * 5000 + "\n") * 3 + "after\n")
    port = free_port()
    config = (FLUENT_BIT_LONG_LINES / "fluent-bit.conf").read_text().replace("{dir}", str(tmp_path))
    expected = json.loads((FLUENT_BIT_LONG_LINES / "metrics.json").read_text())["input"]
    keys = ("records", "files_opened", "long_line_skipped", "long_line_truncated")
    found: dict = {}

    def counted() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5) as response:
                found.update(json.load(response)["input"])
        except (OSError, KeyError, ValueError):
            return False
        return all(found.get(name, {}).get("records") == expected[name]["records"] for name in expected)

    with Agent(tmp_path, config.replace("{port}", str(port))) as agent:
        agent.wait_for(counted, "every line of both files", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert {name: {key: found[name][key] for key in keys} for name in expected} == {
        name: {key: counters[key] for key in keys} for name, counters in expected.items()}


def test_a_file_replaced_by_a_directory_and_back_and_a_directory_replaced_by_a_file_are_read_whole(
        tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    was_file, was_dir = tail.logs / "was-file.log", tail.logs / "was-dir.log"
    append(was_file, "file 0\nfile 1\n")
    was_dir.mkdir()
    append(was_dir / "inside.txt", "not matched by *.log\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.logs_of("was-file.log")) == 2, "the lines of the file to be replaced")
        was_file.unlink()
        was_file.mkdir()
        (was_dir / "inside.txt").unlink()
        was_dir.rmdir()
        append(was_dir, "".join(f"dir {n}\n" for n in range(3)))
        agent.wait_for(lambda: len(tail.logs_of("was-dir.log")) == 3, "the lines of the file replacing a directory")
        agent.wait_for(lambda: tail.metrics().get("files_closed") == 1, "the deleted file to be closed")
        was_file.rmdir()
        append(was_file, "back 0\nback 1\n")
        agent.wait_for(lambda: len(tail.logs_of("was-file.log")) == 4, "the lines of the file back again")
        counters = all_counters(tail, agent)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("was-file.log") == ["file 0", "file 1", "back 0", "back 1"]
    assert tail.logs_of("was-dir.log") == ["dir 0", "dir 1", "dir 2"]
    assert {key: counters[key] for key in ("files_opened", "files_closed", "files_rotated", "files_unreadable",
                                           "read_errors")} == {
        "files_opened": 3, "files_closed": 1, "files_rotated": 0, "files_unreadable": 0, "read_errors": 0}
    # Stopping warns '[engine] service will shutdown in max N seconds', as Fluent Bit does; nothing else may.
    assert [line for line in result.stderr.splitlines()
            if ("[error]" in line or "[ warn]" in line) and "] service will shutdown in max " not in line] == []


@pytest.fixture
def fast_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on tmpfs (/dev/shm) where there is one, else ``tmp_path``.

    Creating and deleting 1,000 pods' folders took 10 s on this shared machine's disk while other
    work wrote to it, and 0.4 s on tmpfs (measured); the agent reads either the same way.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="flb-churn-") as folder:
        yield Path(folder)


def pod(root: Path, kind: str, n: int) -> ContainerLog:
    return ContainerLog(root, "churn", f"{kind}-{n}", f"{n:08x}", "app", f"{n:012x}")


def pod_lines(container: ContainerLog) -> bytes:
    return "".join(f"{container.pod} line {n}\n" for n in range(POD_LINES)).encode()


def test_ten_thousand_container_logs_appearing_and_disappearing_are_read_whole_and_closed_in_bounded_memory(
        fast_folder: Path) -> None:
    root = fast_folder
    tail = Tail(root, path=f"{root}/containers/*.log")
    rng = random.Random(13)
    lived = [pod(root, "kept", n) for n in range(CHURN_PODS)]
    with tail.agent() as agent:
        agent.wait_started(WAIT_SECONDS)
        baseline = peak_rss(agent)
        for first in range(0, CHURN_PODS, CHURN_WAVE):
            wave = lived[first:first + CHURN_WAVE]
            for container in wave:
                container.create(pod_lines(container))
            ephemeral_first = first // CHURN_WAVE * CHURN_EPHEMERAL
            ephemeral = [pod(root, "short", n) for n in range(ephemeral_first, ephemeral_first + CHURN_EPHEMERAL)]
            for container in ephemeral:
                container.create(pod_lines(container))
            for container in ephemeral:
                container.remove()
                time.sleep(rng.uniform(0, EPHEMERAL_SPACING_SECONDS))  # pacing the deletions, not a wait
            opened = {str(container.log) for container in wave}
            agent.wait_for(lambda opened=opened: opened <= set(open_files(agent, root / "pods")),
                           "every file of the wave to be opened", WAIT_SECONDS)
            for container in wave:
                container.remove()
        agent.wait_for(lambda: open_files(agent, root / "pods") == [], "every deleted file to be closed", WAIT_SECONDS)
        counters = all_counters(tail, agent)
        grown = peak_rss(agent) - baseline
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    lines_per_pod = Counter(record["log"].rsplit(" line ", 1)[0] for record in tail.records())
    # Every pod opened arrives whole and once; the ones deleted before the agent opened them not at all.
    assert {name: count for name, count in lines_per_pod.items() if count != POD_LINES} == {}
    assert {container.pod for container in lived} - lines_per_pod.keys() == set()
    ephemeral_read = len(lines_per_pod) - CHURN_PODS
    assert 0 <= ephemeral_read <= CHURN_PODS // CHURN_WAVE * CHURN_EPHEMERAL
    assert {key: counters[key] for key in ("files_opened", "files_closed", "files_unreadable", "read_errors")} == {
        "files_opened": CHURN_PODS + ephemeral_read, "files_closed": CHURN_PODS + ephemeral_read,
        "files_unreadable": 0, "read_errors": 0}
    assert grown < CHURN_RSS_BYTES, f"peak RSS grew by {grown:,} bytes"
    assert "[error]" not in result.stderr and "cannot open" not in result.stderr


def can_deny_permission(secret: Path) -> bool:
    """Whether a child started with ``honour_file_modes`` is refused ``secret`` here."""
    try:
        done = subprocess.run([sys.executable, "-c", f"open({str(secret)!r})"], preexec_fn=honour_file_modes,
                              capture_output=True, check=False)
    except subprocess.SubprocessError:
        return False
    return b"PermissionError" in done.stderr


def test_an_unreadable_file_is_logged_and_counted_once_the_rest_arrives_and_it_is_read_once_allowed(
        tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    secret = tail.logs / "secret.log"
    append(secret, "kept from us\n")
    secret.chmod(0)
    if not can_deny_permission(secret):
        pytest.skip("files cannot be made unreadable to the agent here (root without CAP_SETPCAP)")
    with Agent(tail.folder, tail.config, preexec=honour_file_modes) as agent:
        append(tail.logs / "app.log", app_lines())
        agent.wait_for(lambda: not arrived([tail.out], LINES).missing, f"all {LINES} lines", WAIT_SECONDS)
        agent.wait_for(lambda: agent.stderr().count("Permission denied") == 1, "the unreadable file to be logged")
        unreadable = tail.counter(agent, "files_unreadable")
        # Rescans (Refresh_Interval 0.5) try it again, quietly, until it can be read.
        secret.chmod(0o644)
        agent.wait_for(lambda: tail.logs_of("secret.log") == ["kept from us"], "the file once readable")
        counters = all_counters(tail, agent)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    got = arrived([tail.out], LINES)
    assert (got.missing, got.duplicates) == ([], 0)
    assert tail.logs_of("secret.log") == ["kept from us"]
    assert unreadable == 1
    assert (counters["files_unreadable"], counters["files_opened"]) == (1, 2)
    assert result.stderr.count(f"cannot open {secret}: Permission denied") == 1
