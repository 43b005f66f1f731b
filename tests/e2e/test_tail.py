"""The real ``flb-fast`` process tailing real files into the ``file`` output: exact records arrive.

Every test polls for its condition (the machine is small and shared) and compares what the
output file holds with what was written, so a lost or doubled line fails it.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.gen_logs import generate

from tests.e2e.agent import Agent, lines
from tests.fakes.ports import free_port
from tests.fakes.process import die_with_parent

CONFIG = """\
[SERVICE]
    Flush        {flush}
    Grace        5
    Log_Level    info
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}

[INPUT]
    Name              tail
    Path              {path}
    Path_Key          file
    Read_from_Head    On
    Refresh_Interval  0.5
    Rotate_Wait       1
    DB                {db}
{extra}

{output}
"""

FILE_OUTPUT = """\
[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.txt
    Format  plain
    Mkdir   On
"""

# stdout writes from a thread into a pipe: the output blocks while nobody reads the pipe.
STDOUT_OUTPUT = """\
[OUTPUT]
    Name           stdout
    Match          *
    Format         json_lines
    json_date_key  false
"""

T0 = "2026-11-25T13:00:00.000000001Z"
# Fluent Bit's [input] lines for a tail input paused by Mem_Buf_Limit (record.sh there re-records them).
PAUSE_RECORDING = Path(__file__).resolve().parents[1] / "data" / "inputs" / "tail" / "mem-buf-limit-pause" / "fluent-bit.log"


def docker(log: str, stream: str = "stdout", time: str = T0) -> str:
    return json.dumps({"log": log, "stream": stream, "time": time}, separators=(",", ":")) + "\n"


def append(path: Path, data: str | bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


class Tail:
    """One agent tailing ``logs/`` with a DB and a file output in the test's folder."""

    def __init__(self, tmp_path: Path, extra: str = "", flush: float = 0.2, path: str | None = None,
                 output: str = FILE_OUTPUT) -> None:
        self.port = free_port()
        self.logs = tmp_path / "logs"
        self.logs.mkdir(exist_ok=True)
        self.out = tmp_path / "out" / "out.txt"
        self.db = tmp_path / "tail.db"
        options = "\n".join(f"    {line.strip()}" for line in extra.strip().splitlines())
        self.config = CONFIG.format(flush=flush, port=self.port, path=path or f"{self.logs}/*.log", db=self.db,
                                    extra=options, output=output.format(out=tmp_path / "out"))
        self.folder = tmp_path

    def agent(self) -> Agent:
        return Agent(self.folder, self.config)

    def records(self) -> list[dict]:
        return [json.loads(line) for line in lines(self.out)]

    def logs_of(self, name: str, key: str = "log") -> list[str]:
        return [record[key] for record in self.records() if record["file"].endswith(name)]

    def counter(self, agent: Agent, name: str) -> int:
        """One counter of the input, waiting for the monitoring API to answer (it is slow under load)."""
        found: dict = {}

        def answered() -> bool:
            found.update(self.metrics())
            return name in found

        agent.wait_for(answered, f"the input's '{name}' counter")
        return found[name]

    def metrics(self) -> dict:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/metrics", timeout=5) as response:
                return json.load(response)["input"]["tail.0"]
        except (OSError, KeyError, ValueError):
            return {}


def test_lines_of_files_present_and_appearing_after_start_arrive(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    append(tail.logs / "early.log", "e1\ne2\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "the early file's lines")
        append(tail.logs / "late.log", "l1\nl2\n")
        append(tail.logs / "early.log", "e3\n")
        agent.wait_for(lambda: len(tail.records()) == 5, "the late file's and the appended lines")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("early.log") == ["e1", "e2", "e3"]
    assert tail.logs_of("late.log") == ["l1", "l2"]


def test_rename_and_create_rotation_loses_and_doubles_nothing(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    log = tail.logs / "app.log"
    append(log, "".join(f"before {n}\n" for n in range(1000)))
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 1000, "the lines before rotation")
        append(log, "last words\n")
        os.rename(log, tail.logs / "app.log.1")
        append(tail.logs / "app.log.1", "written after the rename\n")
        append(log, "".join(f"after {n}\n" for n in range(1000)))
        agent.wait_for(lambda: len(tail.records()) == 2002, "every line of both files")
        agent.wait_for(lambda: tail.metrics().get("files_rotated") == 1, "the rotation counted")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    got = [record["log"] for record in tail.records()]
    assert sorted(got) == sorted([f"before {n}" for n in range(1000)] + ["last words", "written after the rename"]
                                 + [f"after {n}" for n in range(1000)])


def test_copytruncate_rotation_restarts_at_the_head(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    log = tail.logs / "app.log"
    append(log, "one\ntwo\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "the first lines")
        os.truncate(log, 0)
        append(log, "three\n")
        agent.wait_for(lambda: len(tail.records()) == 3, "the line after truncation")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("app.log") == ["one", "two", "three"]


def test_symlinked_container_logs_are_followed_through_kubelet_rotation(tmp_path: Path) -> None:
    pods = tmp_path / "pods" / "prod_web-1_uid" / "nginx"
    pods.mkdir(parents=True)
    containers = tmp_path / "containers"
    containers.mkdir()
    link = containers / "web-1_prod_nginx-0123abcd.log"
    link.symlink_to(pods / "0.log")
    tail = Tail(tmp_path, path=f"{containers}/*.log", extra="Tag kube.*")
    append(pods / "0.log", "via the link\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 1, "the line read through the symlink")
        os.rename(pods / "0.log", pods / "0.log.20261125-130000")
        append(pods / "0.log", "after kubelet rotation\n")
        agent.wait_for(lambda: len(tail.records()) == 2, "the line of the new target")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.records() == [{"file": str(link), "log": "via the link"},
                              {"file": str(link), "log": "after kubelet rotation"}]


def test_restart_resumes_from_the_db_without_loss_or_duplicates(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    log = tail.logs / "app.log"
    append(log, "".join(f"first run {n}\n" for n in range(500)))
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 500, "the first run's lines")
        assert agent.stop().returncode == 0
    append(log, "".join(f"while down {n}\n" for n in range(500)) + "half a li")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 1000, "the lines written while stopped")
        append(log, "ne\n")
        agent.wait_for(lambda: len(tail.records()) == 1001, "the completed line")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("app.log") == ([f"first run {n}" for n in range(500)] + [f"while down {n}" for n in range(500)]
                                       + ["half a line"])


def test_docker_split_lines_are_rejoined(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Parser docker\nDocker_Mode On\nBuffer_Max_Size 64k")
    part = "p" * 16384
    append(tail.logs / "c.log", docker(part) + docker(part) + docker("end\n", time="2026-11-25T13:00:00.2Z")
           + docker("next\n"))
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "the joined line and the next one")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    records = tail.records()
    assert [record["log"] for record in records] == [part + part + "end\n", "next\n"]
    assert [record["time"] for record in records] == ["2026-11-25T13:00:00.2Z", T0]


def test_a_line_over_buffer_max_size_is_skipped_and_the_next_line_read(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Buffer_Chunk_Size 1k\nBuffer_Max_Size 1k\nSkip_Long_Lines On")
    append(tail.logs / "app.log", "before\n" + "x" * 10_000 + "\nafter\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "the lines around the long one")
        agent.wait_for(lambda: tail.metrics().get("long_line_skipped") == 1, "the skipped line counted")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("app.log") == ["before", "after"]
    assert "have long lines. Skipping long lines." in result.stderr


def test_invalid_json_passes_through_as_log(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Parser docker")
    append(tail.logs / "app.log", '{"log": "cut off\n' + docker("fine\n"))
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "both lines")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.records() == [{"file": str(tail.logs / "app.log"), "log": '{"log": "cut off'},
                              {"file": str(tail.logs / "app.log"), "log": "fine\n", "stream": "stdout", "time": T0}]


def test_invalid_utf8_does_not_stop_the_file(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    append(tail.logs / "app.log", b"bad \xff\xfe bytes\nstill read\n")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 2, "both lines")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("app.log") == ["bad \ue0ff\ue0fe bytes", "still read"]


def test_an_empty_file_is_tailed_until_lines_arrive(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    append(tail.logs / "empty.log", "")
    with tail.agent() as agent:
        agent.wait_for(lambda: tail.metrics().get("files_opened") == 1, "the empty file opened")
        append(tail.logs / "empty.log", "first\n")
        agent.wait_for(lambda: len(tail.records()) == 1, "the first line")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("empty.log") == ["first"]


def test_a_last_line_without_newline_is_held_until_completed_or_the_file_ends(tmp_path: Path) -> None:
    tail = Tail(tmp_path)
    log = tail.logs / "app.log"
    append(log, "complete\nno newline")
    with tail.agent() as agent:
        agent.wait_for(lambda: len(tail.records()) == 1, "the complete line")
        os.unlink(log)
        agent.wait_for(lambda: len(tail.records()) == 2, "the unterminated line once the file is gone")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("app.log") == ["complete", "no newline"]


def test_a_file_deleted_mid_read_is_read_to_its_end(tmp_path: Path) -> None:
    # Mem_Buf_Limit makes the input read the file over many passes, so the unlink lands mid-read.
    tail = Tail(tmp_path, extra="Mem_Buf_Limit 100k")
    log = tail.logs / "big.log"
    expected = [f"line {n:06d}" for n in range(200_000)]
    append(log, "".join(f"{line}\n" for line in expected))
    with tail.agent() as agent:
        agent.wait_for(lambda: tail.metrics().get("records", 0) > 0, "reading to start")
        os.unlink(log)
        agent.wait_for(lambda: len(lines(tail.out)) == len(expected), "every line of the deleted file", timeout=120)
        agent.wait_for(lambda: tail.metrics().get("files_closed") == 1, "the file closed once drained")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("big.log") == expected


class PipedAgent(Agent):
    """The agent with its stdout on a pipe the test reads only when it chooses to."""

    pipe: int = -1

    def start(self) -> PipedAgent:
        read_fd, write_fd = os.pipe()
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flb_fast", "-c", str(self.config_path), *self.args],
                stdout=write_fd, stderr=stderr, stdin=subprocess.DEVNULL, cwd=self.folder, env=self.env,
                preexec_fn=die_with_parent,
            )
        os.close(write_fd)
        self.pipe = read_fd
        return self

    def stdout(self) -> str:
        """Its stdout is the pipe, read with ``read_lines``."""
        return ""

    def read_lines(self, count: int, timeout: float = 120.0) -> list[bytes]:
        """Read the pipe until ``count`` lines came through."""
        data = bytearray()
        deadline = time.monotonic() + timeout
        while data.count(b"\n") < count:
            if time.monotonic() > deadline:
                arrived = data.count(b"\n")
                raise AssertionError(f"only {arrived} of {count} lines arrived:\n{self.stderr()}")
            ready, _, _ = select.select([self.pipe], [], [], 1.0)
            if ready:
                chunk = os.read(self.pipe, 1 << 20)
                if not chunk:
                    break
                data += chunk
        return bytes(data).splitlines()


def behind_a_blocked_output(tmp_path: Path) -> tuple[Tail, list[str], PipedAgent]:
    """20,000 lines of about 100 bytes for a tail input with ``Mem_Buf_Limit 200k`` whose stdout
    output writes to a pipe nobody reads yet: the tail, the lines and the agent (not started)."""
    tail = Tail(tmp_path, extra="Mem_Buf_Limit 200k", output=STDOUT_OUTPUT)
    expected = [f"line {n:06d} " + "z" * 100 for n in range(20_000)]
    append(tail.logs / "app.log", "".join(f"{line}\n" for line in expected))
    return tail, expected, PipedAgent(tail.folder, tail.config)


def test_mem_buf_limit_pauses_behind_a_blocked_output_and_resumes_without_loss(tmp_path: Path) -> None:
    tail, expected, agent = behind_a_blocked_output(tmp_path)
    with agent:
        # Nobody reads the pipe yet: the output's write blocks, chunks pile up, the input pauses.
        agent.wait_for(lambda: "paused (mem buf overlimit - event of size " in agent.stderr(), "the input to pause")
        held = tail.counter(agent, "bytes")
        time.sleep(1.0)  # the input must not read on while paused (a fixed wait only to look for absence)
        assert tail.counter(agent, "bytes") == held
        assert held <= 200_000 + 256 * 1024  # the limit, overshot by at most the read buffer that crossed it
        received = agent.read_lines(len(expected))
        result = agent.stop()
        os.close(agent.pipe)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["log"] for line in received] == expected
    assert "resume (mem buf overlimit - buf size " in result.stderr


def line_form(line: str) -> str:
    """A log line with each number written N: its form, which must be Fluent Bit's (figures vary by run)."""
    return re.sub(r"\d+", "N", line)


def test_pause_and_resume_lines_have_the_form_fluent_bit_gives_them(tmp_path: Path) -> None:
    """Fluent Bit 4.2.8 recorded: a warning with the reason, ``[input] pausing <input>``, then on
    resume ``[input] resume <input>`` and the reason (flb_input_chunk.c, flb_input.c)."""
    _, expected, agent = behind_a_blocked_output(tmp_path)
    with agent:
        agent.wait_for(lambda: "[input] pausing tail.0" in agent.stderr(), "the input to pause")
        agent.read_lines(len(expected))
        agent.wait_for(lambda: "[input] tail.0 resume (" in agent.stderr(), "the input to resume")
        result = agent.stop()
        os.close(agent.pipe)
    ours = [line for line in result.stderr.splitlines() if "[input]" in line][:4]
    theirs = PAUSE_RECORDING.read_text().splitlines()[:4]
    assert [line_form(line) for line in ours] == [line_form(line) for line in theirs]


def test_sigterm_flushes_what_was_read_within_grace(tmp_path: Path) -> None:
    tail = Tail(tmp_path, flush=3600)
    append(tail.logs / "app.log", "".join(f"{n}\n" for n in range(100)))
    with tail.agent() as agent:
        agent.wait_for(lambda: tail.metrics().get("records") == 100, "the input to read every line")
        assert lines(tail.out) == []
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert result.stop_seconds < 5 + 10  # Grace, plus slack for a loaded machine
    assert tail.logs_of("app.log") == [str(n) for n in range(100)]


def test_an_option_not_supported_yet_is_a_warning_naming_its_file_and_line(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Unicode.Encoding UTF-16LE")
    line = next(number for number, text in enumerate(tail.config.splitlines(), 1) if "Unicode.Encoding" in text)
    agent = Agent(tail.folder, tail.config, args=["--dry-run"]).start()
    result = agent.wait_exit()
    assert result.returncode == 0, result.stderr
    assert (f"[ warn] [config] {agent.config_path}:{line}: [INPUT] tail: option 'unicode.encoding' is not "
            "supported yet by flb_fast: lines are read as UTF-8") in result.stderr


def test_exit_on_eof_stops_the_agent_with_status_0_once_its_files_are_read_and_delivered(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="Exit_On_Eof On", flush=3600)
    append(tail.logs / "a.log", "".join(f"a{n}\n" for n in range(100)))
    append(tail.logs / "b.log", "b0\n")
    agent = tail.agent().start()
    result = agent.wait_exit()
    assert result.returncode == 0, result.stderr
    assert tail.logs_of("a.log") == [f"a{n}" for n in range(100)]
    assert tail.logs_of("b.log") == ["b0"]
    ended = re.findall(r"\[ info\] \[input:tail:tail\.0\] inode=\d+ file=(\S+) ended, stop", result.stderr)
    assert sorted(ended) == [str(tail.logs / "a.log"), str(tail.logs / "b.log")]
    assert "caught signal" not in result.stderr


def expected_docker_logs(path: Path) -> list[str]:
    """The records Docker_Mode must give for a json-file log: partial entries joined (plain oracle)."""
    logs, parts = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts.append(json.loads(line)["log"])
        if parts[-1].endswith("\n"):
            logs.append("".join(parts))
            parts = []
    return logs


def test_the_seed_config_delivers_every_generated_line_once_in_order(tmp_path: Path) -> None:
    tail = Tail(tmp_path, extra="""
        Tag               kube.*
        Parser            docker
        Docker_Mode       On
        Mem_Buf_Limit     5MB
        Skip_Long_Lines   On
    """)
    summary = generate(20_000, 5, str(tail.logs), seed=7)
    expected = {path: expected_docker_logs(Path(path)) for path in summary.files}
    assert sum(map(len, expected.values())) == summary.lines
    with tail.agent() as agent:
        agent.wait_for(lambda: len(lines(tail.out)) >= summary.lines, "every generated line", timeout=120)
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    for path, logs in expected.items():
        assert tail.logs_of(Path(path).name) == logs
    assert len(tail.records()) == summary.lines
