#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Delay relay: a TCP relay that holds every chunk D ms +- J before forwarding it.

Usage: relay.py --listen ADDR:PORT --to ADDR:PORT [--ms D] [--jitter J] [--ctl FILE]
                [--max-secs S]

For kernels without sch_netem: put it between the gateway and an origin (the gateway's
upstream points at --listen) and change the delay at run time: write "D J" into the --ctl
file and send SIGHUP (deploy/chaos/drill delay --mechanism relay does exactly that). Order
within a direction is kept (a chunk never overtakes the one before it), so jitter delays but
never reorders, like netem without "reorder". A close on one side is passed on after the
data queued before it. Stops by itself after --max-secs (default 3600). Stdlib only.
"""
import argparse
import asyncio
import random
import signal
import sys

delay = [0.0, 0.0]  # ms, jitter ms


def load_ctl(path):
    try:
        with open(path) as f:
            parts = f.read().split()
        delay[0] = float(parts[0]) if parts else 0.0
        delay[1] = float(parts[1]) if len(parts) > 1 else 0.0
        sys.stderr.write("relay: delay %g ms +- %g\n" % (delay[0], delay[1]))
    except (OSError, ValueError) as e:
        sys.stderr.write("relay: cannot read %s: %s\n" % (path, e))


async def pump(reader, writer):
    loop = asyncio.get_running_loop()
    last = 0.0
    try:
        while True:
            data = await reader.read(65536)
            d = delay[0] + (random.uniform(-delay[1], delay[1]) if delay[1] else 0.0)
            due = max(last, loop.time() + max(d, 0.0) / 1000.0)
            last = due
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            writer.close()


async def handle(cr, cw, to):
    host, _, port = to.rpartition(":")
    try:
        ur, uw = await asyncio.open_connection(host.strip("[]"), int(port))
    except OSError:
        cw.close()  # the client sees the refusal as a close: nothing was forwarded
        return
    await asyncio.gather(pump(cr, uw), pump(ur, cw))
    cw.close()
    uw.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--ms", type=float, default=0)
    ap.add_argument("--jitter", type=float, default=0)
    ap.add_argument("--ctl")
    ap.add_argument("--max-secs", type=float, default=3600)
    a = ap.parse_args()
    delay[0], delay[1] = a.ms, a.jitter
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(None))
    if a.ctl:
        loop.add_signal_handler(signal.SIGHUP, load_ctl, a.ctl)
    host, _, port = a.listen.rpartition(":")
    srv = await asyncio.start_server(lambda r, w: handle(r, w, a.to), host.strip("[]"),
                                     int(port), reuse_address=True, backlog=1024)
    try:
        await asyncio.wait_for(stop, a.max_secs)
    except asyncio.TimeoutError:
        pass
    srv.close()


if __name__ == "__main__":
    asyncio.run(main())
