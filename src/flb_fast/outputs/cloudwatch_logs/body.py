"""PutLogEvents events and request bodies, byte for byte as botocore serialises them.

An event's message is kept as a *fragment*: the message (UTF-8) already escaped as the body's
JSON string holds it (botocore/serialize.py JSONSerializer: ``json.dumps`` with its defaults, so
``ensure_ascii``), with its size in UTF-8 bytes beside it (what the service's limits count). A
body is then the events' fragments copied between their framing. These are the Python
references of ``_core``'s builders (``_core/cwl.pxi``), which the output uses when they are built
(tests/outputs/cloudwatch_logs/test_body.py compares the two, and these with botocore).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.outputs.cloudwatch_logs.batch import truncate_message


def escape_message(message: bytes) -> bytes:
    """``message`` as the body's JSON string holds it (between its quotes)."""
    return json.dumps(message.decode())[1:-1].encode()


def escape_all(messages: list[bytes], max_event_bytes: int) -> tuple[list[bytes], list[int], int]:
    """``(fragments, sizes, truncated)``: each message escaped with its size in bytes, a message
    over ``max_event_bytes`` cut first on a UTF-8 character boundary (and counted)."""
    fragments, sizes, truncated = [], [], 0
    for message in messages:
        if len(message) > max_event_bytes:
            message = truncate_message(message, max_event_bytes)
            truncated += 1
        fragments.append(escape_message(message))
        sizes.append(len(message))
    return fragments, sizes, truncated


def record_messages(
    records: list[Any], encode: Callable[[Any], bytes], max_event_bytes: int
) -> tuple[list[bytes | None], list[int]]:
    """``(fragments, sizes)`` of whole records: each record's JSON (``encode``, msgspec's
    encoder) escaped, with its size. ``None`` (size 0) where the record needs the encoder's
    fallback (a value msgspec refuses) or its message is over ``max_event_bytes``."""
    fragments: list[bytes | None] = []
    sizes: list[int] = []
    for record in records:
        try:
            message = encode(record)
        except Exception:  # noqa: BLE001 - whatever msgspec refuses goes to the encoder's fallback
            message = None
        if message is None or len(message) > max_event_bytes:
            fragments.append(None)
            sizes.append(0)
        else:
            fragments.append(escape_message(message))
            sizes.append(len(message))
    return fragments, sizes


def sorted_events(
    fragments: list[bytes], sizes: list[int], timestamps_ns: list[int]
) -> tuple[list[int], list[bytes], list[int]]:
    """``(timestamps_ms, fragments, sizes)`` in chronological order (stable)."""
    rows = sorted(zip((timestamp // 1_000_000 for timestamp in timestamps_ns), fragments, sizes, strict=True),
                  key=lambda row: row[0])
    return [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]


def request_head(group: str, stream: str) -> bytes:
    """A PutLogEvents body up to its first event, as botocore's serialiser writes it."""
    text = json.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": []})
    return text[: -len("]}")].encode()


def request_body(head: bytes, timestamps_ms: list[int], fragments: list[bytes], start: int, end: int) -> bytes:
    """The PutLogEvents body of events ``[start, end)`` (``head`` from ``request_head``)."""
    events = b", ".join(
        b'{"timestamp": %d, "message": "%s"}' % (timestamp, fragment)
        for timestamp, fragment in zip(timestamps_ms[start:end], fragments[start:end], strict=True)
    )
    return head + events + b"]}"


# The compiled builders when the extension has them (it does in any current build).
messages_of_records = core_part("cwl_messages") or record_messages
escape_messages = core_part("cwl_escape_all") or escape_all
events_in_order = core_part("cwl_events") or sorted_events
build_body = core_part("cwl_body") or request_body
