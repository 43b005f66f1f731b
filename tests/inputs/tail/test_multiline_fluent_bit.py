"""tail ``multiline.parser`` record for record as Fluent Bit 4.2.8 gives it.

Each ``tests/data/inputs/tail/multiline-fluent-bit/multiline-*`` case holds a config, its input file and what Fluent
Bit printed for them (``record.sh`` there re-records them with a new binary). The real
``flb-fast`` runs the same config on a copy of the folder; records must be equal and in the same
order, a date Fluent Bit took from the input equal to ours, and an ingestion time (any date from
the recording's start on) an ingestion time of ours.

The ``tests/data/inputs/tail/multiline-buffer-limit`` cases run past ``[SERVICE]
multiline_buffer_limit 4k`` and also hold Fluent Bit's ``/api/v1/metrics`` answer and its tail
warnings: the ``multiline_truncated`` counter and the warning lines must be the same too. Fluent
Bit marks a cut record in its metadata, which its stdout prints as ``__internal__``; flb_fast
records carry no metadata, so that key is left out of the comparison.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.agent import Agent, lines
from tests.fakes.ports import free_port

CASES = Path(__file__).resolve().parents[2] / "data" / "inputs" / "tail" / "multiline-fluent-bit"
LIMIT_CASES = CASES.parent / "multiline-buffer-limit"
# Dates printed with microseconds (stdout json_lines' double), so equal within this.
DATE_TOLERANCE_SECONDS = 1e-6


def recorded(case: Path) -> tuple[list[dict], float]:
    records = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines()]
    return records, float((case / "recorded-at.txt").read_text())


def assert_same_records(got: list[dict], expected: list[dict], recorded_at: float, started: float,
                        finished: float) -> None:
    assert [{k: v for k, v in r.items() if k != "date"} for r in got] == [
        {k: v for k, v in r.items() if k not in ("date", "__internal__")} for r in expected]
    for ours, theirs in zip(got, expected, strict=True):
        if theirs["date"] >= recorded_at:
            assert started - 1 <= ours["date"] <= finished + 1
        else:
            assert abs(ours["date"] - theirs["date"]) <= DATE_TOLERANCE_SECONDS


@pytest.mark.parametrize("case", sorted(CASES.glob("multiline-*")), ids=lambda case: case.name)
def test_records_equal_fluent_bits(case: Path, tmp_path: Path) -> None:
    expected, recorded_at = recorded(case)
    folder = tmp_path / case.name
    shutil.copytree(case, folder)
    started = time.time()
    with Agent(folder, (folder / "fluent-bit.conf").read_text()) as agent:
        agent.wait_for(lambda: len(lines(agent.stdout_path)) >= len(expected), f"{len(expected)} records")
        agent.stop()
    assert_same_records([json.loads(line) for line in lines(agent.stdout_path)], expected, recorded_at, started,
                        time.time())


def tail_counters(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5) as response:
        return json.load(response)["input"]["tail.0"]


@pytest.mark.parametrize("case", sorted(p for p in LIMIT_CASES.iterdir() if p.is_dir()), ids=lambda case: case.name)
def test_buffer_limit_cuts_records_counts_and_warns_as_fluent_bit(case: Path, tmp_path: Path) -> None:
    expected, recorded_at = recorded(case)
    theirs = json.loads((case / "metrics.json").read_text())["input"]["tail.0"]
    folder = tmp_path / case.name
    shutil.copytree(case, folder)
    port = free_port()
    started = time.time()
    with Agent(folder, (folder / "fluent-bit.conf").read_text(), env={"HTTP_PORT": str(port)}) as agent:
        agent.wait_for(lambda: len(lines(agent.stdout_path)) >= len(expected), f"{len(expected)} records")
        ours = tail_counters(port)
        result = agent.stop()
    assert_same_records([json.loads(line) for line in lines(agent.stdout_path)], expected, recorded_at, started,
                        time.time())
    assert (ours["records"], ours["multiline_truncated"]) == (theirs["records"], theirs["multiline_truncated"])
    warnings = [line.split("] ", 1)[1] for line in result.stderr.splitlines() if "[ warn] [input:" in line]
    assert warnings == (case / "warnings.txt").read_text().splitlines()
