"""The filters in the real agent: a tail of JSON lines through grep, modify, nest, record_modifier and
throttle, as one config chains them, to a file; the records written and each filter's
drop_records / add_records (served at /api/v1/metrics) are exact."""

from __future__ import annotations

import json
import urllib.request

from tests.e2e.agent import Agent, lines
from tests.fakes.ports import free_port

RECORDS = [
    {"log": "error: disk full", "level": "error", "kubernetes": {"pod_name": "web-1", "namespace_name": "prod"}},
    {"log": "debug: noise", "level": "debug", "kubernetes": {"pod_name": "web-1", "namespace_name": "prod"}},
    {"log": "info: started", "level": "info", "kubernetes": {"pod_name": "api-1", "namespace_name": "kube-system"}},
    {"log": "warn: slow", "level": "warn", "kubernetes": {"pod_name": "api-2", "namespace_name": "dev"}},
    {"log": "info: fifth", "level": "info", "kubernetes": {"pod_name": "api-3", "namespace_name": "dev"}},
]
CONFIG = """\
[SERVICE]
    Flush          0.2
    Grace          2
    Parsers_File   parsers.conf
    HTTP_Server    On
    HTTP_Listen    127.0.0.1
    HTTP_Port      {port}

[INPUT]
    Name           tail
    Path           {folder}/in.jsonl
    Tag            app.log
    Parser         json
    Read_From_Head On

[FILTER]
    Name           grep
    Match          app.*
    Exclude        level ^debug$
    Regex          $kubernetes['namespace_name'] ^(prod|dev)$

[FILTER]
    Name           modify
    Match          app.*
    Condition      Key_value_matches level ^(error|warn)$
    Rename         log message
    Set            alert yes

[FILTER]
    Name           nest
    Match          app.*
    Operation      lift
    Nested_under   kubernetes
    Add_prefix     k8s_

[FILTER]
    Name           record_modifier
    Match          app.*
    Record         cluster "demo cluster"
    Remove_key     level

[FILTER]
    Name           throttle
    Match          app.*
    Rate           1
    Window         2

[OUTPUT]
    Name           file
    Match          app.*
    Path           {folder}/out
    File           app
    Format         plain
"""


def filter_counters(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/metrics", timeout=5) as response:
            return json.load(response).get("filter", {})
    except OSError:
        return {}


def test_a_filter_chain_in_the_real_agent_writes_exact_records_and_counts_drops(tmp_path):
    (tmp_path / "parsers.conf").write_text("[PARSER]\n    Name   json\n    Format json\n")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    (tmp_path / "out").mkdir()
    port = free_port()
    with Agent(tmp_path, CONFIG.format(folder=tmp_path, port=port)) as agent:
        agent.wait_for(lambda: len(lines(tmp_path / "out" / "app")) >= 2, "two records written")
        agent.wait_for(lambda: filter_counters(port).get("throttle.4", {}).get("drop_records") == 1,
                       "throttle's drop counted")
        counters = filter_counters(port)
        result = agent.stop()
    assert {name: counters[name] for name in ("grep.0", "modify.1", "nest.2", "record_modifier.3", "throttle.4")} == {
        "grep.0": {"drop_records": 2, "add_records": 0},
        "modify.1": {"drop_records": 0, "add_records": 0},
        "nest.2": {"drop_records": 0, "add_records": 0},
        "record_modifier.3": {"drop_records": 0, "add_records": 0},
        "throttle.4": {"drop_records": 1, "add_records": 0},
    }
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in lines(tmp_path / "out" / "app")] == [
        {"message": "error: disk full", "alert": "yes", "k8s_pod_name": "web-1", "k8s_namespace_name": "prod",
         "cluster": "demo cluster"},
        {"message": "warn: slow", "alert": "yes", "k8s_pod_name": "api-2", "k8s_namespace_name": "dev",
         "cluster": "demo cluster"},
    ]
