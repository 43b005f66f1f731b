"""A fast CloudWatch Logs endpoint on 127.0.0.1: the JSON protocol, kept-alive HTTPS, nothing stored.

moto answers CloudWatch Logs at 25-34 us of CPU per event on a 2-core machine, so an agent
writing to it runs at moto's speed, not its own. This server speaks the part of the real
protocol the agents use (``X-Amz-Target: Logs_20140328.<Operation>``, ``application/x-amz-json-1.1``
bodies, AWS's error shapes ``{"__type": ..., "message": ...}``): CreateLogGroup, CreateLogStream,
DescribeLogStreams, PutRetentionPolicy and PutLogEvents. It checks what the service refuses:
a SigV4 signature that botocore's own signer does not reproduce for the same request (bad
signatures are counted and answered 403), a missing group or stream (ResourceNotFoundException),
one that exists already (ResourceAlreadyExistsException), and a PutLogEvents batch out of
chronological order, over 10,000 events or over 1,048,576 bytes (messages in UTF-8 + 26 bytes
per event; InvalidParameterException). Accepted events are counted per stream, not kept, unless
``keep_events`` asks for them (``kept_events``: what a comparison of two agents reads back).
Connections stay open (HTTP/1.1 keep-alive), as AWS endpoints keep them.

In a test: ``with CloudWatchLogsServer(tls=certs) as server`` (a thread). For a benchmark, run it
as its own process, so its CPU is not the benchmark's:
``python -m tests.fakes.cloudwatch_logs_server --port N [--certs DIR]`` (DIR as written by
``tests.fakes.certs.make_certs``); ``GET /_stats``
answers the counters as JSON and ``POST /_reset`` forgets groups, streams and counts.
"""

from __future__ import annotations

import argparse
import json
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.certs import CertFiles, cert_files
from tests.fakes.ports import free_port

REGION = "us-east-1"
TARGET_PREFIX = "Logs_20140328."
# PutLogEvents limits (CloudWatch Logs API reference, PutLogEvents).
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_EVENTS = 10_000
# The credentials the tests and benchmarks give the agents (tests/fakes/moto_server.py FAKE_CREDENTIALS).
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


class _Refused(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


class CloudWatchLogsServer:
    """See the module docstring. ``credentials`` are (access key, secret key) the signatures must use."""

    # X-Amz-Target prefix -> the signing name of its service (subclasses answer other JSON services).
    SERVICES = {TARGET_PREFIX: "logs"}
    # The calls whose accepted bodies ``body_bytes`` counts.
    COUNTED_OPERATIONS = frozenset({"PutLogEvents"})

    def __init__(self, tls: CertFiles | None = None, port: int | None = None,
                 credentials: tuple[str, str] = (ACCESS_KEY, SECRET_KEY), region: str = REGION,
                 keep_events: bool = False) -> None:
        self.credentials = credentials
        self.region = region
        self.port = port or free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.groups: dict[str, dict[str, int]] = {}
        self.calls: Counter[str] = Counter()
        self.events = 0
        # PutLogEvents bodies accepted, in bytes: what each event costs on the wire to hash and encrypt.
        self.body_bytes = 0
        self.signature_failures: list[str] = []
        self.connections = 0
        self.keep_events = keep_events
        # With keep_events: (group, stream, timestamp, message) of each event accepted, in order.
        self.kept_events: list[tuple[str, str, int, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # An answer leaves in one write (buffered, flushed after each request) with Nagle off:
            # headers and body written apart would wait for the client's delayed ACK (40 ms).
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/_stats":
                    self._answer(200, server.stats())
                else:
                    self._answer(404, {"__type": "UnknownOperationException", "message": self.path})

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/_reset":
                    server.reset()
                    self._answer(200, {})
                    return
                status, answer = server.handle(self.path, dict(self.headers.items()), raw)
                self._answer(status, answer)

            def _answer(self, status: int, answer: Any) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="cloudwatch-logs-server", daemon=True)

    def __enter__(self) -> CloudWatchLogsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "events": self.events,
                "body_bytes": self.body_bytes,
                "calls": dict(self.calls),
                "streams": sum(len(streams) for streams in self.groups.values()),
                "signature_failures": len(self.signature_failures),
                "connections": self.connections,
            }

    def reset(self) -> None:
        with self._lock:
            self.groups.clear()
            self.calls.clear()
            self.events = 0
            self.body_bytes = 0
            self.signature_failures.clear()
            self.connections = 0
            self.kept_events.clear()

    def wait_for_events(self, count: int, timeout: float = 30.0) -> int:
        """The events accepted once at least ``count`` arrived (or what arrived by ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: self.events >= count, timeout=timeout)
            return self.events

    # -- protocol ------------------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        lower = {name.lower(): value for name, value in headers.items()}
        target = lower.get("x-amz-target", "")
        prefix, _, operation = target.rpartition(".")
        service = self.SERVICES.get(prefix + ".")
        if service is None:  # an unknown target, signed for this endpoint's first service
            service, operation = next(iter(self.SERVICES.values())), ""
        try:
            problem = self._signature_problem(path, headers, raw, service)
            if problem:
                with self._lock:
                    self.signature_failures.append(problem)
                raise _Refused(403, "InvalidSignatureException", problem)
            try:
                params = json.loads(raw)
            except ValueError as exc:
                raise _Refused(400, "SerializationException", str(exc)) from exc
            with self._changed:
                self.calls[operation or target] += 1
                answer = self._operation(operation, target, params)
                if operation in self.COUNTED_OPERATIONS:
                    self.body_bytes += len(raw)
                self._changed.notify_all()
            return 200, answer
        except _Refused as refused:
            return refused.status, {"__type": refused.kind, "message": refused.message}

    def _operation(self, operation: str, target: str, params: dict[str, Any]) -> Any:
        group = params.get("logGroupName", "")
        if operation == "CreateLogGroup":
            if group in self.groups:
                raise _Refused(400, "ResourceAlreadyExistsException", "The specified log group already exists")
            self.groups[group] = {}
            return {}
        if operation == "PutRetentionPolicy":
            self._streams(group)
            return {}
        if operation == "CreateLogStream":
            streams = self._streams(group)
            if params["logStreamName"] in streams:
                raise _Refused(400, "ResourceAlreadyExistsException", "The specified log stream already exists")
            streams[params["logStreamName"]] = 0
            return {}
        if operation == "DescribeLogStreams":
            prefix = params.get("logStreamNamePrefix", "")
            return {"logStreams": [
                {"logStreamName": name, "creationTime": 0, "storedBytes": 0,
                 "arn": f"arn:aws:logs:{self.region}:123456789012:log-group:{group}:log-stream:{name}"}
                for name in sorted(self._streams(group)) if name.startswith(prefix)
            ]}
        if operation == "PutLogEvents":
            return self._put(params)
        raise _Refused(400, "UnknownOperationException", f"unknown operation {target!r}")

    def _streams(self, group: str) -> dict[str, int]:
        if group not in self.groups:
            raise _Refused(400, "ResourceNotFoundException", "The specified log group does not exist.")
        return self.groups[group]

    def _put(self, params: dict[str, Any]) -> Any:
        streams = self._streams(params["logGroupName"])
        stream = params["logStreamName"]
        if stream not in streams:
            raise _Refused(400, "ResourceNotFoundException", "The specified log stream does not exist.")
        events = params["logEvents"]
        if not events or len(events) > MAX_BATCH_EVENTS:
            raise _Refused(400, "InvalidParameterException", f"{len(events)} log events in one batch")
        size = sum(len(event["message"].encode()) + EVENT_OVERHEAD_BYTES for event in events)
        if size > MAX_BATCH_BYTES:
            raise _Refused(400, "InvalidParameterException", f"batch of {size} bytes is over {MAX_BATCH_BYTES}")
        times = [event["timestamp"] for event in events]
        if any(later < earlier for earlier, later in zip(times, times[1:], strict=False)):
            raise _Refused(400, "InvalidParameterException",
                           "Log events in a single PutLogEvents request must be in chronological order.")
        streams[stream] += len(events)
        self.events += len(events)
        if self.keep_events:
            group = params["logGroupName"]
            self.kept_events.extend((group, stream, event["timestamp"], event["message"]) for event in events)
        return {"nextSequenceToken": str(self.events)}

    def _signature_problem(self, path: str, headers: dict[str, str], raw: bytes, service: str) -> str | None:
        """Sign the same request with botocore at the request's own X-Amz-Date and compare."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest, HTTPHeaders
        from botocore.credentials import Credentials

        class AsSigned(SigV4Auth):
            """Exactly the headers the client says it signed: botocore leaves User-Agent out of
            its own signatures, Fluent Bit signs it, and the service accepts either."""

            def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
                signed = HTTPHeaders()
                for name, value in request.headers.items():
                    signed[name.lower()] = value
                return signed

        lower = {name.lower(): value for name, value in headers.items()}
        signed = lower.get("authorization", "")
        if not signed.startswith("AWS4-HMAC-SHA256 "):
            return "missing SigV4 Authorization header"
        fields = dict(part.strip().split("=", 1) for part in signed[len("AWS4-HMAC-SHA256 "):].split(","))
        replay = AWSRequest(method="POST", url=f"https://{lower.get('host', '')}{path}", data=raw,
                            headers={name: lower[name] for name in fields["SignedHeaders"].split(";")})
        replay.context["timestamp"] = lower.get("x-amz-date", "")
        auth = AsSigned(Credentials(*self.credentials, lower.get("x-amz-security-token")), service, self.region)
        expected = auth.signature(auth.string_to_sign(replay, auth.canonical_request(replay)), replay)
        if fields.get("Signature") != expected:
            return "The request signature we calculated does not match the signature you provided"
        scope = fields["Credential"].split("/", 1)[1]
        if scope != f"{replay.context['timestamp'][:8]}/{self.region}/{service}/aws4_request":
            return f"credential scope {scope} is not for {self.region}/{service}"
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, help="a directory written by tests.fakes.certs.make_certs")
    args = parser.parse_args()
    tls = cert_files(args.certs) if args.certs else None
    CloudWatchLogsServer(tls=tls, port=args.port).serve_forever()


if __name__ == "__main__":
    main()
