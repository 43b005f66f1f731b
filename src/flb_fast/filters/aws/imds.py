"""The EC2 instance metadata service (IMDS), asked on the event loop: Fluent Bit's src/aws/flb_aws_imds.c.

IMDSv2: a session token from ``PUT /latest/api/token`` (``X-aws-ec2-metadata-token-ttl-seconds:
21600``, the longest allowed) rides on every ``GET`` as ``X-aws-ec2-metadata-token``; a 401
means it expired, so it is fetched again once and the request repeated
(``flb_aws_imds_request_by_key``). IMDSv1: a plain ``GET``. When no token can be had (tokens
refused, or the ``PUT`` answer dropped by a hop limit of 1 in a container), a plain ``GET`` is
tried and, if the service answers it, IMDSv1 is used from then on, as Fluent Bit's own IMDS
client decides (``get_imds_version``).

Each request has its own connection, as Fluent Bit's (keepalive off: "on timeout, the connection
is broken"), and Fluent Bit's one-second connect and I/O timeouts, so a node without IMDS costs
a pending coroutine for a second, never a blocked loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from urllib.parse import urlsplit

# flb_aws_imds.h
IMDS_HOST = "169.254.169.254"
IMDS_PORT = 80
IMDS_TIMEOUT_SECONDS = 1.0
TOKEN_PATH = "/latest/api/token"
TOKEN_TTL_SECONDS = "21600"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
# The AWS SDKs' variable naming another IMDS endpoint (``http://host:port``).
ENDPOINT_ENV = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
# Largest answer read: the identity document and tag lists are a few KiB.
MAX_RESPONSE_BYTES = 1024 * 1024

VERSION_1 = 1
VERSION_2 = 2


class ImdsError(Exception):
    """The service could not be reached or did not answer 200; ``status`` 404 means "no such path"."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def endpoint_from_env() -> tuple[str, int]:
    """IMDS host and port: ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` when set, else 169.254.169.254:80."""
    url = os.environ.get(ENDPOINT_ENV)
    if not url:
        return IMDS_HOST, IMDS_PORT
    parts = urlsplit(url if "//" in url else f"http://{url}")
    return parts.hostname or IMDS_HOST, parts.port or IMDS_PORT


class ImdsClient:
    def __init__(self, version: int, log: logging.LoggerAdapter, host: str = IMDS_HOST, port: int = IMDS_PORT,
                 timeout: float = IMDS_TIMEOUT_SECONDS) -> None:
        self.version = version
        self.log = log
        self.host = host
        self.port = port
        self.timeout = timeout
        self.token: str | None = None

    async def get(self, path: str) -> str:
        """The body of a 200 answer to ``GET path``; ``ImdsError`` otherwise."""
        if self.version == VERSION_2 and self.token is None:
            await self._obtain_token()
        if self.version == VERSION_1:
            return self._ok(path, *await self._exchange("GET", path, {}))
        status, body = await self._exchange("GET", path, {TOKEN_HEADER: self.token or ""})
        if status == 401:
            self.token = None
            await self._obtain_token()
            if self.version == VERSION_1:
                return self._ok(path, *await self._exchange("GET", path, {}))
            status, body = await self._exchange("GET", path, {TOKEN_HEADER: self.token or ""})
        return self._ok(path, status, body)

    @staticmethod
    def _ok(path: str, status: int, body: str) -> str:
        if status != 200:
            raise ImdsError(f"GET {path} answered {status}", status)
        return body

    async def _obtain_token(self) -> None:
        """``refresh_imds_v2_token``; when it fails, ``get_imds_version``'s IMDSv1 probe."""
        try:
            status, body = await self._exchange("PUT", TOKEN_PATH, {TTL_HEADER: TOKEN_TTL_SECONDS})
            if status == 200 and body:
                self.token = body
                return
            reason = f"answered {status}"
        except ImdsError as exc:
            reason = str(exc)
        try:
            status, _ = await self._exchange("GET", "/", {})
        except ImdsError:
            status = 0
        if status == 200:
            self.log.warning("[imds] failed to retrieve IMDSv2 token (%s): falling back on IMDSv1", reason)
            self.version = VERSION_1
            return
        raise ImdsError(f"failed to retrieve IMDSv2 token ({reason}) and IMDSv1 unavailable")

    async def _exchange(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        """One request on its own connection: ``(status, body)``."""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except (TimeoutError, OSError) as exc:
            raise ImdsError(f"cannot connect to {self.host}:{self.port}: {exc or 'timed out'}") from None
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", "Connection: close", "Content-Length: 0"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            async with asyncio.timeout(self.timeout):
                return await self._response(reader)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            raise ImdsError(f"{method} {path}: {exc or 'timed out'}") from None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, str]:
        status_line = await reader.readline()
        parts = status_line.split()
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
        status = int(parts[1])
        length: int | None = None
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is not None:
            if length > MAX_RESPONSE_BYTES:
                raise ValueError(f"answer of {length} bytes is too large")
            body = await reader.readexactly(length)
        else:
            body = await reader.read(MAX_RESPONSE_BYTES)
        return status, body.decode("utf-8", errors="replace")
