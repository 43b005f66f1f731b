"""Smoke test of bench/bench_kubernetes.py on a tiny input (request counts asserted, no timing)."""

from __future__ import annotations

import json

from bench import bench_kubernetes


def test_bench_kubernetes_reports_every_row_and_the_request_counts(capsys) -> None:
    assert bench_kubernetes.main(["--lines", "200", "--pods", "12", "--repeat", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in report["rows"]] == [
        "Merge_Log On, Merge_Log_Key data",
        "Merge_Log Off",
        "Merge_Log step alone (RecordProcessor.apply)",
        "Merge_Log step, Python twin (no _core)",
    ]
    assert all(row["lines_per_cpu_s"] > 0 for row in report["rows"])
    assert [(r["mode"], r["api_requests"]) for r in report["requests"]] == [
        ("one GET per pod", 12),
        ("Use_Kubelet On", 1),
        ("Watch_Pods On", 2),
    ]
    assert [r["client"] for r in report["get_cost"]] == ["asyncio streams (ours)", "http.client in BoundedExecutor(8)"]
    assert all(r["requests"] == 12 and r["cpu_us_per_request"] > 0 for r in report["get_cost"])
