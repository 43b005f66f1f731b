"""One ``asyncio.Lock`` per key (a log stream, an S3 tag), for as long as it is used.

The locks are held in a ``WeakValueDictionary``: a task holding or waiting on a key's lock keeps it
alive, so every task asking for a key while it is in use gets the same lock, and the lock goes once
nobody uses it. The keys seen over a run (a stream or a tag per container) do not accumulate.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """``locks(key)``: the key's lock, the same one for every task while any holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[K, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def __len__(self) -> int:
        return len(self._locks)
