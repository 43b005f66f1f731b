"""PutLogEvents events and bodies: ``_core``'s one-pass builders (``_core/cwl.pxi``) against their
Python references in the output, and the references against botocore's own serialiser."""

from __future__ import annotations

import random

import pytest

from flb_fast import _core
from flb_fast.outputs.cloudwatch_logs import request_body, request_head, sorted_events
from flb_fast.outputs.cloudwatch_logs.batch import MAX_EVENT_BYTES


def random_text(rng: random.Random, length: int) -> str:
    """Characters of every UTF-8 length, control characters, quotes, backslashes and DEL."""
    pools = [(0, 0x80), (0x80, 0x800), (0x800, 0xD800), (0xE000, 0x10000), (0x10000, 0x110000)]
    return "".join(chr(rng.randrange(*rng.choice(pools))) for _ in range(length))


@pytest.mark.parametrize("seed", range(5))
def test_the_compiled_body_is_the_reference_body(seed: int) -> None:
    rng = random.Random(seed)
    messages = [random_text(rng, rng.randrange(0, 40)).encode() for _ in range(300)] + [b"", b'"\\\x7f\x00']
    times = [rng.randrange(0, 2**41) for _ in messages]
    head = request_head("group é", 'stream "1"')
    for start, end in ((0, len(messages)), (5, 17), (3, 3)):
        assert _core.cwl_body(head, times, messages, start, end) == request_body(head, times, messages, start, end)


def test_the_reference_body_is_what_botocore_serialises() -> None:
    import botocore.session

    client = botocore.session.Session().create_client(
        "logs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    model = client.meta.service_model.operation_model("PutLogEvents")
    texts = ["plain", 'q " b \\ \t\n\r\b\f \x01 \x7f', "é 日本 😀", ""]
    events = [{"timestamp": 1_795_611_600_000 + index, "message": text} for index, text in enumerate(texts)]
    params = {"logGroupName": "g", "logStreamName": "s", "logEvents": events}
    from botocore.serialize import create_serializer

    expected = create_serializer("json", include_validation=False).serialize_to_request(params, model)["body"]
    head = request_head("g", "s")
    times = [event["timestamp"] for event in events]
    assert request_body(head, times, [text.encode() for text in texts], 0, len(texts)) == expected


def test_events_in_time_order_keep_their_list_and_order() -> None:
    messages = [b"a", b"b", b"c"]
    assert _core.cwl_events(messages, [1_000_000, 1_000_000, 2_500_000], MAX_EVENT_BYTES) == (
        [1, 1, 2],
        [b"a", b"b", b"c"],
        0,
    )


def test_events_out_of_order_are_sorted_stably_like_the_reference() -> None:
    rng = random.Random(3)
    messages = [str(index).encode() for index in range(500)]
    times = [rng.randrange(0, 50) * 1_000_000 + rng.randrange(1_000_000) for _ in messages]
    assert _core.cwl_events(list(messages), times, MAX_EVENT_BYTES) == sorted_events(list(messages), times)


def test_an_oversized_event_is_cut_on_a_character_boundary_like_the_reference() -> None:
    long = "€".encode() * (MAX_EVENT_BYTES // 3 + 10)
    ours = _core.cwl_events([long, b"x"], [0, 1], MAX_EVENT_BYTES)
    assert ours == sorted_events([long, b"x"], [0, 1])
    assert ours[2] == 1
    assert ours[1][0].decode() == "€" * (MAX_EVENT_BYTES // 3)
