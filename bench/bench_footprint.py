"""Python memory per byte held against Mem_Buf_Limit: what tail's records cost over the raw lines.

``Mem_Buf_Limit`` counts the raw bytes read (as Fluent Bit counts its msgpack chunk bytes), but the
records held meanwhile are Python dicts and strings. This reads one file with the real tail input
(and ``Parser docker`` where the lines are Docker JSON) and reports the bytes Python allocated for
the records (``tracemalloc``) per raw byte counted, for two line shapes: short plain lines and
`bench.gen_logs` container lines.

    python -m bench.bench_footprint [--lines N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import tracemalloc
from pathlib import Path

from tests.inputs.tail.harness import Harness

from bench.gen_logs import generate


async def footprint(path: Path, lines: int, parser: str | None) -> tuple[int, int]:
    """(raw bytes counted, bytes Python holds for the records) once ``lines`` records were emitted."""
    properties = [("path", str(path)), ("read_from_head", "on"), *([("parser", parser)] if parser else [])]
    harness = Harness(properties)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await harness.input.start()
    await harness.wait_for(lambda: sum(len(chunk) for chunk in harness.chunks) >= lines, timeout=120)
    await harness.input.stop()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    await harness.input.close()
    return sum(chunk.size for chunk in harness.chunks), held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_footprint", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        short = Path(folder) / "short.log"
        short.write_text("".join(f"line {n} {'x' * 40}\n" for n in range(args.lines)))
        generate(args.lines, 1, str(Path(folder) / "docker"), "docker", 1)
        docker = next((Path(folder) / "docker").glob("*.log"))
        cases = [("plain, 52-byte lines", short, None), ("Docker JSON container lines", docker, "docker")]
        results = []
        for name, path, line_parser in cases:
            raw, held = asyncio.run(footprint(path, args.lines, line_parser))
            results.append({"lines": name, "raw_bytes": raw, "python_bytes": held, "per_raw_byte": held / raw})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| lines | raw bytes (Mem_Buf_Limit counts) | Python bytes held | per raw byte (smaller is better) |")
    print("|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['lines']} | {r['raw_bytes']:,} | {r['python_bytes']:,} | {r['per_raw_byte']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
