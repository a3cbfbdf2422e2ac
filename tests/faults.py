#!/usr/bin/python3
"""The fault-point test's driver (run by tests/faults.t, which starts the
server): every writing command, a fault at every turn of its exchange, each
fault kind, one host and a host list; the server's state, read with the
mariadb client, held against what tidbplay said. Prints TAP.

Environment: TIDBPLAY, TP_PORT, TP_CA, TP_ADMIN, TP_USER, TP_PASSWORD, T (a
scratch directory), FAULTS_WORKERS (default 6), FAULTS_ONLY (a scenario
name: only that one, for debugging), FAULTS_VERBOSE (every run).
"""
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultproxy import FaultProxy  # noqa: E402

TIDBPLAY = os.environ["TIDBPLAY"]
PORT = int(os.environ["TP_PORT"])
CA = os.environ["TP_CA"]
ADMIN = os.environ["TP_ADMIN"]
USER = os.environ.get("TP_USER", "app")
PASSWORD = os.environ["TP_PASSWORD"]
T = os.environ["T"]
WORKERS = int(os.environ.get("FAULTS_WORKERS", "6"))
ONLY = os.environ.get("FAULTS_ONLY", "")
VERBOSE = os.environ.get("FAULTS_VERBOSE", "") != ""
READ_TIMEOUT = 1
RUN_TIMEOUT = 40        # a run longer than this is a hang
STATUSES = (0, 1, 3)    # the man page's, for what these runs can meet

START = {"a": (100, 100), "b": (100, 100)}
ROWS = 5                # of a bulk or an import


# ---- what a change did to the table: none, applied, replay, half, odd ----

def combine(results):
    s = set(results)
    if "odd" in s:
        return "odd"
    if "replay" in s:
        return "replay"
    if s == {"applied"}:
        return "applied"
    if s == {"none"}:
        return "none"
    return "half"


def col(name, i, step=None, to=None):
    """Column i of name: moved by step (relative) or set to a value."""
    def check(st):
        if name not in st:
            return "odd"
        v, base = st[name][i], START[name][i]
        if v == base:
            return "none"
        if to is not None:
            return "applied" if v == to else "odd"
        if v == base + step:
            return "applied"
        if v == base + 2 * step:
            return "replay"
        return "odd"
    return check


def added(name, coins, goods):
    def check(st):
        if name not in st:
            return "none"
        return "applied" if st[name] == (coins, goods) else "odd"
    return check


def renamed(old, new):
    def check(st):
        if old in st and new not in st:
            return "none"
        if new in st and old not in st:
            return "applied"
        return "odd"
    return check


def deleted(name):
    return lambda st: "applied" if name not in st else "none"


def loaded(prefix, n):
    def check(st):
        k = sum(1 for x in st if x.startswith(prefix + "_"))
        return "none" if k == 0 else "applied" if k == n else "half"
    return check


def all_of(*checks):
    return lambda st: combine([c(st) for c in checks])


TRADE = all_of(col("a", 0, -30), col("a", 1, 2), col("b", 0, 30),
               col("b", 1, -2))


class Scenario:
    """A script, how it is given, and its units: (first line, last line,
    check). A unit of one line is one command; a unit of several is a
    transaction, applied whole or not at all."""

    def __init__(self, name, script, units, fmt=None, args=(), stdin=None):
        self.name = name
        self.script = script
        self.units = units
        self.fmt = fmt
        self.args = list(args)
        self.stdin = stdin

    def argv(self):
        a = list(self.args)
        if self.fmt:
            a += ["--format", self.fmt]
        return a

    def input(self):
        return self.stdin if self.stdin is not None else self.script


def csv(prefix):
    return "name,coins,goods\n" + "".join(
        "%s_%d,%d,%d\n" % (prefix, i, i, i) for i in range(1, ROWS + 1))


def scenarios():
    csvfile = os.path.join(T, "faults.csv")
    with open(csvfile, "w") as f:
        f.write(csv("i"))
    s = [Scenario("add", "add n 7 8\n", [(1, 1, added("n", 7, 8))])]
    for fmt in ("table", "vertical", "tsv", "csv", "json"):
        s.append(Scenario("set coins (%s)" % fmt, "set coins a 5\n",
                          [(1, 1, col("a", 0, to=5))], fmt=fmt))
        s.append(Scenario("set goods +3 (%s)" % fmt, "set goods a +3\n",
                          [(1, 1, col("a", 1, 3))], fmt=fmt))
    s += [
        Scenario("rename", "rename a z\n", [(1, 1, renamed("a", "z"))]),
        Scenario("del", "del b\n", [(1, 1, deleted("b"))]),
        Scenario("trade", "trade a b 2 30\n", [(1, 1, TRADE)]),
        Scenario("bulk", "bulk %d q\n" % ROWS, [(1, 1, loaded("q", ROWS))]),
        Scenario("import file", "import %s\n" % csvfile,
                 [(1, 1, loaded("i", ROWS))]),
        Scenario("import pipe", "import -", [(1, 1, loaded("j", ROWS))],
                 args=["-e", "import -"], stdin=csv("j")),
        Scenario("piped adds", "add p1 1 1\nadd p2 2 2\nadd p3 3 3\n",
                 [(1, 1, added("p1", 1, 1)), (2, 2, added("p2", 2, 2)),
                  (3, 3, added("p3", 3, 3))]),
        Scenario("transaction",
                 "begin\nset coins a 1\nset goods b +5\nadd t 1 1\ncommit\n",
                 [(1, 5, all_of(col("a", 0, to=1), col("b", 1, 5),
                                added("t", 1, 1)))]),
        Scenario("load in begin",
                 "begin\nset coins a 9\nimport %s\ncommit\n" % csvfile,
                 [(1, 4, all_of(col("a", 0, to=9), loaded("i", ROWS)))]),
    ]
    return [x for x in s if not ONLY or x.name == ONLY]


# ---- what tidbplay said ----

LINE = re.compile(r"^(?:stdin|-e):(\d+): (.*)$", re.M)
GROUP = re.compile(r"\blines (\d+)-(\d+)\b")
# The client library's errors (2000-2999) are never the server's.
CLIENT_AS_SERVER = re.compile(r"server error 2[0-9]{3}\b")
CONNECT = re.compile(r"^tidbplay: (cannot connect|TLS verification|access "
                     r"denied|cannot read the shape of table)", re.M)
# Failed commands whose change was applied all the same, as they say.
APPLIED_ANYWAY = re.compile(r"the change was applied|^added the players "
                            r"of lines")


def claims(sc, rc, err):
    """Per unit: applied, not applied, or unknown (may or may not)."""
    if rc == 0:
        return ["applied"] * len(sc.units)
    m = LINE.search(err)
    if m is None and CONNECT.search(err):
        # Nothing ran: no connection at the start.
        return ["not applied"] * len(sc.units)
    if m is None:
        # No command failed; the script stopped after (exit 3: no
        # server for the rest).
        return ["applied"] * len(sc.units)
    first = last = int(m.group(1))
    msg = m.group(2)
    g = GROUP.search(msg)
    if g:
        first, last = int(g.group(1)), int(g.group(2))
    if APPLIED_ANYWAY.search(msg):
        said = "applied"
    elif "may or may not" in err:
        said = "unknown"
    else:
        said = "not applied"
    out = []
    for lo, hi, _ in sc.units:
        if hi < first:
            out.append("applied")
        elif lo > last:
            out.append("not applied")
        else:
            out.append(said)
    return out


# ---- the server, read directly ----

def admin(sql):
    r = subprocess.run([ADMIN, "--default-character-set=utf8mb4", "-N",
                        "-B", "-e", sql, "test"], capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError("mariadb: %s" % r.stderr.decode().strip())
    return r.stdout.decode()


def reset_sql(table):
    return ("CREATE TABLE IF NOT EXISTS `%s` (id INTEGER NOT NULL "
          "AUTO_INCREMENT, name VARCHAR(32), coins INTEGER, goods INTEGER, "
          "PRIMARY KEY (id), UNIQUE (name)); DELETE FROM `%s`; "
          "INSERT INTO `%s` (name, coins, goods) VALUES %s" % (
              table, table, table, ", ".join(
                  "('%s', %d, %d)" % (n, c, g)
                  for n, (c, g) in sorted(START.items()))))


def reset(table):
    admin(reset_sql(table))


def state(table, then=""):
    """The table as it is; then (SQL) runs after it is read."""
    st = {}
    for line in admin("SELECT name, coins, goods FROM `%s`; %s" %
                      (table, then)).splitlines():
        n, c, g = line.split("\t")
        st[n] = (int(c), int(g))
    return st


# ---- the runs ----

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = self.fired = 0
        self.c = dict.fromkeys(("lies", "replays", "halves", "hangs",
                                "crashes", "bad statuses", "misnamed"), 0)
        self.notes = []

    def add(self, what, note):
        with self.lock:
            self.c[what] += 1
            if len(self.notes) < 40:
                self.notes.append("%s: %s" % (what, note))


class Worker:
    def __init__(self, i):
        self.table = "faults_w%d" % i
        self.proxy = FaultProxy(PORT)
        self.ini = os.path.join(T, "faults%d.ini" % i)
        with open(self.ini, "w") as f:
            f.write("[connection]\nread_timeout = %d\nconnect_timeout = 1\n"
                    "[shell]\nbatch = 2\ntable = %s\n" %
                    (READ_TIMEOUT, self.table))
        self.env = dict(os.environ, TIDB_PASSWORD=PASSWORD, HOME=T,
                        XDG_CONFIG_HOME=os.path.join(T, "config"),
                        TIDBPLAY_HISTFILE="")
        for k in ("TIDB_HOST", "TIDB_PORT", "TIDB_USER", "TIDB_DB_NAME",
                  "CA_PATH"):
            self.env.pop(k, None)

    def run(self, sc, hosts, kind, k):
        dead = hosts == 2
        self.proxy.arm(kind, k, dead)
        h = "127.0.0.1:%d" % self.proxy.port
        if hosts == 2:
            h += ",127.0.0.1:%d" % PORT
        argv = [TIDBPLAY, "-c", self.ini, "-H", h, "-u", USER, "--ca", CA]
        argv += sc.argv()
        t0 = time.time()
        try:
            r = subprocess.run(argv, input=sc.input().encode(),
                               capture_output=True, timeout=RUN_TIMEOUT,
                               env=self.env, cwd=T)
            rc, out, err = r.returncode, r.stdout.decode(), \
                r.stderr.decode()
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, "", (e.stderr or b"").decode()
        self.proxy.close_all()
        turns, fired, conns = self.proxy.result()
        return rc, out, err, turns, fired, time.time() - t0


def judge(tally, sc, hosts, kind, k, res, st):
    rc, out, err, turns, fired, secs = res
    where = "%s, %d host%s, %s at turn %d" % (sc.name, hosts,
                                               "s" if hosts > 1 else "",
                                               kind, k)
    detail = "%s: exit %s; stderr: %s" % (where, rc, err.strip()[:400])
    if VERBOSE:
        print("# %s (%.1f s, fired %s): exit %s, %s" %
              (where, secs, fired, rc, err.strip().replace("\n", " | ")))
    if rc is None:
        tally.add("hangs", detail)
        return
    if rc < 0 or rc >= 96:
        tally.add("crashes", detail)
        return
    if rc not in STATUSES:
        tally.add("bad statuses", detail)
    if CLIENT_AS_SERVER.search(err):
        tally.add("misnamed", detail)
    said = claims(sc, rc, err)
    for (lo, hi, check), c in zip(sc.units, said):
        got = check(st)
        unit = "%s [lines %d-%d]: said %s, table %s; %s" % (
            where, lo, hi, c, got, detail)
        if got == "replay":
            tally.add("replays", unit)
        elif got in ("half", "odd"):
            tally.add("halves", unit)
        elif c == "applied" and got != "applied" or \
                c == "not applied" and got != "none":
            tally.add("lies", unit)


def main():
    tally = Tally()
    scs = scenarios()
    workers = [Worker(i) for i in range(WORKERS)]
    for w in workers:
        reset(w.table)
    w0 = workers[0]
    print("1..10")
    # The turns of the connect: those of a script with no command, but the
    # last (its goodbye). A fault there is the same for every command: the
    # first scenario meets it at each such turn, the others from the first
    # turn of their own on.
    res = w0.run(Scenario("nothing", "", []), 1, "none", -1)
    connect = res[3]
    jobs = []
    bad = []
    for i, sc in enumerate(scs):
        res = w0.run(sc, 1, "none", -1)
        st = state(w0.table, reset_sql(w0.table))
        if res[0] != 0 or any(c(st) != "applied" for _, _, c in sc.units):
            bad.append("%s: exit %s, %s" % (sc.name, res[0], res[2]))
        for hosts in (1, 2):
            for kind in ("cut", "answer", "hold"):
                for k in range(0 if i == 0 else connect - 1, res[3] + 1):
                    jobs.append((sc, hosts, kind, k))
    print("%sok 1 - every scenario succeeds without a fault" %
          ("not " if bad else ""))
    print("# the connect is turns 0-%d (or one fewer)" % (connect - 1))
    for b in bad:
        print("# " + b.replace("\n", " | "))
    # Hold runs wait read_timeout: they go first, spread over the workers.
    jobs.sort(key=lambda j: j[2] != "hold")
    lock = threading.Lock()

    def work(w):
        while True:
            with lock:
                if not jobs:
                    return
                job = jobs.pop(0)
            res = w.run(*job)
            st = state(w.table, reset_sql(w.table))
            with tally.lock:
                tally.n += 1
                tally.fired += 1 if res[4] else 0
            judge(tally, *job, res, st)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c = tally.c
    print("# %d runs, %d lies, %d replays, %d halves, %d hangs, %d crashes, "
          "%d bad statuses (the fault was injected in %d)" % (
              tally.n, c["lies"], c["replays"], c["halves"], c["hangs"],
              c["crashes"], c["bad statuses"], tally.fired))
    for n in tally.notes:
        print("# " + n.replace("\n", " | "))
    i = 2
    for what in ("lies", "replays", "halves", "hangs", "crashes",
                 "bad statuses"):
        print("%sok %d - %d %s" % ("not " if c[what] else "", i, c[what],
                                   what))
        i += 1
    print("%sok %d - no client error named as the server's (%d)" % (
        "not " if c["misnamed"] else "", i, c["misnamed"]))
    i += 1
    print("%sok %d - the faults were injected (%d of %d runs)" % (
        "" if tally.fired * 2 > tally.n else "not ", i, tally.fired,
        tally.n))
    i += 1
    print("%sok %d - every scenario ran under every fault" % (
        "" if tally.n >= len(scs) * 6 * 2 else "not ", i))
    return 0


if __name__ == "__main__":
    sys.exit(main())
