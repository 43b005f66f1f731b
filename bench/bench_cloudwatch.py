"""The cloudwatch_logs output against moto: records/s, CPU per record, and what boto3 costs in RSS.

    python -m bench.bench_cloudwatch [--records N] [--chunk N] [--workers N] [--tls] [--keep-alive]
        [--transport loop|botocore] [--json] [--versions]

Throughput: Kubernetes-shaped records (a Docker log line merged with pod metadata, ~450 bytes
as JSON) in chunks of ``--chunk`` records are flushed through ``CloudWatchLogsOutput`` to moto
running as a server process on 127.0.0.1 (``--tls``: over TLS with a self-signed certificate;
``--keep-alive``: keeping connections open, as AWS does and moto's own server does not),
``--workers`` flushes at a time. CPU is this process's user+sys (all threads: the loop and the
executor) per record; moto's own CPU is reported separately, since on a real deployment it is
AWS's. "encode" is the share spent turning records into request bodies; the rest is signing
and HTTP. ``--transport botocore`` sends the same bodies through botocore and
urllib3 in the executor instead of on the loop, to measure what the loop transport saves.

Memory: fresh interpreters measure RSS after importing flb_fast and the output module, after
importing the SDK, and after creating one CloudWatch Logs client (issue 6 target: the whole agent
within 80 MiB with cloudwatch_logs loaded): a plain boto3 client, and the client the outputs
create (``outputs/aws/client.py``: a botocore session with endpoint data trimmed to our services).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.procstat import cpu_seconds
from bench.versions import versions

ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

RSS_PROBE = """
import gc, json, os, sys

from bench.procstat import memory_mib

def rss():
    return memory_mib(os.getpid())[0]

out = {}
import flb_fast.engine.executors, flb_fast.outputs.cloudwatch_logs, msgspec, uvloop
out["flb_fast + output module"] = rss()
if sys.argv[1] == "boto3":
    import boto3
    out["+ import boto3"] = rss()
    client = boto3.session.Session(region_name="us-east-1").client("logs")
else:
    from types import SimpleNamespace
    import botocore.session
    from flb_fast.outputs.aws.client import create_client
    out["+ import botocore"] = rss()
    options = SimpleNamespace(profile=None, region="us-east-1", role_arn=None, extra_user_agent=None,
                              net_connect_timeout=10.0, net_io_timeout=0.0, net_keepalive=True, endpoint=None,
                              port=None, tls=True, tls_verify=True, tls_ca_file=None)
    client = create_client("logs", options, 1)
gc.collect()
out["+ logs client"] = rss()
print(json.dumps(out))
"""


def rss_costs() -> dict[str, dict[str, float]]:
    results = {}
    for variant in ("boto3", "flb_fast"):
        proc = subprocess.run(
            [sys.executable, "-c", RSS_PROBE, variant],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **ENV},
        )
        results[variant] = json.loads(proc.stdout)
    return results


def make_records(count: int) -> list[dict[str, Any]]:
    records = []
    for i in range(count):
        records.append(
            {
                "log": f'10.1.{i % 256}.{i % 7} - - "GET /api/v1/items/{i} HTTP/1.1" 200 {512 + i % 4096} "-" "kube-probe/1.29"\n',
                "stream": "stdout",
                "time": "2026-11-25T13:00:00.000000000Z",
                "kubernetes": {
                    "pod_name": f"web-{i % 20}-7d9f8c6b5-x2x4z",
                    "namespace_name": "default",
                    "pod_id": "3e9bd2b7-7b0e-4f0e-9a55-0c1f0b5c3a11",
                    "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"},
                    "host": "ip-10-0-1-23.ec2.internal",
                    "container_name": "web",
                    "docker_id": "4f0b6a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
                    "container_image": "nginx:1.25",
                },
            }
        )
    return records


async def throughput(
    endpoint: str, records: int, chunk_size: int, workers: int, ca_file: str | None, transport: str
) -> dict[str, float]:
    from tests.standalone import plugin_for

    from flb_fast.outputs.base import FlushResult
    from flb_fast.outputs.cloudwatch_logs import CloudWatchLogsOutput, _Progress
    from flb_fast.outputs.cloudwatch_logs.body import request_head
    from flb_fast.record import Chunk

    CloudWatchLogsOutput.JSON_PROTOCOL = transport == "loop"
    props = {
        "region": "us-east-1",
        "endpoint": endpoint,
        **({"tls.ca_file": ca_file} if ca_file else {}),
        "log_group_name": "bench",
        "log_stream_prefix": "bench-",
        "auto_create_group": "true",
        "workers": str(workers),
    }
    output = plugin_for(CloudWatchLogsOutput, **props)
    await output.start()
    now = time.time_ns()
    body = make_records(chunk_size)
    chunks = [
        Chunk(f"kube.web{n % workers}", [now - (chunk_size - i) * 1000 for i in range(chunk_size)], list(body), 0)
        for n in range(records // chunk_size)
    ]
    # The encode step alone (records -> request bodies), on a tenth of the chunks.
    sample = chunks[: max(1, len(chunks) // 10)]
    progress = _Progress()
    progress.counted.add(("g", "s"))
    started = time.process_time()
    head = request_head("g", "s")
    for chunk in sample:
        events = output._writer.events(*output._events(chunk, list(range(len(chunk))), ("g", "s"), progress))
        first = 0
        while first < len(events):
            first += output._writer.body(head, events, first)[1]
    encode_per_record = (time.process_time() - started) / (len(sample) * chunk_size)
    queue: asyncio.Queue[Chunk] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)

    async def worker() -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            while await output.flush(chunk) is not FlushResult.OK:
                await asyncio.sleep(0.1)
            output.forget(chunk)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await output.stop()
    sent = len(chunks) * chunk_size
    return {
        "records": sent,
        "records_per_s": sent / wall,
        "cpu_us_per_record": cpu / sent * 1e6,
        "encode_cpu_us_per_record": encode_per_record * 1e6,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tls", action="store_true", help="moto over TLS (self-signed certificate)")
    parser.add_argument("--keep-alive", action="store_true", help="moto keeping connections open")
    parser.add_argument("--transport", choices=("loop", "botocore"), default="loop")
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.add_argument("--versions", action="store_true")
    args = parser.parse_args()
    os.environ.update(ENV)

    import tempfile
    from pathlib import Path

    import uvloop
    from tests.fakes.certs import make_certs
    from tests.fakes.moto_server import MotoServer

    memory = rss_costs()
    certs = make_certs(Path(tempfile.mkdtemp(prefix="bench-moto-")), "moto") if args.tls else None
    server = MotoServer(certs, keep_alive=args.keep_alive)
    try:
        moto_cpu0 = cpu_seconds(server.process.pid)
        ca_file = str(certs.ca_file) if certs else None
        result = uvloop.run(
            throughput(server.url, args.records, args.chunk, args.workers, ca_file, args.transport)
        )
        result["moto_cpu_us_per_record"] = (cpu_seconds(server.process.pid) - moto_cpu0) / result["records"] * 1e6
    finally:
        server.stop()
    report: dict[str, Any] = {"throughput": result, "rss_mib": memory}
    if args.versions:
        report["versions"] = versions("boto3", "botocore", "msgspec", "moto")
    if args.json:
        print(json.dumps(report, indent=2))
        return
    r = result
    print(
        f"cloudwatch_logs -> moto{' TLS' if args.tls else ''}{' keep-alive' if args.keep_alive else ''}: "
        f"{r['records']:,} records, chunks of {args.chunk}, workers {args.workers}, transport {args.transport}"
    )
    print(
        f"  {r['records_per_s']:,.0f} records/s wall, {r['cpu_us_per_record']:.1f} us CPU/record in the agent "
        f"(encode {r['encode_cpu_us_per_record']:.2f}), moto {r['moto_cpu_us_per_record']:.1f} us/record"
    )
    print("RSS (MiB, fresh interpreter):")
    for variant, steps in memory.items():
        print("  " + variant + ": " + ", ".join(f"{step} {value:.1f}" for step, value in steps.items()))
    if args.versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))


if __name__ == "__main__":
    main()
