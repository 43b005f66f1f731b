"""KPL aggregated records: the Go ``kinesis`` plugin's ``aggregation`` option.

Many small records travel as one Kinesis record in the Kinesis Producer Library's format
(awslabs/amazon-kinesis-producer, aggregation-format.md), which the KCL, Firehose and the
de-aggregation libraries unpack: the magic bytes F3 89 9A C2, a protobuf ``AggregatedRecord``
and the MD5 of that protobuf::

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;
    }

Written by hand (three field kinds, no protobuf dependency). As the Go plugin
(aggregate/aggregator.go) does: each record's data is already compressed when ``compression`` is
on; data of 20 KiB or more is sent on its own; a record without a partition key shares the
aggregate's first key (a random one for a new aggregate); the aggregate's own partition key is
its first key. Unlike the Go plugin, sizes are exact, the partition key counts towards the
1 MiB record limit (PutRecords counts it), keys keep their first-seen order (Go lists them from
a map, in random order), and a large record never overtakes the records aggregated before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from flb_fast.outputs.aws.records import Entry

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_BYTES = 16
# Data of this size or more is not aggregated (Go: defaultMaxAggRecordSize).
MAX_AGGREGATED_DATA_BYTES = 20 * 1024

_KEY_TABLE_TAG = b"\x0a"  # field 1, length-delimited
_RECORDS_TAG = b"\x1a"  # field 3, length-delimited
_KEY_INDEX_TAG = b"\x08"  # Record field 1, varint
_DATA_TAG = b"\x1a"  # Record field 3, length-delimited


_ONE_BYTE_VARINTS = [bytes((value,)) for value in range(0x80)]


def varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    if value < 0x80:
        return _ONE_BYTE_VARINTS[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_size(value: int) -> int:
    return (value.bit_length() + 6) // 7 or 1


def _delimited_size(length: int) -> int:
    """Size of a length-delimited field of ``length`` bytes, its one-byte tag included."""
    return 1 + _varint_size(length) + length


class KplAggregate:
    """One aggregated record being built; knows its exact encoded size at every step."""

    __slots__ = ("keys", "records", "proto_size", "first_key_bytes")

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}
        self.records: list[tuple[int, bytes]] = []
        self.proto_size = 0
        self.first_key_bytes = 0

    @property
    def first_key(self) -> str | None:
        return next(iter(self.keys), None)

    def growth(self, data_size: int, key: str) -> int:
        """Protobuf bytes that one more record of ``data_size`` bytes under ``key`` adds."""
        index = self.keys.get(key)
        added = 0
        if index is None:
            index = len(self.keys)
            added = _delimited_size(len(key.encode()))
        record_size = 1 + _varint_size(index) + _delimited_size(data_size)
        return added + _delimited_size(record_size)

    def size_with(self, growth: int, key: str) -> int:
        """The PutRecords size (data and partition key) of this aggregate grown by ``growth``."""
        key_bytes = self.first_key_bytes or len(key.encode())
        return len(MAGIC) + self.proto_size + growth + DIGEST_BYTES + key_bytes

    def add(self, data: bytes, key: str, growth: int) -> None:
        index = self.keys.get(key)
        if index is None:
            if not self.keys:
                self.first_key_bytes = len(key.encode())
            index = self.keys[key] = len(self.keys)
        self.records.append((index, data))
        self.proto_size += growth

    def encode(self) -> Entry:
        parts: list[bytes] = []
        for key in self.keys:
            raw = key.encode()
            parts += (_KEY_TABLE_TAG, varint(len(raw)), raw)
        for index, data in self.records:
            record = _KEY_INDEX_TAG + varint(index) + _DATA_TAG + varint(len(data))
            parts += (_RECORDS_TAG, varint(len(record) + len(data)), record, data)
        proto = b"".join(parts)
        return Entry(MAGIC + proto + hashlib.md5(proto, usedforsecurity=False).digest(), next(iter(self.keys)))


def kpl_entries(
    items: Sequence[tuple[bytes, str | None]], max_record_bytes: int, random_key: Callable[[], str]
) -> tuple[list[Entry], int]:
    """PutRecords entries for ``items`` (each record's data and its partition key, None when it
    has none), in order, and how many records were too large to send at all."""
    entries: list[Entry] = []
    too_large = 0
    aggregate = KplAggregate()
    for data, key in items:
        if len(data) >= MAX_AGGREGATED_DATA_BYTES:
            if aggregate.records:
                entries.append(aggregate.encode())
                aggregate = KplAggregate()
            alone_key = key or random_key()
            if len(data) + len(alone_key.encode()) > max_record_bytes:
                too_large += 1
            else:
                entries.append(Entry(data, alone_key))
            continue
        record_key = key or aggregate.first_key or random_key()
        growth = aggregate.growth(len(data), record_key)
        if aggregate.records and aggregate.size_with(growth, record_key) > max_record_bytes:
            entries.append(aggregate.encode())
            aggregate = KplAggregate()
            record_key = key or random_key()
            growth = aggregate.growth(len(data), record_key)
        aggregate.add(data, record_key, growth)
    if aggregate.records:
        entries.append(aggregate.encode())
    return entries, too_large
