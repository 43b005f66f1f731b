"""The monitoring server answers over HTTP on 127.0.0.1 with the engine's live counters."""

from __future__ import annotations

import asyncio

import msgspec

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build
from flb_fast.runner import Runner
from tests.waiting import until

CONFIG = """\
[SERVICE]
    Flush        0.05
    HTTP_Server  On
    HTTP_Listen  {listen}
    HTTP_Port    0
    Health_Check {health}
    storage.metrics {storage_metrics}
[INPUT]
    Name     dummy
    Alias    gen
    Copies   4
    Samples  1
    Flush_On_Startup on
[OUTPUT]
    Name   null
    Match  *
"""


async def get(port: int, path: str, method: str = "GET") -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def serve(run, tmp_path, requests: list[str | tuple[str, str]], health: str = "off", storage_metrics: str = "off",
          listen: str = "127.0.0.1") -> list[tuple[bytes, bytes]]:
    """Each request (a path, or a (method, path) pair) once the 4 dummy records were delivered."""
    path = tmp_path / "fluent-bit.conf"
    path.write_text(CONFIG.format(health=health, storage_metrics=storage_metrics, listen=listen))
    config, _ = load_config(str(path))
    pipeline, _ = build(config)

    async def scenario():
        runner = Runner(pipeline)
        await runner.start()
        port = runner.http_server.bound_port
        await until(lambda: pipeline.metrics.snapshot()["output"]["null.0"]["proc_records"] == 4,
                    "the 4 dummy records to be delivered")
        answers = [await get(port, *(("GET", request) if isinstance(request, str) else request)[::-1])
                   for request in requests]
        await runner.stop()
        return answers

    return run(scenario())


def test_metrics_endpoint_serves_live_counters_keyed_by_alias(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v1/metrics"])
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/json" in head
    metrics = msgspec.json.decode(body)
    assert metrics["input"] == {"gen": {"records": 4, "bytes": 76}}
    assert metrics["output"]["null.0"]["proc_records"] == 4


def test_the_server_listens_on_a_host_name(run, tmp_path):
    [(head, _)] = serve(run, tmp_path, ["/api/v1/metrics"], listen="localhost")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")


def test_prometheus_endpoint_uses_fluent_bit_names(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v1/metrics/prometheus"])
    assert b"Content-Type: text/plain; version=0.0.4" in head
    lines = body.decode().splitlines()
    assert any(line.startswith('fluentbit_input_records_total{name="gen"} 4 ') for line in lines)
    assert any(line.startswith('fluentbit_output_proc_records_total{name="null.0"} 4 ') for line in lines)


def test_a_path_without_a_route_answers_as_the_root_does_as_fluent_bits_server(run, tmp_path):
    answers = serve(run, tmp_path, ["/nope", "/api/v1/health", "/api/v1/storage", "/"])
    assert [head.split(b"\r\n")[0] for head, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert msgspec.json.decode(answers[0][1])["fluent-bit"]["edition"] == "flb_fast"


def test_uptime_endpoint(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v1/uptime"])
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert msgspec.json.decode(body)["uptime_sec"] >= 0


def test_health_endpoint_when_enabled(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v1/health"], health="on")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"ok\n"


def test_storage_endpoint_when_storage_metrics_is_on(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v1/storage"], storage_metrics="on")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert msgspec.json.decode(body) == {
        "storage_layer": {"chunks": {"total_chunks": 0, "mem_chunks": 0, "fs_chunks": 0, "fs_chunks_up": 0,
                                     "fs_chunks_down": 0}},
        "input_chunks": {"gen": {"status": {"overlimit": False, "mem_size": "0b", "mem_limit": "0b"},
                                 "chunks": {"total": 0, "up": 0, "down": 0, "busy": 0, "busy_size": "0b"}}},
    }


def test_v2_prometheus_serves_fluent_bits_families_with_live_values(run, tmp_path):
    [(head, body)] = serve(run, tmp_path, ["/api/v2/metrics/prometheus"])
    assert b"Content-Type: text/plain; version=0.0.4" in head
    lines = body.decode().splitlines()
    assert 'fluentbit_input_records_total{name="gen"} 4' in lines
    assert 'fluentbit_output_proc_records_total{name="null.0"} 4' in lines
    assert 'fluentbit_routing_logs_records_total{input="gen",output="null.0"} 4' in lines
    assert 'fluentbit_output_latency_seconds_count{input="gen",output="null.0"} 1' in lines
    assert "# TYPE fluentbit_output_latency_seconds histogram" in lines


def test_v2_text_format_is_cmetrics_text(run, tmp_path):
    [(_, body)] = serve(run, tmp_path, ["/api/v2/metrics"])
    lines = body.decode().splitlines()
    assert any(line.endswith(' fluentbit_input_records_total{name="gen"} = 4') for line in lines)
    assert all(line[:4].isdigit() and line[10] == "T" for line in lines)


def test_reload_without_hot_reload_is_not_enabled(run, tmp_path):
    answers = serve(run, tmp_path, [("POST", "/api/v2/reload"), "/api/v2/reload"])
    assert [msgspec.json.decode(body) for _, body in answers] == [
        {"reload": "not enabled", "status": -1}, {"hot_reload_count": 0}]
