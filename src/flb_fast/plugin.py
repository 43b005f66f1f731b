"""What the engine hands every plugin instance: its name, logger, counters and shared services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from flb_fast.metrics import Counters

if TYPE_CHECKING:
    from flb_fast.parsers.base import ParserRegistry
    from flb_fast.record import Chunk


class PluginContext(Struct):
    """One plugin instance's view of the agent.

    ``instance`` is Fluent Bit's instance name (``tail.0``); ``display_name`` is the ``Alias``
    when set, as used in metrics labels. ``emit`` is set for inputs only: it hands a batch to
    the engine and returns at once (the engine may call ``pause()`` on the input from inside it).
    ``room`` (inputs only) tells how many bytes of records the input may still hold before its
    ``Mem_Buf_Limit`` pauses it, None when it has no limit.
    ``request_exit`` (inputs only) asks the agent to stop as a SIGTERM would, without the signal:
    Fluent Bit's ``flb_engine_exit``, which tail's ``Exit_On_Eof`` calls.
    ``conf_path`` is the main config file's folder (Fluent Bit's ``config->conf_path``), where
    plugins look for relative paths that are not found from the working directory.
    """

    kind: str
    plugin: str
    instance: str
    display_name: str
    log: logging.LoggerAdapter
    metrics: Counters
    parsers: ParserRegistry
    service: Any
    emit: Callable[[Chunk], None] | None = field(default=None)
    room: Callable[[], int | None] | None = field(default=None)
    request_exit: Callable[[], None] | None = field(default=None)
    conf_path: str | None = field(default=None)
