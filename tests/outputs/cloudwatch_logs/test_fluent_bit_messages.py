"""PutLogEvents messages as Fluent Bit 4.2.8's cloudwatch_logs sends them: each record's JSON by
its msgpack2json with json.escape_unicode on (non-ASCII and DEL as \\u escapes, its floats),
recorded in tests/data/outputs/cloudwatch_logs/events.json (``python -m tools.record_cloudwatch``)
from the records beside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.cloudwatch_logs.body import BodyWriter, body_writer, request_head

DATA = Path(__file__).parents[2] / "data" / "outputs" / "cloudwatch_logs"


def records_and_times() -> tuple[list[dict[str, Any]], list[int]]:
    """The recorded records as the ``timed`` parser reads them: ``t`` their time, taken out."""
    records, times = [], []
    for line in (DATA / "records.jsonl").read_text().splitlines():
        record = json.loads(line)
        moment = datetime.fromisoformat(record.pop("t")).replace(tzinfo=UTC)
        records.append(record)
        times.append(int(moment.timestamp() * 1000) * 1_000_000)
    return records, times


@pytest.mark.parametrize("writer", [body_writer(), BodyWriter()], ids=["compiled", "reference"])
def test_messages_are_the_records_json_as_fluent_bit_writes_it(writer: Any) -> None:
    records, times = records_and_times()
    encoder = RecordEncoder()
    events = writer.events(records, times, encoder.encode_value,
                           lambda index: encoder.encode(records[index], times[index]))
    body, count, _ = writer.body(request_head("group-1", "stream-1"), events, 0)
    sent = [[event["timestamp"], event["message"]] for event in json.loads(body)["logEvents"]]
    recorded = json.loads((DATA / "events.json").read_text())["events"]
    assert (count, sent) == (len(records), [[timestamp, message] for _, _, timestamp, message in recorded])
