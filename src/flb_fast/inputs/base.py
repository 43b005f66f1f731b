"""The input plugin protocol."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from flb_fast.config.options import OptionTable
from flb_fast.plugin import PluginContext


class Input(ABC):
    """An input reads records and passes them, a batch (``Chunk``) at a time, to ``ctx.emit``.

    The engine calls ``pause()`` when the input's buffered bytes reach ``Mem_Buf_Limit`` and
    ``resume()`` when the outputs have drained them. A paused input reads nothing more (a tail
    input keeps its file offsets where they are) and so loses nothing. ``stop()`` emits what is
    still pending (Docker_Mode and multiline buffers) before it returns.

    Every chunk may carry ``positions`` (the input's own marks, such as a file offset); the engine
    hands them back through ``acknowledge()`` once the records are safe (every output took them,
    or they are in a chunk file), and only then may the input commit them. Acknowledgements keep
    coming after ``stop()`` while the engine finishes its deliveries; ``close()`` comes last.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    OPTIONS: ClassVar[OptionTable]
    # Fluent Bit's FLB_IO_TLS plugin flag: without it, ``tls on`` is a configuration error.
    supports_tls: ClassVar[bool] = False

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        self.ctx = ctx
        self.options = options
        self.paused = False

    @abstractmethod
    async def start(self) -> None:
        """Begin reading; returns once the input's own tasks are running."""

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def acknowledge(self, positions: list[Any]) -> None:
        """These positions' records are safe: commit them (an input without positions ignores this)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop reading and emit pending partial records."""

    async def close(self) -> None:
        """After the engine's last delivery: release what ``stop()`` kept for acknowledgements."""
