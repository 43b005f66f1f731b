"""Smoke test of bench/bench_aws_memory.py: both probes run every step on the outputs' real options
(no memory figure asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.bench_aws_memory import PROBES

ROOT = Path(__file__).resolve().parents[1]


def test_the_aws_memory_bench_reports_every_step_of_both_probes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_aws_memory", "--service", "logs", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    probes = json.loads(done.stdout)["probes"]
    assert {name: [row["step"] for row in rows] for name, rows in probes.items()} == {
        name: [step for step, _code in steps] for name, steps in PROBES.items()
    }
    for rows in probes.values():
        assert all(row["rss_mib"] > 0 and row["modules"] > 0 for row in rows)
