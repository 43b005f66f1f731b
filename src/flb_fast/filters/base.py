"""The filter plugin protocol."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from flb_fast.config.options import OptionTable
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

if TYPE_CHECKING:
    from flb_fast.inputs.emitter import EmitterInput


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
        self.emitter: EmitterInput | None = None

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
