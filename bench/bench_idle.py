"""What an agent holds before any record flows: the benchmark config started on empty log files.

    python -m bench.bench_idle [--variant kubernetes] [--settle 3] [--fluent-bit PATH] [--json]

The agent runs bench_pipeline's config of the variant (tail with a DB, the kubernetes filter and
its HTTPS API server on 127.0.0.1, the output) on 20 container log files that are empty, so that
nothing but start-up is measured. Once its monitoring server answers and ``--settle`` seconds
have passed, it is read from outside (/proc): resident memory (VmRSS, VmHWM; anonymous memory,
that is Python objects and the C libraries' heaps, and file-backed pages, that is the code and
data of the interpreter and the shared libraries), CPU seconds spent starting, its threads by
name, and the mappings holding the most resident memory (``smaps``). With ``--fluent-bit`` the
same config runs through that binary too.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.fakes.ports import free_port

from bench import gen_logs
from bench.bench_pipeline import (
    CLOUDWATCH_OUTPUT,
    KUBERNETES_FILTER,
    KUBERNETES_INPUT,
    NULL_OUTPUT,
    PARSERS_FILE,
    FastCloudWatchLogs,
    _byte_compile_flb_fast,
    _metrics,
    _start_kube_api,
)
from bench.procstat import cpu_seconds

VARIANTS = ("kubernetes", "cloudwatch-fast")
FILES = 20
# The agent must answer on its monitoring port within this long.
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.05
STOP_SECONDS = 30.0
# Mappings listed per agent, the largest resident first.
TOP_MAPPINGS = 12


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon, RssFile and Threads from /proc/PID/status (KiB, and a count)."""
    wanted = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in wanted:
                values[key] = int(rest.split()[0])
    return values


def _mappings(pid: int) -> list[dict[str, Any]]:
    """Resident and private dirty KiB per mapped file (anonymous mappings together), largest first."""
    totals: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    current = totals["[anonymous]"]
    with open(f"/proc/{pid}/smaps") as handle:
        for line in handle:
            fields = line.split()
            if not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else "[anonymous]"
                current = totals["[anonymous]" if name == "[heap]" else name]
            elif fields[0] == "Rss:":
                current[0] += int(fields[1])
            elif fields[0] == "Private_Dirty:":
                current[1] += int(fields[1])
    rows = [{"mapping": name, "rss_kib": rss, "private_dirty_kib": dirty} for name, (rss, dirty) in totals.items()]
    return sorted(rows, key=lambda row: -row["rss_kib"])


def _threads(pid: int) -> dict[str, int]:
    names: collections.Counter[str] = collections.Counter()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/comm") as handle:
            names[handle.read().strip()] += 1
    return dict(names)


def measure(command: list[str], port: int, settle_seconds: float) -> dict[str, Any]:
    """Start the agent, wait until it answers, let it settle, read it, stop it."""
    started = time.perf_counter()
    agent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while _metrics(port) is None:
            if agent.poll() is not None or time.perf_counter() - started > READY_TIMEOUT_SECONDS:
                raise RuntimeError(f"{command[0]} did not answer on port {port} (exit {agent.poll()})")
            time.sleep(POLL_SECONDS)
        ready = time.perf_counter() - started
        start_cpu = cpu_seconds(agent.pid)
        time.sleep(settle_seconds)
        status = _status(agent.pid)
        result = {
            "ready_s": round(ready, 3),
            "start_cpu_s": round(start_cpu, 3),
            "rss_mib": round(status["VmRSS"] / 1024, 1),
            "peak_rss_mib": round(status["VmHWM"] / 1024, 1),
            "anonymous_mib": round(status["RssAnon"] / 1024, 1),
            "file_backed_mib": round(status["RssFile"] / 1024, 1),
            "threads": _threads(agent.pid),
            "mappings": _mappings(agent.pid)[:TOP_MAPPINGS],
        }
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flb-idle-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        logs = root / "containers"
        summary = gen_logs.generate(FILES, FILES, str(logs), seed=1)
        for path in summary.files:
            Path(path).write_bytes(b"")
        _api, kube = _start_kube_api(stack, root, summary.files)
        sections = KUBERNETES_FILTER.format(**kube, tag_prefix="kube" + str(logs).replace("/", ".") + ".")
        if args.variant == "cloudwatch-fast":
            endpoint = FastCloudWatchLogs(root)
            stack.callback(endpoint.stop)
            sections += CLOUDWATCH_OUTPUT.format(moto_port=endpoint.port, moto_ca_file=endpoint.certs.ca_file)
        else:
            sections += NULL_OUTPUT
        _byte_compile_flb_fast()
        agents = {"flb-fast": [sys.executable, "-m", "flb_fast"]}
        if args.fluent_bit:
            agents["fluent-bit"] = [args.fluent_bit]
        result: dict[str, Any] = {"variant": args.variant, "settle_s": args.settle}
        for name, command in agents.items():
            run_root = root / name
            run_root.mkdir()
            port = free_port()
            config = KUBERNETES_INPUT.format(port=port, logs=logs, root=run_root, mem_buf_limit="5MB", parsers=PARSERS_FILE)
            (run_root / "fluent-bit.conf").write_text(config + sections)
            result[name] = measure([*command, "-c", str(run_root / "fluent-bit.conf")], port, args.settle)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_idle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, default="kubernetes")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between answering and being read")
    parser.add_argument("--fluent-bit", default=os.environ.get("FLUENT_BIT_BIN"),
                        help="a Fluent Bit binary to run side by side (default: $FLUENT_BIT_BIN)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    for name in ("flb-fast", "fluent-bit"):
        if name not in result:
            continue
        r = result[name]
        print(f"{name} {result['variant']} idle: RSS {r['rss_mib']} MiB (peak {r['peak_rss_mib']}; anonymous"
              f" {r['anonymous_mib']}, file-backed {r['file_backed_mib']}); ready in {r['ready_s']} s,"
              f" {r['start_cpu_s']} s CPU; threads {r['threads']}")
        for row in r["mappings"]:
            print(f"  {row['rss_kib']:7,d} KiB resident, {row['private_dirty_kib']:7,d} private dirty  {row['mapping']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
