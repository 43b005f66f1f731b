"""Smoke test of bench/bench_cwl_events.py: the compiled and the Python bodies are built (and checked equal) from
the pipeline's records (no timing asserted)."""

from __future__ import annotations

import json

from bench import bench_cwl_events


def test_bench_cwl_events_reports_both_ways_for_every_record(capsys) -> None:
    assert bench_cwl_events.main(["--lines", "600", "--repeat", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["rows"]) == {"compiled", "python reference"}
    assert all(set(row) == {"bodies_us"} for row in result["rows"].values())
    assert result["records"] >= 600 and result["bodies"] >= 1
    # Pod metadata makes each event's body text larger than its line.
    assert result["body_bytes_per_record"] > 500
    assert 0 < result["uncounted_bytes_max"] < result["body_bytes_per_record"] * result["records"]


def test_uncounted_bytes_are_an_events_json_and_its_escapes_less_the_26_counted() -> None:
    head = b'{"logGroupName": "g", "logStreamName": "s", "logEvents": ['
    body = head + b'{"timestamp": 1, "message": "a\\"b"}]}'
    # The event's 35 bytes and "]}", less the message's 3 bytes and the 26 counted for the event.
    assert bench_cwl_events.uncounted_bytes(head, body) == 35 + 2 - 3 - 26


def test_per_pod_puts_each_pods_records_in_one_call_in_order() -> None:
    chunks = [("a", [1, 2], [{"n": 1}, {"n": 2}]), ("b", [3], [{"n": 3}]), ("a", [4], [{"n": 4}])]
    assert bench_cwl_events.per_pod(chunks) == [
        ("a", [1, 2, 4], [{"n": 1}, {"n": 2}, {"n": 4}]),
        ("b", [3], [{"n": 3}]),
    ]
