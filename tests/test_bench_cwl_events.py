"""Smoke test of bench/bench_cwl_events.py: the compiled and the Python bodies are built (and checked equal) from
the pipeline's records (no timing asserted)."""

from __future__ import annotations

import json

from bench import bench_cwl_events


def test_bench_cwl_events_reports_both_ways_for_every_record(capsys) -> None:
    assert bench_cwl_events.main(["--lines", "600", "--repeat", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["rows"]) == {"compiled", "python reference"}
    assert all(set(row) == {"bodies_us"} for row in result["rows"].values())
    assert result["records"] >= 600 and result["bodies"] >= 1
    # Pod metadata makes each event's body text larger than its line.
    assert result["body_bytes_per_record"] > 500
