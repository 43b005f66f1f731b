"""CloudWatch Logs request bodies from the records the seed pipeline holds: CPU per record of each step.

    python -m bench.bench_cwl_events [--lines N] [--repeat N] [--json] [--versions]

The records are the seed workload as the agent holds it after the kubernetes filter (the same
as ``bench_filters``: ``bench.gen_logs``' 20 containers, decoded by ``_core``, through the
kubernetes filter with the seed config against the tests' API server; each record carries its
pod's metadata map, shared by the records of the pod). Each chunk then becomes PutLogEvents
bodies as ``cloudwatch_logs`` builds them, two ways, ``time.process_time`` around each step,
best of ``--repeat``:

- ``one pass``: ``_core.cwl_messages`` writes each record straight into the escaped form the
  body holds (a shared metadata map once per chunk), then ``cwl_events`` and ``cwl_body``;
- ``encode, then escape``: msgspec encodes each record (``RecordEncoder.encode_all``), then
  ``_core.cwl_escape_all`` escapes each message for the body (the path ``log_key`` values take,
  and what every record took before ``cwl_messages``), then the same ``cwl_events`` and ``cwl_body``.

Both give the same bytes (checked). Also reported: SHA-256 of the bodies (what SigV4 hashes).
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
from flb_fast.outputs.cloudwatch_logs.batch import MAX_EVENT_BYTES, split_batches
from flb_fast.outputs.cloudwatch_logs.body import request_head


def best(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    seconds, out = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        out = step()
        seconds = min(seconds, time.process_time() - started)
    return seconds, out


def run(lines: int, repeat: int) -> dict[str, Any]:
    chunks = kubernetes_records(lines)
    records = sum(len(chunk_records) for _, _, chunk_records in chunks)
    encoder = RecordEncoder()
    head = request_head("fluentbit-cloudwatch", "fluentbit-kube.var.log.containers.app")

    def one_pass() -> list[tuple[list[bytes | None], list[int]]]:
        return [_core.cwl_messages(rs, encoder.encode_value, MAX_EVENT_BYTES) for _, _, rs in chunks]

    def encode_then_escape() -> list[tuple[list[bytes], list[int]]]:
        out = []
        for _, ts, rs in chunks:
            fragments, sizes, _ = _core.cwl_escape_all(encoder.encode_all(rs, ts), MAX_EVENT_BYTES)
            out.append((fragments, sizes))
        return out

    def events(messages: list[tuple[list[Any], list[int]]]) -> Callable[[], list[Any]]:
        return lambda: [_core.cwl_events(f, s, ts) for (f, s), (_, ts, _) in zip(messages, chunks, strict=True)]

    def bodies(ordered: list[Any]) -> Callable[[], list[bytes]]:
        return lambda: [_core.cwl_body(head, times, fragments, start, end)
                        for times, fragments, sizes in ordered for start, end in split_batches(times, sizes)]

    rows: dict[str, dict[str, float]] = {}
    built: dict[str, list[bytes]] = {}
    for name, messages_step in (("one pass", one_pass), ("encode, then escape", encode_then_escape)):
        messages_s, messages = best(messages_step, repeat)
        events_s, ordered = best(events(messages), repeat)
        bodies_s, built[name] = best(bodies(ordered), repeat)
        rows[name] = {
            "messages_us": round(messages_s / records * 1e6, 3),
            "events_us": round(events_s / records * 1e6, 3),
            "split_and_bodies_us": round(bodies_s / records * 1e6, 3),
            "total_us": round((messages_s + events_s + bodies_s) / records * 1e6, 3),
        }
    assert built["one pass"] == built["encode, then escape"], "the two ways must build the same bodies"
    sha_s, _ = best(lambda: [hashlib.sha256(body).hexdigest() for body in built["one pass"]], repeat)
    body_bytes = sum(len(body) for body in built["one pass"])
    return {
        "lines": lines,
        "records": records,
        "bodies": len(built["one pass"]),
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
        print(f"  {name:20s} messages {row['messages_us']:6.3f}  events {row['events_us']:6.3f}"
              f"  split + bodies {row['split_and_bodies_us']:6.3f}  total {row['total_us']:6.3f}")
    print(f"  SHA-256 of the bodies {result['sha256_us']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
