"""One acknowledgement shared by an input's batch and the records filters re-emit from it.

A filter that re-emits records through an emitter input (``rewrite_tag``, ``multiline`` in
buffered mode) makes new chunks, of the emitter input, out of an input's batch. The batch's
positions (a tail offset) must wait for those chunks too: acknowledged when the original chunk
alone is done, an offset could be committed while its lines' re-emitted copies are still on their
way (with ``Keep false`` the original chunk may even be empty and acknowledged at once), and a
crash would lose them. Fluent Bit has no such link: its emitter chunks are independent of the
input's offsets.

While the engine filters a batch, its positions are wrapped in a ``JointAck`` (``Filtering``);
every chunk or buffer that must be done first takes ``hold()`` and carries the ``JointAck`` among
its positions. The store's acknowledgement of such a chunk (``acknowledge``) releases it; the
input is acknowledged when the batch's own chunk and every hold are done.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

# The batch the engine is filtering in the current task (each input's filter task has its own).
_FILTERING: ContextVar[JointAck | None] = ContextVar("flb_fast_filtering", default=None)


class JointAck:
    """An input's positions for one batch, acknowledged once every part holding them is done."""

    __slots__ = ("plugin", "positions", "parts")

    def __init__(self, plugin: Any, positions: list[Any]) -> None:
        self.plugin = plugin
        self.positions = positions
        # The batch's own chunk is the first part.
        self.parts = 1

    def hold(self) -> JointAck:
        """One more part to wait for; carry the result among a chunk's positions (or release it)."""
        self.parts += 1
        return self

    def release(self) -> None:
        self.parts -= 1
        if self.parts == 0:
            acknowledge(self.plugin, self.positions)


def acknowledge(plugin: Any, positions: list[Any]) -> None:
    """Acknowledge ``positions`` to the input ``plugin``; a ``JointAck`` among them is released instead."""
    own = [position for position in positions if not isinstance(position, JointAck)]
    if len(own) != len(positions):
        for position in positions:
            if isinstance(position, JointAck):
                position.release()
    if own:
        plugin.acknowledge(own)


def current_batch() -> JointAck | None:
    """The batch being filtered in this task, if it has positions: an emitter ``hold()``s it."""
    return _FILTERING.get()


class Filtering:
    """``with Filtering(plugin, positions) as batch:`` around the filters of one batch; afterwards
    ``batch.positions`` are what the batch's own chunk carries: its positions, or the
    ``JointAck`` when a filter took a hold on it."""

    __slots__ = ("_joint", "_token", "_positions")

    def __init__(self, plugin: Any, positions: list[Any]) -> None:
        self._positions = positions
        self._joint = JointAck(plugin, positions) if positions else None
        self._token: Token[JointAck | None] | None = None

    def __enter__(self) -> Filtering:
        self._token = _FILTERING.set(self._joint)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._token is not None
        _FILTERING.reset(self._token)

    @property
    def positions(self) -> list[Any]:
        joint = self._joint
        return [joint] if joint is not None and joint.parts > 1 else self._positions
