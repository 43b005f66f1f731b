"""KPL aggregated records (the Go kinesis plugin's ``aggregation``), checked with a protobuf
decoder written here, independent of the encoder, and against the Go plugin's own size tests."""

from __future__ import annotations

import hashlib
import itertools
import zlib
from typing import Any

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.aws.records import Entry
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.kinesis_streams import GoKinesisOutput
from flb_fast.outputs.kinesis_streams.batch import MAX_RECORD_BYTES
from flb_fast.outputs.kinesis_streams.kpl import MAX_AGGREGATED_DATA_BYTES, kpl_entries, varint
from tests.outputs.aws.harness import chunk_of, flush_all
from tests.outputs.kinesis_streams.test_kinesis_streams import arrived, create_stream, kinesis

KPL_MAGIC = bytes.fromhex("f3899ac2")


def read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, position


def protobuf_fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, value) of a protobuf message with varint and length-delimited fields."""
    fields: list[tuple[int, Any]] = []
    position = 0
    while position < len(data):
        tag, position = read_varint(data, position)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = read_varint(data, position)
        elif wire_type == 2:
            length, position = read_varint(data, position)
            value, position = data[position : position + length], position + length
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.append((number, value))
    return fields


def deaggregate(data: bytes) -> tuple[list[str], list[tuple[int, bytes]]]:
    """Partition key table and (key index, data) records of a KPL aggregated record."""
    assert data[:4] == KPL_MAGIC
    proto, digest = data[4:-16], data[-16:]
    assert hashlib.md5(proto).digest() == digest
    keys: list[str] = []
    records: list[tuple[int, bytes]] = []
    for number, value in protobuf_fields(proto):
        if number == 1:
            keys.append(value.decode())
        elif number == 3:
            record = dict(protobuf_fields(value))
            records.append((record[1], record[3]))
        else:
            raise AssertionError(f"unexpected field {number}")
    return keys, records


def user_records(entries: list[dict[str, Any]] | list[Entry]) -> list[tuple[str, bytes]]:
    """(partition key, data) of every user record in arrived records or entries, in order."""
    out: list[tuple[str, bytes]] = []
    for entry in entries:
        data = entry["data"] if isinstance(entry, dict) else entry.data
        keys, records = deaggregate(data)
        out += [(keys[index], payload) for index, payload in records]
    return out


def counter_keys() -> Any:
    numbers = itertools.count()
    return lambda: f"random-{next(numbers)}"


def test_varints_are_base_128_little_endian() -> None:
    assert [varint(n) for n in (0, 1, 127, 128, 300, 16384)] == [
        b"\x00",
        b"\x01",
        b"\x7f",
        b"\x80\x01",
        b"\xac\x02",
        b"\x80\x80\x01",
    ]


def test_one_record_encodes_to_the_exact_kpl_bytes() -> None:
    (entry,), too_large = kpl_entries([(b"test value", "k")], MAX_RECORD_BYTES, counter_keys())
    proto = bytes.fromhex("0a016b") + bytes.fromhex("1a0e08001a0a") + b"test value"
    assert entry == Entry(KPL_MAGIC + proto + hashlib.md5(proto).digest(), "k")
    assert too_large == 0


def test_protobuf_sizes_match_the_go_plugins_tests() -> None:
    # aggregate/aggregator_test.go: 36 bytes for "test value" under an 18-character random
    # key, 76 once "test value 2" is added under "test partition key 2".
    random_key = lambda: "r" * 18  # noqa: E731
    (one,), _ = kpl_entries([(b"test value", None)], MAX_RECORD_BYTES, random_key)
    (two,), _ = kpl_entries(
        [(b"test value", None), (b"test value 2", "test partition key 2")], MAX_RECORD_BYTES, random_key
    )
    assert len(one.data) - len(KPL_MAGIC) - 16 == 36
    assert len(two.data) - len(KPL_MAGIC) - 16 == 76


def test_records_without_a_key_share_the_aggregates_first_key() -> None:
    items = [(b"a", None), (b"b", "pod-1"), (b"c", None), (b"d", "pod-1"), (b"e", "pod-2")]
    (entry,), _ = kpl_entries(items, MAX_RECORD_BYTES, counter_keys())
    keys, records = deaggregate(entry.data)
    assert entry.key == "random-0"
    assert keys == ["random-0", "pod-1", "pod-2"]
    assert records == [(0, b"a"), (1, b"b"), (0, b"c"), (1, b"d"), (2, b"e")]


def test_the_aggregates_partition_key_is_its_first_records_key() -> None:
    (entry,), _ = kpl_entries([(b"a", "pod-9"), (b"b", None)], MAX_RECORD_BYTES, counter_keys())
    assert entry.key == "pod-9"
    assert user_records([entry]) == [("pod-9", b"a"), ("pod-9", b"b")]


def _filling_items(last_size: int) -> list[tuple[bytes, str | None]]:
    # 52 records of 20,000 bytes take 20,010 bytes each in the protobuf (tag, length, key index
    # and data tags); with the magic, the digest, the key table ("k": 3 bytes) and the key
    # itself (1 byte) that is 1,040,544 bytes, and a last record of 8,024 bytes takes 8,032:
    # exactly 1 MiB.
    return [(bytes([65 + i % 26]) * 20_000, "k") for i in range(52)] + [(b"z" * last_size, "k")]


def test_an_aggregate_of_exactly_1_mib_with_its_partition_key_is_one_record() -> None:
    entries, _ = kpl_entries(_filling_items(8_024), MAX_RECORD_BYTES, counter_keys())
    assert len(entries) == 1
    assert len(entries[0].data) + len(entries[0].key.encode()) == MAX_RECORD_BYTES
    assert len(user_records(entries)) == 53


def test_one_byte_more_starts_a_second_aggregate() -> None:
    entries, _ = kpl_entries(_filling_items(8_025), MAX_RECORD_BYTES, counter_keys())
    assert [len(deaggregate(entry.data)[1]) for entry in entries] == [52, 1]
    assert all(len(entry.data) + len(entry.key.encode()) <= MAX_RECORD_BYTES for entry in entries)
    assert user_records(entries) == [("k", data) for data, _ in _filling_items(8_025)]


def test_a_keyless_record_opening_a_new_aggregate_gets_a_new_random_key() -> None:
    items = [(b"x" * 20_000, None) for _ in range(60)]
    entries, _ = kpl_entries(items, MAX_RECORD_BYTES, counter_keys())
    assert [entry.key for entry in entries] == ["random-0", "random-1"]


def test_data_of_20_kib_is_sent_alone_and_in_order() -> None:
    big = b"B" * MAX_AGGREGATED_DATA_BYTES
    largest_aggregated = b"s" * (MAX_AGGREGATED_DATA_BYTES - 1)
    items = [(b"a", "k"), (big, None), (largest_aggregated, "k")]
    first, alone, last = kpl_entries(items, MAX_RECORD_BYTES, counter_keys())[0]
    assert user_records([first]) == [("k", b"a")]
    assert alone == Entry(big, "random-0")
    assert user_records([last]) == [("k", largest_aggregated)]


def test_a_record_over_the_record_size_with_its_key_is_dropped_and_counted() -> None:
    items = [(b"x" * (MAX_RECORD_BYTES - 3), "key"), (b"y" * (MAX_RECORD_BYTES - 2), "key")]
    entries, too_large = kpl_entries(items, MAX_RECORD_BYTES, counter_keys())
    assert entries == [Entry(b"x" * (MAX_RECORD_BYTES - 3), "key")]
    assert too_large == 1


def test_aggregated_records_arrive_in_kinesis_and_deaggregate_exactly(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, aggregation="on", partition_key="kubernetes->pod_name")
    records = [{"kubernetes": {"pod_name": f"web-{i % 3}"}, "n": i} for i in range(1000)] + [{"n": "no pod"}]
    assert run(flush_all(output, chunk_of(records))) == [FlushResult.OK]
    (aggregate,) = arrived(moto)
    assert aggregate["key"] == "web-0"
    assert output.config_warnings == []
    expected = [
        (f"web-{i % 3}", f'{{"kubernetes":{{"pod_name":"web-{i % 3}"}},"n":{i}}}'.encode()) for i in range(1000)
    ]
    assert user_records([aggregate]) == [*expected, ("web-0", b'{"n":"no pod"}')]


def test_zlib_compresses_each_record_inside_the_aggregate(moto, run) -> None:
    create_stream(moto)
    output = kinesis(moto.url, GoKinesisOutput, aggregation="on", compression="zlib", append_newline="on")
    assert run(flush_all(output, chunk_of([{"n": 1}, {"n": 2}]))) == [FlushResult.OK]
    (aggregate,) = arrived(moto)
    assert [zlib.decompress(data) for _, data in user_records([aggregate])] == [b'{"n":1}\n', b'{"n":2}\n']


def test_aggregation_and_simple_aggregation_together_are_a_config_error() -> None:
    with pytest.raises(PluginConfigError) as error:
        kinesis("http://127.0.0.1:1", GoKinesisOutput, aggregation="on", simple_aggregation="on")
    assert error.value.option == "aggregation"
