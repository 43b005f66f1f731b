"""Smoke test of bench/bench_merge_log.py: every shape of logs is merged and reported (no timing asserted)."""

from __future__ import annotations

from bench import bench_merge_log


def test_bench_merge_log_reports_every_shape(capsys) -> None:
    assert bench_merge_log.main(["--logs", "50", "--repeat", "1"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")][1:]
    assert [row[0][2:] for row in rows] == list(bench_merge_log.SHAPES)
    assert all(float(row[1].rstrip(" |")) > 0 for row in rows)


def test_each_shape_makes_as_many_json_logs_as_asked() -> None:
    for make in bench_merge_log.SHAPES.values():
        logs = make(30)
        assert len(logs) == 30 and all(log.startswith("{") for log in logs)
