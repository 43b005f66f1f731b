"""A self-contained demo: container log files on a temporary node, tailed to stdout.

``python -m flb_fast.demo`` lays out ``/var/log/containers``-style symlinks into
``/var/log/pods``-style Docker json-file logs under a temporary folder, writes a
``fluent-bit.conf`` that is the seed pipeline with the Kubernetes API and AWS swapped for the
stdout output, starts the real ``flb-fast`` command on it, keeps appending lines (one split by
Docker over 16 KB) for a few seconds, then stops the agent with SIGTERM as Kubernetes would.
No cluster and no AWS account are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

PODS = [
    ("web-7d4b9c6f5-abcde", "shop", "nginx"),
    ("api-5f6d7c8b9-fghij", "shop", "api"),
]

CONFIG = """\
[SERVICE]
    Flush        1
    Grace        5
    Log_Level    info

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

[OUTPUT]
    Name    stdout
    Match   kube.*
    Format  json_lines
"""


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
    for pod, namespace, container in PODS:
        container_id = (container * 64)[:64].encode().hex()[:64]
        target_dir = root / f"var/log/pods/{namespace}_{pod}_0000/{container}"
        target_dir.mkdir(parents=True)
        target = target_dir / "0.log"
        target.touch()
        (containers / f"{pod}_{namespace}_{container}-{container_id}.log").symlink_to(target)
        files[container] = target
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="how long the demo containers keep logging")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flb-fast-demo-") as tmp:
        root = Path(tmp)
        files = _layout(root)
        config = root / "fluent-bit.conf"
        config.write_text(CONFIG.format(containers=root / "var/log/containers", root=root))
        print(f"[demo] node root {root}; config {config}", file=sys.stderr, flush=True)
        agent = subprocess.Popen([sys.executable, "-m", "flb_fast", "-c", str(config)])
        try:
            for second in range(args.seconds):
                for container, lines in _sample_lines(second).items():
                    with open(files[container], "a") as handle:
                        handle.writelines(lines)
                time.sleep(1)
            time.sleep(1.5)
        finally:
            os.kill(agent.pid, signal.SIGTERM)
        return agent.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
