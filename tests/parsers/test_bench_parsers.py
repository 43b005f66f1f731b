"""Smoke test of bench/bench_parsers.py: every standard parser gets a row, on lines it parses (no timing asserted)."""

from __future__ import annotations

import json

import pytest
from bench import bench_parsers

from tests.parsers.test_init import STANDARD


def test_bench_reports_every_standard_parser_on_lines_it_parses(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_parsers.main(["--lines", "40", "--repeat", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["parser"] for row in rows] == STANDARD
    assert all(row["lines"] == 40 and row["unparsed"] == 0 and row["lines_per_cpu_s"] > 0 for row in rows)
