"""kill -9 under a steady load, then a restart: lines written, lost and duplicated, flb-fast vs Fluent Bit.

One run: a writer appends ``--lines`` numbered lines to a log file at ``--rate`` lines/s; the agent
tails it (a DB, ``Read_From_Head On``, ``storage.type`` as given) into the ``file`` output; it is
killed with SIGKILL ``--kills`` times, each at a random moment (``--seed``) between 0.1 and 1.0 s
after it started, and restarted; after the writer ends a last start runs until every line arrived
or ``--settle`` seconds passed without progress. The same seed gives both agents the same moments.

    python -m bench.kill_restart --storage filesystem --kills 3 [--fluent-bit PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability.load import SteadyWriter, arrived

CONFIG = """\
[SERVICE]
    Flush        1
    Grace        5
    Log_Level    info
    storage.path {root}/storage
[INPUT]
    Name             tail
    Path             {root}/logs/*.log
    Read_From_Head   On
    Refresh_Interval 1
    DB               {root}/tail.db
    Mem_Buf_Limit    5M
    storage.type     {storage}
[OUTPUT]
    Name   file
    Match  *
    Path   {root}/out
    File   out.txt
    Format plain
"""
# What each agent logs once it is running.
STARTED = {"flb-fast": "[engine] started", "fluent-bit": "[sp] stream processor started"}
START_SECONDS = 30.0


def command(agent: str, fluent_bit: str, config: Path) -> list[str]:
    if agent == "fluent-bit":
        return [fluent_bit, "-c", str(config)]
    return [sys.executable, "-m", "flb_fast", "-c", str(config)]


def starts(path: Path, agent: str) -> int:
    """How often ``agent`` has logged that it runs."""
    return path.read_text(errors="replace").count(STARTED[agent]) if path.exists() else 0


def start(agent: str, fluent_bit: str, root: Path, config: Path) -> subprocess.Popen[bytes]:
    """Start the agent on ``config`` and return once it says it runs (its log, ``root/<agent>.log``,
    is appended to across restarts)."""
    log_path = root / f"{agent}.log"
    before = starts(log_path, agent)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command(agent, fluent_bit, config), stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_SECONDS
    while starts(log_path, agent) == before:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{agent} did not start: see {log_path}")
        time.sleep(0.02)
    return process


def run_once(agent: str, fluent_bit: str, storage: str, lines: int, rate: int, kills: int, seed: int,
             settle: float) -> dict[str, object]:
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix=f"kill-{agent}-"))
    try:
        (root / "out").mkdir()
        (root / "agent.conf").write_text(CONFIG.format(root=root, storage=storage))
        out = [root / "out" / "out.txt"]
        writer = SteadyWriter(root / "logs" / "app.log", lines, rate).start()
        at_kill = []
        for _ in range(kills):
            process = start(agent, fluent_bit, root, root / "agent.conf")
            time.sleep(rng.uniform(0.1, 1.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            at_kill.append(arrived(out, lines).distinct)
        writer.join()
        process = start(agent, fluent_bit, root, root / "agent.conf")
        last, since = -1, time.monotonic()
        while time.monotonic() - since < settle:
            got = arrived(out, lines)
            if not got.missing:
                break
            if got.distinct != last:
                last, since = got.distinct, time.monotonic()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        got = arrived(out, lines)
        return {"agent": agent, "storage": storage, "seed": seed, "kills": kills, "written": lines,
                "delivered_at_kills": at_kill, "distinct": got.distinct, "lost": len(got.missing),
                "duplicates": got.duplicates}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_restart", description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", choices=("memory", "filesystem"), default="filesystem")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=20_000, help="lines written per second")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="runs per agent, seeds seed, seed+1, ...")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds without progress that end a run")
    parser.add_argument("--fluent-bit", default=os.environ.get("FLUENT_BIT_BIN", ""),
                        help="Fluent Bit binary to run the same scenario through (default: $FLUENT_BIT_BIN)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    agents = ["flb-fast", *(["fluent-bit"] if args.fluent_bit else [])]
    results = [run_once(agent, args.fluent_bit, args.storage, args.lines, args.rate, args.kills, args.seed + n,
                        args.settle)
               for n in range(args.runs) for agent in agents]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| agent | storage | seed | kills | written | lost | duplicates | delivered when killed |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['agent']} | {r['storage']} | {r['seed']} | {r['kills']} | {r['written']:,} | {r['lost']:,} | "
              f"{r['duplicates']:,} | {', '.join(f'{n:,}' for n in r['delivered_at_kills'])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
