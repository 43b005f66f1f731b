"""Plain HTTPS GETs to the API server or the kubelet, on the event loop with asyncio streams.

Why not the ``kubernetes`` client: importing it costs 68 MiB of RSS. Why not a thread pool:
a GET is mostly waiting, and asyncio streams with ``ssl`` give a timeout that really cancels
the request, so a slow API server costs a pending coroutine, never a stuck thread.

Fluent Bit opens a connection per request (``Connection: close`` in
``get_meta_info_from_request``); we keep answered connections open for the next request, so a
node that starts 1,000 pods costs the API server a few TLS handshakes instead of 1,000.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from msgspec import Struct

from flb_fast.config.errors import PluginConfigError
from flb_fast.hostnames import loop_host
from flb_fast.streams import close_stream
from flb_fast.tls import ClientContext, client_context

# Largest status line + headers we accept; the API server sends a few hundred bytes.
MAX_HEADER_BYTES = 64 * 1024
# Stream reader buffer for watch streams: one watch event (a whole pod) must fit in a line.
MAX_WATCH_EVENT_BYTES = 8 * 1024 * 1024
USER_AGENT = "Fluent-Bit"
# urllib.parse, with the ipaddress module it imports, holds 0.4 MiB for as long as the agent runs;
# the URLs and names the filter meets nearly always have the shapes below, read without it.
# A URL of the usual shape: a lowercase scheme, a host name or IPv4 address, an optional port,
# nothing after but a slash (anything else goes through urlsplit).
_PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?/?")
# The characters urllib.parse.quote always leaves as they are (RFC 3986's unreserved ones): every
# namespace and pod name Kubernetes allows is made of them.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
# The highest TCP port; urlsplit refuses a larger one.
MAX_PORT = 65535
# Idle connections kept per endpoint: one per request the filter runs at once.
MAX_IDLE_CONNECTIONS = 8
# How long an idle connection is kept: Fluent Bit's net.keepalive_idle_timeout default.
KEEPALIVE_IDLE_SECONDS = 30.0


class ApiError(Exception):
    """A request that gave no usable answer: connection error, timeout or a non-200 status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ResponseTooLarge(ApiError):
    """The body exceeded ``Buffer_Size`` (Fluent Bit drops the metadata silently; we say so)."""


class Endpoint(Struct, frozen=True):
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_url(url: str, option: str, default_port: int = 443) -> Endpoint:
    """``kube_conf.c``: http:// or https://, host and optional port (443 when absent, even for http)."""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and (plain[3] is None or int(plain[3]) <= MAX_PORT):
        scheme, host, port = plain.groups()
        return Endpoint(scheme, host.lower(), int(port or 0) or default_port)
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:  # an IPv6 address whose "[" is not closed
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise PluginConfigError(option, f"invalid URL '{url}': expected http://host[:port] or https://host[:port]")
    try:
        port = parts.port or default_port
    except ValueError:
        raise PluginConfigError(option, f"invalid port in '{url}'") from None
    return Endpoint(parts.scheme, parts.hostname, port)


def path_segment(name: str) -> str:
    """``name`` escaped as one segment of a URL path, as ``urllib.parse.quote(name, safe="")`` escapes it."""
    if _UNRESERVED.fullmatch(name):
        return name
    from urllib.parse import quote

    return quote(name, safe="")


def ssl_context(verify: bool, verify_hostname: bool, ca_file: str | None, ca_path: str | None) -> ssl.SSLContext:
    """TLS settings of ``flb_kube_network_init``: the chain is checked against Kube_CA_File;
    the host name only with ``tls.verify_hostname`` (off by default, as in Fluent Bit). Filters
    with the same CA share one context (``flb_fast.tls``)."""
    if not verify:
        context = ClientContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return client_context(ca_file, ca_path, check_hostname=verify_hostname)


class TokenSource:
    """The bearer token: read from ``Kube_Token_File`` (or ``Kube_Token_Command``), again after
    ``Kube_Token_TTL``, as soon as the file changes (projected tokens are rotated in place)
    and when the server answers 401. The token never reaches a log line."""

    def __init__(self, path: str | None, command: str | None, ttl_seconds: float, log, metrics) -> None:
        self.path = path
        self.command = command
        self.ttl_seconds = ttl_seconds
        self.log = log
        self.metrics = metrics
        self._header: str | None = None
        self._loaded_at = 0.0
        self._file_state: tuple[int, int, int] | None = None
        self._loading = asyncio.Lock()

    def _stat(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    async def header(self, force: bool = False) -> str | None:
        if force or self._stale():
            async with self._loading:  # requests starting together read (or run) it once
                if force or self._stale():
                    await self._load()
        return self._header

    def _stale(self) -> bool:
        if self._loaded_at == 0.0 or time.monotonic() - self._loaded_at > self.ttl_seconds:
            return True
        return self.command is None and self._stat() != self._file_state

    async def _load(self) -> None:
        state = self._stat() if self.command is None else None
        if self.command is not None:
            token = await self._run_command(self.command)
        elif self.path is not None:
            token = self._read_file(self.path)
        else:
            token = None
        self._header = f"Bearer {token}" if token else None
        # Marked fresh only now: a request arriving during a command run waits for its token.
        self._file_state = state
        self._loaded_at = time.monotonic()
        self.metrics.inc("kube_token_reloads")

    def _read_file(self, path: str) -> str | None:
        """A few bytes from a tmpfs secret: read on the loop."""
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            self.log.warning("cannot open token file %s: %s", path, exc.strerror)
            return None

    async def _run_command(self, command: str) -> str | None:
        proc = await asyncio.create_subprocess_shell(
            command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await proc.communicate()
        token = out.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not token:
            self.log.warning("failed to run Kube_Token_Command (exit status %s)", proc.returncode)
            return None
        return token


class _Idle:
    __slots__ = ("reader", "writer", "since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, since: float) -> None:
        self.reader = reader
        self.writer = writer
        self.since = since


class HttpClient:
    """GETs against one endpoint with a bearer token, a body limit and a time bound."""

    def __init__(
        self,
        endpoint: Endpoint,
        context: ssl.SSLContext | None,
        server_hostname: str | None,
        token: TokenSource | None,
        buffer_size: int,
        timeout_seconds: float,
    ) -> None:
        self.endpoint = endpoint
        self.context = context
        self.server_hostname = server_hostname
        self.token = token
        self.buffer_size = buffer_size
        self.timeout_seconds = timeout_seconds
        self._idle: list[_Idle] = []

    async def get(self, path: str) -> bytes:
        """The body of a 200 answer; anything else raises :class:`ApiError`."""
        try:
            async with asyncio.timeout(self.timeout_seconds or None):
                status, body = await self._get_once(path, force_token=False)
                if status == 401 and self.token is not None:
                    status, body = await self._get_once(path, force_token=True)
        except TimeoutError:
            raise ApiError(f"GET {path}: no answer within {self.timeout_seconds:g}s") from None
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError) as exc:
            raise ApiError(f"GET {path}: {type(exc).__name__}: {exc}") from None
        if status != 200:
            raise ApiError(f"GET {path}: HTTP status {status}", status)
        return body

    async def stream(
        self, path: str, idle_timeout_seconds: float, on_open: Callable[[], None]
    ) -> AsyncGenerator[bytes, None]:
        """Lines of a long-lived 200 answer (a watch), each as it arrives; ``on_open`` once the
        server accepted it. The connection is never reused."""
        reader, writer = await self._connect(MAX_WATCH_EVENT_BYTES)
        try:
            writer.write(self._request(path, await self._auth(False)))
            async with asyncio.timeout(self.timeout_seconds or None):
                status, headers = await _read_head(reader)
            if status != 200:
                raise ApiError(f"GET {path}: HTTP status {status}", status)
            on_open()
            pending = b""
            async for piece in _body_pieces(reader, headers, idle_timeout_seconds):
                pending += piece
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
                if len(pending) > MAX_WATCH_EVENT_BYTES:
                    raise ResponseTooLarge(f"GET {path}: watch event larger than {MAX_WATCH_EVENT_BYTES} bytes")
        finally:
            await close_stream(writer)

    async def close(self) -> None:
        """Close the idle connections (together: shutdown waits one close bound, not one each)."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(close_stream(connection.writer) for connection in idle))

    async def _auth(self, force: bool) -> str | None:
        return await self.token.header(force) if self.token is not None else None

    async def _connect(self, limit: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(
            loop_host(self.endpoint.host),
            self.endpoint.port,
            ssl=self.context,
            server_hostname=(self.server_hostname or self.endpoint.host) if self.context is not None else None,
            limit=limit,
        )

    def _request(self, path: str, auth: str | None) -> bytes:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.endpoint.host}:{self.endpoint.port}",
            f"User-Agent: {USER_AGENT}",
            "Accept: application/json",
        ]
        if auth:
            lines.append(f"Authorization: {auth}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _take_idle(self) -> _Idle | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.since < KEEPALIVE_IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            connection.writer.transport.abort()
        return None

    async def _get_once(self, path: str, force_token: bool) -> tuple[int, bytes]:
        auth = await self._auth(force_token)
        idle = self._take_idle()
        if idle is not None:
            try:
                return await self._exchange(idle.reader, idle.writer, path, auth)
            except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
                pass  # the server closed it while it was idle: once more on a new connection
        reader, writer = await self._connect(MAX_HEADER_BYTES)
        return await self._exchange(reader, writer, path, auth)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, auth: str | None
    ) -> tuple[int, bytes]:
        reusable = False
        try:
            writer.write(self._request(path, auth))
            status, headers = await _read_head(reader)
            body = bytearray()
            async for piece in _body_pieces(reader, headers, None):
                body += piece
                if self.buffer_size and len(body) > self.buffer_size:
                    raise ResponseTooLarge(
                        f"GET {path}: response larger than Buffer_Size ({self.buffer_size} bytes)", status
                    )
            reusable = headers.get("connection", "").lower() != "close" and (
                "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
            )
            return status, bytes(body)
        finally:
            if reusable and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(_Idle(reader, writer, time.monotonic()))
            else:
                await close_stream(writer)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ValueError("response headers too large") from None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"malformed status line {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _body_pieces(
    reader: asyncio.StreamReader, headers: dict[str, str], idle_timeout_seconds: float | None
) -> AsyncIterator[bytes]:
    """The body as it arrives: chunked, Content-Length or until the server closes."""

    async def wait(awaitable):
        async with asyncio.timeout(idle_timeout_seconds or None):
            return await awaitable

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await wait(reader.readline())
            if not size_line:
                raise asyncio.IncompleteReadError(b"", None)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                return
            yield await wait(reader.readexactly(size))
            await wait(reader.readexactly(2))
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining > 0:
            piece = await wait(reader.read(min(remaining, 1 << 16)))
            if not piece:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(piece)
            yield piece
    else:
        while piece := await wait(reader.read(1 << 16)):
            yield piece
