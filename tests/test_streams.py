"""close_stream: a connection is closed politely within a bound, or cut off."""

from __future__ import annotations

import asyncio

from flb_fast.streams import close_stream


class _ClosingWriter:
    """Just enough of a StreamWriter: a peer that never answers the TLS close."""

    def __init__(self, closed: asyncio.Future) -> None:
        self.closed = closed
        self.aborted = False
        self.transport = self

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        await self.closed

    def abort(self) -> None:
        self.aborted = True


def test_a_stop_while_a_connection_closes_cuts_it_off_and_stops_the_caller(run) -> None:
    async def scenario() -> tuple[bool, bool]:
        writer = _ClosingWriter(asyncio.get_running_loop().create_future())
        closing = asyncio.create_task(close_stream(writer))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        closing.cancel()
        await asyncio.wait([closing])
        return closing.cancelled(), writer.aborted

    assert run(scenario()) == (True, True)
