"""AWS Container Insights' own filter chain, run unchanged over records shaped like what its inputs emit.

The DaemonSet ConfigMap (``tests/data/container-insights/container-insights-fluent-bit.yaml``, a
copy of aws-samples/amazon-cloudwatch-container-insights at dfd9611) has three pipelines:
``application-log.conf`` (tail + kubernetes), ``dataplane-log.conf`` (systemd + tail, modify, aws)
and ``host-log.conf`` (systemd, aws, grep, modify). Their ``[FILTER]`` sections other than
kubernetes and aws (tested on their own) are written to ``filters.conf``; ``fluent-bit.conf``
tails one file of journal- or container-shaped records per tag through them into one ``file``
output per pipeline. ``expected-*.jsonl`` is what Fluent Bit 4.2.8 wrote (see the README there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flb_fast.config.loader import load_config
from flb_fast.engine.pipeline import build
from flb_fast.record import Chunk
from tests.conftest import Runner
from tests.filters.golden import read_jsonl

DATA = Path(__file__).parent.parent / "data" / "container-insights"
PIPELINES = ("application-log.conf", "dataplane-log.conf", "host-log.conf")
OTHER_ENGINEERS_FILTERS = ("kubernetes", "aws")
# input file -> (tag, expected output file), as fluent-bit.conf tails them.
INPUTS = {
    "application.jsonl": ("application.var.log.containers.web-6d4cf56db6-x7k2p_default_web-3f2a.log",
                          "expected-application.jsonl"),
    "dataplane.jsonl": ("dataplane.systemd.kubelet.service", "expected-dataplane.jsonl"),
    "host-messages.jsonl": ("host.messages", "expected-host-messages.jsonl"),
    "host-dmesg.jsonl": ("host.dmesg", "expected-host-dmesg.jsonl"),
}


def filter_sections() -> str:
    """The ConfigMap's [FILTER] sections of the three pipelines, in order, without kubernetes and aws."""
    documents = yaml.safe_load_all((DATA / "container-insights-fluent-bit.yaml").read_text())
    data = next(doc["data"] for doc in documents if doc and doc.get("kind") == "ConfigMap")
    sections = []
    for pipeline in PIPELINES:
        for section in re.split(r"(?m)^(?=\[)", data[pipeline]):
            name = re.search(r"(?mi)^\s*Name\s+(\S+)", section)
            if section.startswith("[FILTER]") and name and name.group(1).lower() not in OTHER_ENGINEERS_FILTERS:
                sections.append(section.strip() + "\n")
    return "\n".join(sections)


def test_filters_conf_is_the_configmaps_own_filter_sections() -> None:
    assert (DATA / "filters.conf").read_text() == filter_sections()


@pytest.mark.parametrize("source", sorted(INPUTS))
def test_the_chain_gives_what_fluent_bit_gave(run: Runner, source: str) -> None:
    config, _ = load_config(str(DATA / "fluent-bit.conf"))
    pipeline, _ = build(config)
    tag, expected = INPUTS[source]
    records = read_jsonl(DATA / source)

    async def through_filters() -> list[dict]:
        chunk: Chunk | None = Chunk(tag, [0] * len(records), records, 0)
        for instance in pipeline.filters:
            if chunk is not None and len(chunk) and instance.matcher(tag):
                chunk = await instance.plugin.filter(chunk)
        return [] if chunk is None else chunk.records

    produced = run(through_filters())
    assert [list(r.items()) for r in produced] == [list(r.items()) for r in read_jsonl(DATA / expected)]
