"""CloudWatch Logs request bodies from the records the Kubernetes pipeline holds: CPU per record, compiled and Python.

    python -m bench.bench_cwl_events [--lines N] [--repeat N] [--json] [--versions]

The records are the benchmark workload as the agent holds it after the kubernetes filter (the same
as ``bench_filters``: ``bench.gen_logs``' 20 containers, decoded by ``_core``, through the
kubernetes filter with the benchmark config against the tests' API server; each record carries its
pod's metadata map, shared by the records of the pod). Each chunk then becomes its PutLogEvents
bodies as ``cloudwatch_logs`` builds them (``body.build_bodies``: records to bodies in time
order, cut within the batch limits), two ways, ``time.process_time`` around each, best of
``--repeat``:

- ``compiled``: ``_core.cwl_bodies``, what the output uses (each record written straight into
  its body, escaped, in one pass; a shared metadata map written once per chunk);
- ``python reference``: ``body.request_bodies``, its Python reference (msgspec encodes each
  record, ``json.dumps`` escapes it, the bodies are joined from the events).

Both must give the same bytes (checked). Also reported: SHA-256 of the bodies (what SigV4 hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.bench_filters import kubernetes_records
from bench.versions import versions
from flb_fast import _core
from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.cloudwatch_logs.body import batch_limits, request_bodies, request_head


def best(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    seconds, out = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        out = step()
        seconds = min(seconds, time.process_time() - started)
    return seconds, out


def compiled_bodies(head: bytes, items: list[Any], timestamps_ns: list[int], encode: Callable[[Any], bytes],
                    fallback: Callable[[int], bytes], first: int) -> tuple[list[bytes], list[int], int]:
    return _core.cwl_bodies(head, items, timestamps_ns, encode, fallback, first, *batch_limits())


def run(lines: int, repeat: int) -> dict[str, Any]:
    chunks = kubernetes_records(lines)
    records = sum(len(chunk_records) for _, _, chunk_records in chunks)
    encoder = RecordEncoder()
    head = request_head("fluentbit-cloudwatch", "fluentbit-kube.var.log.containers.app")

    def bodies(build: Callable[..., tuple[list[bytes], list[int], int]]) -> Callable[[], list[bytes]]:
        def step() -> list[bytes]:
            out: list[bytes] = []
            for _, timestamps, chunk_records in chunks:
                def fallback(index: int, rs: list[Any] = chunk_records, ts: list[int] = timestamps) -> bytes:
                    return encoder.encode(rs[index], ts[index])  # type: ignore[return-value]

                out += build(head, chunk_records, timestamps, encoder.encode_value, fallback, 0)[0]
            return out
        return step

    rows: dict[str, dict[str, float]] = {}
    built: dict[str, list[bytes]] = {}
    for name, build in (("compiled", compiled_bodies), ("python reference", request_bodies)):
        seconds, built[name] = best(bodies(build), repeat)
        rows[name] = {"bodies_us": round(seconds / records * 1e6, 3)}
    assert built["compiled"] == built["python reference"], "both ways must build the same bodies"
    sha_s, _ = best(lambda: [hashlib.sha256(body).hexdigest() for body in built["compiled"]], repeat)
    body_bytes = sum(len(body) for body in built["compiled"])
    return {
        "lines": lines,
        "records": records,
        "bodies": len(built["compiled"]),
        "body_bytes_per_record": round(body_bytes / records, 1),
        "rows": rows,
        "sha256_us": round(sha_s / records * 1e6, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cwl_events", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--versions", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.lines, args.repeat)
    if args.versions:
        result["versions"] = versions("Cython", "msgspec")
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{result['records']:,} records, {result['bodies']} bodies, {result['body_bytes_per_record']} body bytes"
          " per record; CPU us per record (smaller is better):")
    for name, row in result["rows"].items():
        print(f"  records to bodies, {name:16s} {row['bodies_us']:7.3f}")
    print(f"  SHA-256 of the bodies {result['sha256_us']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
