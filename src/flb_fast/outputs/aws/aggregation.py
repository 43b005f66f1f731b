"""Fluent Bit's ``simple_aggregation`` (kinesis_firehose and kinesis_streams, 4.2+): several
records packed into one service record, so a PutRecordBatch / PutRecords call carries far more
log lines and costs far fewer billed records.

As ``src/aws/flb_aws_aggregation.c`` does it: each record's body (JSON with ``time_key``, or the
``log_key`` value), ended by its newline, is appended to the aggregate while the aggregate stays
within the record size; a record that, with its newline, is as large as the record size or
larger is discarded. kinesis_firehose ends each aggregate with one more newline unless it is
exactly full (``flb_aws_aggregation_finalize(..., 1, ...)``); kinesis_streams does not, nor does
the Go firehose plugin's ``simple_aggregation``. Compression, when on, applies to the whole
aggregate (one gzip member per aggregate, not per record).

Where Fluent Bit truncates an aggregate whose compressed form is over the limit
(``flb_aws_compression_b64_truncate_compress``), losing its tail, the aggregate is split in two
and each half compressed again: only a single record that cannot fit even alone is dropped,
and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

NEWLINE = b"\n"  # ends every aggregated record; kinesis_firehose adds one more per aggregate


def aggregate_groups(sizes: Sequence[int], limits: Sequence[int]) -> tuple[list[list[int]], int]:
    """Cut records into aggregates as Fluent Bit does.

    ``sizes[i]`` is record i's body size, its newline included, and ``limits[i]`` the largest
    aggregate allowed if it started with record i (the record size, less the partition key
    where the service counts it). Returns the indexes of the records of each aggregate, in
    order, and how many records were discarded as too large.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    used = limit = 0
    discarded = 0
    for index, needed in enumerate(sizes):
        if needed >= limits[index]:
            discarded += 1
            continue
        if current and used + needed > limit:
            groups.append(current)
            current = []
        if not current:
            used, limit = 0, limits[index]
        current.append(index)
        used += needed
    if current:
        groups.append(current)
    return groups, discarded


def join(bodies: Sequence[bytes], limit: int, final_newline: bool) -> bytes:
    """One aggregate of newline-terminated bodies; Firehose's extra newline when there is room."""
    data = b"".join(bodies)
    if final_newline and len(data) < limit:
        data += NEWLINE
    return data


def compressed_aggregates(
    bodies: Sequence[bytes],
    limit: int,
    final_newline: bool,
    compress: Callable[[bytes], bytes],
) -> tuple[list[bytes], int]:
    """The aggregate of ``bodies`` compressed; halved (recursively) while its compressed form is
    over ``limit``. Returns the records to send and how many bodies could not fit even alone."""
    data = compress(join(bodies, limit, final_newline))
    if len(data) <= limit:
        return [data], 0
    if len(bodies) == 1:
        return [], 1
    middle = len(bodies) // 2
    first, first_dropped = compressed_aggregates(bodies[:middle], limit, final_newline, compress)
    second, second_dropped = compressed_aggregates(bodies[middle:], limit, final_newline, compress)
    return first + second, first_dropped + second_dropped
