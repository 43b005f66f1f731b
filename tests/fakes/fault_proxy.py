"""A fault-injecting HTTP proxy in front of moto, for the AWS outputs' failure tests.

It runs in a thread (so the real ``flb-fast`` command can be pointed at it as well as
in-process outputs) and forwards every request to moto unless a rule says otherwise. Rules
apply to one API operation (``PutLogEvents``, ``PutRecordBatch``, ``PutRecords``,
``UploadPart``...) for their first N matching calls:

- ``throttle``: answer 400 ThrottlingException (503 SlowDown for S3), as a throttled AWS does;
- ``error500``: answer 500 InternalFailure;
- ``drop``: close the connection without answering;
- ``accepted``: forward the request, then answer 400 DataAlreadyAcceptedException, as CloudWatch
  Logs answers a batch it had accepted before (the first answer lost on the way);
- ``partial``: for PutRecordBatch / PutRecords, forward only the records not listed as failing
  and answer with those listed marked failed (FailedPutCount / FailedRecordCount), so the
  output must resend exactly the failed ones.

Every call is recorded (operation and what the proxy did) for the tests to assert on. Given a
certificate (``tests.fakes.certs``), the proxy answers HTTPS.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.certs import CertFiles

THROTTLE_BODY = {"__type": "ThrottlingException", "message": "Rate exceeded"}
ALREADY_ACCEPTED_BODY = {
    "__type": "DataAlreadyAcceptedException",
    "message": "The given batch of log events has already been accepted.",
    "expectedSequenceToken": "49039859513425838487385932957245389211452567297312432754",
}
INTERNAL_BODY = {"__type": "InternalFailure", "message": "We encountered an internal error. Please try again."}
S3_SLOWDOWN = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
PARTIAL_ERROR = {
    "PutRecordBatch": ("ServiceUnavailableException", "Slow down."),
    "PutRecords": ("ProvisionedThroughputExceededException", "Rate exceeded for shard."),
}


@dataclass
class Rule:
    operation: str
    action: str
    times: int = 1
    failing: tuple[int, ...] = ()  # record positions that fail, for "partial"
    used: int = 0


@dataclass
class Call:
    operation: str
    action: str
    body: bytes = field(repr=False, default=b"")
    headers: dict[str, str] = field(repr=False, default_factory=dict)
    at: float = field(default_factory=time.monotonic)


def operation_of(method: str, path: str, headers: Any) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    query = urlsplit(path).query
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if method == "PUT" and "partNumber=" in query:
        return "UploadPart"
    if method == "POST" and "uploadId=" in query:
        return "CompleteMultipartUpload"
    if method == "PUT":
        return "PutObject"
    return f"{method} {urlsplit(path).path}"


class FaultProxy:
    def __init__(self, upstream_url: str, certs: CertFiles | None = None) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[Rule] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = operation_of(self.command, self.path, self.headers)
                rule = proxy._take_rule(operation)
                action = rule.action if rule else "forward"
                proxy._record(Call(operation, action, body, {k.lower(): v for k, v in self.headers.items()}))
                if action == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action == "throttle":
                    if self.headers.get("X-Amz-Target"):
                        self._answer(400, json.dumps(THROTTLE_BODY).encode(), "application/x-amz-json-1.1")
                    else:
                        self._answer(503, S3_SLOWDOWN, "application/xml")
                    return
                if action == "error500":
                    self._answer(500, json.dumps(INTERNAL_BODY).encode(), "application/x-amz-json-1.1")
                    return
                if action == "accepted":
                    proxy._forward(self.command, self.path, self.headers, body)
                    self._answer(400, json.dumps(ALREADY_ACCEPTED_BODY).encode(), "application/x-amz-json-1.1")
                    return
                if action == "partial" and rule is not None:
                    status, answer, ctype = proxy._partial(self.command, self.path, self.headers, body, operation, rule)
                    self._answer(status, answer, ctype)
                    return
                status, answer, headers = proxy._forward(self.command, self.path, self.headers, body)
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if certs is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certs.cert_file, certs.key_file)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()

    def add(self, operation: str, action: str, times: int = 1, failing: tuple[int, ...] = ()) -> None:
        with self._lock:
            self.rules.append(Rule(operation, action, times, failing))

    def clear(self) -> None:
        """Forget every rule: from now on each request is forwarded (an outage ends)."""
        with self._lock:
            self.rules.clear()

    def calls_to(self, operation: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    def _take_rule(self, operation: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.operation == operation and rule.used < rule.times:
                    rule.used += 1
                    return rule
        return None

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, bytes, list[tuple[str, str]]]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            forwarded = {
                key: value for key, value in headers.items() if key.lower() not in ("connection", "content-length")
            }
            forwarded["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.read(), response.getheaders()
        finally:
            connection.close()

    def _partial(
        self, method: str, path: str, headers: Any, body: bytes, operation: str, rule: Rule
    ) -> tuple[int, bytes, str]:
        request = json.loads(body)
        records = request["Records"]
        kept = [record for index, record in enumerate(records) if index not in rule.failing]
        status, answer, _ = self._forward(method, path, headers, json.dumps({**request, "Records": kept}).encode())
        if status != 200:
            return status, answer, "application/x-amz-json-1.1"
        accepted = iter(json.loads(answer).get("RequestResponses" if operation == "PutRecordBatch" else "Records", []))
        code, message = PARTIAL_ERROR[operation]
        results = [
            {"ErrorCode": code, "ErrorMessage": message} if index in rule.failing else next(accepted)
            for index in range(len(records))
        ]
        failed = sum(1 for index in range(len(records)) if index in rule.failing)
        if operation == "PutRecordBatch":
            reply = {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": results}
        else:
            reply = {"FailedRecordCount": failed, "Records": results}
        return 200, json.dumps(reply).encode(), "application/x-amz-json-1.1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
