"""Re-record what Fluent Bit's lua filter makes of each case in cases.json.

    python tests/data/filters/lua/record.py /path/to/fluent-bit

Each input record runs through its own Fluent Bit process (dummy input with a fixed timestamp,
the case's lua filter, stdout json_lines), so every record is a chunk of its own. What stdout
prints goes to expected/<case>.jsonl and what the filter logs as errors to expected/<case>.errors.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_SEC, START_NSEC = 1700000000, 123456789
ERROR = re.compile(r"\[error\] \[filter:lua:lua\.0\] (.*)$")


def config(record: dict, options: dict[str, str]) -> str:
    lines = [
        "[SERVICE]", "    Flush 0.2", "    Grace 1",
        "[INPUT]", "    Name dummy", "    Tag app.log", f"    Dummy {json.dumps(record, ensure_ascii=False)}",
        "    Samples 1", f"    Start_time_sec {START_SEC}", f"    Start_time_nsec {START_NSEC}", "    Fixed_timestamp on",
        "[FILTER]", "    Name lua", "    Match *",
    ]
    for key, value in options.items():
        lines.append(f"    {key} {HERE / value if key == 'script' else value}")
    lines += ["[OUTPUT]", "    Name stdout", "    Match *", "    Format json_lines"]
    return "\n".join(lines) + "\n"


def main(binary: str) -> None:
    cases = json.loads((HERE / "cases.json").read_text())
    out_dir = HERE / "expected"
    out_dir.mkdir(exist_ok=True)
    for name, case in cases.items():
        records, errors = [], []
        for record in case["records"]:
            with tempfile.TemporaryDirectory() as tmp:
                conf = Path(tmp) / "fluent-bit.conf"
                conf.write_text(config(record, case["options"]))
                env = {**os.environ, **case.get("env", {})}
                try:
                    run = subprocess.run([binary, "-c", str(conf)], capture_output=True, text=True, timeout=3, env=env)
                    output = run.stdout + run.stderr
                except subprocess.TimeoutExpired as exc:
                    output = (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
            for line in output.splitlines():
                if line.startswith("{"):
                    records.append(line)
                elif match := ERROR.search(line):
                    errors.append(match.group(1))
        (out_dir / f"{name}.jsonl").write_text("".join(f"{line}\n" for line in records))
        (out_dir / f"{name}.errors").write_text("".join(f"{line}\n" for line in errors))
        print(f"{name}: {len(records)} records, {len(errors)} errors")


if __name__ == "__main__":
    main(sys.argv[1])
