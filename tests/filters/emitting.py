"""Run a built pipeline on the real engine until its outputs hold what a test waits for: the
filters that re-emit records (rewrite_tag, multiline) are only whole with their emitter inputs,
the engine's routing and the filters the re-emitted records go through again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flb_fast.engine.engine import Engine
from flb_fast.engine.pipeline import Pipeline
from tests.engine.test_engine import until


def drive(run: Callable[..., Any], built: Pipeline, feed: Callable[[Pipeline], None],
          done: Callable[[Pipeline], bool]) -> None:
    """Start the engine, ``feed`` the inputs, wait until ``done`` holds, then stop within Grace."""

    async def scenario() -> None:
        engine = Engine(built)
        await engine.start()
        try:
            feed(built)
            await until(lambda: done(built))
        finally:
            await engine.stop()

    run(scenario())


def delivered(built: Pipeline, output: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(tag, record) pairs a scripted output received, in delivery order."""
    return [(tag, record) for _, tag, records in built.outputs[output].plugin.flushes for record in records]
