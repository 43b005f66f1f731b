"""``[SERVICE] Memory_Limit``: the real agent never uses more memory than the limit, even when a big
backlog meets an output that is down, and everything arrives once the output is back.

The agent tails a backlog of wide JSON lines (each a record of many fields, several times its
size in memory) into ``kinesis_streams`` on moto through the tests' fault proxy, which answers
every PutRecords with a 500 while the outage lasts. No ``Mem_Buf_Limit`` is set: only the
process's limit stops the input. The limit is the memory of the same agent idle plus
``HEADROOM_MIB``, which the backlog's records exceed several times over.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.agent import Agent
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.ports import free_port
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream

LINES = 20_000
FIELDS = 20
# Room above the idle agent's memory: the backlog's records take about 3 KB each in memory,
# 20,000 of them about 60 MB, so the limit is reached long before the backlog is read.
HEADROOM_MIB = 48
WAIT_SECONDS = 180.0
# A 500 for every PutRecords while the outage lasts.
OUTAGE_CALLS = 1_000_000

CONFIG = """\
[SERVICE]
    Flush            0.2
    Grace            2
    Log_Level        info
    scheduler.base   0.1
    scheduler.cap    1
    HTTP_Server      On
    HTTP_Listen      127.0.0.1
    HTTP_Port        {port}
{memory_limit}[INPUT]
    Name            tail
    Path            {root}/logs/*.log
    Read_From_Head  On
    Parser          json
[OUTPUT]
    Name         kinesis_streams
    Match        *
    region       us-east-1
    endpoint     {endpoint}
    stream       logs
    Retry_Limit  no_limits
"""


def status(pid: int) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, VmHWM...)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith(" kB"):
            found[name] = int(value.split()[0]) * 1024
    return found


def metrics(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=10) as response:
            return json.loads(response.read())
    except OSError:  # urllib's URLError included: not serving yet, or slow on a loaded machine
        return {}


def counters(port: int, kind: str, name: str) -> dict[str, int]:
    """One instance's counters; empty when the monitoring server did not answer."""
    return metrics(port).get(kind, {}).get(name, {})


def make_agent(tmp_path: Path, endpoint: str, port: int, memory_limit: int | None) -> Agent:
    limit = "" if memory_limit is None else f"    Memory_Limit     {memory_limit}\n"
    config = CONFIG.format(root=tmp_path, endpoint=endpoint, port=port, memory_limit=limit)
    return Agent(tmp_path, config, env=FAKE_CREDENTIALS)


def idle_peak(tmp_path: Path, endpoint: str) -> int:
    """The peak memory of the same agent started with nothing to read."""
    (tmp_path / "logs").mkdir()
    port = free_port()
    with make_agent(tmp_path, endpoint, port, None) as agent:
        agent.wait_started(WAIT_SECONDS)
        agent.wait_for(lambda: bool(metrics(port)), "the monitoring server", WAIT_SECONDS)
        peak = status(agent.process.pid)["VmHWM"]
        agent.stop()
    return peak


def write_backlog(path: Path) -> None:
    with path.open("w") as out:
        for n in range(LINES):
            fields = ",".join(f'"field_{f:02d}":"value {n} {f:02d}"' for f in range(FIELDS))
            out.write(f'{{"n":{n},{fields}}}\n')


def test_a_backlog_with_the_output_down_stays_under_the_memory_limit_and_arrives_after(
        moto, fault_proxy, tmp_path: Path) -> None:
    create_stream(moto)
    idle = tmp_path / "idle"
    idle.mkdir()
    limit = idle_peak(idle, fault_proxy.url) + HEADROOM_MIB * 1024 * 1024
    (tmp_path / "logs").mkdir()
    write_backlog(tmp_path / "logs" / "app.log")
    fault_proxy.add("PutRecords", "error500", times=OUTAGE_CALLS)
    port = free_port()
    with make_agent(tmp_path, fault_proxy.url, port, limit) as agent:
        agent.wait_for(lambda: "pausing all inputs" in agent.stderr(), "the memory limit to pause the input",
                       WAIT_SECONDS)
        agent.wait_for(lambda: len(fault_proxy.calls_to("PutRecords")) >= 5, "the output to fail", WAIT_SECONDS)
        paused: dict[str, int] = {}
        agent.wait_for(lambda: bool(paused.update(counters(port, "input", "tail.0")) or paused),
                       "the input's counters", WAIT_SECONDS)
        fault_proxy.clear()
        agent.wait_for(lambda: counters(port, "output", "kinesis_streams.0").get("proc_records", 0) >= LINES,
                       f"all {LINES} lines to be sent", WAIT_SECONDS)
        peak = status(agent.process.pid)["VmHWM"]
        result = agent.stop()
    assert result.returncode == 0
    assert peak <= limit, (peak, limit)
    # The input was paused before it had read the backlog: the limit, not the backlog's end, stopped it.
    assert paused["memory_limit_pauses"] >= 1
    assert paused["records"] < LINES
    assert "[input] tail.0 paused (memory limit)" in result.stderr
    assert "[input] tail.0 resume (memory limit)" in result.stderr
    assert sorted(json.loads(record["data"])["n"] for record in arrived(moto)) == list(range(LINES))
