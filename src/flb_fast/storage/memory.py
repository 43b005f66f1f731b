"""``storage.type memory``: a chunk's records live only in the process (Fluent Bit's default).

Nothing survives a crash here, so the store acknowledges a memory chunk's input positions only
once every output has taken it: after a ``kill -9`` the input reads those records again.
"""

from __future__ import annotations


class MemoryBackend:
    """The storage backend with no files: ``create`` gives no handle, so nothing is written or loaded."""

    # Records are not safe until delivered (see the module docstring).
    durable = False

    def create(self, chunk_id: int, tag: str, input_name: str) -> None:
        return None
