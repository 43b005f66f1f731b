"""Record what Fluent Bit sends to CloudWatch Logs for the Container Insights node of
tests/e2e/container_insights.py (not a test; run by hand, as root):

    python -m tests.e2e.record_container_insights /path/to/fluent-bit

Fluent Bit's IMDS address is compiled in (169.254.169.254:80) and its cloudwatch_logs output
speaks TLS on port 443 to its ``endpoint``, so the run happens in a network namespace of its own
(``unshare -n``): the IMDS address sits on the loopback device, moto serves HTTPS on 127.0.0.1:443
with the tests' certificate, and the kubelet's /pods is on 127.0.0.1:10250 as on a node. Fluent
Bit gets the same localized ConfigMap as the test, plus what points its outputs at moto (each
``cloudwatch_logs`` section gains ``endpoint 127.0.0.1`` and ``tls.ca_file``), and the
DaemonSet's environment with credentials shaped like real ones. It runs until every record
arrived, then what CloudWatch Logs holds is stored as tests/data/container-insights/node/fluent-bit.json;
a second node is run twice, with write_more between the runs, into fluent-bit-restart.json; a
third with read.head Off, write_after_start once it runs, into fluent-bit-read-from-tail.json; a
fourth rotates logs (rotate) once the first records arrived, into fluent-bit-rotation.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.container_insights import (
    KUBELET_PORT,
    REGION,
    Node,
    build_node,
    daemonset_env,
    delivered,
    event_count,
    kubelet_pods,
    rotate,
    to_template,
    write_after_start,
    write_more,
)
from tests.fakes.certs import make_certs
from tests.fakes.imds_server import ImdsServer
from tests.fakes.kube_api_server import KubeApiServer

DATA = Path(__file__).resolve().parents[1] / "data" / "container-insights" / "node"
IMDS_HOST = "169.254.169.254"
TOKEN = "kubelet-token"
# What the node holds for the config: application 16, dataplane 6, host 5; after write_more
# application 18, dataplane 8, host 8. With read.head Off, only write_after_start's: 5, 2, 3.
FIRST_EVENTS = 27
AFTER_RESTART_EVENTS = 34
AFTER_START_EVENTS = 10
AFTER_ROTATION_EVENTS = 31  # and the lines written around rotate's renames: application 20
HTTP_PORT = 2020
WAIT_SECONDS = 60.0
FLUSH_SECONDS = 5.0  # the ConfigMap's Flush
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def wait(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - a server still starting
            pass
        time.sleep(0.5)


def answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return answer.status == 200


def run(fluent_bit: str, node: Node, conf: Path, logs: Any, count: int, read_from_head: bool = True,
        after_start: Callable[[], None] | None = None, then: tuple[Callable[[], None], int] | None = None) -> None:
    """Run Fluent Bit (calling ``after_start`` once its HTTP server answers, which it starts after
    its inputs) until CloudWatch Logs holds ``count`` events (``then``: call its function and wait
    for its count) and one more Flush went by (so a record beyond them would show), then stop it."""
    env = {**os.environ, **daemonset_env(HTTP_PORT, read_from_head), **CREDENTIALS}
    with open(node.root / "fluent-bit.stderr", "ab") as err:
        process = subprocess.Popen([fluent_bit, "-c", str(conf)], cwd=node.config_dir, env=env,
                                   stdout=err, stderr=err)
    if after_start is not None:
        wait(lambda: answers(f"http://127.0.0.1:{HTTP_PORT}/api/v1/uptime"), process)
        after_start()
    wait(lambda: event_count(delivered(logs)) >= count, process)
    if then is not None:
        then[0]()
        wait(lambda: event_count(delivered(logs)) >= then[1], process)
    time.sleep(FLUSH_SECONDS + 1)
    process.terminate()
    process.wait(timeout=60)
    print((node.root / "fluent-bit.stderr").read_text()[-2000:])


def record(fluent_bit: str, tmp: Path, case: str) -> None:
    import boto3

    certs = make_certs(tmp / case / "certs")
    token = tmp / case / "token"
    token.write_text(TOKEN + "\n")
    node, conf = build_node(tmp / case / "node", time.time_ns() // 10**9 * 10**9, Path(certs.ca_file), token)
    for name in ("application-log.conf", "dataplane-log.conf", "host-log.conf"):
        path = node.config_dir / name
        path.write_text(path.read_text().replace(
            "    extra_user_agent    container-insights\n",
            f"    extra_user_agent    container-insights\n    endpoint 127.0.0.1\n    tls.ca_file {certs.ca_file}\n"))
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "443",
                             "-c", str(certs.cert_file), "-k", str(certs.key_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    logs = boto3.client("logs", endpoint_url="https://127.0.0.1", region_name=REGION, verify=str(certs.ca_file),
                        aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        with KubeApiServer(certs, TOKEN, port=KUBELET_PORT) as kubelet, ImdsServer(IMDS_HOST, 80):
            for pod in kubelet_pods(node):
                kubelet.add_pod(pod)
            if case == "fluent-bit-read-from-tail":
                run(fluent_bit, node, conf, logs, AFTER_START_EVENTS, read_from_head=False,
                    after_start=lambda: write_after_start(node))
            elif case == "fluent-bit-rotation":
                run(fluent_bit, node, conf, logs, FIRST_EVENTS, then=(lambda: rotate(node), AFTER_ROTATION_EVENTS))
            else:
                run(fluent_bit, node, conf, logs, FIRST_EVENTS)
            if case == "fluent-bit-restart":
                write_more(node)
                run(fluent_bit, node, conf, logs, AFTER_RESTART_EVENTS)
            found = delivered(logs)
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    (DATA / f"{case}.json").write_text(json.dumps(to_template(found, node), indent=1, ensure_ascii=False) + "\n")
    print(case, event_count(found), "events recorded")


def main(fluent_bit: str) -> None:
    if os.environ.get("CI_NETNS") != "1":
        os.execvp("unshare", ["unshare", "-n", "env", "CI_NETNS=1", sys.executable, "-m",
                              "tests.e2e.record_container_insights", fluent_bit])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{IMDS_HOST}/32", "dev", "lo"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in ("fluent-bit", "fluent-bit-restart", "fluent-bit-read-from-tail", "fluent-bit-rotation"):
            record(fluent_bit, Path(tmp), case)


if __name__ == "__main__":
    main(sys.argv[1])
