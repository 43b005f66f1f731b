"""The real ``flb-fast`` process: tail -> kubernetes (fake API server over HTTPS) -> file output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.agent import Agent, lines
from tests.fakes.certs import CertFiles
from tests.fakes.kube_api_server import KubeApiServer
from tests.filters.kubernetes.conftest import DOCKER_ID, app_kubernetes, app_pod

CONFIG = """\
[SERVICE]
    Flush        0.2
    Grace        5
    Log_Level    info

[INPUT]
    Name              tail
    Tag               kube.*
    Path              {logs}/*.log
    Parser            docker
    Docker_Mode       On
    Read_from_Head    On
    Refresh_Interval  0.5
    DB                {db}

[FILTER]
    Name                 kubernetes
    Match                kube.*
    Kube_URL             {url}
    Kube_CA_File         {ca}
    Kube_Token_File      {token}
    Kube_Namespace_File  {logs}/no-namespace-file
    Kube_Tag_Prefix      {prefix}
    Merge_Log            On
    Merge_Log_Key        data
    K8S-Logging.Parser   On
    K8S-Logging.Exclude  On

[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.txt
    Format  plain
    Mkdir   On
"""

TIME = "2026-11-25T13:00:00.000000001Z"


def docker(log: str, stream: str = "stdout") -> str:
    return json.dumps({"log": log, "stream": stream, "time": TIME}, separators=(",", ":")) + "\n"


def test_the_seed_pipeline_delivers_merged_records_with_pod_metadata(
    tmp_path: Path, api: KubeApiServer, certs: CertFiles, token_file: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out" / "out.txt"
    config = CONFIG.format(
        logs=logs,
        db=tmp_path / "tail.db",
        url=api.url,
        ca=certs.ca_file,
        token=token_file,
        prefix="kube" + str(logs).replace("/", ".") + ".",
        out=tmp_path / "out",
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
