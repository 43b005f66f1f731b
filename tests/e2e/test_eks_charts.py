"""The aws/eks-charts aws-for-fluent-bit chart's config, with only the image changed, against local
servers: the default config (tail -> kubernetes -> cloudwatch_logs) and the same with each other
output the chart can enable (tests/data/eks-charts/, see outputs.conf there).

What the test changes is only what points at this machine instead of a node and AWS: the tailed
folder and its DB, the API server's URL and credentials (in a pod they are the service account's
files), the parsers file's image path (/fluent-bit/parsers/parsers.conf holds the same standard
parsers as flb-fast's bundled file), the monitoring port (2020 may be taken here) and, through
the environment, the AWS endpoint (moto) and credentials. Every record of one pod arrives in each
output with its pod's metadata merged as the chart's filter asks, and the liveness probe the
chart sets (GET /api/v1/health, Health_Check On) answers 200.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flb_fast import parsers as flb_parsers
from tests.e2e.agent import Agent
from tests.e2e.published import localize
from tests.fakes.certs import CertFiles, make_certs
from tests.fakes.kube_api_server import KubeApiServer
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.fakes.opensearch_server import OpenSearchServer, Signer
from tests.fakes.ports import free_port
from tests.filters.kubernetes.conftest import DOCKER_ID
from tests.filters.kubernetes.e2e import docker
from tests.outputs.kinesis_firehose.test_kinesis_firehose import delivered, delivery_stream, json_records
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream
from tests.outputs.s3.test_s3 import BUCKET, bucket, objects

DATA = Path(__file__).parents[1] / "data" / "eks-charts"
LINES = 40
LOG_GROUP = "/aws/eks/fluentbit-cloudwatch/logs"
LOG_FILE = f"app-7d4b9c_shop_web-{DOCKER_ID}.log"


def chart_outputs() -> dict[str, str]:
    """The values key -> rendered [OUTPUT] section of outputs.conf."""
    sections: dict[str, str] = {}
    key = None
    for line in (DATA / "outputs.conf").read_text().splitlines():
        if line.startswith("## "):
            key = line[3:].strip()
            sections[key] = ""
        elif key is not None:
            sections[key] += line + "\n"
    return sections


def chart_config(tmp_path: Path, api: KubeApiServer, certs: CertFiles, token_file: Path, http_port: int) -> str:
    logs = tmp_path / "containers"
    prefix = "kube" + str(logs).replace("/", ".") + "."
    parsers = Path(flb_parsers.__file__).parents[1] / "data" / "parsers.conf"
    return localize(
        (DATA / "fluent-bit.conf").read_text(),
        {
            "Parsers_File /fluent-bit/parsers/parsers.conf": f"    Parsers_File {parsers}",
            "HTTP_Listen  0.0.0.0": "    HTTP_Listen  127.0.0.1",
            "HTTP_PORT    2020": f"    HTTP_PORT    {http_port}",
            "Path              /var/log/containers/*.log": f"    Path              {logs}/*.log\n"
                                                           "    Read_from_Head    On",
            "DB                /var/log/flb_kube.db": f"    DB                {tmp_path / 'flb_kube.db'}",
            "Kube_URL            https://kubernetes.default.svc.cluster.local:443": (
                f"    Kube_URL            {api.url}\n"
                f"    Kube_CA_File        {certs.ca_file}\n"
                f"    Kube_Token_File     {token_file}\n"
                f"    Kube_Tag_Prefix     {prefix}"
            ),
        },
    )


def write_logs(tmp_path: Path) -> None:
    logs = tmp_path / "containers"
    logs.mkdir()
    (logs / LOG_FILE).write_text("".join(docker(json.dumps({"n": i}) + "\n") for i in range(LINES)))


def cloudwatch_records(moto: Any) -> list[dict[str, Any]]:
    client = moto.client("logs")
    try:
        streams = client.describe_log_streams(logGroupName=LOG_GROUP)["logStreams"]
    except client.exceptions.ResourceNotFoundException:
        return []
    records = []
    for stream in streams:
        events = client.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"],
                                       startFromHead=True)["events"]
        records.extend(json.loads(event["message"]) for event in events)
    return records


def health(port: int) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as answer:
        return answer.status, answer.read()


def assert_enriched(records: list[dict[str, Any]], copies: int = 1) -> None:
    """The chart's filter: Merge_Log under `data`, Keep_Log On, the pod's metadata."""
    assert sorted(record["data"]["n"] for record in records) == sorted(list(range(LINES)) * copies)
    for record in records:
        assert record["log"] == json.dumps({"n": record["data"]["n"]}) + "\n"
        assert record["kubernetes"]["pod_name"] == "app-7d4b9c"
        assert record["kubernetes"]["namespace_name"] == "shop"


def run_chart(tmp_path: Path, config: str, http_port: int, moto: Any, received: Any, expected: int,
              what: str) -> None:
    """Run the agent until the default cloudwatch_logs output and ``received()`` have every record,
    with the chart's liveness probe answering ok, then stop it cleanly."""
    with Agent(tmp_path, config, env={**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": moto.url}) as agent:
        agent.wait_for(lambda: len(cloudwatch_records(moto)) >= LINES, "every record in CloudWatch Logs")
        agent.wait_for(lambda: len(received()) >= expected, what)
        assert health(http_port) == (200, b"ok\n")
        result = agent.stop()
    assert result.returncode == 0, result.stderr


def test_the_default_config_delivers_enriched_records_to_cloudwatch_logs(moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    config = chart_config(tmp_path, api, certs, token_file, http_port)
    run_chart(tmp_path, config, http_port, moto, lambda: cloudwatch_records(moto), LINES, "every record")
    assert_enriched(cloudwatch_records(moto))


def test_the_go_cloudwatch_output_writes_the_same_records_to_the_same_group(moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    config = chart_config(tmp_path, api, certs, token_file, http_port) + chart_outputs()["cloudWatch"]
    run_chart(tmp_path, config, http_port, moto, lambda: cloudwatch_records(moto), 2 * LINES,
              "both outputs' records")
    assert_enriched(cloudwatch_records(moto), copies=2)


def test_firehose_receives_every_record(moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    delivery_stream(moto, "my-stream")
    config = chart_config(tmp_path, api, certs, token_file, http_port) + chart_outputs()["firehose"]
    run_chart(tmp_path, config, http_port, moto, lambda: json_records(delivered(moto)), LINES, "Firehose records")
    assert_enriched(json_records(delivered(moto)))


@pytest.mark.parametrize("output", ["kinesis", "kinesis_streams"])
def test_kinesis_outputs_receive_every_record(output, moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    create_stream(moto, "my-kinesis-stream-name")
    config = chart_config(tmp_path, api, certs, token_file, http_port) + chart_outputs()[output]

    def received() -> list[dict[str, Any]]:
        return [json.loads(record["data"]) for record in arrived(moto, "my-kinesis-stream-name")]

    run_chart(tmp_path, config, http_port, moto, received, LINES, "Kinesis records")
    assert_enriched(received())


def test_s3_uploads_every_record_at_stop(moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    s3 = bucket(moto)
    section = chart_outputs()["s3"].format(bucket=BUCKET, store_dir=tmp_path / "s3-store")
    config = chart_config(tmp_path, api, certs, token_file, http_port) + section
    # upload_timeout is the chart's 10m: the object is completed when the agent stops.
    run_chart(tmp_path, config, http_port, moto, lambda: [None] * LINES, LINES, "nothing more")
    bodies = objects(s3)
    tag = "kube" + str(tmp_path / "containers" / LOG_FILE).replace("/", ".")
    assert [key.split("/")[:2] for key in bodies] == [["pod-logs", tag]]
    assert_enriched([json.loads(line) for body in bodies.values() for line in body.splitlines()])


@pytest.mark.parametrize("output", ["elasticsearch", "opensearch"])
def test_amazon_opensearch_outputs_sign_and_deliver_every_record(output, moto, api, certs, token_file, tmp_path):
    http_port = free_port()
    write_logs(tmp_path)
    tls = make_certs(tmp_path / "opensearch-certs", "opensearch")
    signer = Signer(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    FAKE_CREDENTIALS["AWS_SESSION_TOKEN"], "us-east-1", "es")
    server = OpenSearchServer(signer=signer, tls=tls).start()
    try:
        section = chart_outputs()[output].format(host="127.0.0.1", port=server.port, ca_file=tls.ca_file)
        config = chart_config(tmp_path, api, certs, token_file, http_port) + section
        run_chart(tmp_path, config, http_port, moto, lambda: server.documents, LINES, "documents indexed")
    finally:
        server.stop()
    assert server.signature_failures == []
    assert_enriched(server.documents)
