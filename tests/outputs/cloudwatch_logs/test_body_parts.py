"""The pieces bench/bench_cwl_events.py measures (``_core.cwl_messages``, ``cwl_escape_all``, ``cwl_events``,
``cwl_body``) against their Python references in ``outputs/cloudwatch_logs/body.py``."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from flb_fast import _core
from flb_fast.outputs.cloudwatch_logs.batch import MAX_EVENT_BYTES
from flb_fast.outputs.cloudwatch_logs.body import (
    escape_all,
    escape_message,
    record_messages,
    request_body,
    request_head,
    sorted_events,
)

ENCODE = msgspec.json.Encoder().encode


def random_text(rng: random.Random, length: int) -> str:
    """Characters of every UTF-8 length, control characters, quotes, backslashes and DEL."""
    pools = [(0, 0x80), (0x80, 0x800), (0x800, 0xD800), (0xE000, 0x10000), (0x10000, 0x110000)]
    return "".join(chr(rng.randrange(*rng.choice(pools))) for _ in range(length))


def random_value(rng: random.Random, depth: int, shared: dict[str, Any]) -> Any:
    kind = rng.randrange(11 if depth < 3 else 8)
    if kind == 0:
        return random_text(rng, rng.randrange(0, 30))
    if kind == 1:
        return "".join(rng.choice('ab"\\\x00\n\t\x7f/ ') for _ in range(rng.randrange(0, 20)))
    if kind == 2:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**64, -(2**70), rng.randrange(-(10**12), 10**12)])
    if kind == 3:
        return rng.choice([0.5, -1e16, 1e-7, 3.141592653589793, float("nan"), float("inf"), -0.0])
    if kind == 4:
        return rng.choice([None, True, False])
    if kind == 5:
        return "x" * rng.randrange(0, 40)
    if kind == 6:
        return shared
    if kind == 7:
        return rng.choice(["é" * 9, "日本語", "😀 ok"])
    if kind == 8:
        return [random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 4))]
    if kind == 9:
        return tuple(random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 3)))
    return {random_text(rng, rng.randrange(1, 8)): random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 4))}


def random_records(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    shared = {"pod_name": "web-1", "labels": {"app": "web é"}, "n": 3}
    return [
        {random_text(rng, rng.randrange(1, 10)): random_value(rng, 0, shared) for _ in range(rng.randrange(0, 6))}
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_messages_of_records_are_the_reference_ones(seed: int) -> None:
    records = random_records(seed, 300)
    fragments, sizes = _core.cwl_messages(records, ENCODE, MAX_EVENT_BYTES)
    assert None not in fragments
    assert (fragments, sizes) == record_messages(records, ENCODE, MAX_EVENT_BYTES)


def test_a_message_is_the_records_json_escaped_once_more_and_its_size_in_utf8_bytes() -> None:
    record = {"log": 'say "hi"\n', "n": [1, None, True], "é": {"t": "\x01\x7f😀"}}
    message = ENCODE(record)
    assert _core.cwl_messages([record], ENCODE, MAX_EVENT_BYTES) == ([escape_message(message)], [len(message)])


def test_a_dict_shared_by_records_is_written_the_same_in_each() -> None:
    pod = {"pod_name": "web", "labels": {"app": "a\"b"}}
    records = [{"log": str(index), "kubernetes": pod} for index in range(5)]
    fragments, _ = _core.cwl_messages(records, ENCODE, MAX_EVENT_BYTES)
    assert fragments == [escape_message(ENCODE(record)) for record in records]


@pytest.mark.parametrize(
    "record",
    [
        {"bad": "lone \udcff surrogate"},
        {1: "int key"},
        {"k": {"nested": [{"deep": "\ud800"}]}},
        {"big": "x" * (MAX_EVENT_BYTES + 1)},
    ],
    ids=["lone-surrogate", "non-str-key", "nested-surrogate", "over-the-event-limit"],
)
def test_records_left_to_the_python_path_are_none_with_size_zero(record: dict[Any, Any]) -> None:
    assert _core.cwl_messages([{"ok": 1}, record], ENCODE, MAX_EVENT_BYTES) == (
        [escape_message(b'{"ok":1}'), None],
        [8, 0],
    )


def test_values_msgspec_writes_its_own_way_are_written_by_msgspec() -> None:
    class Opaque:
        pass

    records = [{"f": 1.5, "big": 2**80, "raw": b"\x00\xff"}, {"o": Opaque()}]
    fragments, sizes = _core.cwl_messages(records, ENCODE, MAX_EVENT_BYTES)
    assert fragments == [escape_message(ENCODE(records[0])), None]
    assert sizes == [len(ENCODE(records[0])), 0]


def test_a_record_nested_deeper_than_the_limit_is_left_to_the_python_path() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["d"] = {}
        node = node["d"]
    assert _core.cwl_messages([deep], ENCODE, MAX_EVENT_BYTES) == ([None], [0])


@pytest.mark.parametrize("seed", range(3))
def test_the_compiled_escape_is_the_reference_escape(seed: int) -> None:
    rng = random.Random(seed)
    messages = [random_text(rng, rng.randrange(0, 40)).encode() for _ in range(300)] + [b"", b'"\\\x7f\x00']
    assert _core.cwl_escape_all(messages, MAX_EVENT_BYTES) == escape_all(messages, MAX_EVENT_BYTES)


def test_an_oversized_message_is_cut_on_a_character_boundary_like_the_reference() -> None:
    long = "€".encode() * (MAX_EVENT_BYTES // 3 + 10)
    ours = _core.cwl_escape_all([long, b"x"], MAX_EVENT_BYTES)
    assert ours == escape_all([long, b"x"], MAX_EVENT_BYTES)
    assert ours[2] == 1
    assert ours[1] == [MAX_EVENT_BYTES // 3 * 3, 1]
    assert ours[0][0] == b"\\u20ac" * (MAX_EVENT_BYTES // 3)


@pytest.mark.parametrize("seed", range(5))
def test_the_compiled_body_is_the_reference_body(seed: int) -> None:
    rng = random.Random(seed)
    fragments = [escape_message(random_text(rng, rng.randrange(0, 40)).encode()) for _ in range(300)]
    times = [rng.randrange(0, 2**41) for _ in fragments]
    head = request_head("group é", 'stream "1"')
    for start, end in ((0, len(fragments)), (5, 17), (3, 3)):
        assert _core.cwl_body(head, times, fragments, start, end) == request_body(head, times, fragments, start, end)


def test_the_reference_body_is_what_botocore_serialises() -> None:
    import botocore.session

    client = botocore.session.Session().create_client(
        "logs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    model = client.meta.service_model.operation_model("PutLogEvents")
    texts = ["plain", 'q " b \\ \t\n\r\b\f \x01 \x7f', "é 日本 😀", "", ENCODE({"log": 'a "b"\n', "k": {"x": 1}}).decode()]
    events = [{"timestamp": 1_795_611_600_000 + index, "message": text} for index, text in enumerate(texts)]
    params = {"logGroupName": "g", "logStreamName": "s", "logEvents": events}
    from botocore.serialize import create_serializer

    expected = create_serializer("json", include_validation=False).serialize_to_request(params, model)["body"]
    head = request_head("g", "s")
    times = [event["timestamp"] for event in events]
    fragments = [escape_message(text.encode()) for text in texts]
    assert request_body(head, times, fragments, 0, len(texts)) == expected


def test_events_in_time_order_keep_their_lists_and_order() -> None:
    fragments, sizes = [b"a", b"b", b"c"], [1, 1, 1]
    result = _core.cwl_events(fragments, sizes, [1_000_000, 1_000_000, 2_500_000])
    assert result == ([1, 1, 2], [b"a", b"b", b"c"], [1, 1, 1])
    assert result[1] is fragments and result[2] is sizes


def test_events_out_of_order_are_sorted_stably_like_the_reference() -> None:
    rng = random.Random(3)
    fragments = [str(index).encode() for index in range(500)]
    sizes = [len(fragment) for fragment in fragments]
    times = [rng.randrange(0, 50) * 1_000_000 + rng.randrange(1_000_000) for _ in fragments]
    assert _core.cwl_events(list(fragments), list(sizes), times) == sorted_events(fragments, sizes, times)


def test_a_value_whose_encoding_fails_in_any_way_is_left_to_the_python_path() -> None:
    def refuse(value: Any) -> bytes:
        raise RuntimeError("refused")

    # The float goes to ``refuse``; the other record is written without it.
    records: list[dict[str, Any]] = [{"f": 1.5}, {"s": "plain"}]
    assert _core.cwl_messages(records, refuse, MAX_EVENT_BYTES) == ([None, escape_message(b'{"s":"plain"}')], [0, 13])
