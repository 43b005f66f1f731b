"""What a read from the page cache costs in system time, by where the buffer lies against the file.

    python -m bench.bench_read_alignment [--megabytes 400] [--read-kib 256] [--repeat 3]

A file of ``--megabytes`` is written to a temporary folder and read from the page cache in reads
of ``--read-kib``, as the tail input reads, into page-aligned memory at several offsets
within a page, the file's reads starting at several offsets within a page. Reported per pair: the
CPU seconds the reads took (the least of ``--repeat`` rounds) and the destination's offset from
the source's within a page. tail reads with both at the same offset (``inputs/tail/file.py``
``ReadBuffer``); a ``bytearray`` of 256 KiB starts 16 bytes into its page.
"""

from __future__ import annotations

import argparse
import mmap
import os
import tempfile
import time
from pathlib import Path

from bench.versions import cpu_model

LINE = b'{"log":"' + b"x" * 330 + b'\\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}\n'
DESTINATION_OFFSETS = (0, 16, 32, 64, 2048)
SOURCE_OFFSETS = (0, 16)


def read_seconds(path: Path, memory: memoryview, destination: int, source: int, read_bytes: int, repeat: int) -> float:
    """The least CPU seconds of ``repeat`` passes reading ``path`` from ``source`` on into ``memory[destination:]``."""
    window = memory[destination:destination + read_bytes]
    best = float("inf")
    for _ in range(repeat):
        fd = os.open(path, os.O_RDONLY)
        try:
            started = time.process_time()
            position = source
            while count := os.preadv(fd, [window], position):
                position += count
            best = min(best, time.process_time() - started)
        finally:
            os.close(fd)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=400)
    parser.add_argument("--read-kib", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    read_bytes = args.read_kib * 1024
    memory = memoryview(mmap.mmap(-1, read_bytes + mmap.PAGESIZE))
    with tempfile.TemporaryDirectory(prefix="flb-read-") as folder:
        path = Path(folder) / "container.log"
        with path.open("wb") as handle:
            for _ in range(args.megabytes * 1_000_000 // len(LINE)):
                handle.write(LINE)
        print(f"{path.stat().st_size / 1e6:.0f} MB in reads of {args.read_kib} KiB, {cpu_model()}")
        print("| destination in page | source in page | destination - source | CPU s |")
        print("|---|---|---|---|")
        for source in SOURCE_OFFSETS:
            for destination in DESTINATION_OFFSETS:
                seconds = read_seconds(path, memory, destination, source, read_bytes, args.repeat)
                print(f"| {destination} | {source} | {(destination - source) % mmap.PAGESIZE} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
