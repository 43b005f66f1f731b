"""The output plugin protocol."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from flb_fast.config.options import OptionTable
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk


class FlushResult(enum.Enum):
    """Fluent Bit's FLB_OK / FLB_RETRY / FLB_ERROR: delivered, try again later, give up."""

    OK = "ok"
    RETRY = "retry"
    ERROR = "error"


class Output(ABC):
    """An output delivers chunks. The engine runs up to ``concurrent_flushes(Workers)`` flushes
    at once and retries a chunk whose flush returned RETRY with backoff, up to ``Retry_Limit``.

    An output that splits a chunk over several requests may remember, by ``chunk.id``, which
    parts were accepted, so that a retry sends only the rest (no duplicates on partial success).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    OPTIONS: ClassVar[OptionTable]
    default_workers: ClassVar[int] = 1
    # Fluent Bit's FLB_IO_TLS plugin flag: without it, ``tls on`` is a configuration error (the
    # AWS outputs other than s3 open their own TLS connections and refuse it too).
    supports_tls: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        self.ctx = ctx
        self.options = options

    async def start(self) -> None:
        """Create clients and open files; the default needs none."""

    @abstractmethod
    async def flush(self, chunk: Chunk) -> FlushResult:
        """Deliver one chunk; never raises for delivery problems (return RETRY or ERROR)."""

    def concurrent_flushes(self, workers: int) -> int:
        """How many flushes of this output the engine runs at once: by default one per worker, so
        an output whose flushes share a file or a stream never interleaves them. An output whose
        flushes are independent requests, each on a connection of its own, may run more per worker,
        as Fluent Bit runs every flush as a coroutine of a worker (``flb_engine_dispatch.c``)."""
        return workers

    def upstream_connections(self) -> tuple[int, int]:
        """(open, busy) connections to the destination, as ``fluentbit_output_upstream_*_connections``
        report them; an output that writes locally (stdout, file, null) has none."""
        return 0, 0

    def forget(self, chunk: Chunk) -> None:
        """The engine is done with ``chunk`` (delivered or dropped): drop any per-chunk progress."""

    async def stop(self) -> None:
        """Flush internal buffers and close clients."""
