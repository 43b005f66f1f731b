"""moto's server with HTTP/1.1 keep-alive, over TLS when given a certificate.

    python -m tests.fakes.moto_keepalive [--close] PORT [CERT KEY]

Werkzeug, which ``python -m moto.server`` runs on, answers every request with
``Connection: close`` (werkzeug/serving.py ``run_wsgi``), so each client request opens a new
TCP and TLS connection. Real AWS endpoints keep connections open; this launcher serves moto's
own application with a request handler that leaves that header out, so a client's connection
reuse (and the TLS handshakes it saves) can be tested and measured. The handler reads each
request's body whole before moto sees it (moto leaves some unread), so the next request on the
connection starts where Python's ``http.server`` expects it; werkzeug's drain of unread data
after each answer, which would block on an open connection and swallow the next request, is
switched off (it selects on the socket through ``werkzeug.serving.selectors``).

moto's Kinesis shard numbers each record it stores by copying the shard's keys to find the last
(``Shard.put_record``, "not safe for concurrency"): quadratic in the records held, and two
requests served at once can take the same number, the later overwriting the earlier. Since this
server serves requests on threads, records are numbered here under a lock, from the last key
directly, so every record a client sends is kept (the benchmarks count them). With ``--close`` the
server is moto's own (``Connection: close`` on every answer) with only that fix: the server of the
tests that want moto as ``python -m moto.server`` runs it, and send PutRecords calls at once.
"""

from __future__ import annotations

import io
import selectors
import sys
import threading
from types import SimpleNamespace
from typing import Any

import werkzeug.serving
from moto.kinesis.models import Record, Shard
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


class _NothingLeftToDrain(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def select(self, timeout: float | None = None) -> list[Any]:
        return []


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)


_SHARD_LOCK = threading.Lock()


def _put_record(self: Shard, partition_key: str, data: bytes, explicit_hash_key: str) -> str:
    with _SHARD_LOCK:
        sequence_number = (next(reversed(self.records)) if self.records else 0) + 1
        self.records[sequence_number] = Record(partition_key, data, sequence_number, explicit_hash_key)
    return str(sequence_number)


def main(argv: list[str]) -> None:
    Shard.put_record = _put_record  # type: ignore[method-assign]
    keep_alive = argv[:1] != ["--close"]
    if not keep_alive:
        argv = argv[1:]
    else:
        werkzeug.serving.selectors = SimpleNamespace(  # type: ignore[attr-defined]
            DefaultSelector=_NothingLeftToDrain, EVENT_READ=selectors.EVENT_READ
        )
    port = int(argv[0])
    ssl_context = (argv[1], argv[2]) if len(argv) == 3 else None
    run_simple(
        "127.0.0.1",
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=KeepAliveHandler if keep_alive else WSGIRequestHandler,
        ssl_context=ssl_context,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
