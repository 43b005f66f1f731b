"""The process around the engine: the event loop, signals, the monitoring server and hot reload.

The engine is the data path of one pipeline; the runner owns what outlives it. With
``Hot_Reload On``, ``SIGHUP`` or ``POST``/``PUT /api/v2/reload`` re-read the config file and, when
it is valid, stop the running pipeline within ``Grace`` and start the new one (Fluent Bit's
``flb_reload.c``: "stop everything of the old context", "start everything"). Inputs commit their
positions as outputs acknowledge records (tail's DB, the systemd cursor), and the stopped engine
flushes what it holds, so the new pipeline resumes where the old one's delivered records end.
A config that does not validate is logged with its file:line and the running pipeline goes on.
The monitoring server stays up across reloads and always reports the running engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flb_fast.config.errors import ConfigError, ConfigErrors
from flb_fast.engine.engine import Engine
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.engine.pipeline import Pipeline
from flb_fast.log import component_logger, write_stderr

# Records are dicts that hold the shared pod metadata dict, so the collector tracks every one
# of them, and with CPython's default threshold (700) it scans young records over and over
# although they form no cycles. Fewer young collections cut the CPU per line of
# bench_pipeline's kubernetes variant by about 15% at the same peak RSS (bench/README.md);
# objects left from start-up are frozen out of the scans altogether, after one full collection
# (start-up leaves about 0.3 MiB of one-time cycles: argparse's formatters, classes that a C
# module replaced). The collector is off until then (flb_fast.__main__).
GC_THRESHOLDS = (50_000, 20, 100)
# After the loop ends, idle worker threads get this long to finish before the process leaves.
THREAD_EXIT_SECONDS = 1.0
# A reload builds one pipeline, on one thread.
RELOAD_WORKERS = 1
# The exit status when a plugin cannot start: fluent-bit.c returns flb_start's -1 from main.
START_FAILED_EXIT_STATUS = 255

# What builds a new pipeline from the config file again (raises ConfigError / ConfigErrors).
Reloader = Callable[[], Pipeline]


class ReloadAnswer:
    """Fluent Bit's ``/api/v2/reload`` answers (``api/v2/reload.c``)."""

    DONE = {"reload": "done", "status": 0}
    NOT_ENABLED = {"reload": "not enabled", "status": -1}
    IN_PROGRESS = {"reload": "in progress", "status": -2}


class Runner:
    """Runs one engine at a time; ``request_reload`` swaps it for one built from the config again."""

    def __init__(self, pipeline: Pipeline, reloader: Reloader | None = None) -> None:
        self.engine = Engine(pipeline)
        self.reloader = reloader
        self.hot_reload = bool(pipeline.service.hot_reload)
        self.reload_count = 0
        self.start_time = time.time()
        self.log = component_logger("reload")
        self.http_server: Any = None
        self._reload_requested = asyncio.Event()
        self._reloading = False

    async def start(self) -> None:
        """Start the engine, then the monitoring server (``HTTP_Server On``)."""
        await self.engine.start()
        if self.engine.pipeline.service.http_server:
            from flb_fast.http_server.server import MonitoringServer

            self.http_server = MonitoringServer(self)
            await self.http_server.start()

    async def stop(self) -> None:
        await self.engine.stop()
        if self.http_server is not None:
            await self.http_server.stop()
            self.http_server = None

    def request_reload(self) -> dict[str, Any]:
        """Ask for a reload (a signal or the HTTP API); the answer is Fluent Bit's."""
        if not self.hot_reload or self.reloader is None:
            self.log.warning("hot reloading is not enabled")
            return ReloadAnswer.NOT_ENABLED
        if self._reloading:
            self.log.error("reloading in progress, aborting.")
            return ReloadAnswer.IN_PROGRESS
        self._reload_requested.set()
        return ReloadAnswer.DONE

    async def reload_requested(self) -> None:
        await self._reload_requested.wait()
        self._reload_requested.clear()

    async def reload(self) -> bool:
        """Build the new pipeline and, if it is valid, swap engines; False when the config is invalid."""
        assert self.reloader is not None
        self._reloading = True
        try:
            logging.getLogger("flb_fast").info("reloading instance pid=%d", os.getpid())
            # The config files are read, and the new pipeline built (parsers compiled, plugin
            # modules imported), on a thread of their own while the running pipeline goes on.
            builder = BoundedExecutor("reload", RELOAD_WORKERS)
            try:
                pipeline = await builder.run(self.reloader)
            except ConfigErrors as exc:
                for error in exc.errors:
                    self.log.error("%s", error)
                self.log.error("reloaded config is invalid. Reloading is halted")
                return False
            except ConfigError as exc:
                self.log.error("%s", exc)
                self.log.error("reloaded config is invalid. Reloading is halted")
                return False
            finally:
                builder.shutdown()
            self.log.info("stop everything of the old context")
            await self.engine.stop()
            self.engine = Engine(pipeline)
            self.hot_reload = bool(pipeline.service.hot_reload)
            self.log.info("start everything")
            await self.engine.start()
            self.reload_count += 1
            self.log.info("successful reload done.")
            return True
        finally:
            self._reloading = False


def run(pipeline: Pipeline, reloader: Reloader | None = None) -> int:
    """Run ``pipeline`` on uvloop until SIGTERM or SIGINT, or until an input asks it to stop
    (tail's ``Exit_On_Eof``); 0 on a clean stop, 1 if it cannot start."""
    import uvloop

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()

    code = uvloop.run(_serve(Runner(pipeline, reloader)))
    _leave_if_threads_are_stuck(code)
    return code


async def _serve(runner: Runner) -> int:
    log = component_logger("engine")
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal(signum: int) -> None:
        # fluent-bit.c flb_signal_exit writes this line itself, to stderr whatever Log_File says:
        # the time to the second and no level.
        stamp = time.strftime("%Y/%m/%d %H:%M:%S")
        write_stderr(f"[{stamp}] [engine] caught signal ({signal.Signals(signum).name})\n")
        if signum == signal.SIGHUP:
            runner.request_reload()
        else:
            stopping.set()

    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    for signum in handled:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        try:
            await runner.start()
        except Exception as exc:
            log.error("could not start: %s", exc)
            await runner.stop()
            return START_FAILED_EXIT_STATUS
        while not stopping.is_set():
            reload = asyncio.ensure_future(runner.reload_requested())
            stop = asyncio.ensure_future(stopping.wait())
            # An input of the running engine asking the agent to stop (tail's Exit_On_Eof) is a
            # stop without a signal, as flb_engine_exit is.
            exiting = asyncio.ensure_future(runner.engine.exit_requested.wait())
            await asyncio.wait({reload, stop, exiting}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (reload, stop, exiting):
                waiter.cancel()
            if runner.engine.exit_requested.is_set():
                break
            if not stopping.is_set():
                try:
                    await runner.reload()
                except Exception as exc:  # a plugin of the new pipeline could not start
                    log.error("could not start the reloaded pipeline: %s", exc)
                    await runner.stop()
                    return 1
        await runner.stop()
        return 0
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def _leave_if_threads_are_stuck(code: int) -> None:
    """Exit now if a worker thread is still busy (say, a write to a stdout pipe nobody reads).

    The interpreter joins executor threads when it exits, so one stuck thread would keep the
    process alive past ``Grace``; Grace is a promise to the orchestrator, so we leave instead.
    """
    deadline = time.monotonic() + THREAD_EXIT_SECONDS
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if stuck:
        component_logger("engine").warning("exiting with %d worker threads still busy: %s",
                                           len(stuck), ", ".join(stuck))
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(code)
