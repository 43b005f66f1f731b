"""What a chunk's records really cost in memory, estimated cheaply when the chunk is held.

Fluent Bit counts ``Mem_Buf_Limit`` in msgpack bytes, which are close to the bytes read; flb_fast
holds records as Python dicts and strings, which cost more: ``bench/bench_footprint.py`` measured
2.13 bytes of Python objects per raw byte of Docker JSON lines and 5.91 for short plain lines (a
dict, its key slots and a str header per record, whatever the line's length). Counting raw bytes
would let ``Mem_Buf_Limit 5MB`` hold 11 to 30 MB, so the store counts this estimate instead.

The estimate measures a few records of the chunk spread evenly over it (``sys.getsizeof`` of each
record, its keys and its values, nested dicts and lists included) and scales them to the chunk.
An object met in more than one sampled record (a key string every record shares, the one
``kubernetes`` metadata dict the filter puts in every record of a pod) is counted once, not per
record. The chunk's two lists and its nanosecond timestamps are counted exactly. The cost is a
few microseconds per chunk whatever its size; ``tests/storage/test_footprint.py`` checks the
estimate against ``tracemalloc``'s count of the same records.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from flb_fast.record import Chunk

# Records measured per chunk: 8 keeps the estimate within the factor the tests state for real
# chunks (tests/storage/test_footprint.py) at a few microseconds per chunk.
SAMPLE_RECORDS = 8
# Objects walked per sampled record at most: a record nested deeper or wider than this (hostile
# JSON merged into it) is counted up to here; the process's Memory_Limit bounds the rest.
MAX_OBJECTS_PER_RECORD = 512
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
    # Per object id: its size, in how many sampled records it was met, and the last one. Plain
    # dicts of ints, so that measuring allocates no object the garbage collector would track.
    sizes: dict[int, int] = {}
    met: dict[int, int] = {}
    last: dict[int, int] = {}
    for index, record in enumerate(sample):
        _walk(record, index, sizes, met, last)
    own = shared = 0
    for key, size in sizes.items():
        if met[key] > 1:
            shared += size
        else:
            own += size
    per_chunk = (2 * POINTER_BYTES + TIMESTAMP_BYTES) * count
    return per_chunk + own * count // len(sample) + shared


def _walk(record: Any, index: int, sizes: dict[int, int], met: dict[int, int], last: dict[int, int]) -> None:
    stack = [record]
    budget = MAX_OBJECTS_PER_RECORD
    while stack and budget:
        obj = stack.pop()
        budget -= 1
        key = id(obj)
        seen_in = last.get(key)
        if seen_in is None:
            sizes[key] = _getsizeof(obj)
            met[key] = 1
        elif seen_in == index:
            continue  # met twice in one record: counted and walked already
        else:
            # Met in another record too: shared, and so is everything in it.
            met[key] += 1
        last[key] = index
        if isinstance(obj, dict):
            stack.extend(obj)
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple):
            stack.extend(obj)
