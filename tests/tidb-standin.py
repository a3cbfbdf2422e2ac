#!/usr/bin/env python3
"""A TiDB stand-in for the tests: a plaintext MySQL-protocol proxy on
loopback in front of the test MariaDB that answers, for the few cases the
tests need, the way TiDB's own source answers. TiDB cannot run on our
machines; what TiDB does that MariaDB also does is left to MariaDB.

Each imitated behaviour names the TiDB source (pingcap/tidb) or documentation
page (pingcap/docs) it follows. Everything else is passed through as it is.

usage: tidb-standin.py --server-port P --port-file F [options]

  --global-kill on|off   enable-global-kill (default on)
  --oom-after N          the multi-row INSERT after the first N fails with
                         --oom-code (default 8175), each time
  --commit-error CODE    every COMMIT fails with CODE (8229) after the
                         transaction was rolled back
  --no-savepoint         SAVEPOINT is refused as with
                         tidb_constraint_check_in_place_pessimistic OFF
  --optimistic           tidb_txn_mode = 'optimistic': a duplicate key is
                         found at COMMIT, not at the INSERT
  --sm3-user NAME        the account NAME uses tidb_sm3_password
"""

import argparse
import os
import re
import select
import socket
import struct
import sys
import threading

# pkg/parser/mysql/const.go: ServerVersion is "8.0.11-TiDB-" followed by the
# release version; pkg/server/conn.go writeInitialHandshake sends it.
VERSION = b"8.0.11-TiDB-v7.5.1"

# What SELECT tidb_version() returns: pkg/expression/builtin_info.go
# (tidbVersionSig) returns printer.GetTiDBInfo() (pkg/util/printer), one
# "Key: value" per line.
TIDB_VERSION = ("Release Version: v7.5.1\n"
                "Edition: Community\n"
                "Git Commit Hash: 7d16cc79e81bbf573124df3fd9351c26963f3e70\n"
                "Git Branch: heads/refs/tags/v7.5.1\n"
                "UTC Build Time: 2024-02-27 14:28:32\n"
                "GoVersion: go1.21.6\n"
                "Race Enabled: false\n"
                "Check Table Before Drop: false\n"
                "Store: tikv")

# The server id of this "TiDB instance" in its global connection ids.
SERVER_ID = 5

CLIENT_LONG_PASSWORD = 1
CLIENT_SSL = 0x800
CLIENT_DEPRECATE_EOF = 1 << 24
SERVER_STATUS_IN_TRANS = 1
SERVER_STATUS_AUTOCOMMIT = 2

COM_QUIT, COM_QUERY, COM_STMT_PREPARE = 0x01, 0x03, 0x16
COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA = 0x17, 0x18
COM_STMT_CLOSE = 0x19

opts = None


def global_conn_id(local):
    """pkg/util/globalconn/globalconn.go GCID.ToConnID, 64 bits: bit 0 set,
    40 bits of local id from bit 1, 22 bits of server id from bit 41."""
    return 1 | (local << 1) | (SERVER_ID << 41)


def parse_conn_id(cid):
    """pkg/util/globalconn/globalconn.go ParseConnID: (local id, truncated,
    error); a 64-bit id cut to its low 32 bits is 'truncated'."""
    if cid & (1 << 63):
        return None, False, "unexpected connectionID exceeds int64"
    if cid & 1:
        if cid >> 32 == 0:
            return None, True, None
        if (cid >> 41) != SERVER_ID:
            return None, False, None
        return (cid >> 1) & ((1 << 40) - 1), False, None
    if cid >> 32:
        return None, False, "unexpected connectionID exceeds uint32"
    return None, False, None       # a 32-bit id no instance here gave


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def read_lenenc(b, i):
    c = b[i]
    if c < 251:
        return c, i + 1
    if c == 0xfc:
        return struct.unpack_from("<H", b, i + 1)[0], i + 3
    if c == 0xfd:
        return int.from_bytes(b[i + 1:i + 4], "little"), i + 4
    return struct.unpack_from("<Q", b, i + 1)[0], i + 9


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xff]) + payload


def err_payload(code, state, msg):
    return (b"\xff" + struct.pack("<H", code) + b"#" + state.encode() +
            msg.encode())


def ok_payload(status, warnings=0, affected=0):
    return (b"\x00" + lenenc(affected) + lenenc(0) +
            struct.pack("<HH", status, warnings))


class Conn:
    """One client, one server connection; one thread; the answers are read
    in the order the commands were sent, so that an answer made here can
    take its place among those of the server (a pipelined load)."""

    def __init__(self, client):
        self.c = client
        self.s = socket.create_connection(("127.0.0.1", opts.server_port))
        self.cbuf = b""
        self.sbuf = b""
        self.phase = "greet"
        self.deprecate_eof = False
        self.local_id = 0
        self.status = SERVER_STATUS_AUTOCOMMIT
        self.pending = []       # what each command's answer is to be
        self.cur = None         # the answer being read from the server
        self.stmts = {}         # statement id -> SQL
        self.inserts = 0
        self.deferred = None    # a duplicate kept for COMMIT (optimistic)
        self.caps = 0

    # -- plumbing ---------------------------------------------------------
    @staticmethod
    def take(buf):
        if len(buf) < 4:
            return None, buf
        n = int.from_bytes(buf[:3], "little")
        if len(buf) < 4 + n:
            return None, buf
        return (buf[3], buf[4:4 + n]), buf[4 + n:]

    def to_client(self, seq, payload):
        self.c.sendall(packet(seq, payload))

    def to_server(self, seq, payload):
        self.s.sendall(packet(seq, payload))

    def run(self):
        """A client that goes away does not stop the statement it sent:
        pkg/server/conn.go clientConn.Run reads the next command only
        after the last one has run, so TiDB finds the closed connection
        then (or when it writes the rows). So the server connection stays
        until what was sent has been answered."""
        gone = False
        try:
            while True:
                if gone and self.cur is None and not any(
                        e["kind"] != "local" for e in self.pending):
                    break
                rl = [self.s] if gone else [self.c, self.s]
                r, _, _ = select.select(rl, [], [])
                if self.c in r:
                    try:
                        d = self.c.recv(65536)
                    except OSError:
                        d = b""
                    if not d:
                        gone = True
                        continue
                    self.cbuf += d
                    self.client_packets()
                if self.s in r:
                    d = self.s.recv(65536)
                    if not d:
                        break
                    self.sbuf += d
                    if gone:
                        self.drain()
                    else:
                        self.server_packets()
        except OSError:
            pass
        finally:
            self.c.close()
            self.s.close()

    def drain(self):
        """The client is gone: the answers are read and dropped."""
        while True:
            p, self.sbuf = self.take(self.sbuf)
            if p is None:
                return
            if self.cur is None:
                while self.pending and self.pending[0]["kind"] == "local":
                    self.pending.pop(0)
                if not self.pending:
                    continue
                self.cur = self.pending.pop(0)
                self.cur["state"] = "first"
            if self.step(self.cur, p[1]):
                self.cur = None

    # -- from the server ----------------------------------------------------
    def server_packets(self):
        while True:
            p, self.sbuf = self.take(self.sbuf)
            if p is None:
                return
            seq, pl = p
            if self.phase == "greet":
                self.greeting(seq, pl)
            elif self.phase == "auth":
                if pl[:1] == b"\x00":
                    self.phase = "cmd"
                    self.note_status(pl)
                self.to_client(seq, pl)
            else:
                self.answer_packet(seq, pl)
            self.flush_local()

    def greeting(self, seq, pl):
        """pkg/server/conn.go writeInitialHandshake: TiDB's version, the
        low 32 bits of the connection id, ClientLongPassword among the
        capabilities (so no MariaDB extensions), and no ClientSSL when the
        server has no TLS configured (this stand-in is plaintext)."""
        end = pl.index(b"\x00", 1)
        rest = pl[end + 1:]
        self.local_id = struct.unpack_from("<I", rest, 0)[0]
        cid = global_conn_id(self.local_id) if opts.global_kill == "on" \
            else self.local_id
        rest = struct.pack("<I", cid & 0xffffffff) + rest[4:]
        # 8 bytes of scramble, a filler, then the low capability flags.
        low = struct.unpack_from("<H", rest, 13)[0]
        low = (low | CLIENT_LONG_PASSWORD) & ~CLIENT_SSL
        rest = rest[:13] + struct.pack("<H", low) + rest[15:]
        high = struct.unpack_from("<H", rest, 18)[0]
        self.caps = low | (high << 16)
        # The last 4 bytes of the reserved 10: MariaDB's own capabilities.
        rest = rest[:27] + b"\x00\x00\x00\x00" + rest[31:]
        self.to_client(seq, pl[:1] + VERSION + b"\x00" + rest)
        self.phase = "response"

    def note_status(self, pl):
        if pl[:1] in (b"\x00", b"\xfe") and len(pl) >= 5:
            _, i = read_lenenc(pl, 1)
            _, i = read_lenenc(pl, i)
            if i + 2 <= len(pl):
                self.status = struct.unpack_from("<H", pl, i)[0]

    def flush_local(self):
        while self.pending and self.cur is None and \
                self.pending[0]["kind"] == "local":
            e = self.pending.pop(0)
            for n, pl in enumerate(e["packets"]):
                self.to_client(n + 1, pl)

    def answer_packet(self, seq, pl):
        """One packet of the answer at the head of the queue; at its end,
        the next answer made here (if any) goes out."""
        if self.cur is None:
            while self.pending and self.pending[0]["kind"] == "local":
                self.flush_local()
            if not self.pending:
                self.to_client(seq, pl)
                return
            self.cur = self.pending.pop(0)
            self.cur["state"] = "first"
        e = self.cur
        done = self.step(e, pl)
        if e.get("replace") is not None:
            if done:
                for n, rpl in enumerate(e["replace"]):
                    self.to_client(n + 1, rpl)
        elif done and e.get("defer_dup") and pl[:1] == b"\xff" and \
                struct.unpack_from("<H", pl, 1)[0] == 1062:
            # Optimistic: the duplicate waits for COMMIT (below).
            if self.deferred is None:
                self.deferred = pl
            self.to_client(seq, ok_payload(self.status | SERVER_STATUS_IN_TRANS,
                                           0, e.get("rows", 1)))
        else:
            self.to_client(seq, pl)
        if done:
            self.cur = None

    def step(self, e, pl):
        """Whether pl ends the answer e (the protocol's shapes)."""
        st = e["state"]
        first = pl[:1]
        eof = first == b"\xfe" and (len(pl) < 9 or self.deprecate_eof)
        if st == "first":
            if first == b"\xff":
                return True
            if first == b"\x00":
                if e["kind"] == "prepare":
                    sid, ncol, npar = struct.unpack_from("<IHH", pl, 1)
                    self.stmts[sid] = e["sql"]
                    e["left"] = []
                    for n in (npar, ncol):
                        if n:
                            e["left"] += ["def"] * n
                            if not self.deprecate_eof:
                                e["left"].append("eof")
                    e["state"] = "defs"
                    return not e["left"]
                self.note_status(pl)
                return True
            n, _ = read_lenenc(pl, 0)
            e["left"] = ["def"] * n
            if not self.deprecate_eof:
                e["left"].append("eof")
            e["state"] = "cols"
            return False
        if st in ("defs", "cols"):
            e["left"].pop(0)
            if not e["left"]:
                if st == "defs":
                    return True
                e["state"] = "rows"
            return False
        # rows
        if first == b"\xff":
            return True
        if eof:
            if self.deprecate_eof:
                self.note_status(pl)
            elif len(pl) >= 5:
                self.status = struct.unpack_from("<H", pl, 3)[0]
            return True
        return False

    # -- from the client ----------------------------------------------------
    def client_packets(self):
        while True:
            p, self.cbuf = self.take(self.cbuf)
            if p is None:
                return
            seq, pl = p
            if self.phase == "response":
                self.handshake_response(seq, pl)
            elif self.phase in ("auth", "greet", "sm3"):
                if self.phase != "sm3":
                    self.to_server(seq, pl)
            else:
                self.command(seq, pl)
            self.flush_local()

    def handshake_response(self, seq, pl):
        caps = struct.unpack_from("<I", pl, 0)[0]
        self.deprecate_eof = bool(caps & self.caps & CLIENT_DEPRECATE_EOF)
        user = pl[32:pl.index(b"\x00", 32)].decode()
        if opts.sm3_user and user == opts.sm3_user:
            # pkg/server/conn.go handleAuthPlugin / authSwitchRequest: an
            # account whose plugin is tidb_sm3_password gets an auth switch
            # request to that plugin when the client offered another.
            self.phase = "sm3"
            self.to_client(seq + 1, b"\xfe" + b"tidb_sm3_password\x00" +
                           os.urandom(20).replace(b"\x00", b"\x01") + b"\x00")
            return
        self.phase = "auth"
        self.to_server(seq, pl)

    def local(self, *packets):
        self.pending.append({"kind": "local", "packets": list(packets)})

    def forward(self, seq, pl, kind="query", **extra):
        e = {"kind": kind}
        e.update(extra)
        self.pending.append(e)
        self.to_server(seq, pl)

    def in_txn(self):
        return bool(self.status & SERVER_STATUS_IN_TRANS) or \
            not self.status & SERVER_STATUS_AUTOCOMMIT

    def command(self, seq, pl):
        cmd = pl[0]
        if cmd == COM_QUERY:
            return self.query(seq, pl, pl[1:].decode("utf-8", "replace"))
        if cmd == COM_STMT_PREPARE:
            return self.forward(seq, pl, "prepare",
                                sql=pl[1:].decode("utf-8", "replace"))
        if cmd == COM_STMT_EXECUTE:
            sid = struct.unpack_from("<I", pl, 1)[0]
            sql = self.stmts.get(sid, "")
            rows = sql.count("(?,?,?)")
            if sql.startswith("INSERT") and rows > 1:
                self.inserts += 1
                if opts.oom_after is not None and \
                        self.inserts > opts.oom_after:
                    return self.local(self.oom())
                if opts.optimistic and self.in_txn():
                    return self.forward(seq, pl, defer_dup=True, rows=rows)
            elif sql.startswith("INSERT") and opts.optimistic and \
                    self.in_txn():
                return self.forward(seq, pl, defer_dup=True, rows=1)
            return self.forward(seq, pl)
        if cmd in (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT):
            self.to_server(seq, pl)       # no answer
            return None
        return self.forward(seq, pl)

    def oom(self):
        """pkg/errno/errname.go ErrMemoryExceedForQuery (8175) and
        ErrMemoryExceedForInstance (8176): since v6.5 a transaction too
        large for the memory quota (tidb_mem_quota_query) fails this way
        (docs: configure-memory-usage.md, tidb-configuration-file.md
        txn-total-size-limit). The statement ends; the transaction stays."""
        if opts.oom_code == 8176:
            msg = ("Your query has been cancelled due to exceeding the "
                   "allowed memory limit for the tidb-server instance and "
                   "this query is currently using the most memory. Please "
                   "try narrowing your query scope or increase the "
                   "tidb_server_memory_limit and try again.[conn=%d]")
        else:
            msg = ("Your query has been cancelled due to exceeding the "
                   "allowed memory limit for a single SQL query. Please try "
                   "narrowing your query scope or increase the "
                   "tidb_mem_quota_query limit and try again.[conn=%d]")
        return err_payload(opts.oom_code, "HY000", msg % self.conn_id())

    def conn_id(self):
        return global_conn_id(self.local_id) if opts.global_kill == "on" \
            else self.local_id

    def rewrite(self, seq, sql):
        self.forward(seq, bytes([COM_QUERY]) + sql.encode())

    def query(self, seq, pl, sql):
        q = sql.strip().rstrip(";").strip()
        up = q.upper()
        if re.fullmatch(r"SELECT\s+TIDB_VERSION\(\)", up):
            lit = TIDB_VERSION.replace("\n", "\\n")
            return self.rewrite(seq, "SELECT '%s' AS `tidb_version()`" % lit)
        if re.fullmatch(r"SELECT\s+VERSION\(\)", up):
            # pkg/expression/builtin_info.go: VERSION() is the server
            # version of the handshake.
            return self.rewrite(seq, "SELECT '%s' AS `VERSION()`" %
                                VERSION.decode())
        if re.fullmatch(r"SELECT\s+CONNECTION_ID\(\)", up):
            # The id of pkg/util/globalconn with Global Kill on.
            return self.rewrite(seq, "SELECT %d AS `CONNECTION_ID()`" %
                                self.conn_id())
        m = re.fullmatch(r"KILL\s+(TIDB\s+)?(?:(CONNECTION|QUERY)\s+)?(\d+)",
                         up)
        if m:
            return self.kill(seq, bool(m.group(1)), m.group(2) == "QUERY",
                             int(m.group(3)))
        if up.startswith("SAVEPOINT") and opts.no_savepoint and \
                self.in_txn():
            # pkg/executor/simple.go executeSavepoint: refused in a
            # pessimistic transaction when in-place constraint check is
            # off; errors.New reaches the client as 1105.
            return self.local(err_payload(
                1105, "HY000", "savepoint is not supported in pessimistic "
                "transactions when in-place constraint check is disabled"))
        if up == "COMMIT" and opts.commit_error:
            # pkg/errno/errname.go ErrLockExpire (8229): the transaction
            # lived past max-txn-ttl (docs: tidb-configuration-file.md
            # max-txn-ttl; Serverless: 30 minutes, serverless-limitations
            # .md); the commit fails and nothing of it is kept. The server
            # here is made to roll it back, and the answer is the error.
            return self.forward(seq, bytes([COM_QUERY]) + b"ROLLBACK",
                                replace=[err_payload(
                                    8229, "HY000", "TTL manager has timed "
                                    "out, pessimistic locks may expire, "
                                    "please commit or rollback this "
                                    "transaction")])
        if up == "COMMIT" and self.deferred is not None:
            # docs: optimistic-transaction.md, constraints.md: with
            # tidb_txn_mode optimistic (and tidb_constraint_check_in_place
            # OFF, the default) a duplicate key is found at COMMIT, which
            # then fails whole with 1062.
            dup = self.deferred
            self.deferred = None
            return self.forward(seq, bytes([COM_QUERY]) + b"ROLLBACK",
                                replace=[dup])
        if up == "ROLLBACK":
            self.deferred = None
        return self.forward(seq, pl)

    def kill(self, seq, tidb, query, cid):
        """pkg/executor/simple.go executeKillStmt; docs:
        sql-statements/sql-statement-kill.md. Without Global Kill, a plain
        KILL is answered OK with a warning and kills nothing; KILL TIDB
        kills. With Global Kill, KILL and KILL TIDB both kill, but a 64-bit
        id cut to 32 bits is answered OK with a warning. A warning from
        errors.New is code 1105."""
        verb = "QUERY" if query else "CONNECTION"
        if opts.global_kill == "off":
            if not tidb:
                return self.local(ok_payload(self.status, 1))
            return self.rewrite(seq, "KILL %s %d" % (verb, cid))
        local, truncated, err = parse_conn_id(cid)
        if err is not None or truncated or local is None:
            # An id of no connection of this instance: sm.Kill finds
            # nothing and says nothing (an OK without warning).
            return self.local(ok_payload(self.status,
                                         1 if err or truncated else 0))
        return self.rewrite(seq, "KILL %s %d" % (verb, local))


def serve(lsock):
    while True:
        c, _ = lsock.accept()
        try:
            conn = Conn(c)
        except OSError:
            c.close()
            continue
        threading.Thread(target=conn.run, daemon=True).start()


def main():
    global opts
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-port", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--global-kill", choices=("on", "off"), default="on")
    ap.add_argument("--oom-after", type=int)
    ap.add_argument("--oom-code", type=int, default=8175)
    ap.add_argument("--commit-error", type=int)
    ap.add_argument("--no-savepoint", action="store_true")
    ap.add_argument("--optimistic", action="store_true")
    ap.add_argument("--sm3-user")
    opts = ap.parse_args()
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, opts.port_file)
    try:
        serve(lsock)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
