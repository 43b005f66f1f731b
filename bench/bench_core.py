"""CPU cost per line of each _core function, batch by batch as the tail calls them.

    python -m bench.bench_core [--lines N] [--read-bytes N] [--repeat N] [--json] [--versions]

The lines are bench.gen_logs' container logs (nginx access lines, JSON application logs, plain
text, a few long and split lines), written once to a temp dir in the Docker json-file and the
CRI format and read back. The file is cut into reads of ``--read-bytes`` (in_tail reads a
buffer at a time), and every function is timed the way the tail drives it: one call per read.
CPU time is ``time.process_time`` around the whole file, best of ``--repeat`` runs (one core).

Rows: ``split`` (LineSplitter.feed), ``docker decode`` (JsonLinesDecoder.decode of each read's
lines, per kind of log line too), ``split + docker decode`` (the tail's hot path for
``Parser docker``), ``cri decode``, and, to show what the compiled path buys, the same work in
plain Python: ``bytes.split`` + ``msgspec.json.decode`` per line with the time read by
``datetime.fromisoformat``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec

from bench.gen_logs import generate
from bench.versions import versions
from flb_fast._core import JsonLinesDecoder, LineSplitter, decode_cri_lines

READ_TIME_NS = 1_795_611_600_000_000_000
BUFFER_MAX_SIZE = 32 * 1024 * 4  # room for gen_logs' 16 KiB Docker parts once JSON-escaped


def read_file(fmt: str, lines: int) -> bytes:
    with tempfile.TemporaryDirectory() as out:
        summary = generate(lines, 1, out, fmt, seed=1)
        return Path(summary.files[0]).read_bytes()


def reads(data: bytes, read_bytes: int) -> list[bytes]:
    return [data[i : i + read_bytes] for i in range(0, len(data), read_bytes)]


def batches(buffers: list[bytes]) -> list[list[bytes]]:
    splitter = LineSplitter(BUFFER_MAX_SIZE, True)
    return [splitter.feed(buffer) for buffer in buffers]


def kind(line: bytes) -> str:
    if line.startswith(b'{"log":"10.'):
        return "nginx"
    if line.startswith(b'{"log":"{'):
        return "json app"
    return "plain"


def cpu_seconds(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def split_all(buffers: list[bytes]) -> None:
    splitter = LineSplitter(BUFFER_MAX_SIZE, True)
    for buffer in buffers:
        splitter.feed(buffer)


def decode_all(line_batches: list[list[bytes]]) -> None:
    decoder = JsonLinesDecoder("log", "time", True)
    for lines in line_batches:
        decoder.decode(lines, READ_TIME_NS)


def split_and_decode_all(buffers: list[bytes]) -> None:
    splitter = LineSplitter(BUFFER_MAX_SIZE, True)
    decoder = JsonLinesDecoder("log", "time", True)
    for buffer in buffers:
        decoder.decode(splitter.feed(buffer), READ_TIME_NS)


def cri_all(line_batches: list[list[bytes]]) -> None:
    for lines in line_batches:
        decode_cri_lines(lines, READ_TIME_NS)


def python_split_and_decode(buffers: list[bytes]) -> None:
    decode = msgspec.json.decode
    parse_time = datetime.fromisoformat
    held = b""
    for buffer in buffers:
        *lines, held = (held + buffer).split(b"\n")
        for line in lines:
            record = decode(line)
            parse_time(record["time"]).timestamp()


def run(lines: int, read_bytes: int, repeat: int) -> list[dict[str, object]]:
    docker = read_file("docker", lines)
    cri = read_file("cri", lines)
    docker_reads = reads(docker, read_bytes)
    docker_batches = batches(docker_reads)
    cri_batches = batches(reads(cri, read_bytes))
    docker_lines = sum(map(len, docker_batches))
    cri_lines = sum(map(len, cri_batches))
    rows: list[tuple[str, int, int, Callable[[], object]]] = [
        ("split (LineSplitter.feed)", docker_lines, len(docker), lambda: split_all(docker_reads)),
        ("docker decode (JsonLinesDecoder)", docker_lines, len(docker), lambda: decode_all(docker_batches)),
    ]
    for name in ("nginx", "json app", "plain"):
        only = [[line for line in batch if kind(line) == name] for batch in docker_batches]
        rows.append(
            (
                f"  docker decode, {name} lines",
                sum(map(len, only)),
                sum(len(line) + 1 for batch in only for line in batch),
                lambda only=only: decode_all(only),
            )
        )
    rows += [
        ("split + docker decode", docker_lines, len(docker), lambda: split_and_decode_all(docker_reads)),
        ("cri decode (decode_cri_lines)", cri_lines, len(cri), lambda: cri_all(cri_batches)),
        (
            "python: bytes.split + msgspec + fromisoformat",
            docker_lines,
            len(docker),
            lambda: python_split_and_decode(docker_reads),
        ),
    ]
    results = []
    for name, count, size, work in rows:
        seconds = cpu_seconds(work, repeat)
        results.append(
            {
                "function": name,
                "lines": count,
                "bytes": size,
                "cpu_s": seconds,
                "lines_per_s": count / seconds if seconds else float("inf"),
                "ns_per_line": seconds * 1e9 / count if count else 0.0,
                "mb_per_s": size / seconds / 1e6 if seconds else float("inf"),
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_core", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000, help="logical lines generated per format")
    parser.add_argument("--read-bytes", type=int, default=64 * 1024, help="bytes per read buffer")
    parser.add_argument("--repeat", type=int, default=5, help="runs per row; the best is reported")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--versions", action="store_true", help="print the versions measured")
    args = parser.parse_args(argv)
    if args.lines < 1 or args.read_bytes < 1 or args.repeat < 1:
        parser.error("--lines, --read-bytes and --repeat must be positive")
    results = run(args.lines, args.read_bytes, args.repeat)
    measured_with = versions("Cython", "msgspec")
    if args.json:
        json.dump({"results": results, "versions": measured_with, "args": vars(args)}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.versions:
        print(" ".join(f"{key}={value}" for key, value in measured_with.items()))
    print(f"{'function':48} {'lines':>9} {'lines/s':>12} {'ns/line':>9} {'MB/s':>8}")
    for row in results:
        print(
            f"{row['function']:48} {row['lines']:>9} {row['lines_per_s']:>12,.0f} "
            f"{row['ns_per_line']:>9.0f} {row['mb_per_s']:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
