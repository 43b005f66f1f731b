"""The README's first command ends in ``python -m flb_fast.demo``: it must show enriched records flowing."""

from __future__ import annotations

import json
import subprocess
import sys

from flb_fast.demo import SHOWN_CHARS


def test_demo_prints_every_container_line_enriched_then_the_metrics_and_stops_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flb_fast.demo", "--seconds", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    where = [line.partition("  ")[0] for line in lines]
    records = [json.loads(line.partition("  ")[2]) for line in lines]
    # Per second: 3 nginx lines and 2 JSON lines; in second 1 also one line Docker split in two.
    assert sorted(where) == ["shop/api-5f6d7c8b9-fghij/api"] * 5 + ["shop/web-7d4b9c6f5-abcde/nginx"] * 6
    [joined] = [r for r in records if r["stream"] == "stderr"]
    assert joined["log"] == "x" * SHOWN_CHARS + f"... ({16384 + 100 + 1} chars)"
    for record in records:
        kube = record["kubernetes"]
        if kube["container_name"] == "nginx":
            # Parsed by the pod's fluentbit.io/parser annotation (K8S-Logging.Parser On).
            assert (record["method"], record["code"]) == ("GET", "200")
            assert kube["labels"] == {"app": "web", "tier": "frontend"}
            assert kube["annotations"] == {"fluentbit.io/parser": "nginx"}
        else:
            assert kube["labels"] == {"app": "api", "tier": "backend"}
    assert "[demo]   in  tail.0: 11 records" in done.stderr
    assert "[demo]   out stdout.0: 11 records, 0 retries, 0 failed retries, 0 dropped" in done.stderr
    assert "caught signal (SIGTERM)" in done.stderr
