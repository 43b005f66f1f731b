"""Smoke test of bench/bench_read_alignment.py: every pair of offsets is read and reported (no timing asserted)."""

from __future__ import annotations

from bench import bench_read_alignment


def test_bench_read_alignment_reports_every_pair_of_offsets(capsys) -> None:
    assert bench_read_alignment.main(["--megabytes", "2", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and line[2].isdigit()]
    pairs = {(int(row[0][2:]), int(row[1])) for row in rows}
    assert pairs == {(destination, source) for destination in bench_read_alignment.DESTINATION_OFFSETS
                     for source in bench_read_alignment.SOURCE_OFFSETS}
    assert all(float(row[3].rstrip(" |")) >= 0 for row in rows)
