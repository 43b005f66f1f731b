"""``[SERVICE] Memory_Limit`` (flb_fast's own option): a hard cap on the agent's resident memory.

``Mem_Buf_Limit`` bounds what each input's records hold, but not what everything else holds:
filters' caches, records an emitter (``rewrite_tag``) or a multiline buffer keeps, request bodies
an output builds, chunks waiting for a retry. This watches the process as the kernel sees it (its
resident set, ``/proc/self/statm``) and applies backpressure to every input at once, the way one
input's ``Mem_Buf_Limit`` does (Fluent Bit's ``flb_input_pause``/``resume`` with its log lines):

- at ``HIGH_WATER`` of the limit every input pauses (each counts ``memory_limit_pauses``) and the
  open chunks go to the outputs at once, so that what is held can drain;
- below ``LOW_WATER`` of the limit the inputs resume, except those their own limit still holds.
  The gap between the two marks keeps the inputs from flapping at one threshold (the high/low
  watermark flow control of aiohttp's and asyncio's transports).

Memory is read every ``CHECK_SECONDS`` and, in between, whenever the records emitted since the last
read hold ``CHECK_BYTES``, so a fast input cannot outrun the monitor. Python and the C allocator
keep some freed memory, so the resident set may stay above the low-water mark once everything held
is delivered; then the allocator is asked to give back what it keeps (glibc ``malloc_trim``) and
the inputs resume anyway, since pausing longer could not free anything more.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from flb_fast.log import component_logger
from flb_fast.storage.store import ChunkStore
from flb_fast.tasks import cancel_and_wait

# Inputs pause at 70% of the limit. The rest is for what the pipeline adds once they are paused:
# outputs encode the held chunks into requests and keep them across retries (kinesis_streams'
# encoded records, measured 37% of what the held records cost), and a read buffer's records may
# still be on their way through the filters. tests/e2e/test_memory_limit.py checks that the
# process's peak stays under the limit with the output down.
HIGH_WATER = 0.70
# And resume at 55%: far enough below the high-water mark that one resumed read does not pause them again.
LOW_WATER = 0.55
# Reading /proc/self/statm costs a few microseconds; ten times a second is nothing.
CHECK_SECONDS = 0.1
# Records held since the last read that trigger one more (1 MiB, about 1% of a 100M limit).
CHECK_BYTES = 1024 * 1024
STATM = "/proc/self/statm"
_MB = 1000 * 1000


class MemoryLimitError(Exception):
    """The platform cannot tell the process's resident memory (no ``/proc/self/statm``)."""


class MemoryLimit:
    """Pauses every input of ``store`` while the process's resident memory is near ``limit`` bytes.

    ``idle`` says whether nothing is held anywhere (no record in the store, no delivery, no batch in
    the filters); ``on_pause`` sends the open chunks to the outputs.
    """

    def __init__(self, limit: int, store: ChunkStore, idle: Callable[[], bool], on_pause: Callable[[], None]) -> None:
        self.limit = limit
        self.high_water = int(limit * HIGH_WATER)
        self.low_water = int(limit * LOW_WATER)
        self.store = store
        self.idle = idle
        self.on_pause = on_pause
        self.log = component_logger("engine")
        self.paused = False
        self._since_check = 0
        self._page_size = os.sysconf("SC_PAGE_SIZE")
        try:
            self._statm = os.open(STATM, os.O_RDONLY)
        except OSError as exc:
            raise MemoryLimitError(f"Memory_Limit needs {STATM} to read the agent's memory: {exc}") from exc
        self._task: asyncio.Task[None] | None = None
        self._trimmed = False

    def rss(self) -> int:
        """The process's resident memory in bytes (the second field of statm, in pages)."""
        return int(os.pread(self._statm, 128, 0).split()[1]) * self._page_size

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        os.close(self._statm)

    def grew(self, held: int) -> None:
        """Records holding ``held`` more bytes were emitted; read the memory once ``CHECK_BYTES`` were."""
        self._since_check += held
        if self._since_check >= CHECK_BYTES:
            self.check()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            self.check()

    def check(self) -> None:
        self._since_check = 0
        rss = self.rss()
        if not self.paused:
            if rss >= self.high_water:
                self.paused = True
                self._trimmed = False
                self.log.warning("memory %s reached %s, the high-water mark of Memory_Limit %s: pausing all inputs",
                                 _mb(rss), _mb(self.high_water), _mb(self.limit))
                self.store.hold_inputs("memory limit")
                self.on_pause()
            return
        if rss >= self.low_water and self.idle() and not self._trimmed:
            self._trimmed = True
            _trim()
            rss = self.rss()
        if rss < self.low_water:
            self.log.info("memory %s below %s, the low-water mark of Memory_Limit %s: resuming all inputs",
                          _mb(rss), _mb(self.low_water), _mb(self.limit))
        elif self.idle():
            self.log.warning("memory %s with nothing held stays above %s, the low-water mark of Memory_Limit %s: "
                             "resuming all inputs (the limit leaves little room for records)",
                             _mb(rss), _mb(self.low_water), _mb(self.limit))
        else:
            return
        self.paused = False
        self.store.release_inputs("memory limit")


def _mb(size: int) -> str:
    """In the decimal megabytes of a size option (``Memory_Limit 200M`` is 200,000,000 bytes)."""
    return f"{size / _MB:.1f}MB"


def _trim() -> None:
    """Ask glibc's allocator to return the free memory it keeps to the system (nothing elsewhere)."""
    import ctypes

    malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if malloc_trim is not None:
        malloc_trim(0)
