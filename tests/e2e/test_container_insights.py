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
node (tests/data/container-insights/node/, recorded with tests/e2e/record_container_insights.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sqlite3
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent import Agent
from tests.e2e.container_insights import (
    KUBELET_PORT,
    LOG_GROUPS,
    REGION,
    STATE,
    Delivered,
    Node,
    build_node,
    daemonset_env,
    delivered,
    event_count,
    from_template,
    kubelet_pods,
    pod_logs,
    rotate,
    write_after_start,
    write_more,
)
from tests.fakes.certs import CertFiles
from tests.fakes.imds_server import ImdsServer
from tests.fakes.kube_api_server import KubeApiServer
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.ports import free_port
from tests.filters.kubernetes.conftest import TOKEN

RECORDED = Path(__file__).parents[1] / "data" / "container-insights" / "node"
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


@pytest.fixture
def imds() -> Iterator[ImdsServer]:
    with ImdsServer() as server:
        yield server


def daemonset_environment(moto: Any, imds: ImdsServer) -> dict[str, str]:
    """The DaemonSet's variables, credentials, and the endpoints that make this machine the node's AWS."""
    return {**FAKE_CREDENTIALS, **daemonset_env(free_port()), "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint}


def recorded(case: str, node: Node) -> Delivered:
    return from_template(json.loads((RECORDED / f"{case}.json").read_text()), node)


def run_agent(node: Node, conf: Path, env: dict[str, str], logs: Any, count: int,
              after_start: Callable[[], None] | None = None, then: tuple[Callable[[], None], int] | None = None) -> None:
    """Run the DaemonSet's command until CloudWatch Logs holds ``count`` events (``then``: call its
    function and wait for its count), then stop it as Kubernetes does (SIGTERM): it must exit
    cleanly having logged nothing (Log_Level error) but the line a signal always gives.
    ``after_start`` runs once the monitoring server answers (it starts after the inputs)."""
    with Agent(node.config_dir, conf.read_text(), env=env) as agent:
        if after_start is not None:
            agent.wait_for(lambda: answers(f"http://127.0.0.1:{env['HTTP_PORT']}/api/v1/uptime"), "the HTTP server")
            after_start()
        agent.wait_for(lambda: event_count(delivered(logs)) >= count, f"{count} events in CloudWatch Logs")
        if then is not None:
            then[0]()
            agent.wait_for(lambda: event_count(delivered(logs)) >= then[1], f"{then[1]} events in CloudWatch Logs")
        result = agent.stop()
    assert (result.returncode, unstamped(result.stderr)) == (0, [SIGNAL_LINE])


# Fluent Bit writes it whatever Log_Level says (fluent-bit.c flb_signal_exit).
SIGNAL_LINE = "[engine] caught signal (SIGTERM)"


def unstamped(stderr: str) -> list[str]:
    return [line.split("] ", 1)[1] for line in stderr.splitlines()]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def assert_groups(found: Delivered, expected: Delivered) -> None:
    assert sorted(found) == sorted(LOG_GROUPS.values())
    for group in LOG_GROUPS.values():
        assert found[group] == expected[group], group


def test_each_log_group_receives_exactly_what_fluent_bit_sends(
    moto: Any, kubelet: KubeApiServer, imds: ImdsServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    expected = recorded("fluent-bit", node)
    logs = moto.client("logs", region=REGION)
    run_agent(node, conf, daemonset_environment(moto, imds), logs, event_count(expected))
    assert_groups(delivered(logs), expected)


def test_a_restarted_agent_sends_what_arrived_meanwhile_and_nothing_twice(
    moto: Any, kubelet: KubeApiServer, imds: ImdsServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    """The DBs under /var/fluent-bit/state carry tail's offsets and the journal cursors over a restart."""
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    first, expected = recorded("fluent-bit", node), recorded("fluent-bit-restart", node)
    logs = moto.client("logs", region=REGION)
    env = daemonset_environment(moto, imds)
    run_agent(node, conf, env, logs, event_count(first))
    write_more(node)
    run_agent(node, conf, env, logs, event_count(expected))
    assert_groups(delivered(logs), expected)


def test_with_read_head_off_only_what_is_written_after_the_start_arrives(
    moto: Any, kubelet: KubeApiServer, imds: ImdsServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    """The quick start's default (read.head Off, read.tail On): the files and journal found at start
    are read from their end, a pod's file that appears later from its first line."""
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    expected = recorded("fluent-bit-read-from-tail", node)
    logs = moto.client("logs", region=REGION)
    env = {**daemonset_environment(moto, imds), "READ_FROM_HEAD": "Off", "READ_FROM_TAIL": "On"}
    run_agent(node, conf, env, logs, event_count(expected), after_start=lambda: write_after_start(node))
    assert_groups(delivered(logs), expected)


def test_lines_around_a_rotation_arrive_once(
    moto: Any, kubelet: KubeApiServer, imds: ImdsServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    """The kubelet's CRI rotation (0.log renamed, a new 0.log) and Docker's (-json.log.1) behind the
    symlinks: the rotated file's last line and the new file's first both arrive (Rotate_Wait 30)."""
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    first, expected = recorded("fluent-bit", node), recorded("fluent-bit-rotation", node)
    logs = moto.client("logs", region=REGION)
    run_agent(node, conf, daemonset_environment(moto, imds), logs, event_count(first),
              then=(lambda: rotate(node), event_count(expected)))
    assert_groups(delivered(logs), expected)


# The file name prefixes of application-log.conf's Exclude_Path and of dataplane-log.conf's Path.
APPLICATION_EXCLUDED = ("cloudwatch-agent", "fluent-bit", "aws-node", "kube-proxy", "fluentd")
DATAPLANE_PODS = ("aws-node", "kube-proxy")


def files(node: Node, prefixes: tuple[str, ...], matching: bool) -> int:
    """How many of the node's container logs start (or, not ``matching``, do not) with ``prefixes``."""
    return sum(log.file_name.startswith(prefixes) == matching for log in pod_logs(node))


def read_to_the_end(db: Path, files: int) -> bool:
    """tail's DB (Fluent Bit's in_tail_files) has ``files`` rows, each at its file's size."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
            rows = connection.execute("SELECT name, offset FROM in_tail_files").fetchall()
    except sqlite3.Error:
        return False
    return len(rows) == files and all(offset == os.stat(name).st_size for name, offset in rows)


def test_a_kill_after_the_offsets_were_saved_sends_each_file_record_once(
    moto: Any, kubelet: KubeApiServer, imds: ImdsServer, certs: CertFiles, token_file: Path, tmp_path: Path
) -> None:
    """SIGKILL once the tail inputs with storage.type filesystem have saved the end of every file
    in their DB, then a restart: their records, held in chunk files under storage.path, are sent
    from there and not read again, and the inputs kept in memory read their files again from the
    offsets acknowledged by delivery; each line of the container logs arrives once. Only the
    tail streams are compared: the systemd inputs keep Fluent Bit's journal cursor, saved when
    entries are read, so entries read but not yet sent when the agent is killed are not read again."""
    node, conf = build_node(tmp_path / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token_file)
    for pod in kubelet_pods(node):
        kubelet.add_pod(pod)
    expected = tail_streams(recorded("fluent-bit", node))
    logs = moto.client("logs", region=REGION)
    env = daemonset_environment(moto, imds)
    state = node.root / STATE.lstrip("/")
    with Agent(node.config_dir, conf.read_text(), env=env) as agent:
        agent.wait_for(lambda: read_to_the_end(state / "flb_container.db", files(node, APPLICATION_EXCLUDED, False))
                       and read_to_the_end(state / "flb_dataplane_tail.db", files(node, DATAPLANE_PODS, True)),
                       "the offsets saved")
        agent.stop(signal.SIGKILL)
    with Agent(node.config_dir, conf.read_text(), env=env) as agent:
        agent.wait_for(lambda: event_count(tail_streams(delivered(logs))) >= event_count(expected), "every file record")
        result = agent.stop()
    assert (result.returncode, unstamped(result.stderr)) == (0, [SIGNAL_LINE])
    found = tail_streams(delivered(logs))
    for group in expected:
        assert found[group] == expected[group], group


def tail_streams(found: Delivered) -> Delivered:
    """The application group and the dataplane group's tail streams."""
    dataplane = found.get(LOG_GROUPS["dataplane"], {})
    return {LOG_GROUPS["application"]: found.get(LOG_GROUPS["application"], {}),
            LOG_GROUPS["dataplane"]: {stream: events for stream, events in dataplane.items() if ".systemd." not in stream}}
