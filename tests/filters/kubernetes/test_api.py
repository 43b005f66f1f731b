"""The HTTP client: URL rules of kube_conf.c, bodies in every framing, Buffer_Size, the token."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast.config.errors import PluginConfigError
from flb_fast.filters.kubernetes.api import (
    ApiError,
    Endpoint,
    HttpClient,
    ResponseTooLarge,
    TokenSource,
    parse_url,
    path_segment,
    ssl_context,
)
from flb_fast.metrics import Counters
from flb_fast.tls import ClientContext

LOG = logging.getLogger("flb_fast.test.kube_api")


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://kubernetes.default.svc", Endpoint("https", "kubernetes.default.svc", 443)),
        ("https://10.0.0.1:6443", Endpoint("https", "10.0.0.1", 6443)),
        ("http://127.0.0.1:8001", Endpoint("http", "127.0.0.1", 8001)),
        ("http://proxy", Endpoint("http", "proxy", 443)),
    ],
)
def test_parse_url(url: str, endpoint: Endpoint) -> None:
    assert parse_url(url, "kube_url") == endpoint


@pytest.mark.parametrize("url", ["kubernetes.default.svc", "ftp://x", "https://", "https://h:port", "https://[::1:6443"])
def test_a_bad_url_is_a_config_error_naming_the_option(url: str) -> None:
    with pytest.raises(PluginConfigError) as caught:
        parse_url(url, "kube_url")
    assert caught.value.option == "kube_url"


def urlsplit_endpoint(url: str, default_port: int = 443) -> Endpoint | None:
    """The reading of a URL through urllib.parse.urlsplit (None where it is a config error)."""
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return Endpoint(parts.scheme, parts.hostname, parts.port or default_port)
    except ValueError:
        return None


URL_PARTS = st.tuples(
    st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
    st.sampled_from(["://", ":/", ""]),
    st.text("abcXYZ019.-_[]:@ ", max_size=20),
    st.one_of(st.just(""), st.integers(0, 99999).map(lambda port: f":{port}"), st.text(":0123456789x", max_size=7)),
    st.sampled_from(["", "/", "/api", "?q", " "]),
)


@given(URL_PARTS)
def test_a_url_reads_as_urlsplit_reads_it(parts: tuple[str, ...]) -> None:
    url = "".join(parts)
    expected = urlsplit_endpoint(url)
    if expected is None:
        with pytest.raises(PluginConfigError):
            parse_url(url, "kube_url")
    else:
        assert parse_url(url, "kube_url") == expected


@given(st.one_of(st.text(), st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", max_size=63)))
def test_a_name_in_a_request_path_is_escaped_as_urllib_quote_escapes_it(name: str) -> None:
    assert path_segment(name) == quote(name, safe="")


def test_plain_urls_and_kubernetes_names_leave_urllib_parse_unimported() -> None:
    code = (
        "import sys\n"
        "from flb_fast.filters.kubernetes import KubernetesFilter\n"
        "from flb_fast.filters.kubernetes.api import parse_url, path_segment\n"
        "parse_url('https://kubernetes.default.svc:443', 'kube_url')\n"
        "path_segment('kube-system'), path_segment('coredns-5d78c9869d-abcde')\n"
        "print('urllib.parse' in sys.modules, 'ipaddress' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_a_tls_request_by_host_name_leaves_the_idna_codec_unimported(api, certs, token_file: Path) -> None:
    """The filter's client on uvloop, the host name checked against the certificate: the name is
    resolved and handed to TLS without ``encodings.idna`` (flb_fast.hostnames)."""
    code = (
        "import asyncio, logging, sys, uvloop\n"
        "from flb_fast.filters.kubernetes.api import Endpoint, HttpClient, TokenSource, ssl_context\n"
        "from flb_fast.metrics import Counters\n"
        "async def main():\n"
        f"    token = TokenSource({str(token_file)!r}, None, 600, logging.getLogger(), Counters())\n"
        f"    context = ssl_context(True, True, {str(certs.ca_file)!r}, None)\n"
        f"    client = HttpClient(Endpoint('https', 'localhost', {api.port}), context, None, token, 0, 30)\n"
        "    try:\n"
        "        body = await client.get('/api/v1/namespaces/shop')\n"
        "    finally:\n"
        "        await client.close()\n"
        "    print(b'shop' in body, 'encodings.idna' in sys.modules)\n"
        "uvloop.run(main())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "False"], result.stderr


def test_without_verify_the_context_encodes_names_without_the_idna_codec() -> None:
    assert isinstance(ssl_context(False, False, None, None), ClientContext)


async def serving(answer: bytes, seen: list[bytes]) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def get(answer: bytes, run, buffer_size: int = 0, token: TokenSource | None = None) -> tuple[bytes | Exception, list]:
    seen: list[bytes] = []

    async def scenario():
        server, port = await serving(answer, seen)
        try:
            client = HttpClient(Endpoint("http", "127.0.0.1", port), None, None, token, buffer_size, 10)
            try:
                return await client.get("/api/v1/namespaces/ns/pods/p")
            except ApiError as exc:
                return exc
            finally:
                await client.close()
        finally:
            server.close()
            await server.wait_closed()

    return run(scenario()), seen


def test_a_chunked_body_is_reassembled(run) -> None:
    body, _ = get(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4;ext=1\r\n":1}\r\n0\r\n\r\n', run)
    assert body == b'{"a":1}'


def test_a_content_length_body_is_read_exactly(run) -> None:
    body, _ = get(b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}', run)
    assert body == b'{"a":1}'


def test_a_body_without_length_is_read_to_the_end(run) -> None:
    body, _ = get(b'HTTP/1.0 200 OK\r\n\r\n{"a":1}', run)
    assert body == b'{"a":1}'


def test_a_body_over_buffer_size_is_refused(run) -> None:
    error, _ = get(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", run, buffer_size=9)
    assert isinstance(error, ResponseTooLarge)


def test_a_non_200_status_is_an_error_with_the_status(run) -> None:
    error, _ = get(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}", run)
    assert isinstance(error, ApiError)
    assert error.status == 403


def test_a_malformed_answer_is_an_error(run) -> None:
    error, _ = get(b"garbage\r\n\r\n", run)
    assert isinstance(error, ApiError)


def test_a_cut_body_is_an_error(run) -> None:
    error, _ = get(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", run)
    assert isinstance(error, ApiError)


def test_the_request_names_fluent_bit_and_carries_the_token(run, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("secret\n")
    token = TokenSource(str(token_file), None, 600, LOG, Counters())
    _, seen = get(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", run, token=token)
    head = seen[0].decode()
    assert head.startswith("GET /api/v1/namespaces/ns/pods/p HTTP/1.1\r\n")
    for line in ("User-Agent: Fluent-Bit", "Accept: application/json", "Authorization: Bearer secret"):
        assert f"{line}\r\n" in head


def test_a_missing_token_file_sends_no_authorization(run, tmp_path: Path, caplog) -> None:
    token = TokenSource(str(tmp_path / "absent"), None, 600, LOG, Counters())
    _, seen = get(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", run, token=token)
    assert "Authorization" not in seen[0].decode()
    assert "cannot open token file" in caplog.text


def test_the_token_is_reread_after_its_ttl(run, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("one")
    token = TokenSource(str(token_file), None, 1.0, LOG, Counters())

    async def scenario():
        first = await token.header()
        stat = token_file.stat()
        token_file.write_text("two")  # same inode, size and (restored) mtime: only the TTL tells
        os.utime(token_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        cached = await token.header()
        await asyncio.sleep(1.1)
        return first, cached, await token.header()

    assert run(scenario()) == ("Bearer one", "Bearer one", "Bearer two")


def test_kube_token_command_prints_the_token(run) -> None:
    token = TokenSource(None, "echo from-command", 600, LOG, Counters())
    assert run(token.header()) == "Bearer from-command"


def test_a_failing_token_command_gives_no_token(run, caplog) -> None:
    token = TokenSource(None, "exit 3", 600, LOG, Counters())
    assert run(token.header()) is None
    assert "failed to run Kube_Token_Command (exit status 3)" in caplog.text


def test_answered_connections_are_reused(run) -> None:
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def scenario() -> list[bytes]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        client = HttpClient(Endpoint("http", "127.0.0.1", server.sockets[0].getsockname()[1]), None, None, None, 0, 10)
        try:
            return [await client.get("/a"), await client.get("/b"), await client.get("/c")]
        finally:
            await client.close()
            server.close()

    assert run(scenario()) == [b"{}", b"{}", b"{}"]
    assert len(connections) == 1


def test_a_kept_connection_the_server_dropped_is_replaced_once(run) -> None:
    served: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        served.append(head.split(b" ")[1].decode())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        try:
            await reader.readuntil(b"\r\n\r\n")  # the next request on this connection: dropped unanswered
        except asyncio.IncompleteReadError:
            pass
        writer.transport.abort()

    async def scenario() -> list[bytes]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        client = HttpClient(Endpoint("http", "127.0.0.1", server.sockets[0].getsockname()[1]), None, None, None, 0, 10)
        try:
            return [await client.get("/a"), await client.get("/b")]
        finally:
            await client.close()
            server.close()

    assert run(scenario()) == [b"{}", b"{}"]
    assert served == ["/a", "/b"]


def test_requests_starting_together_run_the_token_command_once(run, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    token = TokenSource(None, f"echo run >> {runs}; echo tok", 600, LOG, Counters())

    async def scenario() -> list[str | None]:
        return await asyncio.gather(*(token.header() for _ in range(8)))

    assert run(scenario()) == ["Bearer tok"] * 8
    assert runs.read_text() == "run\n"

