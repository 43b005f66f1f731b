"""The output is down far longer than one retry: memory stays within its limits, the backlog waits
(on disk with filesystem storage), and everything arrives once the output is back, or after a
restart when the agent was stopped meanwhile.

The real agent tails a file into ``kinesis_streams`` on moto through the tests' fault proxy,
which answers every PutRecords with a 500 for as long as the outage lasts.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from botocore.exceptions import ClientError

from flb_fast.inputs.tail import READ_BUFFER_BYTES
from flb_fast.record import Chunk
from flb_fast.storage.footprint import footprint
from tests.e2e.agent import Agent
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.ports import free_port
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream
from tests.reliability.load import PADDING, SteadyWriter

LINES = 6_000
LINES_PER_SECOND = 3_000
MAX_CHUNKS_UP = 2
MEM_BUF_LIMIT = 64 * 1024
GRACE_SECONDS = 2
WAIT_SECONDS = 90.0
POLL_STREAM_SECONDS = 1.0
# A 500 for every PutRecords while the outage lasts.
OUTAGE_CALLS = 1_000_000

CONFIG = """\
[SERVICE]
    Flush                 0.2
    Grace                 {grace}
    Log_Level             info
    scheduler.base        0.1
    scheduler.cap         1
{http}    storage.path          {root}/storage
    storage.max_chunks_up {max_chunks_up}
[INPUT]
    Name            tail
    Path            {root}/logs/*.log
    Read_From_Head  On
    Refresh_Interval 1
    DB              {root}/tail.db
    Mem_Buf_Limit   {mem_buf_limit}
    storage.type    {storage}
[OUTPUT]
    Name         kinesis_streams
    Match        *
    region       us-east-1
    endpoint     {endpoint}
    stream       logs
    Retry_Limit  no_limits
"""

HTTP = """\
    HTTP_Server           On
    HTTP_Listen           127.0.0.1
    HTTP_Port             {port}
    storage.metrics       On
"""
_SIZE_UNITS = {"b": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def storage_status(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/storage", timeout=10) as response:
        return msgspec.json.decode(response.read())


def serves(port: int) -> bool:
    try:
        storage_status(port)
    except OSError:  # urllib's URLError included
        return False
    return True


def size_of(text: str) -> float:
    return float(text[:-1]) * _SIZE_UNITS[text[-1]]


def lines_arrived(moto: Any) -> set[int]:
    return {int(record["data"].split(b" ")[1]) for record in arrived(moto)}


def all_arrived(moto: Any, lines: int = LINES) -> Callable[[], bool]:
    """Whether every one of ``lines`` is in the stream, asked of moto at most once a second (reading it is costly)."""
    last = [0.0]

    def check() -> bool:
        if time.monotonic() - last[0] < POLL_STREAM_SECONDS:
            return False
        last[0] = time.monotonic()
        try:
            return len(lines_arrived(moto)) == lines
        except ClientError:
            # moto's server can fail a GetRecords that races the agent's PutRecords on a loaded
            # machine: ask again at the next poll (the final check runs once the agent stopped).
            return False

    return check


def read_buffer_footprint() -> int:
    """What the records of one read buffer of the writer's lines cost in memory (Mem_Buf_Limit's count)."""
    lines = []
    size = 0
    for n in range(LINES - 1, -1, -1):  # the widest numbers first
        lines.append(f"line {n} {PADDING}")
        size += len(lines[-1]) + 1
        if size >= READ_BUFFER_BYTES:
            break
    return footprint(Chunk("tail", [0] * len(lines), [{"log": line} for line in lines], size))


def make_agent(tmp_path: Path, storage: str, endpoint: str, port: int | None = None) -> Agent:
    """The agent (started by ``with``); with ``port`` it serves /api/v1/storage there."""
    http = "" if port is None else HTTP.format(port=port)
    config = CONFIG.format(root=tmp_path, storage=storage, endpoint=endpoint, http=http, grace=GRACE_SECONDS,
                           max_chunks_up=MAX_CHUNKS_UP, mem_buf_limit=MEM_BUF_LIMIT)
    return Agent(tmp_path, config, env=FAKE_CREDENTIALS)


@pytest.mark.parametrize("storage", ["filesystem", "memory"])
def test_an_output_down_for_long_keeps_memory_bounded_and_everything_arrives_after(
        moto, fault_proxy, tmp_path: Path, storage: str) -> None:
    create_stream(moto)
    fault_proxy.add("PutRecords", "error500", times=OUTAGE_CALLS)
    port = free_port()
    samples: list[dict[str, Any]] = []
    with make_agent(tmp_path, storage, fault_proxy.url, port) as agent:
        agent.wait_started(WAIT_SECONDS)
        # The monitoring server starts after the engine logged that it runs.
        agent.wait_for(lambda: serves(port), "the monitoring server", WAIT_SECONDS)
        writer = SteadyWriter(tmp_path / "logs" / "app.log", LINES, LINES_PER_SECOND).start()

        def sampled_after_the_writer() -> bool:
            samples.append(storage_status(port))
            return writer.done and len(fault_proxy.calls_to("PutRecords")) >= 5

        agent.wait_for(sampled_after_the_writer, "the load to end while the output fails", WAIT_SECONDS)
        fault_proxy.clear()
        agent.wait_for(all_arrived(moto), f"all {LINES} lines", WAIT_SECONDS)
        result = agent.stop()
    assert result.returncode == 0
    assert sorted(lines_arrived(moto)) == list(range(LINES))
    tail = [sample["input_chunks"]["tail.0"] for sample in samples]
    if storage == "filesystem":
        # storage.max_chunks_up chunks on their way to the output, plus the one chunk still open.
        assert max(sample["storage_layer"]["chunks"]["fs_chunks_up"] for sample in samples) <= MAX_CHUNKS_UP + 1
        assert max(sample["storage_layer"]["chunks"]["fs_chunks_down"] for sample in samples) > 0
    else:
        # The input pauses once its records cost Mem_Buf_Limit in memory: at most one read buffer's over it.
        assert max(size_of(entry["status"]["mem_size"]) for entry in tail) <= MEM_BUF_LIMIT + read_buffer_footprint()
        assert "[input] tail.0 paused (mem buf overlimit - event of size " in result.stderr


@pytest.mark.parametrize("storage", ["filesystem", "memory"])
def test_sigterm_while_the_output_is_down_exits_within_grace_and_the_next_start_delivers_all(
        moto, fault_proxy, tmp_path: Path, storage: str) -> None:
    create_stream(moto)
    fault_proxy.add("PutRecords", "error500", times=OUTAGE_CALLS)
    with make_agent(tmp_path, storage, fault_proxy.url) as agent:
        agent.wait_started(WAIT_SECONDS)
        writer = SteadyWriter(tmp_path / "logs" / "app.log", LINES, LINES_PER_SECOND).start()
        agent.wait_for(lambda: len(fault_proxy.calls_to("PutRecords")) >= 3, "the output to fail", WAIT_SECONDS)
        stopped = agent.stop()
    writer.join(WAIT_SECONDS)
    fault_proxy.clear()
    with make_agent(tmp_path, storage, fault_proxy.url) as agent:
        agent.wait_started(WAIT_SECONDS)
        agent.wait_for(all_arrived(moto), f"all {LINES} lines", WAIT_SECONDS)
        result = agent.stop()
    assert (stopped.returncode, result.returncode) == (0, 0)
    assert stopped.stop_seconds < GRACE_SECONDS + 5
    assert sorted(lines_arrived(moto)) == list(range(LINES))
