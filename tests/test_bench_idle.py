"""Smoke test of bench/bench_idle.py: it starts the real agent on empty log files and reads it from
/proc (no memory or timing figure asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_idle_bench_reads_the_started_agent_memory_threads_and_mappings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_idle", "--variant", "kubernetes", "--settle", "0", "--json",
         "--fluent-bit", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    ours = result["flb-fast"]
    assert ours["rss_mib"] > 0 and ours["peak_rss_mib"] >= ours["rss_mib"]
    assert ours["anonymous_mib"] > 0 and ours["file_backed_mib"] > 0
    assert sum(ours["threads"].values()) >= 1
    assert ours["mappings"] and all(row["rss_kib"] >= 0 for row in ours["mappings"])
    assert "fluent-bit" not in result
