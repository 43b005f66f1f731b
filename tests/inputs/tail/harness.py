"""An in-process tail input: real files, a real loop, an ``emit`` that collects the chunks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from flb_fast.config.common import plugin_table
from flb_fast.config.model import Property, Section
from flb_fast.config.service import SERVICE_OPTIONS
from flb_fast.inputs.tail import TailInput
from flb_fast.log import plugin_logger
from flb_fast.metrics import Counters
from flb_fast.parsers import create_parser
from flb_fast.parsers.base import ParserRegistry
from flb_fast.parsers.multiline import builtin_multiline_parsers
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

DOCKER_PARSER = [("name", "docker"), ("format", "json"), ("time_key", "time"),
                 ("time_format", "%Y-%m-%dT%H:%M:%S.%L"), ("time_keep", "On")]
# Docker_Mode_Parser sees the raw JSON line (Fluent Bit 4.2.8), so a first line is matched there.
FIRSTLINE_PARSER = [("name", "firstline"), ("format", "regex"), ("regex", r'^\{"log":"(?<start>\d{4}-\d\d-\d\d) ')]


def consecutive_starts(lines: list[bytes], first_offset: int) -> list[int]:
    """Each line's file offset when the lines follow one another from ``first_offset``, each
    ended by a newline alone (no ``"\\r"``, no line skipped between them)."""
    return list(accumulate((len(line) + 1 for line in lines[:-1]), initial=first_offset)) if lines else []


def registry(more: list[list[tuple[str, str]]] | None = None) -> ParserRegistry:
    """The stock ``docker`` parser (Fluent Bit's conf/parsers.conf), a first-line regex parser,
    the ``[PARSER]`` sections in ``more`` and the built-in multiline parsers (go, java, python, ruby)."""
    parsers = ParserRegistry()
    for spec in (DOCKER_PARSER, FIRSTLINE_PARSER, *(more or [])):
        parsers.add(create_parser(Section("parser", [Property(key, value) for key, value in spec])))
    for multiline in builtin_multiline_parsers():
        parsers.add_multiline(multiline)
    return parsers


def bind(properties: list[tuple[str, str]]) -> Any:
    options, _warnings = plugin_table("input", TailInput.OPTIONS).bind(
        [Property(key, value, "test.conf", number) for number, (key, value) in enumerate(properties, 1)], "input tail"
    )
    return options


class Harness:
    """One TailInput whose chunks land in ``self.chunks``; ``on_emit`` runs inside each emit.

    Each chunk is acknowledged as soon as it is emitted (an engine whose outputs take everything
    at once), unless ``acknowledge`` is False: then the test acknowledges ``chunk.positions``.
    ``exit_requests`` holds, for each time the input asked the agent to stop, how many records it
    had emitted by then.
    """

    def __init__(self, properties: list[tuple[str, str]], on_emit: Callable[[Chunk], None] | None = None,
                 acknowledge: bool = True, parsers: list[list[tuple[str, str]]] | None = None) -> None:
        self.chunks: list[Chunk] = []
        self.on_emit = on_emit
        self.acknowledge = acknowledge
        self.metrics = Counters(records=0, bytes=0)
        self.exit_requests: list[int] = []
        self.ctx = PluginContext(
            kind="input", plugin="tail", instance="tail.0", display_name="tail.0",
            log=plugin_logger("input", "tail", "tail.0"), metrics=self.metrics, parsers=registry(parsers),
            service=SERVICE_OPTIONS.bind([], "[SERVICE]")[0], emit=self._emit,
            request_exit=lambda: self.exit_requests.append(len(self.records)),
        )
        self.input = TailInput(self.ctx, bind([("name", "tail"), *properties]))

    def _emit(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)
        if self.on_emit is not None:
            self.on_emit(chunk)
        if self.acknowledge:
            self.input.acknowledge(chunk.positions)

    async def stop(self) -> None:
        """Stop the input and close it, as the engine does once its deliveries are over."""
        await self.input.stop()
        await self.input.close()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for chunk in self.chunks for record in chunk.records]

    @property
    def timestamps(self) -> list[int]:
        return [ts for chunk in self.chunks for ts in chunk.timestamps]

    def logs(self, key: str = "log") -> list[Any]:
        return [record.get(key) for record in self.records]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``condition`` until true; fail with what was received after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout}s; records: {self.records[:20]!r}")
            await asyncio.sleep(0.02)

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the input time to do something it must not do (used only to assert absence)."""
        await asyncio.sleep(seconds)
