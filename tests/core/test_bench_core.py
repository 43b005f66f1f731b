"""Smoke test of bench/bench_core.py: it runs on a tiny input and reports every row (no timing asserted)."""

from __future__ import annotations

import json

from bench import bench_core


def test_bench_core_reports_every_function_on_a_tiny_input(capsys):
    assert bench_core.main(["--lines", "60", "--repeat", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [row["function"] for row in report["results"]]
    assert names[:2] == ["split (LineSplitter.feed)", "docker decode (JsonLinesDecoder)"]
    assert "split + docker decode" in names and "cri decode (decode_cri_lines)" in names
    assert all(
        row["lines"] > 0 and row["cpu_s"] >= 0 for row in report["results"] if not row["function"].startswith("  ")
    )
