"""Smoke test of bench/bench_filters.py: it runs the chain on a tiny input and reports every filter (no timing asserted)."""

from __future__ import annotations

import json

from bench import bench_filters


def test_bench_filters_reports_each_filter_of_the_chain_and_the_chain(capsys) -> None:
    assert bench_filters.main(["--lines", "600", "--repeat", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [row["filter"] for row in rows] == ["grep", "modify", "nest", "chain"]
    grep_in, modify_in = rows[0]["records_in"], rows[1]["records_in"]
    # The generated lines include debug JSON logs and kube-probe requests, which grep drops.
    assert 0 < modify_in < grep_in == rows[3]["records_in"] and rows[2]["records_in"] == modify_in
