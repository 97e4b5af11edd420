# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A recording origin for the system suites: every request it receives is appended to a log
# ("METHOD TARGET IDEMPOTENCY-KEY BODY", a chunked body decoded), and each answer carries a
# fresh id, so a test can tell a replayed answer from a second execution. Query flags: delay=MS (answer late),
# chunked (chunked body), big (a ~100 KB body), reset (read the request, then reset).
# Usage: record_origin.py PORT LOGFILE [SECONDS]  (exits after SECONDS, default 300)
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if not size:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def do_POST(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self.read_chunked().decode(errors="replace")
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode(errors="replace") if n else ""
        with lock, open(LOG, "a") as f:
            key = self.headers.get("Idempotency-Key", "-")
            f.write("%s %s %s %s\n" % (self.command, self.path, key, body or "-"))
        flags = self.path.split("?", 1)[1].split("&") if "?" in self.path else []
        for fl in flags:
            if fl.startswith("delay="):
                time.sleep(int(fl[6:]) / 1000.0)
        if "reset" in flags:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        out = ("order %s accepted id=%s\n" % (body, uuid.uuid4().hex)).encode()
        if "big" in flags:
            out = out * 2000
        self.send_response(201)
        self.send_header("X-Origin", "record")
        if "chunked" in flags:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(out), 7):
                piece = out[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_PATCH = do_POST


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
threading.Timer(LIFETIME, server.shutdown).start()
server.serve_forever()
