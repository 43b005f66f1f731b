"""The real ``flb-fast`` process: tail -> kubernetes (fake API server over HTTPS) -> file output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.agent import Agent, lines
from tests.fakes.certs import CertFiles
from tests.fakes.kube_api_server import KubeApiServer
from tests.filters.kubernetes.conftest import DOCKER_ID, app_kubernetes, app_pod
from tests.filters.kubernetes.e2e import TIME, docker, seed_input_and_filter

SERVICE = """\
[SERVICE]
    Flush        0.2
    Grace        5
    Log_Level    info
"""

FILE_OUTPUT = """\
[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.txt
    Format  plain
    Mkdir   On
"""


def test_the_seed_pipeline_delivers_merged_records_with_pod_metadata(
    tmp_path: Path, api: KubeApiServer, certs: CertFiles, token_file: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out" / "out.txt"
    config = "\n".join(
        [SERVICE, seed_input_and_filter(logs, api, certs, token_file), FILE_OUTPUT.format(out=tmp_path / "out")]
    )
    excluded = app_pod(annotations={"fluentbit.io/exclude": "true"})
    excluded["metadata"]["name"] = "quiet-1"
    api.add_pod(excluded)
    (logs / f"app-7d4b9c_shop_web-{DOCKER_ID}.log").write_text(
        docker('{"level":"info","msg":"order placed"}\n') + docker("plain words\n", "stderr")
    )
    (logs / f"quiet-1_shop_web-{DOCKER_ID}.log").write_text(docker("never seen\n"))
    with Agent(tmp_path, config) as agent:
        agent.wait_for(lambda: len(lines(out)) >= 2, "the app pod's two records")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in lines(out)]
    assert records == [
        {
            "log": '{"level":"info","msg":"order placed"}\n',
            "stream": "stdout",
            "time": TIME,
            "data": {"level": "info", "msg": "order placed"},
            "kubernetes": app_kubernetes(),
        },
        {"log": "plain words\n", "stream": "stderr", "time": TIME, "kubernetes": app_kubernetes()},
    ]
    assert [line for line in lines(out) if "never seen" in line] == []
