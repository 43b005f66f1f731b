"""tail ``multiline.parser`` record for record as Fluent Bit 4.2.8 gives it.

Each ``tests/data/inputs/tail/multiline-fluent-bit/multiline-*`` case holds a config, its input file and what Fluent
Bit printed for them (``record.sh`` there re-records them with a new binary). The real
``flb-fast`` runs the same config on a copy of the folder; records must be equal and in the same
order, a date Fluent Bit took from the input equal to ours, and an ingestion time (any date from
the recording's start on) an ingestion time of ours.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.agent import Agent, lines

CASES = Path(__file__).resolve().parents[2] / "data" / "inputs" / "tail" / "multiline-fluent-bit"
# Dates printed with microseconds (stdout json_lines' double), so equal within this.
DATE_TOLERANCE_SECONDS = 1e-6


def recorded(case: Path) -> tuple[list[dict], float]:
    records = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines()]
    return records, float((case / "recorded-at.txt").read_text())


@pytest.mark.parametrize("case", sorted(CASES.glob("multiline-*")), ids=lambda case: case.name)
def test_records_equal_fluent_bits(case: Path, tmp_path: Path) -> None:
    expected, recorded_at = recorded(case)
    folder = tmp_path / case.name
    shutil.copytree(case, folder)
    started = time.time()
    with Agent(folder, (folder / "fluent-bit.conf").read_text()) as agent:
        agent.wait_for(lambda: len(lines(agent.stdout_path)) >= len(expected), f"{len(expected)} records")
        agent.stop()
    finished = time.time()
    got = [json.loads(line) for line in lines(agent.stdout_path)]
    assert [{k: v for k, v in r.items() if k != "date"} for r in got] == [
        {k: v for k, v in r.items() if k != "date"} for r in expected]
    for ours, theirs in zip(got, expected, strict=True):
        if theirs["date"] >= recorded_at:
            assert started - 1 <= ours["date"] <= finished + 1
        else:
            assert abs(ours["date"] - theirs["date"]) <= DATE_TOLERANCE_SECONDS
