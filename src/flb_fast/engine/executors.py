"""Bounded thread pools for blocking calls (boto3, file-system scans), kept off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BoundedExecutor:
    """A named pool of at most ``max_workers`` threads; ``run`` awaits one call on it."""

    def __init__(self, name: str, max_workers: int) -> None:
        self.name = name
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"flb-{name}")

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        """Queue one call without waiting for it; with one worker, calls run in the order queued."""
        return self._pool.submit(func, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
