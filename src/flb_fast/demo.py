"""A self-contained demo: container logs on a temporary node, enriched with pod metadata, to stdout.

``python -m flb_fast.demo`` lays out ``/var/log/containers``-style symlinks into
``/var/log/pods``-style Docker json-file logs under a temporary folder, starts a small Kubernetes
API server on 127.0.0.1 that knows the two pods (with labels, and the nginx pod annotated
``fluentbit.io/parser: nginx``), writes a ``fluent-bit.conf`` like deploy/'s (tail -> kubernetes)
with the stdout output in place of AWS, and runs the real ``flb-fast`` command on it while the
containers keep logging (one line split by Docker over 16 KB). Each record is printed on one line,
long values shortened; once every record is shipped, the demo prints a summary read from the
agent's ``/api/v1/metrics`` and stops it with SIGTERM, as Kubernetes would. No cluster and no AWS account are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NODE = "ip-10-0-1-23.ec2.internal"
TOKEN = "demo-token"
# (pod, namespace, container, labels, annotations)
PODS = [
    ("web-7d4b9c6f5-abcde", "shop", "nginx", {"app": "web", "tier": "frontend"}, {"fluentbit.io/parser": "nginx"}),
    ("api-5f6d7c8b9-fghij", "shop", "api", {"app": "api", "tier": "backend"}, {}),
]
# Printed values longer than this are cut (the 16 KB line would fill the screen).
SHOWN_CHARS = 100
# How long the demo waits for the agent to have shipped every record the containers wrote.
SETTLE_SECONDS = 60.0

CONFIG = """\
[SERVICE]
    Flush        1
    Grace        5
    Log_Level    info
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {http_port}

[INPUT]
    Name              tail
    Tag               kube.*
    Path              {containers}/*.log
    DB                {root}/flb_kube.db
    Parser            docker
    Docker_Mode       On
    Mem_Buf_Limit     5MB
    Skip_Long_Lines   On
    Refresh_Interval  1
    Read_from_Head    On

[FILTER]
    Name                kubernetes
    Match               kube.*
    Kube_URL            {api_url}
    Kube_Token_File     {root}/token
    Kube_Namespace_File {root}/no-namespace
    Kube_Tag_Prefix     kube.{tag_prefix}
    Merge_Log           On
    K8S-Logging.Parser  On
    Labels              On
    Annotations         On

[OUTPUT]
    Name    stdout
    Match   kube.*
    Format  json_lines
"""


def container_id(container: str) -> str:
    return (container * 64)[:64].encode().hex()[:64]


def pod_json(name: str, namespace: str, container: str, labels: dict[str, str], annotations: dict[str, str]) -> dict:
    """A Pod as the API server returns it, with the fields the kubernetes filter reads."""
    image = f"shop/{container}:1.4.2"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels,
                     "annotations": annotations},
        "spec": {"nodeName": NODE, "containers": [{"name": container, "image": image}]},
        "status": {
            "podIP": "10.0.0.7",
            "containerStatuses": [{"name": container, "image": image, "imageID": f"{image}@sha256:" + "ab" * 32,
                                   "containerID": f"docker://{container_id(container)}"}],
        },
    }


class ApiServer(ThreadingHTTPServer):
    """``GET /api/v1/namespaces/<namespace>/pods/<pod>`` for the demo's pods, on 127.0.0.1 (plain HTTP)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.pods = {(namespace, name): pod_json(name, namespace, container, labels, annotations)
                     for name, namespace, container, labels, annotations in PODS}
        super().__init__(("127.0.0.1", 0), _ApiHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = self.path.strip("/").split("/")
        pod = None
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            pod = self.server.pods.get((parts[3], parts[5]))
        authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        status = 401 if not authorized else 200 if pod else 404
        body = json.dumps(pod if status == 200 else {"kind": "Status", "code": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _docker_line(message: str, stream: str = "stdout", partial: bool = False) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
    return json.dumps({"log": message if partial else message + "\n", "stream": stream, "time": stamp}) + "\n"


def _sample_lines(second: int) -> dict[str, list[str]]:
    """Lines each demo container writes in one second: access logs, JSON logs, one split line."""
    nginx = [
        _docker_line(f'10.0.0.{n} - - [25/Nov/2026:13:00:0{second % 10} +0000] "GET /item/{n} HTTP/1.1" 200 {512 + n} "-" "curl/8.5"')
        for n in range(3)
    ]
    api = [_docker_line(json.dumps({"level": "info", "msg": "order placed", "order": second * 10 + n})) for n in range(2)]
    if second == 1:
        # Docker splits a line over 16 KB into entries of which only the last ends in \n.
        api += [_docker_line("x" * 16384, "stderr", partial=True), _docker_line("y" * 100, "stderr")]
    return {"nginx": nginx, "api": api}


def _layout(root: Path) -> dict[str, Path]:
    containers = root / "var/log/containers"
    containers.mkdir(parents=True)
    files = {}
    for pod, namespace, container, _, _ in PODS:
        target_dir = root / f"var/log/pods/{namespace}_{pod}_0000/{container}"
        target_dir.mkdir(parents=True)
        target = target_dir / "0.log"
        target.touch()
        (containers / f"{pod}_{namespace}_{container}-{container_id(container)}.log").symlink_to(target)
        files[container] = target
    return files


def shortened(value: Any) -> Any:
    """``value`` with every string longer than SHOWN_CHARS cut, saying how long it was."""
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}... ({len(value)} chars)"
    if isinstance(value, dict):
        return {key: shortened(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shortened(item) for item in value]
    return value


def readable(line: str) -> str:
    """One stdout record as ``namespace/pod/container  {fields}``, long values shortened."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.rstrip("\n")
    kube = record.get("kubernetes", {})
    where = f"{kube.get('namespace_name', '?')}/{kube.get('pod_name', '?')}/{kube.get('container_name', '?')}"
    return f"{where}  {json.dumps(shortened(record), ensure_ascii=False)}"


def _print_records(stream: Any, printed: list[int]) -> None:
    for line in stream:
        print(readable(line), flush=True)
        printed[0] += 1


def _metrics(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def summary(metrics: dict[str, Any]) -> list[str]:
    """Records in (per input) and out (per output), as /api/v1/metrics reports them."""
    lines = ["[demo] summary from /api/v1/metrics:"]
    for name, counters in metrics.get("input", {}).items():
        lines.append(f"[demo]   in  {name}: {counters['records']} records, {counters['bytes']} bytes")
    for name, counters in metrics.get("filter", {}).items():
        lines.append(f"[demo]   filter {name}: {counters['drop_records']} dropped, {counters['add_records']} added")
    for name, counters in metrics.get("output", {}).items():
        lines.append(
            f"[demo]   out {name}: {counters['proc_records']} records, {counters['retries']} retries, "
            f"{counters['retries_failed']} failed retries, {counters['dropped_records']} dropped"
        )
    return lines


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shipped(metrics: dict[str, Any] | None) -> int:
    return sum(counters["proc_records"] for counters in metrics["output"].values()) if metrics else 0


def _records_in(lines: list[str]) -> int:
    """The records Docker json-file lines make: a partial entry is joined to the next one."""
    return sum(1 for line in lines if json.loads(line)["log"].endswith("\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="how long the demo containers keep logging")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flb-fast-demo-") as tmp, ApiServer() as api:
        threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        root = Path(tmp)
        files = _layout(root)
        (root / "token").write_text(TOKEN)
        containers = root / "var/log/containers"
        http_port = _free_port()
        config = root / "fluent-bit.conf"
        config.write_text(CONFIG.format(containers=containers, root=root, api_url=api.url, http_port=http_port,
                                        tag_prefix=str(containers).strip("/").replace("/", ".") + "."))
        print(f"[demo] node root {root}; Kubernetes API {api.url}; config {config}", file=sys.stderr, flush=True)
        agent = subprocess.Popen([sys.executable, "-m", "flb_fast", "-c", str(config)], stdout=subprocess.PIPE,
                                 text=True, encoding="utf-8")
        printed = [0]
        printer = threading.Thread(target=_print_records, args=(agent.stdout, printed), daemon=True)
        printer.start()
        written = 0
        try:
            for second in range(args.seconds):
                for container, lines in _sample_lines(second).items():
                    with open(files[container], "a") as handle:
                        handle.writelines(lines)
                    written += _records_in(lines)
                time.sleep(1)
            deadline = time.monotonic() + SETTLE_SECONDS
            metrics = _metrics(http_port)
            while _shipped(metrics) < written and time.monotonic() < deadline:
                time.sleep(0.2)
                metrics = _metrics(http_port)
            # The records shipped are printed by now or in a moment: let the printer catch up.
            while printed[0] < _shipped(metrics) and time.monotonic() < deadline:
                time.sleep(0.05)
            for line in summary(metrics) if metrics else ["[demo] /api/v1/metrics did not answer"]:
                print(line, file=sys.stderr, flush=True)
        finally:
            os.kill(agent.pid, signal.SIGTERM)
        code = agent.wait(timeout=30)
        printer.join(timeout=10)
        api.shutdown()
        return code


if __name__ == "__main__":
    sys.exit(main())
