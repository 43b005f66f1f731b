"""The real flb-fast command: tail (-> kubernetes) -> cloudwatch_logs / cloudwatch -> moto, every line
exactly once, in order, in the right group and stream."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.agent import Agent
from tests.fakes.moto_server import FAKE_CREDENTIALS
from tests.filters.kubernetes.conftest import DOCKER_ID
from tests.filters.kubernetes.e2e import docker, seed_input_and_filter
from tests.outputs.aws.e2e import agent, expected, numbered_log

SEED_OUTPUT = """\
[OUTPUT]
    Name cloudwatch
    Match   **
    region us-east-2
    log_group_name fluentbit-cloudwatch
    log_stream_prefix fluentbit-
    auto_create_group true
"""

C_OUTPUT = """\
[OUTPUT]
    Name                 cloudwatch_logs
    Match                kube.*
    region               us-east-1
    endpoint             {endpoint}
    log_group_name       fluentbit-cloudwatch
    log_stream_prefix    fluentbit-
    auto_create_group    true
    Workers              2
    Retry_Limit          no_limits
"""


def messages(moto: Any, region: str, stream: str = "fluentbit-kube.app") -> list[str]:
    logs = moto.client("logs", region)
    out: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": "fluentbit-cloudwatch", "logStreamName": stream, "startFromHead": True}
    try:
        while (page := logs.get_log_events(**kwargs))["events"]:
            out.extend(event["message"] for event in page["events"])
            kwargs["nextToken"] = page["nextForwardToken"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return out


def run_until(running: Agent, moto: Any, region: str, count: int) -> list[str]:
    with running:
        running.wait_for(lambda: len(messages(moto, region)) >= count, f"{count} events in CloudWatch Logs")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    return messages(moto, region)


def test_the_seed_config_unchanged_delivers_every_line_once_in_order(moto, tmp_path) -> None:
    numbered_log(tmp_path, 3000)
    running = agent(tmp_path, SEED_OUTPUT, env={"AWS_ENDPOINT_URL": moto.url})
    assert run_until(running, moto, "us-east-2", 3000) == expected(3000)


def test_throttles_errors_and_dropped_connections_lose_and_duplicate_nothing(moto, fault_proxy, tmp_path) -> None:
    numbered_log(tmp_path, 3000)
    fault_proxy.add("PutLogEvents", "throttle", times=2)
    fault_proxy.add("PutLogEvents", "error500", times=1)
    fault_proxy.add("PutLogEvents", "drop", times=2)
    running = agent(tmp_path, C_OUTPUT, endpoint=fault_proxy.url)
    assert run_until(running, moto, "us-east-1", 3000) == expected(3000)
    assert [call.action for call in fault_proxy.calls_to("PutLogEvents")][:5] == [
        "throttle",
        "throttle",
        "error500",
        "drop",
        "drop",
    ]


SEED_SERVICE = """\
[SERVICE]
    Flush        0.2
    Grace        10
"""

SEED_PIPELINE_OUTPUT = """\
[OUTPUT]
    Name                 cloudwatch_logs
    Match                *
    region               us-east-1
    endpoint             {endpoint}
    log_group_name       fluentbit-cloudwatch
    log_group_template   /eks/$kubernetes['namespace_name']
    log_stream_template  $kubernetes['pod_name'].$kubernetes['container_name']
    log_stream_prefix    fluentbit-
    auto_create_group    true
"""


def test_the_seed_pipeline_routes_each_pod_to_its_namespace_group(moto, api, certs, token_file, tmp_path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / f"app-7d4b9c_shop_web-{DOCKER_ID}.log").write_text("".join(docker(f'{{"n":{i}}}\n') for i in range(500)))
    config = "\n".join(
        [
            SEED_SERVICE,
            seed_input_and_filter(logs, api, certs, token_file),
            SEED_PIPELINE_OUTPUT.format(endpoint=moto.url),
        ]
    )
    logs_client = moto.client("logs")

    def arrived() -> list[str]:
        try:
            events = logs_client.get_log_events(
                logGroupName="/eks/shop", logStreamName="app-7d4b9c.web", startFromHead=True
            )
        except logs_client.exceptions.ResourceNotFoundException:
            return []
        return [event["message"] for event in events["events"]]

    with Agent(tmp_path, config, env=dict(FAKE_CREDENTIALS)) as running:
        running.wait_for(lambda: len(arrived()) >= 500, "500 events in /eks/shop")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    records = [json.loads(message) for message in arrived()]
    assert [record["data"] for record in records] == [{"n": i} for i in range(500)]
    assert {record["kubernetes"]["namespace_name"] for record in records} == {"shop"}
    assert list(records[0]) == ["log", "stream", "time", "data", "kubernetes"]
