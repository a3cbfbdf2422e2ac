#!/usr/bin/python3
"""A TCP proxy on loopback that injects one fault into one connection.

It sits between tidbplay and the test server and counts the client's
turns: the connect is turn 0 (a MySQL server speaks first), and every
time the client sends data after the server has sent some since the
client last spoke is the next turn. It never looks inside the stream, so
TLS stays end to end.

A fault is armed for the next connection accepted, at turn K:
  cut     the K-th request never reaches the server: both sides closed
          when it arrives (the statement was not sent)
  answer  the K-th request reaches the server, and the connection is cut
          when the answer to it comes back (the server did the work, the
          client never hears of it)
  hold    the K-th request reaches the server, and everything the server
          says after it is held back until the client gives up (the server
          looks hung; the client's read_timeout ends it)
After the fault, the proxy either lets later connections through
untouched (a reconnect reaches the same server), or with "dead" refuses
them (the node is gone; a host list goes on to the next).

Imported by tests/faults.py; run alone it has a control port that takes
one line per connection:
  arm KIND K [dead]   arm the next connection (KIND none: count only)
  get                 "turns T fired F conns C" of the last armed one
Usage: faultproxy.py [--ready FILE] TARGET_PORT [TARGET_HOST]
The ports in use are written to FILE as "LISTEN CONTROL".
"""
import argparse
import os
import select
import signal
import socket
import sys
import threading

CHUNK = 65536
KINDS = ("none", "cut", "answer", "hold")


class Conn:
    """One client connection and its upstream, pumped by one thread."""

    def __init__(self, client, upstream, kind, k):
        self.client = client
        self.upstream = upstream
        self.kind = kind
        self.k = k
        self.turns = 0
        self.answered = False   # server data since the client last spoke
        self.fired = False
        self.sent_k = False     # the K-th request went through
        self.done = threading.Event()

    def _fire(self):
        self.fired = True

    def run(self):
        c, u = self.client, self.upstream
        if self.k == 0 and self.kind == "cut":
            self._fire()        # the connect itself never gets through
        elif self.k == 0 and self.kind != "none":
            self.sent_k = True  # its answer is the server's greeting
        try:
            while not self.fired or self.kind != "cut":
                r, _, _ = select.select([c, u], [], [])
                if c in r:
                    data = c.recv(CHUNK)
                    if not data:
                        break
                    if self.answered:
                        self.turns += 1
                        self.answered = False
                    if self.turns == self.k and not self.fired and \
                            self.kind == "cut":
                        self._fire()
                        break
                    if self.turns == self.k and self.kind in ("answer",
                                                              "hold"):
                        self.sent_k = True
                    u.sendall(data)
                if u in r:
                    data = u.recv(CHUNK)
                    if not data:
                        break
                    self.answered = True
                    if self.sent_k and not self.fired:
                        self._fire()
                        if self.kind == "answer":
                            break
                    if self.fired and self.kind == "hold":
                        continue    # held back: the client never sees it
                    c.sendall(data)
        except OSError:
            pass
        finally:
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.done.set()


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1", listen=0):
        self.target = (target_host, target_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.kind, self.k, self.dead = "none", -1, False
        self.armed = None       # the connection the fault is for
        self.conns = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()

    def arm(self, kind, k, dead=False):
        """The next connection gets the fault; later ones per dead."""
        if kind not in KINDS:
            raise ValueError("unknown fault %r" % kind)
        with self.lock:
            self.kind, self.k, self.dead = kind, k, dead
            self.armed = None
            self.conns = []

    def result(self):
        """(turns, fired, connections) of the armed connection's run."""
        with self.lock:
            a = self.armed
            n = len(self.conns)
        if a is None:
            return 0, False, n
        a.done.wait(5)
        return a.turns, a.fired, n

    def close_all(self):
        """Cut whatever is still connected (between runs)."""
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            for s in (c.client, c.upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                first = self.armed is None
                refuse = not first and self.dead and self.armed.fired
                kind, k = (self.kind, self.k) if first else ("none", -1)
            if refuse:
                client.close()
                continue
            try:
                up = socket.create_connection(self.target)
            except OSError as e:
                print("faultproxy: cannot connect to %s:%d: %s" %
                      (self.target + (e,)), file=sys.stderr)
                client.close()
                continue
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(client, up, kind, k)
            with self.lock:
                if first:
                    self.armed = conn
                self.conns.append(conn)
            threading.Thread(target=conn.run, daemon=True).start()


def control(proxy, sock):
    while True:
        s, _ = sock.accept()
        with s:
            f = s.makefile("rw")
            words = f.readline().split()
            try:
                if words[:1] == ["arm"]:
                    proxy.arm(words[1], int(words[2]),
                              words[3:] == ["dead"])
                    out = "ok"
                elif words == ["get"]:
                    out = "turns %d fired %d conns %d" % proxy.result()
                else:
                    out = "error: unknown command"
            except (IndexError, ValueError) as e:
                out = "error: %s" % e
            f.write(out + "\n")
            f.flush()


def main():
    p = argparse.ArgumentParser(description="fault-injecting TCP proxy")
    p.add_argument("--ready")
    p.add_argument("target_port", type=int)
    p.add_argument("target_host", nargs="?", default="127.0.0.1")
    a = p.parse_args()
    proxy = FaultProxy(a.target_port, a.target_host)
    ctl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ctl.bind(("127.0.0.1", 0))
    ctl.listen(4)
    threading.Thread(target=control, args=(proxy, ctl), daemon=True).start()
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d %d\n" % (proxy.port, ctl.getsockname()[1]))
        os.rename(a.ready + ".tmp", a.ready)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
    main()
