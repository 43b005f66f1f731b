"""The real flb-fast command: tail -> kinesis_firehose / firehose -> moto (S3 destination)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.outputs.aws.e2e import agent, expected, numbered_log
from tests.outputs.kinesis_firehose.test_kinesis_firehose import STREAM, delivered, delivery_stream, json_records


def delivered_lines(moto: Any) -> list[str]:
    """Every non-empty line of what the delivery stream wrote to S3 (records end with newlines)."""
    return [line for data in delivered(moto) for line in data.decode().split("\n") if line]


OUTPUT = """\
[OUTPUT]
    Name             {name}
    Match            kube.*
    region           us-east-1
    endpoint         {endpoint}
    delivery_stream  {stream}
    Retry_Limit      no_limits
"""


def test_every_line_arrives_once_despite_partial_failures(moto, fault_proxy, tmp_path) -> None:
    delivery_stream(moto)
    numbered_log(tmp_path, 2000)
    fault_proxy.add("PutRecordBatch", "partial", times=2, failing=(0, 7, 250))
    fault_proxy.add("PutRecordBatch", "throttle")
    with agent(tmp_path, OUTPUT, name="kinesis_firehose", endpoint=fault_proxy.url, stream=STREAM) as running:
        running.wait_for(lambda: len(json_records(delivered(moto))) >= 2000, "2000 records delivered")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    assert sorted(delivered_lines(moto)) == sorted(expected(2000))


def test_name_firehose_delivers_with_go_options(moto, tmp_path) -> None:
    delivery_stream(moto)
    numbered_log(tmp_path, 10)
    output = OUTPUT + "    data_keys        log\n"
    with agent(tmp_path, output, name="firehose", endpoint=moto.url, stream=STREAM) as running:
        running.wait_for(lambda: len(json_records(delivered(moto))) >= 10, "10 records delivered")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    assert sorted(map(str, json_records(delivered(moto)))) == sorted(str({"log": f"line {i}"}) for i in range(10))


def test_simple_aggregation_delivers_every_line_once_despite_partial_failures(moto, fault_proxy, tmp_path) -> None:
    delivery_stream(moto)
    numbered_log(tmp_path, 2000)
    fault_proxy.add("PutRecordBatch", "partial", times=2, failing=(0,))
    fault_proxy.add("PutRecordBatch", "throttle")
    output = OUTPUT + "    simple_aggregation  on\n"
    with agent(tmp_path, output, name="kinesis_firehose", endpoint=fault_proxy.url, stream=STREAM) as running:
        running.wait_for(lambda: len(delivered_lines(moto)) >= 2000, "2000 aggregated lines delivered")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    assert "not supported yet" not in result.stderr
    assert sorted(delivered_lines(moto)) == sorted(expected(2000))
    # Each Firehose record sent was an aggregate: kinesis_firehose ends those with an empty line.
    sent = [
        record["Data"] for call in fault_proxy.calls_to("PutRecordBatch") for record in json.loads(call.body)["Records"]
    ]
    assert sent and all(base64.b64decode(data).endswith(b"\n\n") for data in sent)
