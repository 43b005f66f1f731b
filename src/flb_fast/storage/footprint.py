"""What a chunk's records really cost in memory, estimated cheaply when the chunk is held.

Fluent Bit counts ``Mem_Buf_Limit`` in msgpack bytes, which are close to the bytes read; flb_fast
holds records as Python dicts and strings, which cost more: ``bench/bench_footprint.py`` measured
2.13 bytes of Python objects per raw byte of Docker JSON lines and 5.91 for short plain lines (a
dict, its key slots and a str header per record, whatever the line's length). Counting raw bytes
would let ``Mem_Buf_Limit 5MB`` hold 11 to 30 MB, so the store counts this estimate instead.

The estimate measures ``SAMPLE_RECORDS`` records of the chunk, one drawn at random from each of
as many equal stretches of it (``sys.getsizeof`` of each record, its keys and its values, nested
dicts and lists included), and scales them to the chunk. An object met in more than one sampled
record (a key string every record shares, the one ``kubernetes`` metadata dict the filter puts in
every record of a pod) is counted once, not per record. The chunk's two lists and its nanosecond
timestamps are counted exactly. The cost is per chunk whatever its size: the walk runs in C
(``_core.footprint_measure``), about 30 µs for eight records the kubernetes filter merged, where
``measure_sample`` (its Python reference) takes 170 µs. ``tests/storage/test_footprint.py``
checks the estimate against ``tracemalloc``'s count of the same records.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from flb_fast.compiled import core_part
from flb_fast.record import Chunk

# Records measured per chunk: 8 keeps the estimate within the factor the tests state for real
# chunks (tests/storage/test_footprint.py) at a few microseconds per chunk.
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
    measured, shared = _measure_sample(sample)
    own = measured - shared
    per_chunk = (2 * POINTER_BYTES + TIMESTAMP_BYTES) * count
    return per_chunk + own * count // len(sample) + shared


def measure_sample(sample: list[Any]) -> tuple[int, int]:
    """``(measured, shared)``: the bytes of the sampled records and all they hold, each object
    counted once, and the part of them met in more than one sampled record. The reference of
    ``_core.footprint_measure``, which the estimate uses when built (the same walk in C, about
    a tenth of the time: bench/README.md)."""
    # Per object id: the bytes counted for it and what it holds when first met (-1 once found
    # shared), and the sampled record it was first met in. Plain dicts of ints, so that measuring
    # allocates no object the garbage collector would track.
    counted: dict[int, int] = {}
    first: dict[int, int] = {}
    moved = [0]
    measured = 0
    for index, record in enumerate(sample):
        measured += _measure(record, index, counted, first, moved, 0)
    return measured, moved[0]


def _measure_compiled(sample: list[Any]) -> tuple[int, int]:
    return _core_measure(sample, MAX_DEPTH)


_core_measure = core_part("footprint_measure")
_measure_sample = measure_sample if _core_measure is None else _measure_compiled


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
