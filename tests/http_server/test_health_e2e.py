"""The real agent's /api/v1/health under a failing output, with the eks-charts probe's settings
shape (Health_Check On, HC_Retry_Failure_Count, HC_Period): unhealthy once more retries failed
within the period than the count allows, healthy again once the period holds no new failure.
Fluent Bit 4.2.8 does the same on the same config (500 ``error\\n`` after the count is
exceeded, ``ok\\n`` otherwise); its monitoring server is the reference for the bodies.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e.agent import Agent
from tests.fakes.opensearch_server import OpenSearchServer
from tests.fakes.ports import free_port

CONFIG = """\
[SERVICE]
    Flush                  0.2
    Grace                  1
    HTTP_Server            On
    HTTP_Listen            127.0.0.1
    HTTP_Port              {http_port}
    Health_Check           On
    HC_Errors_Count        5
    HC_Retry_Failure_Count 2
    HC_Period              3
    scheduler.base         1
    scheduler.cap          1
[INPUT]
    Name  dummy
    Tag   app
    Rate  20
[OUTPUT]
    Name        opensearch
    Match       *
    Host        127.0.0.1
    Port        {port}
    Retry_Limit 1
"""


def health(port: int) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None


def test_health_goes_bad_on_failed_retries_and_recovers_after_the_period(tmp_path: Path):
    server = OpenSearchServer().start()
    server.reject_requests = 1_000_000
    http_port = free_port()
    try:
        with Agent(tmp_path, CONFIG.format(http_port=http_port, port=server.port)) as agent:
            agent.wait_for(lambda: health(http_port) == (500, b"error\n"), "the agent to report itself unhealthy")
            server.reject_requests = 0
            agent.wait_for(lambda: health(http_port) == (200, b"ok\n"), "the agent to recover")
            agent.stop()
    finally:
        server.stop()
