"""The filter chain a Kubernetes config runs after ``kubernetes``, alone: CPU per record of grep, modify and nest.

    python -m bench.bench_filters --lines 200000 --repeat 3 [--profile STATS] [--json] [--save] [--versions]

The records are the benchmark workload as the agent holds it after the kubernetes filter: ``bench.gen_logs``'
Docker files (20 containers) decoded by ``_core`` in 64 KiB reads, one chunk per read, then the
kubernetes filter with the benchmark config (``Merge_Log On``, ``Merge_Log_Key data``,
``K8S-Logging.Parser On``; nginx pods annotated ``fluentbit.io/parser: nginx``) against the tests'
API server on 127.0.0.1. Each filter then runs with the rules of ``bench_pipeline``'s ``filters``
variant (``CHAIN_FILTERS``) on fresh shallow copies of what the filter before it let through (made
outside the timer), ``time.process_time`` around the filter calls only, best of ``--repeat``.
``--profile`` writes a cProfile of one pass of the whole chain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes.certs import make_certs
from tests.fakes.kube_api_server import KubeApiServer
from tests.standalone import plugin_for

from bench.bench_kubernetes import KUBERNETES_FILTER, TOKEN, cpu_per_chunk, file_chunks, fresh, make_filter, pod_for
from bench.bench_pipeline import CHAIN_FILTERS, RESULTS
from bench.versions import versions
from flb_fast.config.model import Config
from flb_fast.filters.base import Filter
from flb_fast.filters.grep import GrepFilter
from flb_fast.filters.modify import ModifyFilter
from flb_fast.filters.nest import NestFilter
from flb_fast.parsers import build_registry

Chunks = list[tuple[str, list[int], list[dict[str, Any]]]]
KINDS = {"grep": GrepFilter, "modify": ModifyFilter, "nest": NestFilter}


def chain_filters() -> list[Filter]:
    """The ``[FILTER]`` sections of ``CHAIN_FILTERS`` as plugin instances, in order."""
    filters = []
    for section in CHAIN_FILTERS.split("[FILTER]")[1:]:
        props: list[tuple[str, str]] = []
        for line in section.strip().splitlines():
            key, _, value = line.strip().partition(" ")
            props.append((key, value.strip()))
        name = dict(props)["Name"]
        # plugin_for takes keyword properties, a repeated one (Exclude twice) as a list, in config order.
        grouped: dict[str, list[str]] = {}
        for key, value in props:
            grouped.setdefault(key, []).append(value)
        options = {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}
        filters.append(plugin_for(KINDS[name], **options))
    return filters


async def _through(flt: Filter, chunks: Chunks) -> Chunks:
    """What ``flt`` lets through, chunk by chunk (on copies)."""
    out: Chunks = []
    for tag, ts, records in chunks:
        chunk = await flt.filter(fresh(tag, ts, records))
        if chunk is not None and chunk.records:
            out.append((tag, chunk.timestamps, chunk.records))
    return out


async def _kubernetes(api: KubeApiServer, ca_file: str, token_file: str, chunks: Chunks) -> Chunks:
    flt = make_filter(api, ca_file, token_file, build_registry(Config()), **KUBERNETES_FILTER)
    await flt.start()
    try:
        return await _through(flt, chunks)
    finally:
        await flt.stop()


def _annotated_pod(tag: str) -> dict:
    pod = pod_for(tag)
    if "_nginx-" in tag:
        pod["metadata"]["annotations"]["fluentbit.io/parser"] = "nginx"
    return pod


async def _measure(stages: list[Chunks], filters: list[Filter], repeat: int) -> list[float]:
    seconds = [await cpu_per_chunk(flt.filter, stage, repeat) for flt, stage in zip(filters, stages, strict=False)]

    async def chain(chunk: Any) -> None:
        for flt in filters:
            chunk = await flt.filter(chunk)
            if chunk is None:
                return

    return [*seconds, await cpu_per_chunk(chain, stages[0], repeat)]


def kubernetes_records(lines: int) -> list[tuple[str, list[int], list[dict[str, Any]]]]:
    """The generated workload's chunks as the kubernetes filter leaves them (pods annotated with
    the nginx parser, served by the tests' HTTPS API server): what the filters after it receive."""
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certs(Path(tmp) / "certs")
        token_file = Path(tmp) / "token"
        token_file.write_text(TOKEN)
        chunks = file_chunks(lines, str(Path(tmp) / "logs"))
        with KubeApiServer(certs, TOKEN) as api:
            for tag in {tag for tag, _, _ in chunks}:
                api.add_pod(_annotated_pod(tag))
            return asyncio.run(_kubernetes(api, str(certs.ca_file), str(token_file), chunks))


def run(lines: int, repeat: int, profile: Path | None) -> dict[str, Any]:
    kube = kubernetes_records(lines)
    filters = chain_filters()
    stages = [kube]
    for flt in filters[:-1]:
        stages.append(asyncio.run(_through(flt, stages[-1])))
    seconds = asyncio.run(_measure(stages, filters, repeat))
    names = [flt.name for flt in filters] + ["chain"]
    counts = [sum(len(r) for _, _, r in stage) for stage in stages] + [sum(len(r) for _, _, r in kube)]
    if profile is not None:
        import cProfile

        cProfile.runctx("asyncio.run(_measure(stages, filters, 1))", globals(), {
            "asyncio": asyncio, "_measure": _measure, "stages": stages, "filters": filters}, str(profile))
    rows = [
        {
            "filter": name,
            "records_in": count,
            "cpu_s": round(cpu, 4),
            "us_per_record": round(cpu / count * 1e6, 3),
            "records_per_cpu_s": round(count / max(cpu, 1e-9)),
        }
        for name, count, cpu in zip(names, counts, seconds, strict=True)
    ]
    return {"lines": lines, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_filters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one pass of the chain to this file")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--save", action="store_true", help="write the raw results to bench/results/")
    parser.add_argument("--versions", action="store_true", help="include library versions")
    args = parser.parse_args(argv)
    result = run(args.lines, args.repeat, args.profile)
    if args.versions:
        result["versions"] = versions("msgspec", "uvloop", "Cython")
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        (RESULTS / f"{stamp}-{platform.node() or 'machine'}-filters-alone-{args.lines}-lines.json").write_text(
            json.dumps(result, indent=1))
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    print(f"filters after kubernetes, {args.lines:,} lines (CPU of the filters only; time.process_time)")
    print(f"{'filter':8} {'records in':>11} {'CPU s':>8} {'us/record':>10} {'records/CPU-s':>14}")
    for r in result["rows"]:
        print(f"{r['filter']:8} {r['records_in']:>11,} {r['cpu_s']:>8} {r['us_per_record']:>10} {r['records_per_cpu_s']:>14,}")
    if args.versions:
        print("\n" + ", ".join(f"{k} {v}" for k, v in result["versions"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
