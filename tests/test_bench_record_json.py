"""Smoke test of bench/bench_record_json.py: both renderings encode the pipeline's records (no
timing asserted)."""

from __future__ import annotations

import json

from bench import bench_record_json


def test_bench_record_json_reports_both_renderings_of_every_record(capsys) -> None:
    assert bench_record_json.main(["--lines", "600", "--repeat", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["records"] >= 600
    for name in ("fluent_bit", "go"):
        assert set(result[name]) == {"us_per_record", "bytes_per_record"}
        # Pod metadata makes each record's JSON larger than its line.
        assert result[name]["bytes_per_record"] > 500
