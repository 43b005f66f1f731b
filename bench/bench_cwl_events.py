"""CloudWatch Logs request bodies from the records the Kubernetes pipeline holds: CPU per record, compiled and Python.

    python -m bench.bench_cwl_events [--lines N] [--repeat N] [--per-pod] [--json] [--versions]

The records are the benchmark workload as the agent holds it after the kubernetes filter (the same
as ``bench_filters``: ``bench.gen_logs``' 20 containers, decoded by ``_core``, through the
kubernetes filter with the benchmark config against the tests' API server; each record carries its
pod's metadata map, shared by the records of the pod). Each chunk then becomes its PutLogEvents
bodies as ``cloudwatch_logs`` writes them (``body.body_writer``: records to bodies in time
order, one body a call, each cut within the batch limits), two ways, ``time.process_time``
around each, best of ``--repeat``:

- ``compiled``: ``_core.CwlBodyWriter``, what the output uses (each record written, escaped, in
  one pass into the buffer the writer keeps, the body copied out; a shared metadata map written
  once per body);
- ``python reference``: ``body.BodyWriter``, its Python reference (msgspec encodes each record,
  ``json.dumps`` escapes it, the body is joined from the events).

With ``--per-pod`` each pod's records are one call, so that most bodies are cut at the batch's
byte limit, as they are from the pipeline's chunks of up to 2 MB (bench_filters' batches are
smaller). Both must give the same bytes (checked). Also reported: SHA-256 of the bodies (what
SigV4 hashes), and how many bytes the bodies hold beyond what the batch's byte limit counts (the
room ``_core.CwlBodyWriter`` keeps for them, ``CWL_BODY_ROOM``, is 256 KiB).
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
from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.cloudwatch_logs.batch import EVENT_OVERHEAD_BYTES
from flb_fast.outputs.cloudwatch_logs.body import BodyWriter, body_writer, request_head


def best(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    seconds, out = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        out = step()
        seconds = min(seconds, time.process_time() - started)
    return seconds, out


def per_pod(chunks: list[tuple[str, list[int], list[Any]]]) -> list[tuple[str, list[int], list[Any]]]:
    """One chunk per tag (a pod's container), holding all its records in order."""
    pods: dict[str, tuple[str, list[int], list[Any]]] = {}
    for tag, timestamps, records in chunks:
        _, pod_timestamps, pod_records = pods.setdefault(tag, (tag, [], []))
        pod_timestamps += timestamps
        pod_records += records
    return list(pods.values())


def run(lines: int, repeat: int, whole_pods: bool = False) -> dict[str, Any]:
    chunks = kubernetes_records(lines)
    if whole_pods:
        chunks = per_pod(chunks)
    records = sum(len(chunk_records) for _, _, chunk_records in chunks)
    encoder = RecordEncoder()
    head = request_head("fluentbit-cloudwatch", "fluentbit-kube.var.log.containers.app")

    def bodies(writer: Any) -> Callable[[], list[bytes]]:
        def step() -> list[bytes]:
            out: list[bytes] = []
            for _, timestamps, chunk_records in chunks:
                def fallback(index: int, rs: list[Any] = chunk_records, ts: list[int] = timestamps) -> bytes:
                    return encoder.encode(rs[index], ts[index])  # type: ignore[return-value]

                events = writer.events(chunk_records, timestamps, encoder.encode_value, fallback)
                first = 0
                while first < len(events):
                    body, count, _ = writer.body(head, events, first)
                    out.append(body)
                    first += count
            return out
        return step

    rows: dict[str, dict[str, float]] = {}
    built: dict[str, list[bytes]] = {}
    for name, writer in (("compiled", body_writer()), ("python reference", BodyWriter())):
        seconds, built[name] = best(bodies(writer), repeat)
        rows[name] = {"bodies_us": round(seconds / records * 1e6, 3)}
    assert built["compiled"] == built["python reference"], "both ways must build the same bodies"
    sha_s, _ = best(lambda: [hashlib.sha256(body).hexdigest() for body in built["compiled"]], repeat)
    body_bytes = sum(len(body) for body in built["compiled"])
    excess = [uncounted_bytes(head, body) for body in built["compiled"]]
    return {
        "lines": lines,
        "records": records,
        "bodies": len(built["compiled"]),
        "body_bytes_per_record": round(body_bytes / records, 1),
        "rows": rows,
        "sha256_us": round(sha_s / records * 1e6, 3),
        "uncounted_bytes_max": max(excess, default=0),
        "bodies_uncounted_over_64k": sum(1 for extra in excess if extra > 64 * 1024),
    }


def uncounted_bytes(head: bytes, body: bytes) -> int:
    """What a body holds beyond its head and what PutLogEvents' byte limit counts of its events
    (each message in UTF-8 and 26 bytes): the escapes and the JSON around each event."""
    counted = sum(len(event["message"].encode()) + EVENT_OVERHEAD_BYTES for event in json.loads(body)["logEvents"])
    return len(body) - len(head) - counted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cwl_events", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-pod", action="store_true", help="one call per pod: bodies cut at the byte limit")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--versions", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.lines, args.repeat, args.per_pod)
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
    print(f"bytes of a body beyond what the batch limit counts (escapes, each event's JSON): at most "
          f"{result['uncounted_bytes_max']:,}; over 64 KiB in {result['bodies_uncounted_over_64k']} of "
          f"{result['bodies']} bodies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
