"""Run the real agent (``python -m flb_fast -c CONFIG``) as a subprocess, for end-to-end tests.

    with Agent(tmp_path, CONFIG_TEXT) as agent:
        agent.wait_for(lambda: len(lines(tmp_path / "out" / "app")) >= 10, "10 lines written")
        result = agent.stop()
    assert result.returncode == 0

Waits poll a condition with a generous timeout (the CI machine is small and shared), and fail
with the agent's stderr when it exits early or the condition never holds. stdout and stderr go
to files in the temp folder, so a chatty agent can never block on a full pipe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.process import die_with_parent

WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str
    stop_seconds: float  # from SIGTERM to exit


def lines(path: Path) -> list[str]:
    """The complete lines of ``path`` (none if it does not exist yet); a partial last line is left out."""
    try:
        data = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return data.split("\n")[:-1]


class Agent:
    """One agent process with its config written to ``folder/config_name``."""

    def __init__(
        self,
        folder: Path,
        config: str,
        *,
        config_name: str = "fluent-bit.conf",
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        stdout_pipe: bool = False,
        preexec: Callable[[], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.config_path = self.folder / config_name
        self.config_path.write_text(config)
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.stdout_path = self.folder / "agent.stdout"
        self.stderr_path = self.folder / "agent.stderr"
        self.stdout_pipe = stdout_pipe
        self.pipe: int | None = None  # read end of the stdout pipe, with stdout_pipe=True
        self.process: subprocess.Popen[bytes] | None = None
        self.preexec = preexec  # run in the child before the agent starts, after die_with_parent

    def start(self) -> Agent:
        """Start the agent; with ``stdout_pipe`` its stdout is a pipe that only the test reads (``pipe``)."""
        write_fd = None
        if self.stdout_pipe:
            self.pipe, write_fd = os.pipe()
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flb_fast", "-c", str(self.config_path), *self.args],
                stdout=stdout if write_fd is None else write_fd, stderr=stderr, stdin=subprocess.DEVNULL,
                cwd=self.folder, env=self.env, preexec_fn=self._preexec,
            )
        if write_fd is not None:
            os.close(write_fd)
        return self

    def _preexec(self) -> None:
        die_with_parent()
        if self.preexec is not None:
            self.preexec()

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.stdout_pipe and self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` if it does not or the agent exits."""
        assert self.process is not None, "start() the agent first"
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"agent exited ({self.process.returncode}) before {what}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}:\n{self.stderr()}")
            time.sleep(POLL_SECONDS)

    def wait_started(self, timeout: float = WAIT_SECONDS) -> None:
        """Wait until the agent logs that its pipeline runs (``[engine] started``)."""
        self.wait_for(lambda: "[engine] started" in self.stderr(), "the agent to start", timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = WAIT_SECONDS) -> Result:
        """Send ``sig`` and wait for the exit; the result says how long the agent took."""
        assert self.process is not None, "start() the agent first"
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"agent did not exit within {timeout:g}s of signal {sig}:\n{self.stderr()}") from None
        return Result(self.process.returncode, self.stdout(), self.stderr(), time.monotonic() - started)

    def wait_exit(self, timeout: float = WAIT_SECONDS) -> Result:
        """Wait for an agent that exits on its own (a config error, ``--dry-run``)."""
        assert self.process is not None, "start() the agent first"
        started = time.monotonic()
        self.process.wait(timeout)
        return Result(self.process.returncode, self.stdout(), self.stderr(), time.monotonic() - started)
