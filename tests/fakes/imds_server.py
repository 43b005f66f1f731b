"""An EC2 instance metadata service (IMDS) for tests: real HTTP on 127.0.0.1, the real protocol.

IMDSv2: ``PUT /latest/api/token`` with ``X-aws-ec2-metadata-token-ttl-seconds`` (1-21600,
else 400) returns a token; a ``GET`` carrying ``X-aws-ec2-metadata-token`` is answered when the
token is one it issued and has not expired, else 401. IMDSv1: a ``GET`` without a token is
answered when ``tokens`` is ``"optional"`` and is 401 when it is ``"required"`` (the instance
option ``--http-tokens``). A path with or without its trailing slash is the same path, unknown
paths are 404, as on EC2. It can refuse tokens (403, as with IMDS turned off for tokens) or
never answer token requests (a PUT dropped by ``--http-put-response-hop-limit 1`` in a
container), answer everything with 500 for a while, and expire every token it issued.

Run it alone (to record Fluent Bit's aws filter against it inside a network namespace):

    python -m tests.fakes.imds_server HOST PORT [--tokens required] [--token-mode forbidden] [--no-tags]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TTL_SECONDS = 21600
MAC = "0e:11:22:33:44:55"

IDENTITY_DOCUMENT = {
    "accountId": "123456789012",
    "architecture": "x86_64",
    "availabilityZone": "us-west-2b",
    "imageId": "ami-0abcdef1234567890",
    "instanceId": "i-0123456789abcdef0",
    "instanceType": "m5.large",
    "privateIp": "10.0.1.23",
    "region": "us-west-2",
}

TAGS = {"Name": "node-1", "env": "test", "team": "logs"}


def default_metadata() -> dict[str, str]:
    """The paths the aws filter reads, with values shaped as EC2 serves them."""
    paths = {
        "/latest/meta-data/instance-id": IDENTITY_DOCUMENT["instanceId"],
        "/latest/meta-data/placement/availability-zone": IDENTITY_DOCUMENT["availabilityZone"],
        "/latest/meta-data/instance-type": IDENTITY_DOCUMENT["instanceType"],
        "/latest/meta-data/local-ipv4": IDENTITY_DOCUMENT["privateIp"],
        "/latest/meta-data/ami-id": IDENTITY_DOCUMENT["imageId"],
        "/latest/meta-data/hostname": "ip-10-0-1-23.us-west-2.compute.internal",
        "/latest/meta-data/mac": MAC,
        f"/latest/meta-data/network/interfaces/macs/{MAC}/vpc-id": "vpc-0a1b2c3d4e5f67890",
        "/latest/dynamic/instance-identity/document": json.dumps(IDENTITY_DOCUMENT, indent=2),
        "/latest/meta-data/tags/instance": "\n".join(TAGS),
        "/": "latest",
    }
    paths.update({f"/latest/meta-data/tags/instance/{key}": value for key, value in TAGS.items()})
    return paths


@dataclass
class Request:
    method: str
    path: str
    token: str | None
    ttl: str | None
    status: int = 0


@dataclass
class ImdsState:
    metadata: dict[str, str] = field(default_factory=default_metadata)
    tokens: str = "optional"
    token_mode: str = "ok"
    failing: bool = False
    verbose: bool = False
    issued: dict[str, float] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    imds_request: Request

    def _answer(self, status: int, body: str = "") -> None:
        self.imds_request.status = status
        if self.server.state.verbose:
            print(self.imds_request, flush=True)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _record(self) -> ImdsState:
        state = self.server.state
        self.imds_request = Request(self.command, self.path, self.headers.get(TOKEN_HEADER), self.headers.get(TTL_HEADER))
        with state.lock:
            state.requests.append(self.imds_request)
        return state

    def do_PUT(self) -> None:
        state = self._record()
        if state.failing:
            return self._answer(500, "Internal Server Error")
        if self.path.rstrip("/") != TOKEN_PATH:
            return self._answer(404, "Not Found")
        if state.token_mode == "silent":
            time.sleep(self.server.silent_seconds)
            self.close_connection = True
            return None
        if state.token_mode == "forbidden":
            return self._answer(403, "Forbidden")
        ttl = self.headers.get(TTL_HEADER, "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TTL_SECONDS:
            return self._answer(400, "Bad Request")
        token = secrets.token_urlsafe(32)
        with state.lock:
            state.issued[token] = time.monotonic() + int(ttl)
        return self._answer(200, token)

    def do_GET(self) -> None:
        state = self._record()
        if state.failing:
            return self._answer(500, "Internal Server Error")
        token = self.headers.get(TOKEN_HEADER)
        if token is not None:
            with state.lock:
                valid = state.issued.get(token, 0.0) > time.monotonic()
            if not valid:
                return self._answer(401, "Unauthorized")
        elif state.tokens == "required":
            return self._answer(401, "Unauthorized")
        path = self.path.rstrip("/") or "/"
        value = state.metadata.get(path)
        if value is None:
            return self._answer(404, "Not Found")
        return self._answer(200, value)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: ImdsState, silent_seconds: float) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.silent_seconds = silent_seconds


class ImdsServer:
    """Start with ``with ImdsServer() as imds:``; ``imds.endpoint`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, silent_seconds: float = 5.0) -> None:
        self.state = ImdsState()
        self._server = _Server((host, port), self.state, silent_seconds)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="imds", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ImdsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.issued = dict.fromkeys(self.state.issued, 0.0)

    def requests(self) -> list[tuple[str, str, str, int]]:
        """``(method, path, how, status)`` of each request: ``how`` is ``token``, ``ttl=N`` or ``v1``."""
        with self.state.lock:
            return [(r.method, r.path, "token" if r.token else f"ttl={r.ttl}" if r.ttl else "v1", r.status)
                    for r in self.state.requests]

    def remove_tags(self) -> None:
        """Instance tags not exposed in the metadata (the instance's default): their paths are 404."""
        with self.state.lock:
            for path in [path for path in self.state.metadata if path.startswith("/latest/meta-data/tags/")]:
                del self.state.metadata[path]

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.imds_server")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--tokens", choices=("optional", "required"), default="optional")
    parser.add_argument("--token-mode", choices=("ok", "forbidden", "silent"), default="ok")
    parser.add_argument("--no-tags", action="store_true", help="instance tags not exposed (404)")
    args = parser.parse_args(argv)
    with ImdsServer(args.host, args.port) as imds:
        imds.state.verbose = True
        imds.state.tokens = args.tokens
        imds.state.token_mode = args.token_mode
        if args.no_tags:
            imds.remove_tags()
        print(f"IMDS on {imds.endpoint}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
