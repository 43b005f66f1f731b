"""The memory estimate Mem_Buf_Limit counts stays close to what the records really cost.

"Really cost" is what ``tracemalloc`` counts as allocated for the records while they are made (by
the real tail input, or by the test for the kubernetes shape). The estimate must stay within
``FACTOR`` of it either way over a workload's chunks, the way held bytes add up against a limit.
The sampling is random; the tests seed it so that a failure can be reproduced.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from bench.gen_logs import generate

from flb_fast.record import Chunk
from flb_fast.storage.footprint import SAMPLE_RECORDS, TIMESTAMP_BYTES, footprint
from tests.inputs.tail.harness import Harness

# The estimate is within 1.5x of the measured size, over or under.
FACTOR = 1.5
LINES = 20_000
TIMESTAMP_NS = 1_700_000_000_123_456_789


def traced(make: Callable[[], list[Chunk]]) -> tuple[list[Chunk], int]:
    """The chunks ``make`` returns and the bytes allocated for them that are still held."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        chunks = make()
        gc.collect()
        return chunks, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def tailed(path: Path, parser: str | None) -> list[Chunk]:
    """The chunks the real tail input emits for ``path`` read from its head."""
    harness = Harness([("path", str(path)), ("read_from_head", "on"), *([("parser", parser)] if parser else [])])

    async def read() -> None:
        await harness.input.start()
        await harness.wait_for(lambda: sum(len(chunk) for chunk in harness.chunks) >= LINES, timeout=120)
        await harness.stop()

    asyncio.run(read())
    return harness.chunks


def assert_close(chunks: list[Chunk], measured: int) -> None:
    random.seed(1)
    estimate = sum(footprint(chunk) for chunk in chunks)
    assert measured / FACTOR <= estimate <= measured * FACTOR, (estimate, measured)


def test_short_plain_lines_read_by_tail(tmp_path: Path) -> None:
    path = tmp_path / "short.log"
    path.write_text("".join(f"line {n} {'x' * 40}\n" for n in range(LINES)))
    chunks, measured = traced(lambda: tailed(path, None))
    assert_close(chunks, measured)


def test_docker_json_container_lines_read_by_tail_with_the_docker_parser(tmp_path: Path) -> None:
    # bench.gen_logs's mix: nginx access lines, JSON application logs, plain text, 1% long or split lines.
    generate(LINES, 1, str(tmp_path / "logs"), "docker", 1)
    path = next((tmp_path / "logs").glob("*.log"))
    chunks, measured = traced(lambda: tailed(path, "docker"))
    assert_close(chunks, measured)


def test_records_sharing_one_kubernetes_metadata_dict_count_it_once() -> None:
    # As the kubernetes filter leaves them: the log merged into fields, one metadata dict per pod.
    kubernetes = {"pod_name": "web-0", "namespace_name": "default", "labels": {"app": "web", "tier": "front"},
                  "annotations": {"fluentbit.io/parser": "nginx"}, "container_name": "nginx", "host": "node-1"}

    def make() -> list[Chunk]:
        chunks = []
        for start in range(0, LINES, 500):
            records = [{"log": f"10.0.0.{n % 250} - - GET /index/{n} HTTP/1.1 200 {n * 7}\n", "stream": "stdout",
                        "remote": f"10.0.0.{n % 250}", "path": f"/index/{n}", "code": "200", "size": str(n * 7),
                        "kubernetes": kubernetes} for n in range(start, start + 500)]
            chunks.append(Chunk("kube.web", [TIMESTAMP_NS] * len(records), records, 0))
        return chunks

    chunks, measured = traced(make)
    assert_close(chunks, measured)


@pytest.mark.parametrize("records", [1, SAMPLE_RECORDS])
def test_a_chunk_of_few_records_is_measured_whole(records: int) -> None:
    batch = [{"log": "x" * 100}] * records
    chunk = Chunk("app", [TIMESTAMP_NS] * records, batch, 0)
    # One dict (the same in every slot), its key and value, and per record two list slots and a timestamp.
    expected = sys.getsizeof(batch[0]) + sys.getsizeof("log") + sys.getsizeof("x" * 100) + records * (
        16 + TIMESTAMP_BYTES)
    assert footprint(chunk) == expected


def test_an_empty_chunk_holds_nothing() -> None:
    assert footprint(Chunk("app", [], [], 0)) == 0
