"""Smoke test of bench/bench_pipeline.py: it runs the real agent on a tiny input (no timing asserted)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.bench_pipeline import result_name

ROOT = Path(__file__).resolve().parents[1]


def test_the_seed_pipeline_bench_delivers_every_generated_line_and_reports_its_measures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_pipeline", "--lines", "3000", "--files", "3", "--variant", "kubernetes",
         "--json", "--fluent-bit", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    ours = result["flb-fast"]
    assert (result["lines"], ours["records_out"], ours["exit_code"]) == (3000, 3000, 0)
    assert ours["api_requests"] == 3
    assert ours["cpu_s"] > 0 and ours["peak_rss_mib"] > 0 and ours["samples"] and ours["steal_s"] >= 0
    assert ours["page_faults"] > 0
    assert "fluent-bit" not in result and "ratios" not in result


def test_the_filters_variant_runs_the_chain_and_the_agent_without_it_and_reports_the_chain_cost() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_pipeline", "--lines", "3000", "--files", "3", "--variant", "filters",
         "--json", "--fluent-bit", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    ours, baseline = result["flb-fast"], result["flb-fast without chain"]
    # Records the grep filter drops count as done with, so every line is accounted for.
    dropped = sum(v["drop_records"] for k, v in ours["metrics"]["filter"].items() if k.startswith("grep."))
    assert dropped > 0 and (ours["records_out"], baseline["records_out"]) == (3000, 3000)
    assert set(result["chain"]) == {"flb-fast"}
    assert result["chain"]["flb-fast"]["cpu_s"] == round(ours["cpu_s"] - baseline["cpu_s"], 3)


def test_the_fast_cloudwatch_variant_counts_every_line_at_the_endpoint_with_valid_signatures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_pipeline", "--lines", "3000", "--files", "3", "--variant",
         "cloudwatch-fast", "--json", "--fluent-bit", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    endpoint = json.loads(done.stdout)["flb-fast"]["endpoint"]
    assert (endpoint["events"], endpoint["streams"], endpoint["signature_failures"]) == (3000, 3, 0)
    assert endpoint["calls"]["PutLogEvents"] >= 3 and endpoint["cpu_s"] >= 0


def test_a_saved_result_is_named_after_its_day_machine_variant_and_series() -> None:
    args = argparse.Namespace(variant="cloudwatch-fast", lines=200000, files=20, series="")
    assert result_name(args, "2026-12-07", "vm") == "2026-12-07-vm-cloudwatch-fast-200000-lines-20-files.json"
    args.series = "round7"
    assert result_name(args, "2026-12-07", "vm") == "2026-12-07-vm-cloudwatch-fast-200000-lines-20-files-round7.json"
