"""Background tasks of plugins and the engine: one way to end them.

Every plugin that runs a timer, a watch or a fetch of its own stops it the same way at
shutdown: cancel it and wait until it has finished, whatever it ended with.
"""

from __future__ import annotations

import asyncio


async def cancel_and_wait(*tasks: asyncio.Task | None) -> None:
    """Cancel ``tasks`` (``None`` entries are skipped) and return once each has finished.

    What a task ended with (its cancellation, an exception) is taken here, so nothing is logged
    as "never retrieved"; a cancellation of the caller itself still propagates, which
    ``contextlib.suppress(CancelledError)`` around ``await task`` would swallow.
    """
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    if not running:
        return
    await asyncio.wait(running)
    for task in running:
        if not task.cancelled():
            task.exception()
