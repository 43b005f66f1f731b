"""End-to-end helpers: the benchmark config's tail and kubernetes sections for the real ``flb-fast``
command, reading Docker json-file logs named as the kubelet names them and asking the tests'
HTTPS API server (``api``, ``certs``, ``token_file`` fixtures) for their pods."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.certs import CertFiles
from tests.fakes.kube_api_server import KubeApiServer

TIME = "2026-11-25T13:00:00.000000001Z"

SEED_INPUT_AND_FILTER = """\
[INPUT]
    Name              tail
    Tag               kube.*
    Path              {logs}/*.log
    Parser            docker
    Docker_Mode       On
    Mem_Buf_Limit     5MB
    Skip_Long_Lines   On
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
"""


def docker(log: str, stream: str = "stdout") -> str:
    """One Docker json-file entry, as the runtime writes it, at ``TIME``."""
    return json.dumps({"log": log, "stream": stream, "time": TIME}, separators=(",", ":")) + "\n"


def seed_input_and_filter(logs: Path, api: KubeApiServer, certs: CertFiles, token_file: Path) -> str:
    """The sections tailing ``logs/*.log`` (the database beside ``logs``) into the kubernetes filter.

    The tag prefix is the logs folder as tail expands it into the tag (``kube.`` + the path with
    ``/`` as ``.``), so the filter finds the pod name in the file name as it does under
    /var/log/containers.
    """
    return SEED_INPUT_AND_FILTER.format(
        logs=logs,
        db=logs.parent / "tail.db",
        url=api.url,
        ca=certs.ca_file,
        token=token_file,
        prefix="kube" + str(logs).replace("/", ".") + ".",
    )
