"""/api/v2/metrics/prometheus carries Fluent Bit 4.2.8's families for the same config, with their
types and label names (recorded in tests/data/http_server/api-v2, see README.md there), and
parses with the Prometheus client's own parser."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.agent import Agent
from tests.fakes.ports import free_port

DATA = Path(__file__).parents[1] / "data" / "http_server" / "api-v2"


def shapes(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Family name -> (type, label names of its samples, 'le' and 'hostname' values aside)."""
    found = {}
    for family in text_string_to_metric_families(text):
        labels = frozenset(name for sample in family.samples for name in sample.labels)
        found[family.name] = (family.type, labels)
    return found


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return answer.read().decode()


def test_every_family_fluent_bit_serves_is_served_with_its_type_and_labels(tmp_path: Path):
    port = free_port()
    with Agent(tmp_path, (DATA / "fluent-bit.conf").read_text(), env={"HTTP_PORT": str(port)}) as agent:
        agent.wait_for(lambda: 'fluentbit_output_proc_records_total{name="null.0"} 5' in _metrics(port),
                       "the five records delivered")
        ours = shapes(get(port, "/api/v2/metrics/prometheus"))
        agent.stop()
    theirs = shapes((DATA / "prometheus.txt").read_text())
    assert {name: ours.get(name) for name in theirs} == theirs


def _metrics(port: int) -> str:
    try:
        return get(port, "/api/v2/metrics/prometheus")
    except OSError:
        return ""
