"""Per-input chunks and the byte accounting ``Mem_Buf_Limit`` is checked against.

An input's bytes are *held* from the moment it emits them until every output that matched
them is done with them (delivered, or dropped after its retries); that is Fluent Bit's
``mem_chunks_size``. Batches of one tag gather in one open chunk until the flush timer, a
full chunk or backpressure sends it to the outputs.
"""

from __future__ import annotations

from flb_fast.record import Chunk

# Fluent Bit closes a chunk once it holds about 2 MB (FLB_INPUT_CHUNK_FS_MAX_SIZE, 2048000,
# include/fluent-bit/flb_input_chunk.h), so no single chunk grows without bound.
CHUNK_MAX_BYTES = 2_048_000


class InputBuffer:
    """One input's open chunks (by tag) and the bytes it holds against its ``Mem_Buf_Limit``."""

    __slots__ = ("limit", "held", "open", "paused")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        # tag -> [open chunk, bytes held for it]; the held bytes may differ from chunk.size
        # when a filter replaced the chunk, and it is the held bytes that are released.
        self.open: dict[str, list] = {}
        self.paused = False

    @property
    def over_limit(self) -> bool:
        return 0 < self.limit <= self.held

    def hold(self, size: int) -> None:
        self.held += size

    def release(self, size: int) -> None:
        self.held -= size

    def append(self, chunk: Chunk, held: int) -> bool:
        """Add a routed batch to its tag's open chunk; True when that chunk is now full."""
        entry = self.open.get(chunk.tag)
        if entry is None:
            self.open[chunk.tag] = entry = [chunk, held]
        else:
            entry[0].extend(chunk)
            entry[1] += held
        return entry[0].size >= CHUNK_MAX_BYTES

    def take(self, tag: str) -> tuple[Chunk, int]:
        chunk, held = self.open.pop(tag)
        return chunk, held

    def tags(self) -> list[str]:
        return list(self.open)
