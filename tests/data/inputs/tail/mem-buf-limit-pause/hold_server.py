"""An OpenSearch _bulk endpoint on 127.0.0.1:PORT that holds every request HOLD seconds, then
accepts it: an output that cannot keep up. Usage: python3 hold_server.py PORT HOLD"""

import http.server
import sys
import time

HOLD_SECONDS = float(sys.argv[2])
BODY = b'{"took":1,"errors":false,"items":[]}'


class Holding(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(HOLD_SECONDS)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Holding).serve_forever()
