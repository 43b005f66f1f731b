"""The real flb-fast command: tail -> kinesis_streams / kinesis -> moto, every line once and in order."""

from __future__ import annotations

import pytest

from tests.outputs.aws.e2e import agent, expected, numbered_log
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream
from tests.outputs.kinesis_streams.test_kpl import user_records

OUTPUT = """\
[OUTPUT]
    Name         {name}
    Match        kube.*
    region       us-east-1
    endpoint     {endpoint}
    stream       logs
    Retry_Limit  no_limits
"""


@pytest.mark.parametrize("name", ["kinesis_streams", "kinesis"])
def test_every_line_arrives_once_in_order(moto, fault_proxy, tmp_path, name) -> None:
    create_stream(moto)
    numbered_log(tmp_path, 1500)
    fault_proxy.add("PutRecords", "throttle")
    fault_proxy.add("PutRecords", "drop", times=2)
    with agent(tmp_path, OUTPUT, name=name, endpoint=fault_proxy.url) as running:
        running.wait_for(lambda: len(arrived(moto)) >= 1500, "1500 records in the stream")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    # The C plugin ends each record with a newline, the Go plugin only with append_newline.
    ending = "\n" if name == "kinesis_streams" else ""
    assert [record["data"].decode() for record in arrived(moto)] == [line + ending for line in expected(1500)]


def test_kpl_aggregation_delivers_every_line_once_in_order(moto, fault_proxy, tmp_path) -> None:
    create_stream(moto)
    numbered_log(tmp_path, 1500)
    fault_proxy.add("PutRecords", "throttle")
    fault_proxy.add("PutRecords", "drop")
    output = OUTPUT + "    aggregation  on\n"
    with agent(tmp_path, output, name="kinesis", endpoint=fault_proxy.url) as running:
        running.wait_for(lambda: len(user_records(arrived(moto))) >= 1500, "1500 user records in the stream")
        result = running.stop()
    assert result.returncode == 0, result.stderr
    assert "not supported yet" not in result.stderr
    assert [data.decode() for _, data in user_records(arrived(moto))] == expected(1500)
