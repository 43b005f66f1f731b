"""Records to the JSON the AWS outputs send, per rendering: CPU per record.

    python -m bench.bench_record_json [--lines N] [--repeat N] [--json] [--versions]

The records are the benchmark workload as the agent holds it after the kubernetes filter
(``bench_filters.kubernetes_records``: each record carries its pod's shared metadata map), encoded
chunk by chunk as the records outputs call ``RecordEncoder.encode_all`` (each followed by a
newline), ``time.process_time`` around the whole, best of ``--repeat``:

- ``fluent_bit``: Fluent Bit's C plugins' JSON (kinesis_firehose, kinesis_streams), written by
  ``_core.records_json`` in one pass;
- ``go``: the AWS Go plugins' JSON (``firehose``, ``kinesis``: keys sorted, HTML characters
  escaped, Go's floats), written by ``outputs/aws/go_json.py`` in Python.
"""

from __future__ import annotations

import argparse
import json

from bench.bench_cwl_events import best
from bench.bench_filters import kubernetes_records
from bench.versions import versions
from flb_fast.outputs.aws.encode import RecordEncoder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--versions", action="store_true")
    args = parser.parse_args(argv)
    chunks = kubernetes_records(args.lines)
    records = sum(len(chunk_records) for _, _, chunk_records in chunks)
    result: dict[str, object] = {"records": records}
    for name, encoder in (("fluent_bit", RecordEncoder()), ("go", RecordEncoder(go=True))):
        def step(encoder: RecordEncoder = encoder) -> int:
            return sum(sum(map(len, encoder.encode_all(rs, ts, b"\n"))) for _, ts, rs in chunks)  # type: ignore[arg-type]

        seconds, size = best(step, args.repeat)
        result[name] = {"us_per_record": round(seconds / records * 1e6, 3), "bytes_per_record": round(size / records, 1)}
    if args.versions:
        result["versions"] = versions("Cython", "msgspec")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name in ("fluent_bit", "go"):
        row = result[name]
        print(f"{name:<12} {row['us_per_record']:>7} us/record  {row['bytes_per_record']} bytes/record")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
