"""What a chunk's records really cost in memory, estimated cheaply when the chunk is held.

Fluent Bit counts ``Mem_Buf_Limit`` in msgpack bytes, which are close to the bytes read; flb_fast
holds records as Python dicts and strings, which cost more: ``bench/bench_footprint.py`` measured
2.13 bytes of Python objects per raw byte of Docker JSON lines and 5.91 for short plain lines (a
dict, its key slots and a str header per record, whatever the line's length). Counting raw bytes
would let ``Mem_Buf_Limit 5MB`` hold 11 to 30 MB, so the store counts this estimate instead.

The estimate counts exactly what differs most from record to record: each record's str and bytes
values (the line itself, whose length decides most of a record's cost). What the records hold
besides (their dicts, keys, nested dicts and lists and what they hold, other values) is
measured on ``SAMPLE_RECORDS`` records of the chunk, one drawn at random from each of as many equal
stretches of it (``sys.getsizeof`` of each object, nested dicts and lists included), and scaled to
the chunk. Sampling the lines as well made the estimate of a batch swing by 59% (coefficient of
variation, kubernetes workload of ``bench/bench_pipeline.py``: 1% of its lines are 4-16 KB long and
decide a sample), and the bytes held against ``Mem_Buf_Limit`` with it. An object met more than once
(a key string every record shares, the one ``kubernetes`` metadata dict the filter puts in every
record of a pod, a value two records share) is counted once, not per record. The chunk's two lists
and its nanosecond timestamps are counted exactly. The walk runs in C (``_core.footprint_measure``,
reading an ASCII str's size from its header): about 0.04 µs per record besides a few µs per chunk.
``measure_chunk`` is its Python reference.
``tests/storage/test_footprint.py`` checks the estimate against ``tracemalloc``'s count of the same
records.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.record import Chunk

# Records whose nested objects are measured per chunk: 8 keeps the estimate within the factor the
# tests state for real chunks (tests/storage/test_footprint.py) at a few microseconds per chunk.
SAMPLE_RECORDS = 8
# Nesting measured at most: deeper containers (hostile JSON merged into a record) count as their
# own size only; the process's Memory_Limit bounds the rest.
MAX_DEPTH = 16
# A list slot (records, timestamps) is one pointer.
POINTER_BYTES = 8
# A timestamp in nanoseconds since 1970 is an int of two 30-bit digits: sys.getsizeof(1 << 60).
TIMESTAMP_BYTES = sys.getsizeof(1 << 60)

_getsizeof = sys.getsizeof
_random = random.random


def footprint(chunk: Chunk) -> int:
    """Bytes of Python objects ``chunk``'s records and timestamps hold (an estimate, see the module)."""
    records = chunk.records
    count = len(records)
    if not count:
        return 0
    if count <= SAMPLE_RECORDS:
        sample = records
    else:
        # One record drawn at random from each of SAMPLE_RECORDS equal stretches of the chunk: an
        # unbiased estimate whatever the order of long and short lines in it.
        stretch = count / SAMPLE_RECORDS
        sample = [records[int(stretch * n + _random() * stretch)] for n in range(SAMPLE_RECORDS)]
    exact, measured, shared = _measure_chunk(records, sample)
    own = measured - shared
    per_chunk = (2 * POINTER_BYTES + TIMESTAMP_BYTES) * count
    return per_chunk + exact + own * count // len(sample) + shared


def measure_chunk(records: list[Any], sample: list[Any]) -> tuple[int, int, int]:
    """``(exact, measured, shared)``: the bytes of every record's str and bytes values; the bytes
    of all else the sampled records (some of ``records``) hold; and the part of those met in more
    than one sampled record. Each object is counted once. The reference of
    ``_core.footprint_measure``, which the estimate uses when built (the same walk in C)."""
    # Per object id: the bytes counted for it and what it holds when first met (-1 once found
    # shared or counted exactly), and the sampled record it was first met in; and the ids of the
    # records whose values were counted. Plain dicts and a set of ints, so that measuring
    # allocates no object the garbage collector would track.
    counted: dict[int, int] = {}
    first: dict[int, int] = {}
    seen: set[int] = set()
    exact = 0
    for record in records:
        if type(record) is dict and id(record) not in seen:
            seen.add(id(record))
            for value in record.values():
                if (type(value) is str or type(value) is bytes) and id(value) not in counted:
                    counted[id(value)] = -1
                    first[id(value)] = -1
                    exact += _getsizeof(value)
    moved = [0]
    measured = 0
    for index, record in enumerate(sample):
        measured += _measure(record, index, counted, first, moved, 0)
    return exact, measured, moved[0]


def _measure_compiled(records: list[Any], sample: list[Any]) -> tuple[int, int, int]:
    return _core_measure(records, sample, MAX_DEPTH)


_core_measure = core_part("footprint_measure")
_measure_chunk = measure_chunk if _core_measure is None else _measure_compiled


def _measure(obj: Any, index: int, counted: dict[int, int], first: dict[int, int], moved: list[int],
             depth: int) -> int:
    """Bytes of ``obj`` and what it holds not met before; what was met in another sampled record
    moves (once, with all it holds) from the records' own bytes to the shared ones."""
    key = id(obj)
    before = counted.get(key)
    if before is not None:
        if before >= 0 and first[key] != index:
            moved[0] += before
            counted[key] = -1
        return 0
    total = _getsizeof(obj)
    if depth < MAX_DEPTH:
        if type(obj) is dict:
            for child in obj:
                total += _measure(child, index, counted, first, moved, depth + 1)
            for child in obj.values():
                total += _measure(child, index, counted, first, moved, depth + 1)
        elif type(obj) is list:
            for child in obj:
                total += _measure(child, index, counted, first, moved, depth + 1)
    counted[key] = total
    first[key] = index
    return total
