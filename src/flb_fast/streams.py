"""Closing a client connection a plugin opened itself: one way for all of them.

Polite first (a TLS close), then cut off: a peer that does not answer the close within the bound
would otherwise keep the connection, and under uvloop the loop, for its 30 s SSL shutdown timeout.
"""

from __future__ import annotations

import asyncio
import ssl

# How long closing a connection may take before it is cut off.
CLOSE_SECONDS = 1.0


async def close_stream(writer: asyncio.StreamWriter) -> None:
    """Close ``writer``'s connection, waiting at most ``CLOSE_SECONDS``.

    A cancellation (a plugin stopping) cuts the connection off and goes on to the caller.
    ``asyncio.timeout`` rather than ``asyncio.wait_for``: on Python 3.11 ``wait_for`` returns
    normally when the caller is cancelled just as the close completes, and a stopped pod watch
    then listed and watched on.
    """
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_SECONDS):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
