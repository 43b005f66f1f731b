"""An OpenSearch-API server on 127.0.0.1 for the opensearch and es outputs' tests.

No OpenSearch or Elasticsearch server can be installed from the package registries this
project uses, so this server speaks the part of the protocol the outputs use: ``POST
<path>/_bulk`` with an NDJSON body (optionally gzip-encoded), answered as OpenSearch answers
(``{"took":..,"errors":..,"items":[{"create":{"_index":..,"status":201}}, ...]}``). It checks
what a real cluster would refuse: a malformed bulk body (an action line without its document),
a wrong basic-auth user or password, and, when given credentials, a SigV4 signature that
botocore's own signer does not reproduce for the same request. It runs in a thread, so the real
``flb-fast`` command and Fluent Bit itself can be pointed at it, and records every request.

Failures are injected per document: ``item_status`` maps a document's 0-based position in the
server's whole history of documents to the status its item gets (429, 500, 400 ...), and
``reject_requests`` answers the next N requests with a 503 and no items. With ``tls`` (the
tests' throw-away CA, ``tests/fakes/certs.py``) it speaks HTTPS, as Amazon OpenSearch Service does.

``python -m tests.fakes.opensearch_server --port N --dump DIR`` runs it standalone and writes
each request body to DIR, to record what Fluent Bit sends.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.certs import CertFiles
from tests.fakes.ports import free_port

# How long a verified SigV4 timestamp may be from the server's clock (AWS allows 5 minutes).
SIGV4_CLOCK_SKEW_SECONDS = 300


@dataclass
class BulkRequest:
    """One request as the server received it (body decompressed)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    actions: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Signer:
    """What a SigV4-signed request must verify against."""

    access_key: str
    secret_key: str
    token: str | None
    region: str
    service: str


class OpenSearchServer:
    def __init__(self, user: str | None = None, password: str | None = None, signer: Signer | None = None,
                 dump: Path | None = None, port: int | None = None, tls: CertFiles | None = None) -> None:
        self.user = user
        self.password = password
        self.signer = signer
        self.dump = dump
        self.requests: list[BulkRequest] = []
        self.item_status: dict[int, int] = {}
        self.reject_requests = 0
        self.signature_failures: list[str] = []
        self._documents_seen = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status, answer = server._handle(self.command, self.path, dict(self.headers.items()), raw)
                body = json.dumps(answer, separators=(",", ":")).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_PUT = do_POST  # noqa: N815

        self.port = port or free_port()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="opensearch-server", daemon=True)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Every document of every request that was answered 200, in arrival order."""
        with self._lock:
            return [doc for request in self.requests if request.status == 200 for doc in request.documents]

    def start(self) -> OpenSearchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def wait_for_documents(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The accepted documents once at least ``count`` arrived (or what arrived by ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: self._accepted_count() >= count, timeout=timeout)
        return self.documents

    def _accepted_count(self) -> int:
        count = 0
        for request in self.requests:
            if request.status != 200:
                continue
            count += sum(1 for item in request.actions if 200 <= item["status"] < 300 or item["status"] == 409)
        return count

    # -- protocol ------------------------------------------------------------------------------

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        body = gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw
        request = BulkRequest(method, path, headers, body, 200)
        with self._changed:
            try:
                if self.dump is not None:
                    (self.dump / f"request-{len(self.requests):03d}.ndjson").write_bytes(body)
                status, answer = self._answer(request, raw)
                request.status = status
                return status, answer
            finally:
                self.requests.append(request)
                self._changed.notify_all()

    def _answer(self, request: BulkRequest, raw: bytes) -> tuple[int, Any]:
        if not request.path.split("?")[0].rstrip("/").endswith("/_bulk"):
            return 404, {"error": f"no handler found for uri [{request.path}]", "status": 404}
        if self.user is not None and not self._basic_auth_ok(request.headers):
            return 401, {"error": "unauthorized", "status": 401}
        if self.signer is not None:
            problem = self._signature_problem(request, raw)
            if problem:
                self.signature_failures.append(problem)
                return 403, {"message": problem}
        if self.reject_requests:
            self.reject_requests -= 1
            return 503, {"error": "cluster unavailable", "status": 503}
        lines = [line for line in request.body.split(b"\n") if line]
        items = []
        index = 0
        while index < len(lines):
            action = json.loads(lines[index])
            if len(action) != 1:
                return 400, {"error": "Malformed action/metadata line", "status": 400}
            (operation, meta), = action.items()
            if index + 1 >= len(lines):
                return 400, {"error": "The bulk request must be terminated by a newline", "status": 400}
            document = json.loads(lines[index + 1])
            status = self.item_status.get(self._documents_seen, 201)
            self._documents_seen += 1
            if status < 300 or status == 409:
                request.documents.append(document)
            item: dict[str, Any] = {"_index": meta.get("_index"), "_id": meta.get("_id", "generated"), "status": status}
            if status >= 300:
                item["error"] = {"type": "injected", "reason": f"status {status} injected by the test"}
            items.append({operation: item})
            request.actions.append({"operation": operation, "meta": meta, "status": status})
            index += 2
        errors = any(item_status["status"] >= 300 for item_status in request.actions)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _basic_auth_ok(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def _signature_problem(self, request: BulkRequest, raw: bytes) -> str | None:
        """Sign the same request with botocore at the request's own X-Amz-Date and compare."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        assert self.signer is not None
        signed = request.headers.get("Authorization", "")
        if not signed.startswith("AWS4-HMAC-SHA256 "):
            return "missing SigV4 Authorization header"
        fields = dict(part.strip().split("=", 1) for part in signed[len("AWS4-HMAC-SHA256 "):].split(","))
        signed_headers = fields["SignedHeaders"].split(";")
        headers = {name: request.headers[next(h for h in request.headers if h.lower() == name)]
                   for name in signed_headers}
        url = f"http://{headers['host']}{request.path}"
        replay = AWSRequest(method=request.method, url=url, data=raw, headers=headers)
        replay.context["timestamp"] = request.headers["X-Amz-Date"]
        credentials = Credentials(self.signer.access_key, self.signer.secret_key, self.signer.token)
        auth = SigV4Auth(credentials, self.signer.service, self.signer.region)
        canonical = auth.canonical_request(replay)
        string_to_sign = auth.string_to_sign(replay, canonical)
        expected = auth.signature(string_to_sign, replay)
        if fields.get("Signature") != expected:
            return "The request signature we calculated does not match the signature you provided"
        scope = fields["Credential"].split("/", 1)[1]
        if scope != f"{request.headers['X-Amz-Date'][:8]}/{self.signer.region}/{self.signer.service}/aws4_request":
            return f"credential scope {scope} is not for {self.signer.region}/{self.signer.service}"
        if self.signer.token is not None and request.headers.get("X-Amz-Security-Token") != self.signer.token:
            return "the security token included in the request is invalid"
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dump", type=Path, required=True)
    args = parser.parse_args()
    args.dump.mkdir(parents=True, exist_ok=True)
    OpenSearchServer(dump=args.dump, port=args.port)._httpd.serve_forever()


if __name__ == "__main__":
    main()
