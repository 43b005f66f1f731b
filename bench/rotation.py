"""Rotation every second under load in kubelet's layout: lines lost and duplicated, flb-fast vs Fluent Bit.

One run: a writer appends ``--lines`` numbered lines at ``--rate`` lines/s to
``pods/<ns>_<pod>_<uid>/<container>/0.log`` and rotates it every ``--every`` seconds (``--mode``
rename: rename to 0.log.N, one more batch to the renamed file, new 0.log; copytruncate: copy to
0.log.N, truncate); the agents tail the symlink ``containers/*.log -> ../pods/.../0.log`` into the
``file`` output, each with its own DB and output, side by side on the same files in the same run.
After the writer ends, a run waits until every line arrived or ``--settle`` seconds pass without
progress. Lost = line numbers never in an agent's output; duplicates = lines in it more than once.

    python -m bench.rotation --mode copytruncate --rate 20000 --seconds 10 [--fluent-bit PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.reliability.load import RotatingWriter, arrived

from bench.kill_restart import start

CONFIG = """\
[SERVICE]
    Flush        1
    Grace        5
    Log_Level    info
[INPUT]
    Name             tail
    Path             {root}/containers/*.log
    Read_From_Head   On
    Refresh_Interval 1
    DB               {root}/{agent}.db
[OUTPUT]
    Name   file
    Match  *
    Path   {root}/out-{agent}
    File   out.txt
    Format plain
"""


def start_agent(agent: str, fluent_bit: str, root: Path) -> subprocess.Popen[bytes]:
    """Write ``agent``'s config and output folder, then start it."""
    config = root / f"{agent}.conf"
    config.write_text(CONFIG.format(root=root, agent=agent))
    (root / f"out-{agent}").mkdir()
    return start(agent, fluent_bit, root, config)


def run_once(agents: list[str], fluent_bit: str, mode: str, lines: int, rate: int, every: float,
             settle: float) -> list[dict[str, object]]:
    root = Path(tempfile.mkdtemp(prefix=f"rotation-{mode}-"))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for agent in agents:
            processes[agent] = start_agent(agent, fluent_bit, root)
        writer = RotatingWriter(root, lines, rate, mode, every).start()
        writer.join()
        outs = {agent: [root / f"out-{agent}" / "out.txt"] for agent in agents}
        last, since = -1, time.monotonic()
        while time.monotonic() - since < settle:
            got = sum(arrived(out, lines).distinct for out in outs.values())
            if got == lines * len(agents):
                break
            if got != last:
                last, since = got, time.monotonic()
            time.sleep(0.2)
        results = []
        for agent, process in processes.items():
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            got = arrived(outs[agent], lines)
            results.append({"agent": agent, "mode": mode, "rate": rate, "written": lines,
                            "rotations": writer.rotations, "lost": len(got.missing), "duplicates": got.duplicates})
        return results
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rotation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("rename", "copytruncate"), default="copytruncate")
    parser.add_argument("--rate", type=int, default=20_000, help="lines written per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the writer writes")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between rotations")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--settle", type=float, default=15.0, help="seconds without progress that end a run")
    parser.add_argument("--fluent-bit", default=os.environ.get("FLUENT_BIT_BIN", ""),
                        help="Fluent Bit binary run side by side on the same files (default: $FLUENT_BIT_BIN)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    agents = ["flb-fast", *(["fluent-bit"] if args.fluent_bit else [])]
    lines = int(args.rate * args.seconds)
    results = [result for _ in range(args.runs)
               for result in run_once(agents, args.fluent_bit, args.mode, lines, args.rate, args.every, args.settle)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| agent | mode | lines/s | written | rotations | lost | duplicates |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['agent']} | {r['mode']} | {r['rate']:,} | {r['written']:,} | {r['rotations']} | "
              f"{r['lost']:,} | {r['duplicates']:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
