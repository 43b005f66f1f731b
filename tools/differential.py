"""Run a differential case through any agent binary and write the records (and tags) it produced.

A case is a folder under ``tests/data/fluent-bit/<case>/``:

- ``fluent-bit.conf``: the config. It reads its inputs from ``${CASE_DIR}`` (a fresh copy of the case
  folder), writes with the ``file`` output (default ``out_file`` format: one file per tag, each line
  ``tag: [seconds.nanoseconds, {record}]``) under ``${OUT_DIR}`` and may print with the ``stdout``
  output (``Format json_lines``); ``${DOTTED_DIR}`` is ``CASE_DIR`` as tail puts a path in a tag
  (``/tmp/x`` -> ``tmp.x``), for ``Kube_Tag_Prefix``. With a ``kube.json`` (``{"pods": [...],
  "namespaces": [...]}``, the API server's JSON) the tests' HTTPS Kubernetes API server serves them,
  and ``${KUBE_URL}``, ``${KUBE_CA_FILE}`` and ``${KUBE_TOKEN_FILE}`` point the kubernetes filter at it.
- ``case.json``: ``{"description": ..., "differs": ..., "record_seconds": ..., "exits": ...}``;
  ``differs`` (optional) names a deliberate difference from Fluent Bit, and the suite then expects
  ``expected-flb-fast.json`` instead; ``record_seconds`` (optional) stops the recording agent after
  that long instead of once its outputs are quiet (for a Fluent Bit that never goes quiet);
  ``exits`` (optional, true) says the agent stops on its own (tail's ``Exit_On_Eof``): every agent
  is then waited for until it exits, which it must do with status 0, and is never signalled.
- ``expected.json``: what Fluent Bit produced, with its version and the command that recorded it.

What an agent produced is normalised the same way for every binary: the copy's path becomes ``{DIR}``
(also in its dotted form), and a timestamp taken while the agent ran (an ingestion time) becomes
``"ingestion"``; other timestamps stay exact (``"1704164645.123456789"``). Records keep their key order
and their order within each output.

    python -m tools.differential record --fluent-bit /path/to/fluent-bit   # re-record every case
    python -m tools.differential record --fluent-bit /path/to/fluent-bit docker_parser
    (without --fluent-bit: $FLUENT_BIT_BIN, else fluent-bit on PATH)
    python -m tools.differential run docker_parser        # print what flb-fast produces
    python -m tools.differential compare                  # flb-fast against every recording
    python -m tools.differential accept tail_long_lines_skip   # flb-fast's records where it differs on purpose

A recording agent is stopped once its outputs have been quiet for ``QUIET_SECONDS``; a compared agent
once it produced as many records as the recording (then SIGTERM flushes whatever else it holds);
an agent of an ``exits`` case is not stopped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "data" / "fluent-bit"
DEFAULT_FLUENT_BIT = Path(os.environ.get("FLUENT_BIT_BIN", "fluent-bit"))
FLB_FAST = [sys.executable, "-m", "flb_fast"]
KUBE_TOKEN = "differential-token"  # noqa: S105 - the fake API server's bearer token, not a secret
# A recording agent has emitted everything once its outputs stop changing for this long (the cases
# flush every 0.2 s; the kubernetes filter's first lookup is the slowest step, well under a second).
QUIET_SECONDS = 3.0
# Longest wait for an agent (loaded 2-core CI machine).
WAIT_SECONDS = 90.0
POLL_SECONDS = 0.05
# Timestamps this close to the run are ingestion times (case inputs carry dates years away).
INGESTION_SLACK_SECONDS = 300
_OUT_FILE_LINE = re.compile(rb"^(\S+): \[(\d+)\.(\d+), (.*)\]$", re.S)


class CaseError(Exception):
    """An agent that did not run or stop as a case needs."""


def case_names() -> list[str]:
    return sorted(p.name for p in CASES_DIR.iterdir() if (p / "fluent-bit.conf").is_file())


def _decode_json(raw: bytes) -> Any:
    """JSON text as an agent wrote it; bytes that are not UTF-8 stay as surrogate escapes."""
    return json.loads(raw.decode("utf-8", "surrogateescape"))


class _Normaliser:
    def __init__(self, case_dir: Path, started: float, ended: float) -> None:
        self.path = str(case_dir)
        self.dotted = self.path.strip("/").replace("/", ".")
        self.window = (started - INGESTION_SLACK_SECONDS, ended + INGESTION_SLACK_SECONDS)

    def text(self, value: str) -> str:
        return value.replace(self.path, "{DIR}").replace(self.dotted, "{DIR}")

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def seconds(self, seconds: int, nanos: str) -> str:
        if self.window[0] <= seconds <= self.window[1]:
            return "ingestion"
        return f"{seconds}.{nanos}"

    def iso_date(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
        return "ingestion" if self.window[0] <= when <= self.window[1] else value

    def out_file(self, data: bytes) -> list[dict]:
        records = []
        for line in data.split(b"\n"):
            if not line:
                continue
            match = _OUT_FILE_LINE.match(line)
            if match is None:
                records.append({"unparsed": self.text(line.decode("utf-8", "surrogateescape"))})
                continue
            tag, seconds, nanos, body = match.groups()
            records.append({
                "tag": self.text(tag.decode()),
                "time": self.seconds(int(seconds), nanos.decode()),
                "record": self.value(_decode_json(body)),
            })
        return records

    def json_lines(self, data: bytes, date_key: str = "date") -> list[dict]:
        records = []
        for line in data.split(b"\n"):
            if not line.startswith(b"{"):
                continue
            record = self.value(_decode_json(line))
            if date_key in record:
                record[date_key] = self.iso_date(record[date_key])
            records.append({"record": record})
        return records


def _count(outputs: dict[str, list]) -> int:
    return sum(len(records) for records in outputs.values())


class Run:
    """One agent process on a fresh copy of a case, in ``work``."""

    def __init__(self, case: Path, command: Sequence[str], work: Path) -> None:
        self.case = case
        self.command = list(command)
        self.case_dir = work / "case"
        self.out_dir = work / "out"
        shutil.copytree(case, self.case_dir, ignore=shutil.ignore_patterns("expected*.json"))
        self.out_dir.mkdir()
        self.stdout_path = work / "agent.stdout"
        self.stderr_path = work / "agent.stderr"
        self.started = time.time()

    def outputs(self, ended: float | None = None) -> dict[str, list]:
        norm = _Normaliser(self.case_dir, self.started, ended or time.time())
        outputs: dict[str, list] = {}
        for path in sorted(self.out_dir.rglob("*")):
            if path.is_file():
                outputs["file:" + norm.text(str(path.relative_to(self.out_dir)))] = norm.out_file(path.read_bytes())
        stdout = norm.json_lines(self.stdout_path.read_bytes()) if self.stdout_path.exists() else []
        if stdout:
            outputs["stdout"] = stdout
        return outputs

    def _sizes(self) -> tuple:
        files = sorted(self.out_dir.rglob("*"))
        stdout = self.stdout_path.stat().st_size if self.stdout_path.exists() else 0
        return stdout, tuple((str(p), p.stat().st_size) for p in files if p.is_file())

    def execute(self, env: dict[str, str], done: Callable[[Run], bool] | None) -> dict[str, list]:
        """Run the agent until ``done``, then stop it with SIGTERM; with ``done`` None, until it exits."""
        config = self.case_dir / "fluent-bit.conf"
        env = {
            **os.environ, **env,
            "CASE_DIR": str(self.case_dir),
            "OUT_DIR": str(self.out_dir),
            "DOTTED_DIR": str(self.case_dir).strip("/").replace("/", "."),
        }
        self.started = time.time()
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                [*self.command, "-c", str(config)], stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                cwd=self.case_dir, env=env,
            )
        try:
            if done is None:
                self._wait_exit(process)
                return self.outputs(time.time())
            deadline = time.monotonic() + WAIT_SECONDS
            while not done(self):
                if process.poll() is not None:
                    raise CaseError(f"{self.case.name}: agent exited ({process.returncode}):\n{self.stderr()}")
                if time.monotonic() > deadline:
                    raise CaseError(f"{self.case.name}: timed out after {WAIT_SECONDS:g}s:\n{self.stderr()}")
                time.sleep(POLL_SECONDS)
            process.send_signal(signal.SIGTERM)
            process.wait(WAIT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        return self.outputs(time.time())

    def _wait_exit(self, process: subprocess.Popen[bytes]) -> None:
        try:
            process.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            raise CaseError(f"{self.case.name}: did not exit on its own in {WAIT_SECONDS:g}s:\n{self.stderr()}") from None
        if process.returncode != 0:
            raise CaseError(f"{self.case.name}: agent exited ({process.returncode}):\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", "replace")[-4000:]


def quiet_for(seconds: float) -> Callable[[Run], bool]:
    """Done once nothing changed for ``seconds`` (twice as long while nothing was written at all)."""
    state: dict[str, Any] = {"sizes": None, "since": 0.0}

    def done(run: Run) -> bool:
        sizes = run._sizes()
        now = time.monotonic()
        if sizes != state["sizes"]:
            state["sizes"], state["since"] = sizes, now
            return False
        written = bool(sizes[1] or sizes[0])
        return now - state["since"] >= (seconds if written else 2 * seconds)

    return done


def after(seconds: float) -> Callable[[Run], bool]:
    """Done ``seconds`` after the start (a case whose recording agent never goes quiet)."""
    deadline = time.monotonic() + seconds
    return lambda run: time.monotonic() >= deadline


def at_least(records: int) -> Callable[[Run], bool]:
    """Done once the outputs hold ``records`` records (or more)."""
    return lambda run: _count(run.outputs()) >= records


def run_case(case: Path, command: Sequence[str], done: Callable[[Run], bool] | None) -> dict[str, list]:
    """The normalised outputs of ``command`` on ``case`` (with its kube API server when it has one),
    once ``done`` says so, or once the agent exited when ``done`` is None (an ``exits`` case)."""
    with tempfile.TemporaryDirectory(prefix="flbdiff-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        env: dict[str, str] = {}
        kube = case / "kube.json"
        if kube.exists():
            env = start_kube_api(stack, work, json.loads(kube.read_text()))
        return Run(case, command, work).execute(env, done)


def start_kube_api(stack: ExitStack, work: Path, content: dict) -> dict[str, str]:
    from tests.fakes.certs import make_certs
    from tests.fakes.kube_api_server import KubeApiServer

    certs_dir = work / "certs"
    certs_dir.mkdir()
    certs = make_certs(certs_dir)
    token_file = certs_dir / "token"
    token_file.write_text(KUBE_TOKEN)
    api = stack.enter_context(KubeApiServer(certs, KUBE_TOKEN))
    for namespace in content.get("namespaces", []):
        api.add_namespace(namespace)
    for pod in content.get("pods", []):
        api.add_pod(pod)
    return {"KUBE_URL": api.url, "KUBE_CA_FILE": str(certs.ca_file), "KUBE_TOKEN_FILE": str(token_file)}


def fluent_bit_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].strip()


def record(case: Path, binary: Path) -> dict:
    """Run Fluent Bit on ``case`` and write its ``expected.json``."""
    seconds = _case_options(case).get("record_seconds")
    outputs = run_case(case, [str(binary)], _unless_it_exits(case, after(seconds) if seconds else quiet_for(QUIET_SECONDS)))
    expected = {
        "fluent_bit": fluent_bit_version(binary),
        "command": f"python -m tools.differential record --fluent-bit {binary} {case.name}",
        "outputs": outputs,
    }
    (case / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return expected


def _case_options(case: Path) -> dict[str, Any]:
    return json.loads((case / "case.json").read_text())


def _unless_it_exits(case: Path, done: Callable[[Run], bool]) -> Callable[[Run], bool] | None:
    """``done``, or None for an ``exits`` case: its agent is waited for until it exits."""
    return None if _case_options(case).get("exits") else done


def expected_for(case: Path) -> dict:
    """What flb-fast must produce on ``case``: Fluent Bit's recording, or ours where we differ on purpose."""
    ours = case / "expected-flb-fast.json"
    return json.loads((ours if ours.exists() else case / "expected.json").read_text())


def run_flb_fast(case: Path) -> dict[str, list]:
    return run_case(case, FLB_FAST, _unless_it_exits(case, at_least(_count(expected_for(case)["outputs"]))))


def differences(expected: dict[str, list], actual: dict[str, list]) -> list[str]:
    """Human-readable differences, record for record (key order counts: outputs write it)."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want = [json.dumps(r) for r in expected.get(name, [])]
        got = [json.dumps(r) for r in actual.get(name, [])]
        for index in range(max(len(want), len(got))):
            w = want[index] if index < len(want) else "(none)"
            g = got[index] if index < len(got) else "(none)"
            if w != g:
                problems.append(f"{name} #{index}:\n  fluent-bit: {w}\n  flb-fast:   {g}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.differential", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record", help="run Fluent Bit on cases (all by default) and write expected.json")
    rec.add_argument("--fluent-bit", type=Path, default=DEFAULT_FLUENT_BIT)
    rec.add_argument("cases", nargs="*")
    show = sub.add_parser("run", help="print what an agent produces on one case")
    show.add_argument("--agent", default=None, help="agent command (default: this flb-fast)")
    show.add_argument("case")
    accept = sub.add_parser("accept", help="write what flb-fast produces on a case that differs on purpose")
    accept.add_argument("case")
    cmp = sub.add_parser("compare", help="run flb-fast on cases (all by default) against their recordings")
    cmp.add_argument("cases", nargs="*")
    args = parser.parse_args(argv)
    if args.action == "record":
        for name in args.cases or case_names():
            expected = record(CASES_DIR / name, args.fluent_bit)
            print(f"{name}: {_count(expected['outputs'])} records")
        return 0
    if args.action == "accept":
        case = CASES_DIR / args.case
        if not _case_options(case).get("differs"):
            parser.error(f"{args.case}: case.json must say why flb-fast differs (\"differs\") first")
        outputs = run_case(case, FLB_FAST, _unless_it_exits(case, quiet_for(QUIET_SECONDS)))
        ours = {"command": f"python -m tools.differential accept {args.case}", "outputs": outputs}
        (case / "expected-flb-fast.json").write_text(json.dumps(ours, indent=1) + "\n")
        print(f"{args.case}: {_count(outputs)} records")
        return 0
    if args.action == "run":
        command = shlex.split(args.agent) if args.agent else FLB_FAST
        print(json.dumps(run_case(CASES_DIR / args.case, command, quiet_for(QUIET_SECONDS)), indent=1))
        return 0
    failed = 0
    for name in args.cases or case_names():
        case = CASES_DIR / name
        try:
            problems = differences(expected_for(case)["outputs"], run_flb_fast(case))
        except CaseError as exc:
            problems = [str(exc)]
        failed += bool(problems)
        print(f"{name}: {'ok' if not problems else 'DIFFERS'}")
        for problem in problems:
            print(problem)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
