"""The real flb-fast command sends what Fluent Bit 4.2.8 sent for the same config and input,
byte for byte (recorded cases in tests/data/outputs/opensearch, see README.md there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.agent import Agent
from tests.fakes.opensearch_server import OpenSearchServer
from tests.outputs.opensearch.cases import INPUT, Case, cases
from tests.outputs.opensearch.record import bundled_parsers


def _documents(body: bytes) -> int:
    return body.count(b"\n") // 2


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_bulk_body_equals_fluent_bits(case: Case, tmp_path: Path):
    expected = case.expected_path.read_bytes()
    server = OpenSearchServer().start()
    try:
        with Agent(tmp_path, case.config(server.port, INPUT, bundled_parsers())) as agent:
            agent.wait_for(lambda: server._accepted_count() >= _documents(expected), "every document indexed")
            result = agent.stop()
        assert result.returncode == 0, result.stderr
        sent = b"".join(request.body for request in server.requests if request.status == 200)
    finally:
        server.stop()
    assert sent.decode().splitlines() == expected.decode().splitlines()
