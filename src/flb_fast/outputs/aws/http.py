"""Calls to AWS JSON-protocol services (CloudWatch Logs, Firehose, Kinesis) sent on the event loop,
over kept-alive connections, signed as botocore's SigV4 signer signs them.

botocore stays what it is for: its credential chain (environment, profiles, IRSA web identity,
ECS / EKS Pod Identity and EC2 metadata, ``role_arn``; ``outputs/aws/credentials.py``) supplies
the keys, and requests are signed as its ``SigV4Auth`` signs them and carry its User-Agent
(``outputs/aws/sigv4.py``, ``outputs/aws/useragent.py``, which do not import botocore's signer
and what it brings: urllib3, ``http.client``, ``email``, dateutil). The endpoint is the ``endpoint`` option's or the region's
(``default_endpoint``); when botocore would resolve it otherwise (an endpoint configured for it,
FIPS, dual-stack) or reach it through a proxy, a botocore client is made and its endpoint used
(``client_json_api``), or it makes the calls itself. What botocore costs per request is left out:
its event machinery, its shape-walking serialiser and urllib3 in a thread, with one thread hop
per call; and, without a client, what it costs in memory (bench/bench_aws_memory.py).
A request is the one botocore sends (same method, URL, body, headers and signature:
tests/outputs/aws/test_http.py compares them), written on an asyncio stream (uvloop's when the
engine runs on it). Each call in progress has a connection of its own, as each flush of a Fluent
Bit worker takes one from the worker's upstream pool (flb_upstream.c ``flb_upstream_conn_get``),
so a slow answer holds up only its own call. Connections are kept open and reused, as many idle
as the output runs flushes at once, so a busy output pays one TLS handshake per connection rather
than one per request; a connection idle longer
than ``net.keepalive_idle_timeout`` (Fluent Bit's upstream drops those: flb_upstream.c
``flb_upstream_conn_timeouts``), closed by the server or marked ``Connection: close`` is never reused.

Answers become what botocore would have returned: the parsed JSON on success, a
``botocore.exceptions.ClientError`` with the code and message botocore's JSON parser reads
(``BaseJSONParser._do_error_parse``) on an error status, and botocore's connection errors on a
network failure, so ``outputs/aws/errors.py`` classifies them unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flb_fast.engine.executors import BoundedExecutor
from flb_fast.hostnames import loop_host
from flb_fast.outputs.aws.client import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    extra_user_agent,
)
from flb_fast.outputs.aws.endpoint import default_endpoint, endpoint_url
from flb_fast.outputs.aws.sigv4 import Signer
from flb_fast.outputs.aws.useragent import client_user_agent
from flb_fast.streams import close_stream
from flb_fast.tls import client_context

# Frozen credentials are re-read from botocore's provider this often (off the loop: a refresh may
# call STS or the metadata service). botocore refreshes 15 min before expiry (advisory) and 10 min
# (mandatory; botocore/credentials.py RefreshableCredentials), far longer than this.
CREDENTIALS_RECHECK_SECONDS = 60.0
# Largest status line + headers accepted from the service (AWS answers use well under 2 KiB).
MAX_HEADER_BYTES = 64 * 1024
# A reused connection the server closed meanwhile fails before any answer: resent once at once on a
# new connection, as urllib3 does for a stale pooled connection.
STALE_RETRIES = 1
# A request body is handed to the connection in pieces of at most this size (``_send``). Handed
# whole, a body of up to 1 MiB (PutLogEvents) or 5 MiB (PutRecords) is encrypted whole into the
# TLS layer's memory buffer, which grows to its size, and copied out of it into one new buffer of
# that size (uvloop's and asyncio's ``SSLProtocol._process_outgoing``): fresh pages faulted in and
# given back on every request. Measured into cloudwatch-fast (perf, 369 bodies of ~540 KB): page
# faults and brk 8.0% of the agent's CPU samples handed whole, 1.7% in pieces of 256 KiB.
WRITE_PIECE_BYTES = 256 * 1024
# botocore's retry mode for the outputs' clients (``create_client``), named in the User-Agent.
RETRY_MODE = "standard"
# The bits ``uuid.UUID(version=4)`` clears and sets in a random 128-bit number (RFC 4122: the
# variant, 0b10, in the top bits of octet 8, the version, 4, in the top half of octet 6).
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def invocation_id(random: bytes | None = None) -> str:
    """botocore's ``amz-sdk-invocation-id``, ``str(uuid.uuid4())``, from 16 random bytes
    (``os.urandom``'s, as ``uuid4`` takes them, unless given), written without making a ``UUID``
    object: 7 us a request through ``uuid``."""
    value = int.from_bytes(random or os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def through_proxy(url: str) -> bool:
    """Whether botocore would reach ``url`` through a proxy from the environment; such calls
    stay with botocore and urllib3, which speak to proxies. botocore takes its proxies from
    urllib's ``getproxies``, which on Linux reads only ``<scheme>_proxy`` variables with a value
    (any case): without one there is no proxy, and botocore's utils (and urllib3) are not imported."""
    if sys.platform not in ("darwin", "win32") and not any(
        value and name.lower().endswith("_proxy") for name, value in os.environ.items()
    ):
        return False
    from botocore.utils import get_environ_proxies

    return bool(get_environ_proxies(url).get(urlsplit(url).scheme))


class JsonService(NamedTuple):
    """What a JSON-protocol call of a service needs from its botocore model (``metadata``)."""

    service_id: str
    signing_name: str
    target_prefix: str
    json_version: str


# The JSON-protocol services of the outputs, as their botocore models describe them
# (tests/outputs/aws/test_http.py compares them with botocore's).
JSON_SERVICES = {
    "logs": JsonService("CloudWatch Logs", "logs", "Logs_20140328", "1.1"),
    "firehose": JsonService("Firehose", "firehose", "Firehose_20150804", "1.1"),
    "kinesis": JsonService("Kinesis", "kinesis", "Kinesis_20131202", "1.1"),
}


@functools.cache
def operation_name(method: str) -> str:
    """The API operation of a botocore client method (``put_log_events`` -> ``PutLogEvents``)."""
    return "".join(word.capitalize() for word in method.split("_"))


class _Connection:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()


async def _send(writer: asyncio.StreamWriter, head: bytes, body: bytes) -> None:
    """Write a request: its head with the body's first piece, then the body's other pieces of
    ``WRITE_PIECE_BYTES``, each once the connection's write buffer is below its high-water mark
    (``StreamWriter.drain``)."""
    view = memoryview(body)
    writer.writelines((head, view[:WRITE_PIECE_BYTES]))
    for start in range(WRITE_PIECE_BYTES, len(body), WRITE_PIECE_BYTES):
        await writer.drain()
        writer.write(view[start:start + WRITE_PIECE_BYTES])


class _Stale(Exception):
    """A reused connection ended before any byte of the answer."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """One HTTP/1.1 answer; also whether the connection may carry another request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _Stale from exc
        raise
    except asyncio.LimitOverrunError as exc:
        raise ConnectionError("response headers too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest.split(" ", 1)[0])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
        keep = False
    return Response(status, headers, body), keep


def client_error(response: Response, operation: str) -> Exception:
    """The ``ClientError`` botocore raises for this error answer (its JSON parser's reading)."""
    from botocore.exceptions import ClientError

    try:
        body = json.loads(response.body) if response.body else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("__type", str(response.status)))
    if ":" in code:
        code = code.split(":", 1)[0]
    if "#" in code:
        code = code.rsplit("#", 1)[1]
    metadata: dict[str, Any] = {"HTTPStatusCode": response.status, "HTTPHeaders": response.headers}
    if "x-amzn-requestid" in response.headers:
        metadata["RequestId"] = response.headers["x-amzn-requestid"]
    error = {
        "Error": {"Message": body.get("message", body.get("Message", "")), "Code": code},
        "ResponseMetadata": metadata,
    }
    return ClientError(error, operation)


def client_json_api(client: Any, executor: BoundedExecutor, options: Any, idle_connections: int) -> JsonApi:
    """The calls of a botocore client's service on the loop: its endpoint (which botocore
    resolved), region, User-Agent and credentials."""
    meta = client.meta
    model = meta.service_model
    service = JsonService(model.service_id, model.signing_name, model.metadata["targetPrefix"],
                          model.metadata["jsonVersion"])
    creator = getattr(client, "_user_agent_creator", None)
    user_agent = creator.to_string() if creator is not None else meta.config.user_agent
    return JsonApi(service, meta.endpoint_url, meta.region_name, user_agent, client._request_signer._credentials,
                   executor, options, idle_connections)


def _endpoint_left_to_botocore(session: Any, service: JsonService) -> bool:
    """Whether botocore's endpoint resolution may give something else than ``default_endpoint``:
    an endpoint configured in the environment (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE ID>``)
    or the profile (``endpoint_url``, a ``services`` section), FIPS or dual-stack endpoints."""
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get(
        "AWS_ENDPOINT_URL_" + service.service_id.upper().replace(" ", "_")
    ):
        return True
    if session.get_config_variable("use_fips_endpoint") or session.get_config_variable("use_dualstack_endpoint"):
        return True
    scoped = session.get_scoped_config()
    return "endpoint_url" in scoped or "services" in scoped


def open_json_api(service: str, options: Any, executor: BoundedExecutor, idle_connections: int) -> JsonApi | None:
    """The output's calls on the loop without a botocore client (blocking: the credential chain
    may read files or call a metadata service). None when botocore's client must make them: an
    endpoint botocore resolves otherwise (``_endpoint_left_to_botocore``) or reached through a
    proxy from the environment."""
    from flb_fast.outputs.aws.credentials import ChainSession, chain_credentials

    session = ChainSession(options.profile)
    url = endpoint_url(options.endpoint, options.port, options.tls)
    if url is None:
        if _endpoint_left_to_botocore(session, JSON_SERVICES[service]):
            return None
        url = default_endpoint(service, options.region)
    if through_proxy(url):
        return None
    credentials = chain_credentials(session, options)
    user_agent = client_user_agent(extra_user_agent(options), RETRY_MODE)
    return JsonApi(JSON_SERVICES[service], url, options.region, user_agent, credentials, executor, options,
                   idle_connections)


class JsonApi:
    """One output's calls to a JSON-protocol service, on the loop (see the module docstring)."""

    def __init__(
        self,
        service: JsonService,
        url: str,
        region: str,
        user_agent: str,
        credentials: Any,
        executor: BoundedExecutor,
        options: Any,
        idle_connections: int,
    ) -> None:
        self.url = url.rstrip("/") + "/"
        parts = urlsplit(self.url)
        self.host = parts.hostname or ""
        self.path = parts.path or "/"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.region = region
        self.signing_name = service.signing_name
        self._signer = Signer(self.url, region, service.signing_name)
        self.target_prefix = service.target_prefix
        self.content_type = f"application/x-amz-json-{service.json_version}"
        self.user_agent = user_agent
        self.ssl = self._ssl_context(options) if parts.scheme == "https" else None
        self.connect_timeout = options.net_connect_timeout or DEFAULT_CONNECT_TIMEOUT_SECONDS
        self.read_timeout = options.net_io_timeout or DEFAULT_READ_TIMEOUT_SECONDS
        self._credentials = credentials
        self._frozen: Any = None
        self._frozen_at = 0.0
        self._executor = executor
        # Idle connections, the most recently used last.
        self._idle: list[_Connection] = []
        self._max_idle = max(1, idle_connections)
        self.keepalive_idle_seconds = float(options.net_keepalive_idle_timeout or 0)
        self.connections_opened = 0
        # Calls in progress, each on a connection of its own (fluentbit_output_upstream_busy_connections).
        self.busy = 0

    @staticmethod
    def _ssl_context(options: Any) -> ssl.SSLContext:
        """Shared by the outputs with the same TLS options (``flb_fast.tls``)."""
        return client_context(options.tls_ca_file, options.tls_ca_path, verify=options.tls_verify,
                              check_hostname=options.tls_verify)

    async def _frozen_credentials(self) -> Any:
        if self._frozen is None or time.monotonic() - self._frozen_at > CREDENTIALS_RECHECK_SECONDS:
            if self._credentials is None:
                from botocore.exceptions import NoCredentialsError

                raise NoCredentialsError()
            self._frozen = await self._executor.run(self._credentials.get_frozen_credentials)
            self._frozen_at = time.monotonic()
        return self._frozen

    def signed_headers(
        self, operation: str, body: bytes, credentials: Any, headers: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The headers botocore sends for ``operation`` with ``body``, signed, in its order."""
        request_headers = {
            "X-Amz-Target": f"{self.target_prefix}.{operation}",
            "Content-Type": self.content_type,
            "User-Agent": self.user_agent,
            **(headers or {}),
        }
        self._signer.sign(request_headers, hashlib.sha256(body).hexdigest(), credentials)
        request_headers["amz-sdk-invocation-id"] = invocation_id()
        request_headers["amz-sdk-request"] = "attempt=1; max=1"
        request_headers["Content-Length"] = str(len(body))
        return request_headers

    def _head(self, headers: dict[str, str]) -> bytes:
        # The Host header is the host the signature covers (botocore's: an IPv6 address in
        # brackets, the port unless it is the scheme's own), as urllib3 sends it for botocore.
        lines = [f"POST {self.path} HTTP/1.1", f"Host: {self._signer.endpoint.host}", "Accept-Encoding: identity"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def call(
        self,
        operation: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        decode: Callable[[bytes], dict[str, Any]] = json.loads,
    ) -> dict[str, Any]:
        """Send one call; the answer's body read by ``decode`` (parsed whole by default, as botocore
        parses it), or the exception botocore would raise."""
        head = self._head(self.signed_headers(operation, body, await self._frozen_credentials(), headers))
        self.busy += 1
        try:
            response = await self._exchange(head, body)
        finally:
            self.busy -= 1
        if response.status >= 300:
            raise client_error(response, operation)
        parsed = decode(response.body) if response.body else {}
        parsed["ResponseMetadata"] = {"HTTPStatusCode": response.status, "HTTPHeaders": response.headers}
        return parsed

    async def _exchange(self, head: bytes, body: bytes) -> Response:
        from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

        attempt = 0
        while True:
            attempt += 1
            connection = self._take_idle()
            reused = connection is not None
            if connection is None:
                try:
                    async with asyncio.timeout(self.connect_timeout):
                        connection = await self._open()
                except (TimeoutError, OSError) as exc:
                    raise EndpointConnectionError(endpoint_url=self.url, error=exc) from exc
            try:
                async with asyncio.timeout(self.read_timeout):
                    await _send(connection.writer, head, body)
                    response, keep = await _read_response(connection.reader)
            except _Stale as exc:
                connection.close()
                if reused and attempt <= STALE_RETRIES:
                    continue
                raise ConnectionClosedError(endpoint_url=self.url) from exc
            except TimeoutError as exc:
                connection.close()
                raise ReadTimeoutError(endpoint_url=self.url) from exc
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                connection.close()
                if reused and attempt <= STALE_RETRIES and isinstance(exc, ConnectionResetError | BrokenPipeError):
                    continue
                raise ConnectionClosedError(endpoint_url=self.url) from exc
            except BaseException:
                connection.close()  # cancelled mid-exchange: the connection's state is unknown
                raise
            if keep and len(self._idle) < self._max_idle:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
            return response

    def connections(self) -> tuple[int, int]:
        """(open, busy): the kept-alive connections waiting for a call, plus those in use."""
        return len(self._idle) + self.busy, self.busy

    def _take_idle(self) -> _Connection | None:
        """The most recently used idle connection still open; those idle for longer than
        ``net.keepalive_idle_timeout`` (the least recently used first) are closed."""
        if self._idle and self.keepalive_idle_seconds > 0:
            expired = time.monotonic() - self.keepalive_idle_seconds
            while self._idle and self._idle[0].idle_since < expired:
                self._idle.pop(0).close()
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            loop_host(self.host), self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None,
            limit=MAX_HEADER_BYTES,
        )
        self.connections_opened += 1
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        """Close the idle connections and wait (briefly) until they are closed."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(close_stream(connection.writer) for connection in idle), return_exceptions=True)

