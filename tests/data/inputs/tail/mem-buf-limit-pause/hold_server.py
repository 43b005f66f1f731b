"""An OpenSearch _bulk endpoint on 127.0.0.1:PORT that holds every request HOLD seconds, then
accepts it: an output that cannot keep up. Usage: python3 hold_server.py PORT HOLD"""
import http.server, sys, time
HOLD = float(sys.argv[2])
BODY = b'{"took":1,"errors":false,"items":[]}'
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("content-length", 0)); self.rfile.read(n)
        time.sleep(HOLD)
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY))); self.end_headers(); self.wfile.write(BODY)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
