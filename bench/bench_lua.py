"""CPU cost per record of the lua filter, beside Fluent Bit's.

    python -m bench.bench_lua [--records N] [--chunk N] [--repeat N] [--fluent-bit PATH] [--json] [--versions]

The records are shaped as the kubernetes filter leaves them: a Docker line's ``log``, ``stream``
and ``time`` plus a ``kubernetes`` map (labels, annotations, ids) that every record of a pod
shares, ten pods. Each script runs over them a chunk at a time, as the engine hands them over:
``keep`` returns 0 (the record passes as it is), ``modify`` adds a key, removes one and returns 2
(every record goes back through the Lua -> record conversion). CPU time is ``time.process_time``
around all the chunks, best of ``--repeat`` runs (one core), divided by the number of records, with
the garbage collector's thresholds the agent sets.

The filter runs scripts in ``lupa.luajit21`` (LuaJIT 2.1, the Lua Fluent Bit embeds, whose
string.buffer serialization carries the records). With ``--fluent-bit`` (or FLUENT_BIT_BIN),
Fluent Bit's row in the same run: the same records as JSON lines read by tail
(``Parser json``, ``Exit_On_Eof On``) into the null output, with each script's lua filter and
without one; its cost per record is the process's CPU (user + system, best of ``--repeat``) with
the filter minus without, divided by the number of records.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.standalone import plugin_for

from bench.versions import versions
from flb_fast.filters.lua import LuaFilter
from flb_fast.record import Chunk
from flb_fast.runner import GC_THRESHOLDS

SCRIPTS = {
    "keep": "function cb(tag, ts, r) return 0, ts, r end",
    "modify": 'function cb(tag, ts, r) r.cluster = "prod" r.stream = nil return 2, ts, r end',
}
PODS = 10
START_NS = 1_795_611_600_000_000_000


def pod_metadata(n: int) -> dict[str, Any]:
    return {
        "pod_name": f"web-7d9f8-{n:05d}",
        "namespace_name": "shop",
        "pod_id": f"0f1e2d3c-aaaa-bbbb-cccc-{n:012d}",
        "labels": {"app": "web", "pod-template-hash": "7d9f8"},
        "annotations": {"fluentbit.io/parser": "nginx"},
        "host": "ip-10-0-1-2.ec2.internal",
        "container_name": "web",
        "docker_id": f"{n:064x}",
        "container_image": "nginx:1.25",
    }


def records(count: int) -> list[dict[str, Any]]:
    pods = [pod_metadata(n) for n in range(PODS)]
    return [
        {
            "log": f'10.0.0.{i % 250} - - [25/Nov/2026:13:00:00 +0000] "GET /item/{i} HTTP/1.1" 200 512 "-" "curl/8"\n',
            "stream": "stdout",
            "time": "2026-11-25T13:00:00.123456789Z",
            "kubernetes": pods[i % PODS],
        }
        for i in range(count)
    ]


def filter_on(code: str) -> LuaFilter:
    return plugin_for(LuaFilter, Name="lua", Match="*", call="cb", code=code)


def cpu_us_per_record(code: str, count: int, chunk: int, repeat: int) -> float:
    filt = filter_on(code)
    best = float("inf")
    for _ in range(repeat):
        batches = [records(min(chunk, count - start)) for start in range(0, count, chunk)]
        chunks = [Chunk("kube.web", [START_NS] * len(batch), batch, 0) for batch in batches]

        async def run_all(chunks: list[Chunk] = chunks) -> None:
            for one in chunks:
                await filt.filter(one)

        started = time.process_time()
        asyncio.run(run_all())
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def fluent_bit_config(log: Path, code: str | None) -> str:
    lua = f"[FILTER]\n    Name lua\n    Match *\n    Call cb\n    Code {code}\n" if code else ""
    return (
        f"[SERVICE]\n    Flush 1\n    Grace 1\n    Parsers_File {log.parent / 'parsers.conf'}\n"
        f"[INPUT]\n    Name tail\n    Path {log}\n    Read_from_Head On\n    Parser json\n    Exit_On_Eof On\n"
        f"    Buffer_Chunk_Size 1M\n    Buffer_Max_Size 4M\n{lua}[OUTPUT]\n    Name null\n    Match *\n"
    )


def child_cpu_seconds(command: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def fluent_bit_us_per_record(binary: str, count: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "in.log"
        log.write_text("".join(json.dumps(record) + "\n" for record in records(count)))
        (folder / "parsers.conf").write_text("[PARSER]\n    Name json\n    Format json\n")
        cpu = {}
        for name, code in [("none", None), *SCRIPTS.items()]:
            config = folder / f"{name}.conf"
            config.write_text(fluent_bit_config(log, code))
            cpu[name] = min(child_cpu_seconds([binary, "-c", str(config)]) for _ in range(repeat))
    return {name: (cpu[name] - cpu["none"]) / count * 1e6 for name in SCRIPTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=2_000, help="records per chunk handed to the filter")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fluent-bit", default=os.environ.get("FLUENT_BIT_BIN"), help="Fluent Bit binary to compare with")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--versions", action="store_true", help="print the versions measured with")
    args = parser.parse_args(argv)
    gc.set_threshold(*GC_THRESHOLDS)  # as the agent runs (runner.py)
    results = {"flb-fast": {name: cpu_us_per_record(code, args.records, args.chunk, args.repeat)
                            for name, code in SCRIPTS.items()}}
    if args.fluent_bit:
        results["fluent-bit"] = fluent_bit_us_per_record(args.fluent_bit, args.records, args.repeat)
    if args.json:
        print(json.dumps({"records": args.records, "chunk": args.chunk, "cpu_us_per_record": results,
                          "versions": versions("lupa")}))
        return 0
    if args.versions:
        print(json.dumps(versions("lupa")))
    print(f"{'agent':16} " + " ".join(f"{name + ' us/record':>18}" for name in SCRIPTS))
    for agent, row in results.items():
        print(f"{agent:16} " + " ".join(f"{row[name]:18.2f}" for name in SCRIPTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
