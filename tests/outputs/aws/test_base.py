"""Flushes of the JSON-protocol AWS outputs in flight at once (outputs/aws/base.py): with one
worker, the engine runs several flushes of kinesis_firehose / kinesis_streams together, each on
a connection of its own, as Fluent Bit 4.2.8 does (a worker runs each flush as a coroutine on a
connection of its upstream pool); ``net.max_worker_connections`` bounds them per worker (two when
it is 0, where Fluent Bit has no bound but its task map).

The server is a real HTTP server on 127.0.0.1 that answers PutRecordBatch / PutRecords and holds
the requests the test says to hold, so what is in flight at once is what the server saw at once.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flb_fast import registry
from flb_fast.config.loader import load_config
from flb_fast.engine.engine import Engine
from flb_fast.engine.pipeline import build
from flb_fast.outputs.aws.base import MAX_FLUSHES_PER_WORKER
from flb_fast.outputs.kinesis_firehose import KinesisFirehoseOutput
from flb_fast.outputs.s3 import S3Output
from tests.engine.test_engine import until
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.outputs.aws.harness import make_output

# Longest a held request waits for the test to release it (the test fails well before).
HOLD_SECONDS = 60.0


class _Holding(BaseHTTPRequestHandler):
    """Answers every record as accepted, once ``server.hold(records)`` says so."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        server: Any = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        records = [json.loads(base64.b64decode(record["Data"])) for record in body["Records"]]
        with server.changed:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            server.connections.add(self.client_address)
            server.changed.notify_all()
            server.changed.wait_for(lambda: not server.hold(records), HOLD_SECONDS)
            server.in_flight -= 1
            server.answered.extend(records)
            server.changed.notify_all()
        if "StreamName" in body:
            answer = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "shardId-0"}] * len(records)}
        else:
            answer = {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"}] * len(records)}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class HoldingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Holding)
        self.changed = threading.Condition()
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections: set[tuple[str, int]] = set()
        self.answered: list[dict[str, Any]] = []
        self.hold: Callable[[list[dict[str, Any]]], bool] = lambda records: False
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def set_hold(self, hold: Callable[[list[dict[str, Any]]], bool]) -> None:
        with self.changed:
            self.hold = hold
            self.changed.notify_all()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setitem(registry.INPUTS, "manual", "tests.engine.plugins:ManualInput")
    held = HoldingServer()
    thread = threading.Thread(target=held.serve_forever, daemon=True)
    thread.start()
    yield held
    held.set_hold(lambda records: False)
    held.shutdown()
    held.server_close()


OUTPUTS = {
    "kinesis_firehose": "delivery_stream stream",
    "kinesis_streams": "stream stream",
}


def engine_to(server: HoldingServer, tmp_path: Any, plugin: str, *extra: str) -> Engine:
    """An engine with a hand-driven input and ``plugin`` (one worker) sending to ``server``."""
    lines = [
        "[SERVICE]", "    Flush 3600", "    Grace 5",
        "[INPUT]", "    Name manual", "    Tag app",
        "[OUTPUT]", f"    Name {plugin}", "    Match *", "    region us-east-1", f"    endpoint {server.url}",
        "    workers 1", f"    {OUTPUTS[plugin]}", *(f"    {line}" for line in extra),
    ]
    path = tmp_path / "fluent-bit.conf"
    path.write_text("\n".join(lines) + "\n")
    config, _ = load_config(str(path))
    built, _ = build(config)
    return Engine(built)


def push_chunks(engine: Engine, tags: list[str]) -> None:
    """One chunk per tag (one record naming it), all sent to the output at once."""
    source = engine.pipeline.inputs[0].plugin
    for tag in tags:
        source.push([{"tag": tag}], tag=tag)
    engine.flush()


def in_flight(server: HoldingServer, count: int) -> Callable[[], bool]:
    def reached() -> bool:
        with server.changed:
            return server.in_flight == count

    return reached


@pytest.mark.parametrize("plugin", sorted(OUTPUTS))
def test_one_worker_has_a_request_per_chunk_in_flight_each_on_its_own_connection(
    server: HoldingServer, run: Any, tmp_path: Any, plugin: str
) -> None:
    tags = ["a", "b", "c", "d"]
    # Every request waits until all four are in flight: with one request at a time none is answered.
    server.set_hold(lambda records: server.max_in_flight < len(tags))
    engine = engine_to(server, tmp_path, plugin, "net.max_worker_connections 4")

    async def scenario() -> int:
        await engine.start()
        try:
            push_chunks(engine, tags)
            await until(lambda: len(server.answered) == len(tags), HOLD_SECONDS)
            return engine.pipeline.outputs[0].plugin._api.connections_opened
        finally:
            await engine.stop()

    opened = run(scenario())
    assert sorted(record["tag"] for record in server.answered) == tags
    assert (server.max_in_flight, len(server.connections), opened) == (4, 4, 4)


def test_a_slow_request_does_not_hold_up_the_others(server: HoldingServer, run: Any, tmp_path: Any) -> None:
    server.set_hold(lambda records: records[0]["tag"] == "slow")
    engine = engine_to(server, tmp_path, "kinesis_firehose")
    output = engine.pipeline.outputs[0]

    async def scenario() -> list[str]:
        await engine.start()
        try:
            push_chunks(engine, ["slow"])
            await until(in_flight(server, 1))
            push_chunks(engine, ["a", "b", "c"])
            # The three chunks are delivered (counted by the engine) while the slow one is still held.
            await until(lambda: output.ctx.metrics["proc_records"] == 3, HOLD_SECONDS)
            answered_while_held = [record["tag"] for record in server.answered]
            assert in_flight(server, 1)()
            server.set_hold(lambda records: False)
            await until(lambda: len(server.answered) == 4)
            return answered_while_held
        finally:
            await engine.stop()

    assert sorted(run(scenario())) == ["a", "b", "c"]
    assert [record["tag"] for record in server.answered][-1] == "slow"


def test_net_max_worker_connections_bounds_the_requests_in_flight_per_worker(
    server: HoldingServer, run: Any, tmp_path: Any
) -> None:
    release = threading.Event()
    server.set_hold(lambda records: not release.is_set())
    engine = engine_to(server, tmp_path, "kinesis_firehose", "net.max_worker_connections 2")
    output = engine.pipeline.outputs[0].plugin

    async def scenario() -> tuple[int, int]:
        await engine.start()
        try:
            push_chunks(engine, ["a", "b", "c", "d"])
            await until(in_flight(server, 2))
            busy = output.upstream_connections()
            # The other two flushes wait for a connection instead of failing.
            assert engine.pending_deliveries == 4 and busy == (2, 2)
            release.set()
            server.set_hold(lambda records: False)
            await until(lambda: len(server.answered) == 4)
            return output._api.connections_opened, output.ctx.metrics["retries"]
        finally:
            await engine.stop()

    opened, retries = run(scenario())
    assert (server.max_in_flight, len(server.connections), opened, retries) == (2, 2, 2, 0)
    assert sorted(record["tag"] for record in server.answered) == ["a", "b", "c", "d"]


def test_s3_keeps_one_flush_per_worker() -> None:
    output = make_output(S3Output, region="us-east-1", bucket="bucket", workers=2)
    assert output.concurrent_flushes(2) == 2


@pytest.mark.parametrize(("limit", "per_worker"), [("0", MAX_FLUSHES_PER_WORKER), ("3", 3)])
def test_flushes_at_once_are_per_worker_net_max_worker_connections_or_two(
    limit: str, per_worker: int
) -> None:
    output = make_output(KinesisFirehoseOutput, region="us-east-1", delivery_stream="s",
                         **{"net.max_worker_connections": limit})
    assert output.concurrent_flushes(2) == 2 * per_worker


