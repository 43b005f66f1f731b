"""moto's server with HTTP/1.1 keep-alive, over TLS when given a certificate.

    python -m tests.fakes.moto_keepalive PORT [CERT KEY]

Werkzeug, which ``python -m moto.server`` runs on, answers every request with
``Connection: close`` (werkzeug/serving.py ``run_wsgi``), so each client request opens a new
TCP and TLS connection. Real AWS endpoints keep connections open; this launcher serves moto's
own application with a request handler that leaves that header out, so a client's connection
reuse (and the TLS handshakes it saves) can be tested and measured. moto reads every request
body, so the next request on a connection starts where Python's ``http.server`` expects it.
"""

from __future__ import annotations

import sys

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)


def main(argv: list[str]) -> None:
    port = int(argv[0])
    ssl_context = (argv[1], argv[2]) if len(argv) == 3 else None
    run_simple(
        "127.0.0.1",
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=KeepAliveHandler,
        ssl_context=ssl_context,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
