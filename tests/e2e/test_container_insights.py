"""AWS's Container Insights DaemonSet, with only the image swapped for flb-fast: its ConfigMap's
files as published (tests/data/config/container-insights/), the DaemonSet's environment, and a
node made of local parts (tests/e2e/container_insights.py): container logs in Docker json-file
and CRI format behind the kubelet's /var/log/containers symlinks, a journal written by
systemd-journal-remote, the kubelet's /pods on 127.0.0.1:10250 (the config's Kubelet_Port),
a local IMDS (AWS_EC2_METADATA_SERVICE_ENDPOINT) and moto for CloudWatch Logs (AWS_ENDPOINT_URL).

What the test changes in the config is only where it points at the node's files: the tailed
/var/log/containers and its Exclude_Path entries, /var/log/journal, the DBs and storage.path
under /var/fluent-bit/state, Kube_Tag_Prefix (the same folder spelled as the tail tag) and the
service account's token and CA files, which a pod finds at the filter's default paths. Filters,
parsers, outputs and every other option run as published.

Each of the three log groups must receive exactly the records Fluent Bit 4.2.8 sent for the same
node (tests/data/container-insights/, recorded with tests/e2e/record_container_insights.py).
"""

from __future__ import annotations

import fcntl
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent import Agent
from tests.e2e.container_insights import (
    KUBELET_PORT,
    LOG_GROUPS,
    REGION,
    Delivered,
    build_node,
    daemonset_env,
    delivered,
    event_count,
    from_template,
    kubelet_pods,
)
from tests.fakes.certs import CertFiles
from tests.fakes.imds_server import ImdsServer
from tests.fakes.kube_api_server import KubeApiServer
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.ports import free_port
from tests.filters.kubernetes.conftest import TOKEN

RECORDED = Path(__file__).parents[1] / "data" / "container-insights" / "fluent-bit.json"
# The kubelet's port is fixed by the config, so runs of this test on one machine (several
# checkouts, xdist workers) take turns through a lock file.
KUBELET_LOCK = Path(tempfile.gettempdir()) / f"flb-fast-kubelet-{KUBELET_PORT}.lock"
KUBELET_LOCK_SECONDS = 600.0


@pytest.fixture
def kubelet(certs: CertFiles) -> Iterator[KubeApiServer]:
    """The node's kubelet on 127.0.0.1:10250, held for this test alone."""
    with open(KUBELET_LOCK, "w") as lock:
        deadline = time.monotonic() + KUBELET_LOCK_SECONDS
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"port {KUBELET_PORT} stayed taken by another run for {KUBELET_LOCK_SECONDS:g}s")
                time.sleep(0.2)
        try:
            with KubeApiServer(certs, TOKEN, port=KUBELET_PORT) as server:
                yield server
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recorded(node: Any) -> Delivered:
    return from_template(json.loads(RECORDED.read_text()), node)


def test_each_log_group_receives_exactly_what_fluent_bit_sends(
    moto: Any, kubelet: KubeApiServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    expected = recorded(node)
    logs = moto.client("logs", region=REGION)
    with ImdsServer() as imds:
        env = {**FAKE_CREDENTIALS, **daemonset_env(free_port()), "AWS_ENDPOINT_URL": moto.url,
               "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint}
        with Agent(node.config_dir, conf.read_text(), env=env) as agent:
            agent.wait_for(lambda: event_count(delivered(logs)) >= event_count(expected), "every record in CloudWatch")
            result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # Log_Level error: nothing went wrong
    found = delivered(logs)
    assert sorted(found) == sorted(LOG_GROUPS.values())
    for group in LOG_GROUPS.values():
        assert found[group] == expected[group], group
