"""The memory estimate Mem_Buf_Limit counts stays close to what the records really cost.

"Really cost" is what ``tracemalloc`` counts as allocated for the records while they are made by
the real tail input, or by the decoder and the real kubernetes filter. The estimate must stay within
``FACTOR`` of it either way over a workload's chunks, the way held bytes add up against a limit.
The sampling is random; the tests seed it so that a failure can be reproduced.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import pickle
import random
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.bench_kubernetes import KUBERNETES_FILTER, TOKEN, file_chunks, make_filter, pod_for
from bench.gen_logs import generate
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast.compiled import core_part
from flb_fast.config.model import Config
from flb_fast.parsers import build_registry
from flb_fast.record import Chunk
from flb_fast.storage.footprint import MAX_DEPTH, SAMPLE_RECORDS, TIMESTAMP_BYTES, footprint, measure_chunk
from tests.fakes.certs import make_certs
from tests.fakes.kube_api_server import KubeApiServer
from tests.inputs.tail.harness import Harness

# The estimate is within 1.5x of the measured size, over or under.
FACTOR = 1.5
LINES = 20_000
TIMESTAMP_NS = 1_700_000_000_123_456_789


@contextlib.contextmanager
def tracing() -> Iterator[list[int]]:
    """The bytes allocated in the block and still held at its end, in ``held[0]`` once it ends."""
    held = [0]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        yield held
        gc.collect()
        held[0] = tracemalloc.get_traced_memory()[0] - before
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
    with tracing() as held:
        chunks = tailed(path, None)
    assert_close(chunks, held[0])


def test_docker_json_container_lines_read_by_tail_with_the_docker_parser(tmp_path: Path) -> None:
    # bench.gen_logs's mix: nginx access lines, JSON application logs, plain text, 1% long or split lines.
    generate(LINES, 1, str(tmp_path / "logs"), "docker", 1)
    path = next((tmp_path / "logs").glob("*.log"))
    with tracing() as held:
        chunks = tailed(path, "docker")
    assert_close(chunks, held[0])


def test_records_the_kubernetes_filter_merged_count_their_shared_metadata_once(tmp_path: Path) -> None:
    # The benchmark config's filter (Merge_Log into "data", K8S-Logging.Parser) against the tests' API
    # server: each record gets the one metadata dict of its pod, cached before the measure starts.
    certs = make_certs(tmp_path / "certs")
    token = tmp_path / "token"
    token.write_text(TOKEN)
    warm_up = file_chunks(2_000, str(tmp_path / "warm-up"))
    with KubeApiServer(certs, TOKEN) as api:
        for tag in {tag for tag, _, _ in warm_up}:
            api.add_pod(pod_for(tag))
        kubernetes = make_filter(api, str(certs.ca_file), str(token), build_registry(Config()), **KUBERNETES_FILTER)

        async def filtered(chunks: list[tuple[str, list[int], list[dict[str, Any]]]]) -> list[Chunk]:
            found = []
            for tag, timestamps, records in chunks:
                chunk = Chunk(tag, timestamps, records, 0)
                found.append(await kubernetes.filter(chunk) or chunk)
            return found

        async def measure() -> tuple[list[Chunk], int]:
            await kubernetes.start()
            try:
                await filtered(warm_up)
                with tracing() as held:
                    chunks = await filtered(file_chunks(LINES, str(tmp_path / "logs")))
                return chunks, held[0]
            finally:
                await kubernetes.stop()

        chunks, measured = asyncio.run(measure())
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


def test_a_batch_of_a_few_long_lines_among_many_short_ones_is_estimated_within_the_factor() -> None:
    # bench.gen_logs's plain lines: 1% of 4-16 KB among short ones. Counting the lines exactly, every
    # batch's estimate is within FACTOR of the records' size, not only the sum over a workload.
    rng = random.Random(7)
    random.seed(1)
    for _ in range(50):
        with tracing() as held:
            records = [{"log": ("x" * rng.randrange(4_000, 16_000) if rng.random() < 0.01 else
                                "GET /api/v1/items/" + "y" * rng.randrange(40, 120)) + str(rng.random()),
                        "stream": "stdout"} for _ in range(1_000)]
            timestamps = [TIMESTAMP_NS + n for n in range(1_000)]
        estimate = footprint(Chunk("app", timestamps, records, 0))
        assert held[0] / FACTOR <= estimate <= held[0] * FACTOR, (estimate, held[0])


# The compiled walk (_core.footprint_measure) against measure_chunk, its reference: records with
# fresh and shared objects (the kubernetes metadata of a pod, interned keys), nested past MAX_DEPTH.
_shared_pool = [{"pod_name": "p", "labels": {"app": "a"}}, ["x", "y"], "shared text", 10**30]
_leaf = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False), st.none(), st.booleans(),
                  st.sampled_from(_shared_pool))
_value = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                      max_leaves=20)


def nested(depth: int) -> dict:
    value: dict = {"leaf": "x"}
    for level in range(depth):
        value = {f"level{level}": value, "list": [value]}
    return value


needs_core = pytest.mark.skipif(core_part("footprint_measure") is None, reason="flb_fast._core is not built")


@needs_core
@settings(max_examples=300)
@given(records=st.lists(st.one_of(st.dictionaries(st.text(max_size=6), _value, max_size=6), _value), max_size=20),
       sampled=st.lists(st.integers(0, 21), max_size=SAMPLE_RECORDS), deep=st.integers(0, MAX_DEPTH + 3))
def test_the_compiled_walk_counts_what_measure_chunk_counts(records: list[Any], sampled: list[int], deep: int) -> None:
    # Unpickled, the records and their values are held by the chunk alone (as the input's are), but
    # for what they share among themselves and the ones sampled: both ways of counting are met.
    records = pickle.loads(pickle.dumps([*records, nested(deep), _shared_pool[0], _shared_pool[0]]))
    sample = [records[index % len(records)] for index in sampled]
    assert core_part("footprint_measure")(records, sample, MAX_DEPTH) == measure_chunk(records, sample)


@needs_core
@given(text=st.text(max_size=40) | st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_compiled_walk_counts_a_str_as_sys_getsizeof_does(text: str) -> None:
    text = text + "!"  # not the interpreter's one empty or one-character string
    assert core_part("footprint_measure")([{"log": text}], [], MAX_DEPTH) == (sys.getsizeof(text), 0, 0)


@needs_core
def test_the_compiled_walk_stops_at_max_depth_in_a_record_that_holds_itself() -> None:
    record: dict = {"log": "x"}
    record["self"] = record
    loop: list = ["y"]
    loop.append(loop)
    records = [record, {"loop": loop}, record]
    assert core_part("footprint_measure")(records, records, MAX_DEPTH) == measure_chunk(records, records)
