"""Deterministic container log files for benchmarks and tests: the same seed gives the same bytes.

    python -m bench.gen_logs --lines 1000000 --files 20 --out /tmp/logs [--format docker|cri] [--seed 1]

Files are named as the kubelet names them under /var/log/containers
(``<pod>_<namespace>_<container>-<64 hex id>.log``) and hold Docker json-file entries
(``{"log":"...\\n","stream":"stdout","time":"..."}``) or CRI lines (``<time> <stream> <P|F> <log>``).
Each pod runs one kind of container, as on a real node: nginx pods (``nginx`` in the file name;
the benches annotate them ``fluentbit.io/parser: nginx``) write nginx access lines, app pods JSON
application logs, the others plain text, 1% of it 4-16 KB lines and lines over 16 KB that the
runtime splits into 16 KB parts (only the last one ends in ``\\n`` / is tagged ``F``). Over all
lines: 40% nginx, 30% JSON, 29% plain, 1% long or split. ``--lines`` counts logical lines, i.e.
the records expected once split lines are rejoined; a JSON summary of what was written goes to
stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

# Docker's json-file driver and CRI runtimes split a line into 16 KiB parts.
SPLIT_BYTES = 16 * 1024
BASE_EPOCH_S = 1_795_611_600  # 2026-11-25T13:00:00Z
STEP_NS = 37_000  # time between consecutive lines; gives every record a distinct timestamp

# Shares of the lines by the kind of pod writing them, cumulative thresholds on one uniform draw.
NGINX_UNTIL = 0.40
JSON_UNTIL = 0.70
# Of a plain-text pod's lines, the share that is long: 1% of all lines (0.01 / 0.30); of those,
# one in five is over 16 KB and split by the runtime.
LONG_SHARE = 0.01 / 0.30
SPLIT_SHARE = 0.2
KINDS = ("nginx", "json", "plain")

_PATHS = ["/", "/api/v1/orders", "/api/v1/users/42", "/healthz", "/static/app.js", "/login", "/cart?item=17"]
_AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/8.5.0", "kube-probe/1.30", "Go-http-client/2.0"]
_LEVELS = ["info", "info", "info", "debug", "warn", "error"]
_WORDS = ("request processed user order cache miss hit retry timeout connection pool database query "
          "latency upstream downstream payload checkout session token refreshed worker shard").split()


@dataclass
class Summary:
    files: list[str] = field(default_factory=list)
    lines: int = 0
    entries: int = 0
    bytes: int = 0
    split_lines: int = 0
    long_lines: int = 0


def pod_kinds(count: int) -> list[str]:
    """The kind of each of ``count`` pods, in the line shares (every kind has a pod from 3 pods)."""
    nginx = max(1, round(count * NGINX_UNTIL)) if count >= 3 else 0
    json_pods = max(1, round(count * (JSON_UNTIL - NGINX_UNTIL))) if count >= 3 else 0
    return ["nginx"] * nginx + ["json"] * json_pods + ["plain"] * (count - nginx - json_pods)


def container_names(kinds: list[str], rng: random.Random) -> list[str]:
    names = []
    apps = {"nginx": ["nginx"], "json": ["api", "worker", "gateway"], "plain": ["cron", "batch", "legacy"]}
    for index, kind in enumerate(kinds):
        app = rng.choice(apps[kind])
        pod = f"{app}-{rng.getrandbits(32):08x}-{index:03d}"
        namespace = rng.choice(["default", "prod", "staging", "kube-system"])
        names.append(f"{pod}_{namespace}_{app}-{rng.getrandbits(256):064x}.log")
    return names


def _time_text(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    days, rest = divmod(seconds, 86400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    # Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no datetime per line.
    z = days + 719468
    era, doe = divmod(z, 146097)
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{nanos:09d}Z"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def message(rng: random.Random, summary: Summary, kind: str) -> str:
    """One logical log line (without its newline) of a pod of ``kind``."""
    if kind == "nginx":
        return (f'10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)} - - '
                f'[25/Nov/2026:13:{rng.randrange(60):02d}:{rng.randrange(60):02d} +0000] '
                f'"{rng.choice(["GET", "POST", "PUT"])} {rng.choice(_PATHS)} HTTP/1.1" '
                f'{rng.choice([200, 200, 200, 201, 304, 404, 500])} {rng.randrange(100, 50000)} '
                f'"-" "{rng.choice(_AGENTS)}"')
    if kind == "json":
        return json.dumps({"level": rng.choice(_LEVELS), "msg": _sentence(rng, rng.randrange(4, 14)),
                           "request_id": f"{rng.getrandbits(64):016x}", "latency_ms": rng.randrange(1, 900),
                           "user": {"id": rng.randrange(100000), "tier": rng.choice(["free", "pro"])}},
                          separators=(",", ":"))
    if rng.random() >= LONG_SHARE:
        return f"{rng.choice(_LEVELS).upper()} {_sentence(rng, rng.randrange(6, 30))}"
    if rng.random() >= SPLIT_SHARE:
        summary.long_lines += 1
        return "LONG " + "x" * rng.randrange(4096, 16 * 1024 - 64)
    summary.split_lines += 1
    return "SPLIT " + "y" * rng.randrange(SPLIT_BYTES + 1, 3 * SPLIT_BYTES)


def entries(text: str, stream: str, time_text: str, fmt: str) -> Iterator[str]:
    """The physical entries the runtime writes for one logical line."""
    payload = text + "\n"
    parts = [payload[i:i + SPLIT_BYTES] for i in range(0, len(payload), SPLIT_BYTES)]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if fmt == "docker":
            yield json.dumps({"log": part, "stream": stream, "time": time_text}, separators=(",", ":")) + "\n"
        else:
            yield f"{time_text} {stream} {'F' if last else 'P'} {part if not last else part[:-1]}\n"


def generate(lines: int, files: int, out: str, fmt: str = "docker", seed: int = 1) -> Summary:
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    kinds = pod_kinds(files)
    summary = Summary(files=[os.path.join(out, name) for name in container_names(kinds, rng)])
    handles = [open(path, "w", encoding="utf-8", buffering=1 << 20) for path in summary.files]
    # Lines of each kind go round-robin over that kind's pods (all pods when there are fewer than 3).
    pods = {kind: [i for i, k in enumerate(kinds) if k == kind] for kind in KINDS} if files >= 3 else {}
    turns = dict.fromkeys(KINDS, 0)
    try:
        for index in range(lines):
            stream = "stderr" if rng.random() < 0.1 else "stdout"
            time_text = _time_text(BASE_EPOCH_S * 1_000_000_000 + index * STEP_NS)
            draw = rng.random()
            kind = "nginx" if draw < NGINX_UNTIL else "json" if draw < JSON_UNTIL else "plain"
            owners = pods.get(kind) or range(files)
            handle = handles[owners[turns[kind] % len(owners)]]
            turns[kind] += 1
            for entry in entries(message(rng, summary, kind), stream, time_text, fmt):
                handle.write(entry)
                summary.entries += 1
                summary.bytes += len(entry.encode("utf-8"))
            summary.lines += 1
    finally:
        for handle in handles:
            handle.close()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gen_logs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, required=True, help="logical lines (records after rejoining)")
    parser.add_argument("--files", type=int, default=1, help="container log files, lines spread round-robin")
    parser.add_argument("--out", required=True, help="directory to write the files into")
    parser.add_argument("--format", choices=("docker", "cri"), default="docker", help="runtime log format")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed writes the same bytes")
    args = parser.parse_args(argv)
    if args.lines < 0 or args.files < 1:
        parser.error("--lines must be >= 0 and --files >= 1")
    summary = generate(args.lines, args.files, args.out, args.format, args.seed)
    json.dump({"files": len(summary.files), "lines": summary.lines, "entries": summary.entries,
               "bytes": summary.bytes, "split_lines": summary.split_lines, "long_lines": summary.long_lines,
               "format": args.format, "seed": args.seed, "out": args.out}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
