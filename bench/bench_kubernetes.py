"""CPU cost per line of the kubernetes filter, and API requests for a node of 1,000 pods.

    python -m bench.bench_kubernetes [--lines N] [--pods N] [--repeat N] [--json] [--versions]

Records are what the tail hands the filter: bench.gen_logs' Docker json-file logs (nginx
access lines, JSON application logs, plain text, long lines) in 20 container files, split
and decoded by ``_core`` in reads of 64 KiB, one chunk per read. The filter runs with the
benchmark config (Merge_Log On, Merge_Log_Key data, K8S-Logging.Parser On, K8S-Logging.Exclude On)
against the tests' fake API server over HTTPS on 127.0.0.1, after one warm-up chunk per pod.
CPU time is ``time.process_time`` around the filter calls only (fresh record dicts are made
outside the timer, one chunk alive at a time as in the pipeline), best of ``--repeat`` runs.

Rows: the benchmark config; Merge_Log Off (metadata attach only); the per-record merge step alone,
compiled (``_core.kube_merge_json_logs``) and as its Python twin. The request table starts a fake API server holding ``--pods`` pods on this node and
sends three chunks per pod at once (as 3 files of a busy node would), for each way of
getting metadata: one GET per pod (Fluent Bit's way), Use_Kubelet, and Watch_Pods. The last
table is why the filter's GETs use asyncio streams rather than a blocking client in threads:
the agent's CPU per GET against a server in another process, for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.fakes.certs import make_certs
from tests.fakes.kube_api_server import Container, KubeApiServer, make_pod
from tests.standalone import plugin_for

from bench.gen_logs import generate
from bench.versions import versions
from flb_fast._core import JsonLinesDecoder, LineSplitter
from flb_fast.config.model import Config
from flb_fast.filters.kubernetes import KubernetesFilter
from flb_fast.filters.kubernetes.merge import merge_json_logs
from flb_fast.log import plugin_logger
from flb_fast.metrics import Metrics
from flb_fast.parsers import build_registry
from flb_fast.record import Chunk

READ_BYTES = 64 * 1024
BUFFER_MAX_SIZE = 128 * 1024
READ_TIME_NS = 1_795_611_600_000_000_000
TOKEN = "bench-token"
NODE = "bench-node"
KUBERNETES_FILTER = {"Merge_Log": "On", "Merge_Log_Key": "data", "K8S-Logging.Parser": "On", "K8S-Logging.Exclude": "On"}


def file_chunks(lines: int, out: str) -> list[tuple[str, list[int], list[dict[str, Any]]]]:
    """(tag, timestamps, records) per 64 KiB read, as tail with Parser docker emits them."""
    summary = generate(lines, 20, out, "docker", seed=1)
    chunks = []
    for path in summary.files:
        tag = "kube.var.log.containers." + os.path.basename(path)
        splitter = LineSplitter(BUFFER_MAX_SIZE, True)
        decoder = JsonLinesDecoder("log", "time", True)
        data = Path(path).read_bytes()
        for offset in range(0, len(data), READ_BYTES):
            timestamps, records, _ = decoder.decode(splitter.feed(data[offset : offset + READ_BYTES]), READ_TIME_NS)
            if records:
                chunks.append((tag, timestamps, records))
    return chunks


def pod_for(tag: str) -> dict:
    name, namespace, rest = tag.removeprefix("kube.var.log.containers.").split("_", 2)
    container, docker_id = rest.removesuffix(".log").rsplit("-", 1)
    return make_pod(
        name,
        namespace,
        uid=f"uid-{name}",
        node=NODE,
        containers=[Container(container, f"{container}:1.0", f"sha256:{docker_id}", f"containerd://{docker_id}")],
        labels={"app": container, "pod-template-hash": name.rsplit("-", 1)[-1]},
        annotations={"kubernetes.io/psp": "eks.privileged"},
    )


def make_filter(api: KubeApiServer, ca_file: str, token_file: str, parsers, **options: str) -> KubernetesFilter:
    props = {
        "Name": "kubernetes",
        "Match": "kube.*",
        "Kube_URL": api.url,
        "Kube_CA_File": ca_file,
        "Kube_Token_File": token_file,
        "Kube_Namespace_File": "/nonexistent",
        "Buffer_Size": "0",
        "Kube_Meta_Max_Wait": "60s",
        **options,
    }
    return plugin_for(KubernetesFilter, parsers=parsers, **props)


def fresh(tag: str, timestamps: list[int], records: list[dict]) -> Chunk:
    """A new chunk of copies: the filter changes records in place."""
    return Chunk(tag, list(timestamps), [dict(r) for r in records], 0, "tail.0")


async def cpu_per_chunk(work: Callable[[Chunk], Awaitable[object]], chunks, repeat: int) -> float:
    """CPU seconds of ``work`` over every chunk (fresh copies, made outside the timer), best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        total = 0.0
        for tag, ts, records in chunks:
            chunk = fresh(tag, ts, records)
            start = time.process_time()
            await work(chunk)
            total += time.process_time() - start
        best = min(best, total)
    return best


async def cpu_of_filter(flt: KubernetesFilter, chunks, repeat: int) -> float:
    await flt.start()
    try:
        seen = set()
        for tag, ts, records in chunks:
            if tag not in seen:
                seen.add(tag)
                await flt.filter(Chunk(tag, list(ts[:1]), [dict(records[0])], 0))
        return await cpu_per_chunk(flt.filter, chunks, repeat)
    finally:
        await flt.stop()


async def requests_for_pods(api: KubeApiServer, flt: KubernetesFilter, tags: list[str]) -> tuple[int, int, float]:
    await flt.start()
    try:
        if flt._watcher is not None:
            while not (flt._watcher.synced and api.watch_count() == 1):
                await asyncio.sleep(0.01)
        started = time.monotonic()
        chunks = [Chunk(tag, [READ_TIME_NS], [{"log": "x\n", "stream": "stdout"}], 2) for tag in tags for _ in range(3)]
        outs = await asyncio.gather(*(flt.filter(chunk) for chunk in chunks))
        elapsed = time.monotonic() - started
        assert all("kubernetes" in out.records[0] for out in outs), "a pod went without metadata"
        return len(api.requests()), api.connection_count(), elapsed
    finally:
        await flt.stop()


def _serve_pods(certs: Any, count: int, ports: Any) -> None:
    """A fake API server in its own process, so that only the client's CPU is measured."""
    with KubeApiServer(certs, TOKEN) as api:
        for i in range(count):
            api.add_pod(pod_for(f"kube.var.log.containers.app-{i:04d}_ns-{i % 7}_main-{i:064x}.log"))
        ports.put(api.port)
        time.sleep(3600)


def get_cost(certs: Any, token_file: str, count: int) -> list[dict[str, Any]]:
    """CPU per pod GET on the agent side: our asyncio streams client vs http.client in threads.

    Both keep their connections alive and run 8 requests at once (the filter's request slots).
    """
    import http.client
    import multiprocessing
    import threading

    from flb_fast.engine.executors import BoundedExecutor
    from flb_fast.filters.kubernetes import MAX_CONCURRENT_REQUESTS
    from flb_fast.filters.kubernetes.api import Endpoint, HttpClient, TokenSource, ssl_context

    spawn = multiprocessing.get_context("spawn")  # no fork of a process that has threads
    ports: Any = spawn.Queue()
    server = spawn.Process(target=_serve_pods, args=(certs, count, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=60)
        context = ssl_context(True, False, str(certs.ca_file), None)
        paths = [f"/api/v1/namespaces/ns-{i % 7}/pods/app-{i:04d}" for i in range(count)]
        log = plugin_logger("filter", "kubernetes", "bench")

        async def streams() -> float:
            token = TokenSource(token_file, None, 600, log, Metrics().register("filter", "bench"))
            client = HttpClient(Endpoint("https", "127.0.0.1", port), context, None, token, 0, 30)
            slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

            async def one(path: str) -> bytes:
                async with slots:
                    return await client.get(path)

            start = time.process_time()
            await asyncio.gather(*(one(path) for path in paths))
            spent = time.process_time() - start
            await client.close()
            return spent

        async def threads() -> float:
            pool = BoundedExecutor("kube-bench", MAX_CONCURRENT_REQUESTS)
            local = threading.local()
            opened: list[http.client.HTTPSConnection] = []

            def one(path: str) -> bytes:
                if getattr(local, "conn", None) is None:
                    local.conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
                    opened.append(local.conn)
                local.conn.request(
                    "GET", path, headers={"Authorization": f"Bearer {TOKEN}", "User-Agent": "Fluent-Bit"}
                )
                return local.conn.getresponse().read()

            start = time.process_time()
            await asyncio.gather(*(pool.run(one, path) for path in paths))
            spent = time.process_time() - start
            pool.shutdown()
            for conn in opened:
                conn.close()
            return spent

        rows = []
        for name, way in (("asyncio streams (ours)", streams), ("http.client in BoundedExecutor(8)", threads)):
            asyncio.run(way())  # warm: connections, imports
            spent = min(asyncio.run(way()) for _ in range(3))
            rows.append({"client": name, "requests": count, "cpu_us_per_request": round(spent * 1e6 / count)})
        return rows
    finally:
        server.terminate()
        server.join(10)


def run(lines: int, pods: int, repeat: int) -> dict[str, Any]:
    parsers = build_registry(Config())
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certs(Path(tmp) / "certs")
        token_file = Path(tmp) / "token"
        token_file.write_text(TOKEN)
        chunks = file_chunks(lines, str(Path(tmp) / "logs"))
        records = sum(len(r) for _, _, r in chunks)
        rows = []
        with KubeApiServer(certs, TOKEN) as api:
            for tag in {tag for tag, _, _ in chunks}:
                api.add_pod(pod_for(tag))
            for name, options in (("Merge_Log On, Merge_Log_Key data", KUBERNETES_FILTER), ("Merge_Log Off", {})):
                flt = make_filter(api, str(certs.ca_file), str(token_file), parsers, **options)
                seconds = asyncio.run(cpu_of_filter(flt, chunks, repeat))
                rows.append(row(name, records, seconds))
            flt = make_filter(api, str(certs.ca_file), str(token_file), parsers, **KUBERNETES_FILTER)
            processor = flt.records

            async def apply(chunk: Chunk) -> None:
                processor.apply(chunk, None, None)

            async def python(chunk: Chunk) -> None:
                merge_json_logs(chunk.records, "data", True, True)

            step = asyncio.run(cpu_per_chunk(apply, chunks, repeat))
            rows.append(row("Merge_Log step alone (RecordProcessor.apply)", records, step))
            twin = asyncio.run(cpu_per_chunk(python, chunks, repeat))
            rows.append(row("Merge_Log step, Python twin (no _core)", records, twin))
        scale = []
        tags = [f"kube.var.log.containers.app-{i:04d}_ns-{i % 7}_main-{i:064x}.log" for i in range(pods)]
        for name, options in (
            ("one GET per pod", {}),
            ("Use_Kubelet On", {"Use_Kubelet": "On", "Kubelet_Host": "127.0.0.1"}),
            ("Watch_Pods On", {"Watch_Pods": "On", "Node_Name": NODE}),
        ):
            with KubeApiServer(certs, TOKEN) as api:
                for tag in tags:
                    api.add_pod(pod_for(tag))
                if "Kubelet_Host" in options:
                    options = {**options, "Kubelet_Port": str(api.port)}
                flt = make_filter(api, str(certs.ca_file), str(token_file), parsers, **options)
                count, connections, elapsed = asyncio.run(requests_for_pods(api, flt, tags))
                scale.append(
                    {
                        "mode": name,
                        "pods": pods,
                        "chunks": 3 * pods,
                        "api_requests": count,
                        "connections": connections,
                        "wall_s": round(elapsed, 3),
                    }
                )
        clients = get_cost(certs, str(token_file), pods)
    return {"records": records, "rows": rows, "requests": scale, "get_cost": clients}


def row(name: str, records: int, seconds: float) -> dict[str, Any]:
    seconds = max(seconds, 1e-9)  # a tiny smoke-test input can take less than the clock's tick
    return {
        "name": name,
        "lines_per_cpu_s": round(records / seconds),
        "cpu_s_per_1m_lines": round(seconds * 1e6 / records, 3),
        "us_per_line": round(seconds * 1e6 / records, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_kubernetes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--versions", action="store_true", help="include library versions")
    args = parser.parse_args(argv)
    result = run(args.lines, args.pods, args.repeat)
    if args.versions:
        result["versions"] = versions("msgspec", "uvloop", "Cython")
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    print(f"kubernetes filter, {result['records']:,} records (CPU of the filter only; smaller is better)")
    print(f"{'':52} {'lines/CPU-s':>12} {'CPU s/1M lines':>15}")
    for r in result["rows"]:
        print(f"{r['name']:52} {r['lines_per_cpu_s']:>12,} {r['cpu_s_per_1m_lines']:>15.3f}")
    print(f"\nAPI requests for {args.pods:,} pods, 3 chunks each sent at once (smaller is better)")
    for r in result["requests"]:
        print(
            f"{r['mode']:40} {r['api_requests']:>6,} requests {r['connections']:>4} connections "
            f"{r['wall_s']:>6.2f} s wall"
        )
    print("\nCPU per pod GET in the agent, 8 at once over kept-alive connections (smaller is better)")
    for r in result["get_cost"]:
        print(f"{r['client']:40} {r['cpu_us_per_request']:>6} us per request")
    if args.versions:
        print("\n" + ", ".join(f"{k} {v}" for k, v in result["versions"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
