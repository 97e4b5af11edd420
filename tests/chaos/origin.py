#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Recording origin for the chaos suites: answers HTTP/1.1 and appends every order id it got.

Usage: origin.py --listen ADDR:PORT --name NAME --record FILE [--max-secs S]

A request carrying an `X-Order-Id` header is recorded ("ID NAME" appended to FILE with one
unbuffered write) *before* it is answered, so an order the gateway answered 2xx for is always
in some origin's file, and one the origin saw but never answered shows up as recorded-but-failed.
GET /healthz answers 200 without recording. Keep-alive, Content-Length bodies only (the
gateway forwards chunked verbatim; the order client never sends it). Stdlib only.
"""
import argparse
import asyncio
import os
import signal
import sys


class Conn(asyncio.Protocol):
    def __init__(self, srv):
        self.srv = srv
        self.buf = b""
        self.tr = None

    def connection_made(self, tr):
        self.tr = tr

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.tr.close()
                return
            head = self.buf[:end].decode("latin-1").split("\r\n")
            clen, oid, close = 0, None, False
            for line in head[1:]:
                k, _, v = line.partition(":")
                k = k.strip().lower()
                v = v.strip()
                if k == "content-length":
                    clen = int(v)
                elif k == "x-order-id":
                    oid = v
                elif k == "connection" and v.lower() == "close":
                    close = True
            if len(self.buf) < end + 4 + clen:
                return
            self.buf = self.buf[end + 4 + clen:]
            parts = head[0].split(" ")
            if oid is not None:
                os.write(self.srv.fd, ("%s %s\n" % (oid, self.srv.name)).encode())
                self.srv.count += 1
                body = ("ok %s %s\n" % (oid, self.srv.name)).encode()
            elif len(parts) > 1 and parts[1] == "/healthz":
                body = b"ok\n"
            else:
                body = ("origin=%s\n" % self.srv.name).encode()
            self.tr.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                          + str(len(body)).encode() + b"\r\n\r\n" + body)
            if close:
                self.tr.close()
                return


class Server:
    def __init__(self, name, path):
        self.name = name
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.count = 0


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--max-secs", type=float, default=600)
    a = ap.parse_args()
    host, _, port = a.listen.rpartition(":")
    srv = Server(a.name, a.record)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    server = await loop.create_server(lambda: Conn(srv), host.strip("[]"), int(port),
                                      reuse_address=True, backlog=1024)
    try:
        await asyncio.wait_for(stop, a.max_secs)  # bounded even when nobody stops us
    except asyncio.TimeoutError:
        pass
    server.close()
    sys.stderr.write("origin %s: recorded %d\n" % (a.name, srv.count))


if __name__ == "__main__":
    asyncio.run(main())
