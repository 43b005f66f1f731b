"""The README's first command ends in ``python -m flb_fast.demo``: it must show records flowing."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_prints_every_container_line_as_json_and_stops_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flb_fast.demo", "--seconds", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    # Per second: 3 nginx lines and 2 JSON lines; in second 1 also one line Docker split in two.
    assert len(records) == 2 * 5 + 1
    joined = [r for r in records if r["stream"] == "stderr"]
    assert [r["log"] for r in joined] == ["x" * 16384 + "y" * 100 + "\n"]
    assert "caught signal (SIGTERM)" in done.stderr
