"""The filter plugin protocol."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from flb_fast.config.options import OptionTable
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk


class Emitter(Protocol):
    """Where a re-emitting filter puts records back into the pipeline: its emitter input
    (``inputs/emitter.py``) or, for a filter in an input's processors list, that input itself."""

    # A hook the filter sets: emit what it still holds, when the agent stops.
    on_stop: Callable[[], None] | None

    @property
    def instance_name(self) -> str:
        """The input name the emitted records carry (``Chunk.input_name``)."""

    def add(self, tag: str, timestamps: list[int], records: list[dict[str, Any]], sender: str | None) -> None:
        """Emit records under ``tag`` on behalf of the input named ``sender``."""


class Filter(ABC):
    """A filter works on a whole chunk: it modifies records in place (``chunk.records``),
    drops records (``chunk.keep(mask)``) or returns ``None`` to drop the chunk entirely.

    It is async so that a filter waiting on something (pod metadata) never blocks the loop;
    the engine counts ``drop_records`` and ``add_records`` from the record count before and after.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    OPTIONS: ClassVar[OptionTable]

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        self.ctx = ctx
        self.options = options
        # The emitter input the pipeline gives a filter whose ``uses_emitter`` is true, before start().
        self.emitter: Emitter | None = None

    @property
    def uses_emitter(self) -> bool:
        """True for a filter that re-emits records through an emitter input of its own
        (its options then include ``config.common.EMITTER_OPTIONS``)."""
        return False

    async def start(self) -> None:
        """Open connections or caches the filter needs; the default needs none."""

    @abstractmethod
    async def filter(self, chunk: Chunk) -> Chunk | None:
        """Return the (possibly modified) chunk, or None when every record is dropped."""

    async def stop(self) -> None:
        """Release what ``start`` opened."""
