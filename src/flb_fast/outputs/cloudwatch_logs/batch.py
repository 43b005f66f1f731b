"""PutLogEvents limits and the split of a stream's events into valid requests.

Source: CloudWatch Logs API reference, PutLogEvents
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html):
"The maximum batch size is 1,048,576 bytes. This size is calculated as the sum of all event
messages in UTF-8, plus 26 bytes for each log event"; "The maximum number of log events in a
batch is 10,000"; "Each log event can be no larger than 1 MB" (it was 256 KB; the event and its
26 bytes must also fit a batch, so 1 MiB - 26); "A batch of log events in a single request
cannot span more than 24 hours"; "The log events in the batch must be in chronological order".
"""

from __future__ import annotations

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_EVENTS = 10_000
MAX_EVENT_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES
# Fluent Bit cuts a batch once it would reach 24 h (cloudwatch_api.c ONE_DAY_IN_MILLISECONDS).
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000


def truncate_message(message: bytes, limit: int = MAX_EVENT_BYTES) -> bytes:
    """The longest prefix of ``message`` within ``limit`` bytes that is still valid UTF-8."""
    return message[:limit].decode("utf-8", "ignore").encode()


def split_batches(timestamps_ms: list[int], sizes: list[int]) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of events (already in chronological order) that each make one
    valid PutLogEvents request: within the byte, count and 24-hour span limits."""
    batches: list[tuple[int, int]] = []
    start = 0
    batch_bytes = 0
    first_ms = 0
    for index, size in enumerate(sizes):
        event_bytes = size + EVENT_OVERHEAD_BYTES
        if index > start and (
            batch_bytes + event_bytes > MAX_BATCH_BYTES
            or index - start >= MAX_BATCH_EVENTS
            or timestamps_ms[index] - first_ms >= MAX_BATCH_SPAN_MS
        ):
            batches.append((start, index))
            start = index
            batch_bytes = 0
        if index == start:
            first_ms = timestamps_ms[index]
        batch_bytes += event_bytes
    if start < len(sizes):
        batches.append((start, len(sizes)))
    return batches
