#!/usr/bin/python3
"""A TCP proxy on loopback that delays every byte and counts round trips.

The kernel here has no netem, so a link across the internet is made in user
space: every chunk read from one side is written to the other DELAY
milliseconds after it arrived (default 25, so a round trip costs 50 ms), in
order, byte for byte. TLS passes through untouched: the proxy never looks
inside the stream.

A round trip is a wait: the client, silent, waiting for the server's answer
before it says more. Per connection, the proxy counts the times the client
sends data (or closes) after data from the server arrived, at least one
round trip after that data and after the client's own data before (it could
not have reacted sooner, and sent nothing meanwhile); the connection itself
is the first request (a MySQL server speaks first: its greeting answers the
connect). For a client that waits for every answer this is the number of
answers; a client that sends its next statements while the server still
works on the last (a pipeline) pays one round trip for the run of them,
not one per answer. The last answer before the client closes is one too. New connections: the proxy connects upstream one delay after it
accepted, so the greeting arrives one round trip after the connect (a real
link spends one more on the TCP handshake; the kernel completes it here).

The control port answers one command per connection, a line:
  get      "rtts R conns C active A up U down D" - totals over every
           connection so far; active counts those whose client has not
           closed yet (their count may still grow)
  reset    the same, then sets the totals to zero
  list     one line per connection: "N rtts R up U down D" (then "end")

Usage: delay_proxy.py [--delay MS] [--listen PORT] [--control PORT]
                      [--ready FILE] TARGET_PORT [TARGET_HOST]
With port 0 (the default) the system picks a free port; the ports in use
are written to FILE as "LISTEN CONTROL" once both accept connections.
Stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import os
import signal
import socket
import sys

CHUNK = 65536


class Conn:
    def __init__(self, n, delay, now):
        self.n = n
        # Times are when the proxy reads the data, before it delays it: an
        # answer read at s reaches the client at s + delay, and what the
        # client says back is read here at once; the client's own data
        # before came back as that answer one round trip later at least.
        # (A little less, for the timers' slack.)
        self.react = delay * 0.8
        self.rtt = 2 * delay * 0.8
        self.rtts = 0
        self.last_client = now  # the connect
        self.last_server = None
        self.answered = False   # server data since the client's last
        self.client_closed = False
        self.up = 0
        self.down = 0

    def waited(self, now):
        if (self.answered and now - self.last_server >= self.react and
                now - self.last_client >= self.rtt):
            self.rtts += 1
        self.answered = False
        self.last_client = now

    def from_client(self, data, now):
        if self.client_closed:
            return
        if data:
            self.up += len(data)
        else:
            self.client_closed = True
        self.waited(now)

    def from_server(self, data, now):
        if not data or self.client_closed:
            return
        self.down += len(data)
        self.answered = True
        self.last_server = now


class Proxy:
    def __init__(self, args):
        self.delay = args.delay / 1000.0
        self.host = args.target_host
        self.port = args.target_port
        self.conns = []
        self.seq = 0

    def totals(self):
        c = self.conns
        return "rtts %d conns %d active %d up %d down %d" % (
            sum(x.rtts for x in c), len(c),
            sum(1 for x in c if not x.client_closed),
            sum(x.up for x in c), sum(x.down for x in c))

    async def pump(self, reader, writer, note):
        """Copy reader to writer, each chunk DELAY after it was read."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        task = asyncio.ensure_future(deliver())
        try:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b""
                note(data, loop.time())
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    break
            await task
        finally:
            task.cancel()

    async def client(self, creader, cwriter):
        self.seq += 1
        conn = Conn(self.seq, self.delay, asyncio.get_running_loop().time())
        self.conns.append(conn)
        nodelay(cwriter)
        try:
            await asyncio.sleep(self.delay)
            sreader, swriter = await asyncio.open_connection(self.host,
                                                             self.port)
        except OSError as e:
            print("delay_proxy: cannot connect to %s:%d: %s" %
                  (self.host, self.port, e), file=sys.stderr)
            conn.client_closed = True
            cwriter.close()
            return
        nodelay(swriter)
        up = asyncio.ensure_future(self.pump(creader, swriter,
                                             conn.from_client))
        down = asyncio.ensure_future(self.pump(sreader, cwriter,
                                               conn.from_server))
        try:
            await asyncio.wait([up, down],
                               return_when=asyncio.FIRST_EXCEPTION)
        finally:
            conn.client_closed = True
            for t in (up, down):
                t.cancel()
            for w in (cwriter, swriter):
                w.close()

    async def control(self, reader, writer):
        try:
            cmd = (await reader.readline()).decode("ascii", "replace").strip()
            if cmd == "list":
                out = "".join("%d rtts %d up %d down %d\n" %
                              (c.n, c.rtts, c.up, c.down)
                              for c in self.conns) + "end\n"
            elif cmd in ("get", "reset"):
                out = self.totals() + "\n"
                if cmd == "reset":
                    self.conns = [c for c in self.conns
                                  if not c.client_closed]
                    for c in self.conns:
                        c.rtts = c.up = c.down = 0
            else:
                out = "error: unknown command %r\n" % cmd
            writer.write(out.encode("ascii"))
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def main(args):
    proxy = Proxy(args)
    srv = await asyncio.start_server(proxy.client, "127.0.0.1", args.listen)
    ctl = await asyncio.start_server(proxy.control, "127.0.0.1",
                                     args.control)
    lport = srv.sockets[0].getsockname()[1]
    cport = ctl.sockets[0].getsockname()[1]
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (lport, cport))
        os.rename(tmp, args.ready)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    srv.close()
    ctl.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="delaying, counting TCP proxy")
    p.add_argument("--delay", type=float, default=25.0,
                   help="milliseconds added each way (default 25)")
    p.add_argument("--listen", type=int, default=0)
    p.add_argument("--control", type=int, default=0)
    p.add_argument("--ready")
    p.add_argument("target_port", type=int)
    p.add_argument("target_host", nargs="?", default="127.0.0.1")
    a = p.parse_args()
    if a.delay < 0:
        p.error("--delay must not be negative")
    asyncio.run(main(a))
