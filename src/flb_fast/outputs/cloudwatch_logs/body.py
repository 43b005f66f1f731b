"""PutLogEvents events and request bodies, byte for byte as botocore serialises them.

An event's message is kept as a *fragment*: the message (UTF-8) already escaped as the body's
JSON string holds it (botocore/serialize.py JSONSerializer: ``json.dumps`` with its defaults, so
``ensure_ascii``), with its size in UTF-8 bytes beside it (what the service's limits count). A
body is then the events' fragments copied between their framing. ``BodyWriter`` is the Python
reference of ``_core.CwlBodyWriter`` (``_core/cwl.pxi``), which the output uses when it is built
(tests/outputs/cloudwatch_logs/test_body.py compares the two, and the reference with botocore).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.outputs.cloudwatch_logs.batch import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_BATCH_SPAN_MS,
    MAX_EVENT_BYTES,
    split_batches,
    truncate_message,
)


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
    """``(fragments, sizes)`` of whole records: each record's JSON (``encode``) escaped, with its
    size. ``None`` (size 0) where the record needs the encoder's fallback (a value ``encode``
    refuses) or its message is over ``max_event_bytes``."""
    fragments: list[bytes | None] = []
    sizes: list[int] = []
    for record in records:
        try:
            message = encode(record)
        except Exception:  # noqa: BLE001 - whatever encode refuses goes to the encoder's fallback
            message = None
        if message is None or len(message) > max_event_bytes:
            fragments.append(None)
            sizes.append(0)
        else:
            fragments.append(escape_message(message))
            sizes.append(len(message))
    return fragments, sizes


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


class Events:
    """``BodyWriter``'s events: in chronological order (stable), each one's time in milliseconds,
    its message as a fragment, its size, and 1 where it was cut."""

    __slots__ = ("times_ms", "fragments", "sizes", "cut")

    def __init__(self, times_ms: list[int]) -> None:
        self.times_ms = times_ms
        self.fragments: list[bytes] = []
        self.sizes: list[int] = []
        self.cut: list[int] = []

    def __len__(self) -> int:
        return len(self.times_ms)


class BodyWriter:
    """The Python reference of ``_core.CwlBodyWriter`` (``_core/cwl.pxi``), the same calls and
    bodies: PutLogEvents bodies one at a time, cut within the batch limits (``split_batches``)."""

    def events(
        self, items: list[Any], timestamps_ns: list[int], encode: Callable[[Any], bytes], fallback: Callable[[int], bytes],
    ) -> Events:
        """The events ``body`` takes. An item is a record (a dict, its message its JSON as
        ``encode`` writes it: ``RecordEncoder.encode_value``, Fluent Bit's JSON, as the compiled
        writer writes it) or its message as UTF-8 bytes; a record ``record_messages`` leaves, or
        an item of another type, is sent as ``fallback(index)``'s bytes. Messages over
        MAX_EVENT_BYTES are cut."""
        if len(timestamps_ns) != len(items):
            raise ValueError("cwl events: one timestamp per item")
        order = sorted(range(len(items)), key=lambda index: timestamps_ns[index] // 1_000_000)
        events = Events([timestamps_ns[index] // 1_000_000 for index in order])
        for index in order:
            item = items[index]
            fragment: bytes | None = None
            truncated = 0
            if type(item) is dict:
                [fragment], [size] = record_messages([item], encode, MAX_EVENT_BYTES)
            if fragment is None:
                message = item if type(item) is bytes else fallback(index)
                [fragment], [size], truncated = escape_all([message], MAX_EVENT_BYTES)
            events.fragments.append(fragment)
            events.sizes.append(size)
            events.cut.append(truncated)
        return events

    def body(self, head: bytes, events: Events, first: int) -> tuple[bytes, int, int]:
        """``(body, count, truncated)``: the body of ``events`` from the ``first`` on, holding
        the ``count`` events that fit the limits, ``truncated`` of them cut."""
        if not 0 <= first < len(events):
            raise ValueError("cwl body: first must be the index of an event")
        [(_, count), *_] = split_batches(events.times_ms[first:], events.sizes[first:])
        end = first + count
        return request_body(head, events.times_ms, events.fragments, first, end), count, sum(events.cut[first:end])


_CwlBodyWriter = core_part("CwlBodyWriter")


def body_writer() -> Any:
    """What the output writes its bodies with: ``_core.CwlBodyWriter`` within the PutLogEvents
    limits (``batch.py``), or its reference where ``_core`` is not built."""
    if _CwlBodyWriter is None:
        return BodyWriter()
    return _CwlBodyWriter(MAX_EVENT_BYTES, MAX_BATCH_BYTES, EVENT_OVERHEAD_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS)
