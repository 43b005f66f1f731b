"""Smoke test of bench/bench_cloudwatch.py on a tiny input: it runs and reports every figure.

No timing is asserted: speed is measured by the bench, never by the test suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_bench_runs_on_a_tiny_input() -> None:
    command = [sys.executable, "-m", "bench.bench_cloudwatch", "--records", "1000", "--chunk", "250", "--json"]
    report = json.loads(
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300).stdout
    )
    assert report["throughput"]["records"] == 1000
    assert set(report["throughput"]) >= {
        "records_per_s",
        "cpu_us_per_record",
        "encode_cpu_us_per_record",
        "moto_cpu_us_per_record",
    }
    assert set(report["rss_mib"]) == {"boto3", "flb_fast"}
