#!/bin/sh
# Hardening, round three: what a demanding user broke, each at its
# mechanism (the terminal's share is in tests/hardening-tty.t).

. "$top_srcdir/tests/lib.sh"
start_server

tp -e count

# ---- a full standard output stops a script at the command that wrote ----

# tp redirects itself; run it by hand with stdout on /dev/full.
full() {
	tpconn "$@" >/dev/full 2>"$T/err"
	RC=$?
	ERR=$(cat "$T/err")
}
sql "DELETE FROM players"
full -e 'add a 1 1' -e 'add b 1 1' -e 'del a'
is "$RC" 1 "stdout full: exit 1"
like "$ERR" "^-e#1:1: add: cannot write to standard output: No space left on device$" \
    "stdout full: the first command that wrote fails, with its place"
is "$(sql 'SELECT name FROM players ORDER BY name')" "a" \
    "stdout full: the script stopped there (b not added, a not deleted)"
sql "DELETE FROM players"
printf 'add a 1 1\nadd b 1 1\ncount\n' >"$T/in"
full <"$T/in"
is "$RC" 1 "stdout full, piped adds: exit 1"
like "$ERR" "^stdin:1: add: cannot write to standard output" \
    "stdout full, piped adds grouped: the first line says it"
full --force -e 'add c 1 1' -e 'add d 1 1'
is "$(sql "SELECT COUNT(*) FROM players WHERE name IN ('c', 'd')")" 2 \
    "stdout full with --force: the script goes on"
is "$(printf '%s\n' "$ERR" | grep -c 'cannot write')" 2 \
    "stdout full with --force: each command says it"

# ---- import of a FIFO with a name twice, batches apart ----

sql "DELETE FROM players"
printf '[shell]\nbatch = 100\n' >"$T/batch.ini"
awk 'BEGIN { print "name,coins,goods";
    for (i = 0; i < 300; i++) printf "f%d,1,1\n", i; print "f7,1,1" }' \
    >"$T/far.csv"
mkfifo "$T/fifo"
cat "$T/far.csv" >"$T/fifo" &
writer=$!
# The guard only keeps a hang from stalling the suite; it measures nothing.
printf '#!/bin/sh\nexec timeout 60 "%s" "$@"\n' "$TIDBPLAY" >"$T/guarded"
chmod +x "$T/guarded"
TIDBPLAY_REAL=$TIDBPLAY
TIDBPLAY=$T/guarded
tp -c "$T/batch.ini" -e "import $T/fifo"
TIDBPLAY=$TIDBPLAY_REAL
kill "$writer" 2>/dev/null
wait
is "$RC" 1 "import of a FIFO with a name twice, batches apart: exit 1 (no hang)"
like "$ERR" "^-e:1: $T/fifo:302: the name 'f7' is on an earlier line too \(which one cannot be told: the input cannot be read twice\); nothing was imported$" \
    "import of a FIFO: the earlier line cannot be named, and it says so"
is "$(sql 'SELECT COUNT(*) FROM players')" 0 "import of a FIFO: nothing imported"
# A regular file is read again, and its earlier line named.
tp -c "$T/batch.ini" -e "import $T/far.csv"
like "$ERR" "^-e:1: $T/far.csv:302: the name 'f7' is also on line 9; nothing was imported$" \
    "import of a file: the earlier line is named"

# ---- export writes what import reads back, for every row it can ----

sql "DELETE FROM players"
sql "INSERT INTO players (id, name, coins, goods) VALUES
    (1, 'a', NULL, 5), (2, 'b', 3, NULL), (3, 'c', NULL, NULL),
    (4, 'd', 0, 2147483647), (5, 'e,\"x\"', 9, 10), (6, 'trail ', 1, 1),
    (7, CONCAT('m', REPEAT(_utf8mb4 x'C3A9', 31)), 2, 2),
    (8, ' lead', 3, 3), (9, 'semi;colon#', 4, 4)"
rows() { sql "SELECT CONCAT('[', name, ']'), IFNULL(coins, 'NULL'),
    IFNULL(goods, 'NULL') FROM players ORDER BY name"; }
before=$(rows)
tp -e "export $T/all.csv"
is "$RC" 0 "export of every kind of row: exit 0"
sql "DELETE FROM players"
tp -e "import $T/all.csv"
is "$RC" 0 "import of what export wrote: exit 0"
is "$ERR" "" "import of what export wrote: no error"
is "$(rows)" "$before" "export then import: every row exactly, NULL balances too"

# A name import would refuse: export refuses the row, with its id.
for bad in "''" "'   '" "CONCAT('x', CHAR(10), 'y')"; do
	sql "INSERT INTO players (id, name, coins, goods) VALUES (40, $bad, 1, 1)"
	rm -f "$T/bad.csv"
	tp -e "export $T/bad.csv"
	is "$RC" 1 "export with the name $bad: exit 1"
	like "$ERR" "^-e:1: export: player id 40 has a name that import could not read back \\(" \
	    "export with the name $bad: the message names the row and why"
	[ ! -e "$T/bad.csv" ]
	ok $? "export with the name $bad: no file"
	sql "DELETE FROM players WHERE id = 40"
done

# ---- a name of only blanks is as blank as '' ----

tp -e "add '   ' 1 1"
is "$RC" 1 "add '   ': exit 1"
like "$ERR" "blank name" "add '   ': says the name is blank"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = ''")" 0 "add '   ': nothing added"

# ---- the table's shape, checked once at connect ----

sql "CREATE TABLE dup (id INTEGER NOT NULL AUTO_INCREMENT, name VARCHAR(32),
    coins INTEGER, goods INTEGER, PRIMARY KEY (id))"
sql "INSERT INTO dup (name, coins, goods) VALUES ('x', 1, 1), ('x', 2, 2)"
tp --table dup -e 'del x'
is "$RC" 2 "a table without UNIQUE (name): exit 2, a configuration error"
like "$ERR" "^tidbplay: table dup cannot be used: no unique key on exactly \(name\)" \
    "a table without UNIQUE (name): says what is missing"
is "$(sql 'SELECT COUNT(*) FROM dup')" 2 "a table without UNIQUE (name): nothing deleted"
tp --table dup -e 'set coins x +5'
is "$(sql 'SELECT SUM(coins) FROM dup')" 3 "a table without UNIQUE (name): nothing changed"

sql "CREATE TABLE wide (id INTEGER NOT NULL AUTO_INCREMENT, name VARCHAR(32),
    coins INTEGER, goods INTEGER, PRIMARY KEY (id), UNIQUE (name, coins))"
tp --table wide -e count
is "$RC" 2 "a unique key on (name, coins) only: refused"
like "$ERR" "no unique key on exactly \(name\)" "a unique key on (name, coins): says so"

sql "CREATE TABLE shapeless (id INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(10), coins VARCHAR(5), PRIMARY KEY (id), UNIQUE (name))"
tp --table shapeless -e count
is "$RC" 2 "columns missing or of the wrong type: refused"
like "$ERR" "name is varchar\(10\), not a VARCHAR of 32 characters or more; coins is varchar, not an integer; no column goods" \
    "columns missing or of the wrong type: each is named"

sql "CREATE VIEW dupview AS SELECT id, name, coins, goods FROM dup"
tp --table dupview -e status
is "$RC" 0 "a view: accepted (its keys cannot be seen)"
like "$OUT" "^table check: +a view" "a view: status says only its columns were checked"

sql "CREATE TABLE bigger (id BIGINT NOT NULL AUTO_INCREMENT, name VARCHAR(64),
    coins BIGINT, goods INT, extra TEXT, PRIMARY KEY (id), UNIQUE KEY byname (name))"
tp --table bigger -e "add y 1 1; count"
is "$RC" 0 "a wider table that keeps the promise: accepted"
tp --table bigger -e status
like "$OUT" "^table check: +checked: UNIQUE \(name\)" "status says what was checked"
tp --table fresh_one -e status
like "$OUT" "^table check: +not there at connect" "status: a table not there yet"
tp --table fresh_one -e "add z 1 1"
is "$(sql 'SHOW CREATE TABLE fresh_one' | grep -c 'UNIQUE KEY `name`')" 1 \
    "a table not there yet is made with UNIQUE (name)"

# ---- bulk beyond a million rows in one command ----

# Its first batch meets a name already there (inside begin each batch
# waits for its answer), so the server is not asked for 1.5 million rows;
# the argument passes and the bulk runs.
sql "DELETE FROM players"
sql "INSERT INTO players (name, coins, goods) VALUES ('huge_0', 1, 1)"
tp -e 'begin; bulk 1500000 huge'
is "$RC" 1 "bulk 1500000 over a name taken: exit 1"
like "$ERR" "a player named 'huge_0' already exists" \
    "bulk 1500000: accepted, and run (not refused as too many)"
unlike "$ERR" "must be a whole number" "bulk 1500000: no limit of a million"
is "$(sql 'SELECT COUNT(*) FROM players')" 1 "bulk 1500000 that failed: nothing added"

# ---- source: a file's relative paths are its neighbours ----

sql "DELETE FROM players"
mkdir -p "$T/scripts/sub" "$T/elsewhere"
printf 'add top_1 1 1\nsource sub/child.tp\n' >"$T/scripts/main.tp"
printf 'add child_1 1 1\nsource sibling.tp\n' >"$T/scripts/sub/child.tp"
printf 'add sibling_1 1 1\n' >"$T/scripts/sub/sibling.tp"
# tp_dir DIR ARGS...: tp run from DIR.
tp_dir() {
	_d=$1
	shift
	(cd "$_d" && tp "$@"; echo "$RC" >"$T/rc")
	RC=$(cat "$T/rc")
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
tp_dir "$T/elsewhere" -f "$T/scripts/main.tp"
is "$RC" 0 "source inside files, run from another directory: exit 0"
is "$(sql 'SELECT GROUP_CONCAT(name ORDER BY id) FROM players')" \
    "top_1,child_1,sibling_1" "each file's source found its neighbour"
sql "DELETE FROM players"
tp_dir "$T/scripts" -e 'source sub/child.tp'
is "$RC" 0 "source from -e: relative to the current directory"
tp_dir "$T/elsewhere" -e 'source sub/child.tp'
is "$RC" 1 "source from -e elsewhere: not found"
like "$ERR" "^-e:1: source: sub/child.tp: No such file or directory" \
    "source from -e: the path as given, from the current directory"

# ---- import - inside a sourced file reads the lines after it ----

sql "DELETE FROM players"
printf 'import -\nname,coins,goods\nin_1,1,1\nin_2,2,2\n\\.\nadd after_1 1 1\n' \
    >"$T/scripts/load.tp"
tp -e "source $T/scripts/load.tp; count" </dev/null
is "$RC" 0 "import - in a sourced file: exit 0"
is "$(printf '%s\n' "$OUT" | tail -n 1)" "3" \
    "import - in a sourced file: the rows after it, then the rest of the file"
is "$(sql 'SELECT GROUP_CONCAT(name ORDER BY id) FROM players')" \
    "in_1,in_2,after_1" "import - in a sourced file: its data came from the file"

# ---- smaller things a careful user notices ----

sql "DELETE FROM players"
tp -e "add one 1 1; add two 5 5; trade two one 1 1; bulk 1 solo" --format table
like "$ERR" "^'two' paid 1 coin to 'one' for 1 goods$" "one coin is a coin"
like "$ERR" "^added 1 player$" "one player is a player"
tp -e "set coins one 1" --format table
like "$ERR" "^'one' now has 1 coin$" "set to 1: one coin"
tp -e "bulk 1 $(printf 'p%.0s' $(seq 31))"
like "$ERR" "the name p{31}_0 would be longer than 32" "bulk 1 with a long prefix: one name"
tp -e "export $T/one.csv" --format table
like "$ERR" "^exported 3 players to" "export of three: players"
sql "DELETE FROM players WHERE name <> 'one'"
tp -e "export $T/one.csv" --format table
like "$ERR" "^exported 1 player to" "export of one: one player"

# Invisible characters in errors are escaped, as results are.
tp -e "$(printf '\357\273\277show one')"
like "$ERR" "unknown command '\\\\xef\\\\xbb\\\\xbfshow'" "a BOM in -e is shown escaped in the error"
tp -e "show $(printf 'x\342\200\256y')"
like "$ERR" "no player named 'x\\\\xe2\\\\x80\\\\xaey'" "U+202E in an error is shown escaped"
printf '%s' "$ERR" | od -An -tx1 | tr -d ' \n' | grep -q 'e280ae'
ok $(($? == 0)) "no raw U+202E in the error"

tp -e 'set coin one 1'
like "$ERR" "^-e:1: set: unknown field 'coin' \(did you mean set coins\?\): set coins or set goods$" \
    "set coin: unknown field, and the closest"
tp -e 'hepl'
like "$ERR" "^-e:1: unknown command 'hepl': did you mean help\?" "hepl: did you mean help"
tp -e 'shwo one'
like "$ERR" "did you mean show\?" "shwo: did you mean show"
tp -e 'xyzzy'
unlike "$ERR" "did you mean" "xyzzy: nothing close, nothing offered"

sql "INSERT INTO players (name, coins, goods) VALUES ('tb', 5, 5)"
tp -e 'trade tb tb 1 1'
same=$(printf '%s\n' "$ERR" | sed 's/^-e:1: //')
tp -e 'trade tb TB 1 1'
like "$ERR" "^-e:1: $same \('tb' and 'TB' are one name to the table's collation\)$" \
    "trade tb TB and trade tb tb: the same refusal, the same words"

tp -e 'timing on; count'
is "$(printf '%s\n' "$ERR" | grep -c '^Time: ')" 1 "timing on does not time itself, count is timed"

tp --no-such-option
is "$RC" 2 "a bad option: exit 2"
like "$ERR" "^tidbplay: unrecognized option '--no-such-option'" "a bad option: tidbplay:, not the path"
unlike "$ERR" "/tidbplay" "a bad option: no path of the binary"

# IPv6: a forwarder on [::1] to the server, so status shows the brackets.
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	cat >"$T/fwd6.py" <<'PYEOF'
import socket, sys, threading
target = ("127.0.0.1", int(sys.argv[1]))
srv = socket.socket(socket.AF_INET6)
srv.bind(("::1", 0))
srv.listen(8)
open(sys.argv[2], "w").write(str(srv.getsockname()[1]))
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(target)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PYEOF
	python3 "$T/fwd6.py" "$TP_PORT" "$T/fwd6.port" &
	fwd=$!
	until_port() { [ -s "$T/fwd6.port" ]; }
	i=0
	while ! until_port && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	p6=$(cat "$T/fwd6.port")
	env TIDB_PASSWORD="$TP_PLAIN_PASSWORD" HOME="$T" TIDBPLAY_HISTFILE= \
	    "$TIDBPLAY" -H ::1 -P "$p6" -u "$TP_PLAIN_USER" -e status \
	    >"$T/out" 2>"$T/err"
	like "$(cat "$T/out")" "^server: +\[::1\]:$p6$" "an IPv6 host is shown [::1]:PORT"
	kill "$fwd" 2>/dev/null
	wait "$fwd" 2>/dev/null
else
	fail "no IPv6 loopback to test [::1]:PORT on"
fi

done_testing
