"""What Merge_Log costs per JSON log, by the shape of the logs: the compiled merge alone.

    python -m bench.bench_merge_log [--logs 20000] [--repeat 7]

Each shape is ``--logs`` JSON logs merged by ``_core.kube_merge_json_logs`` (top level,
Merge_Log_Trim On, Keep_Log On) as the kubernetes filter merges a chunk: fresh record dicts each
round, made outside the timer. Reported: nanoseconds per log, the least of ``--repeat`` rounds.
The shapes are the JSON application logs of ``bench.gen_logs`` (as ``bench_pipeline`` writes
them), logs whose values hold a time and a URL (colons that are no member's), and logs with a
key that repeats (read again by Fluent Bit's jsmn rules, ``flb_fast/jsmn.py``). To compare two
trees, run it on each: ``PYTHONPATH=<tree>/src python -m bench.bench_merge_log``.
"""

from __future__ import annotations

import argparse
import glob
import json
import tempfile
import time
from collections.abc import Callable

from bench.gen_logs import generate
from bench.versions import cpu_model
from flb_fast import _core


def workload_logs(count: int) -> list[str]:
    """The JSON application logs of the pipeline benchmark's workload, ``count`` of them."""
    logs: list[str] = []
    lines = count * 4  # about 30% of the workload's lines are JSON logs
    with tempfile.TemporaryDirectory(prefix="flb-merge-") as folder:
        while len(logs) < count:
            generate(lines, 4, folder, seed=len(logs) + 1)
            for path in sorted(glob.glob(f"{folder}/*.log")):
                with open(path) as handle:
                    logs += [log for log in (json.loads(line).get("log", "") for line in handle) if log.startswith("{")]
    return logs[:count]


def timed_logs(count: int) -> list[str]:
    """Logs of a Go service: a time, a message with a path, a caller with a line number."""
    return [
        f'{{"ts":"2026-12-07T10:{n % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z","level":"info",'
        f'"msg":"GET /api/v1/items?id={n} took {n % 97}ms","caller":"server/handler.go:{n % 400}",'
        f'"url":"http://items.default.svc:8080/v1/{n}","trace_id":"{n * 7919:016x}"}}'
        for n in range(count)
    ]


def repeated_key_logs(count: int) -> list[str]:
    """Logs whose ``level`` is written twice, as a logger wrapped in another may write it."""
    return [f'{{"level":"debug","msg":"retry {n}","attempt":{n % 5},"level":"warn"}}' for n in range(count)]


SHAPES: dict[str, Callable[[int], list[str]]] = {
    "the pipeline benchmark's JSON logs": workload_logs,
    "a time and a URL in the values": timed_logs,
    "a key that repeats": repeated_key_logs,
}


def ns_per_log(logs: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        records = [{"log": log, "stream": "stdout"} for log in logs]
        started = time.perf_counter()
        _core.kube_merge_json_logs(records, None, True, True)
        best = min(best, time.perf_counter() - started)
    return best / len(logs) * 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_merge_log", description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"{args.logs:,} logs a shape, least of {args.repeat} rounds, {cpu_model()}")
    print("| logs | ns a log |")
    print("|---|---:|")
    for name, make in SHAPES.items():
        print(f"| {name} | {ns_per_log(make(args.logs), args.repeat):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
