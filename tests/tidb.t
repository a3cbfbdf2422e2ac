#!/bin/sh
# TiDB as TiDB documents it, against the TiDB stand-in (tests/tidb-standin.py,
# a plaintext proxy in front of the test server that answers as TiDB's
# source does for the cases below): Ctrl-C's KILL answered with a warning,
# transactions too large (8175, 8176) or too old (8229), a load inside begin
# where SAVEPOINT is refused or keeps its locks, duplicates found at COMMIT,
# a tidb_sm3_password account, and status's TiDB version. What MariaDB does
# too (the connection lifetime) is tested on MariaDB itself.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

command -v python3 >/dev/null 2>&1 || bail "python3 is not installed"

sql "CREATE TABLE IF NOT EXISTS players (id INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(32), coins INTEGER, goods INTEGER, PRIMARY KEY (id),
    UNIQUE (name))"

# standin NAME ARGS...: a stand-in of its own; its port in $SP.
standin() {
	_name=$1
	shift
	python3 "$top_srcdir/tests/tidb-standin.py" --server-port "$TP_PORT" \
	    --port-file "$T/$_name.port" "$@" 2>"$T/$_name.log" &
	echo $! >"$T/$_name.pid"
	_i=0
	while [ ! -s "$T/$_name.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$T/$_name.port" ] || bail "the stand-in did not start: $(cat "$T/$_name.log")"
	SP=$(cat "$T/$_name.port")
}

stop_standins() {
	for _p in "$T"/*.pid; do
		[ -f "$_p" ] && kill "$(cat "$_p")" 2>/dev/null
	done
}
tmux_extra_cleanup=stop_standins

# tps ARGS...: tidbplay through the stand-in on port $SP, in plaintext
# (a loopback host with no CA), as the account without a TLS requirement.
tps() {
	tpenv TIDB_PASSWORD="$TP_PLAIN_PASSWORD" \
	    "$TIDBPLAY" -H 127.0.0.1 -P "$SP" -u "$TP_PLAIN_USER" "$@" \
	    >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

count() {
	sql "SELECT COUNT(*) FROM players WHERE name LIKE '$1%'"
}

# ---- the stand-in answers as TiDB does (checked with the mariadb client) ----

standin plain
_v=$(mariadb -h 127.0.0.1 -P "$SP" \
    -u "$TP_PLAIN_USER" -p"$TP_PLAIN_PASSWORD" --skip-ssl -N -B \
    -e 'SELECT VERSION()' test 2>&1)
is "$_v" "8.0.11-TiDB-v7.5.1" "the stand-in says it is TiDB v7.5.1"

# ---- 8: status shows TiDB's version ----

tps -e status
is "$RC" 0 "status through the stand-in"
like "$OUT" "^version: +8\\.0\\.11-TiDB-v7\\.5\\.1$" "status: the server's version"
like "$OUT" "^tidb: +Release Version: v7\\.5\\.1$" \
    "status: TiDB's own version, from tidb_version()"

# ---- 3: 8175 and 8176, the memory quota, are "too large for one transaction" ----
# Since v6.5 a large transaction fails on the memory quota rather than on
# txn-total-size-limit. The stand-in fails the third batch of a load.

printf "[shell]\nbatch = 100\n" >"$T/b100.ini"
standin oom --oom-after 2
tps -c "$T/b100.ini" -e 'bulk 500 big'
is "$RC" 1 "8175 in the middle of a bulk: a failed command"
like "$ERR" "the bulk is too large for one transaction on this server" \
    "8175: too large for one transaction"
like "$ERR" "add fewer players at a time" "8175: the advice"
like "$ERR" "\\(8175\\)|8175" "8175: the server's error is kept"
is "$(count big_)" 0 "8175: nothing of the bulk was kept"

standin oom6 --oom-after 1 --oom-code 8176
i=0
{
	echo "name,coins,goods"
	while [ $i -lt 300 ]; do
		echo "imp$i,1,1"
		i=$((i + 1))
	done
} >"$T/big.csv"
tps -c "$T/b100.ini" -e "import $T/big.csv"
is "$RC" 1 "8176 in the middle of an import: a failed command"
like "$ERR" "too large for one transaction on this server" \
    "8176: too large for one transaction"
like "$ERR" "split the file" "8176: the advice"
is "$(count imp)" 0 "8176: nothing of the import was kept"

# ---- 2: a load inside begin on TiDB ----
# ROLLBACK TO SAVEPOINT undoes the rows but keeps their locks until the
# transaction ends; and where SAVEPOINT is refused, a load of several
# batches is refused before anything is sent.

standin oomtx --oom-after 1
tps -c "$T/b100.ini" -e begin -e 'add before 1 1' -e "import $T/big.csv" \
    -e commit
is "$RC" 1 "a load that fails inside begin on TiDB: a failed command"
like "$ERR" "undone, but on TiDB they stay locked until commit or rollback" \
    "on TiDB: the rows stay locked until commit or rollback"
unlike "$ERR" "as it was before" "on TiDB: not 'as it was before'"
is "$(count imp)" 0 "on TiDB: nothing of the import was kept"

standin nosave --no-savepoint
tps -c "$T/b100.ini" -e begin -e 'add kept 1 1' -e "import $T/big.csv" \
    -e rollback
is "$RC" 1 "SAVEPOINT refused: the import inside begin fails"
like "$ERR" "needs a savepoint, which this TiDB refuses" \
    "SAVEPOINT refused: it says why"
like "$ERR" "tidb_constraint_check_in_place_pessimistic" \
    "SAVEPOINT refused: it names the variable"
like "$ERR" "nothing was sent" "SAVEPOINT refused: before anything was sent"
is "$(count imp)" 0 "SAVEPOINT refused: nothing imported"
printf 'name,coins,goods\none,1,1\ntwo,2,2\n' >"$T/small.csv"
tps -c "$T/b100.ini" -e begin -e "import $T/small.csv" -e commit
is "$RC" 0 "SAVEPOINT refused: a load of one batch inside begin still works"
is "$(count one)$(count two)" 11 "one batch inside begin: committed"
sql "DELETE FROM players"

# ---- 6: optimistic transactions find a duplicate only at COMMIT ----

standin opt --optimistic
sql "INSERT INTO players (name, coins, goods) VALUES ('imp250', 1, 1)"
tps -c "$T/b100.ini" -e "import $T/big.csv"
is "$RC" 1 "optimistic: a duplicate fails the import"
like "$ERR" "big\\.csv:252: the name 'imp250' is a duplicate" \
    "optimistic: the error names the line"
like "$ERR" "only at commit" "optimistic: says it was found at commit"
is "$(count imp)" 1 "optimistic: nothing of the import was kept"
sql "DELETE FROM players"

# ---- 4: 8229 at COMMIT: its own message, no retry ----

standin ttl --commit-error 8229
tps -e begin -e 'add ttl1 1 1' -e commit
is "$RC" 1 "8229 at commit: a failed command"
like "$ERR" "open longer than the server allows" "8229: its own message"
like "$ERR" "nothing in it was kept" "8229: nothing was kept"
unlike "$ERR" "retry" "8229: nothing retried"
is "$(count ttl1)" 0 "8229: the row is not in the table"
sql "INSERT INTO players (name, coins, goods) VALUES ('tb', 100, 0),
    ('ts', 0, 100)"
tps -e 'trade tb ts 1 1'
is "$RC" 1 "8229 at a trade's commit: a failed command"
like "$ERR" "open longer than the server allows" "8229 in a trade: its message"
unlike "$ERR" "retry" "8229 in a trade: not retried"
is "$(sql "SELECT coins FROM players WHERE name = 'tb'")" 100 \
    "8229 in a trade: nothing changed"
sql "DELETE FROM players"

# ---- 7: a tidb_sm3_password account ----

standin sm3 --sm3-user "$TP_PLAIN_USER"
tps -e count
is "$RC" 3 "a tidb_sm3_password account: could not connect (3)"
like "$ERR" "tidb_sm3_password, which the client library cannot speak" \
    "sm3: says why"
like "$ERR" "mysql_native_password or caching_sha2_password" \
    "sm3: says what works"
unlike "$ERR" "$TP_PLAIN_PASSWORD" "sm3: no password in the message"

# ---- 1: Ctrl-C's KILL, answered with a warning, is followed by KILL TIDB ----
# A list over a view that sleeps: Ctrl-C at a real terminal must stop the
# statement on the server, not only give the prompt back.

sql "INSERT INTO players (name, coins, goods) VALUES ('sleeper', 1, 1)"
sql "CREATE VIEW slowview AS SELECT id, name, coins, goods FROM players
    WHERE SLEEP(300) = 0"
printf '[shell]\ntable = slowview\n' >"$T/slow.ini"

sleeping() {
	[ "$(sql "SELECT COUNT(*) FROM information_schema.processlist
	    WHERE state = 'User sleep'")" -gt 0 ]
}
awake() { ! sleeping; }

# ctrl_c_stops WHAT: list at the terminal through the stand-in on $SP,
# Ctrl-C once it sleeps on the server, and the statement must end there.
ctrl_c_stops() {
	ks_port=$TP_PORT ks_user=$TP_USER ks_pw=$TP_PASSWORD ks_ca=$TP_CA
	TP_PORT=$SP TP_USER=$TP_PLAIN_USER TP_PASSWORD=$TP_PLAIN_PASSWORD TP_CA=
	start_shell -q -c "$T/slow.ini"
	TP_PORT=$ks_port TP_USER=$ks_user TP_PASSWORD=$ks_pw TP_CA=$ks_ca
	wait_prompt "tidbplay>" "$1: a shell"
	typein list
	key Enter
	if until_ok sleeping; then
		pass "$1: the list runs on the server"
	else
		fail "$1: the list runs on the server"
	fi
	key C-c
	wait_prompt "tidbplay>" "$1: Ctrl-C gives the prompt back"
	if until_ok awake; then
		pass "$1: Ctrl-C stopped the statement on the server"
	else
		fail "$1: Ctrl-C stopped the statement on the server"
		diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 5)"
		# Not the next case's business.
		for _id in $(sql "SELECT id FROM information_schema.processlist
		    WHERE state = 'User sleep'"); do
			sql "KILL QUERY $_id"
		done
		until_ok awake
	fi
	like "$(pane)" "cancelled" "$1: it says the list was cancelled"
	typein quit
	key Enter
	wait_exit "$1: quit"
}

# enable-global-kill off (and TiDB before v6.1): a plain KILL is answered
# OK with warning 1105 and kills nothing; KILL TIDB kills.
standin nokill --global-kill off
ctrl_c_stops "without Global Kill"

# Global Kill on: KILL with the 64-bit id of CONNECTION_ID() kills (the
# handshake's 32 bits would be answered with a warning).
standin globalkill --global-kill on
ctrl_c_stops "with Global Kill"

sql "DROP VIEW slowview"
sql "DELETE FROM players"

# ---- 5: connection_lifetime, on MariaDB ----
# Each row records the connection that wrote it (a trigger puts
# CONNECTION_ID() into goods). A shell idle past a 2-second lifetime writes
# on a fresh connection, once; inside a transaction it never changes.

sql "CREATE TRIGGER conn_of BEFORE INSERT ON players FOR EACH ROW
    SET NEW.goods = CONNECTION_ID()"
goods() {
	sql "SELECT goods FROM players WHERE name = '$1'"
}
# slowly CMD...: tp with standard input from a generator that takes its
# time (the commands of a shell that idles), through a FIFO.
slowly() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	"$@" >"$T/fifo" &
}
idle1() {
	echo 'add life1 1 0'
	sleep 3		# not an assertion: the connection grows old
	echo 'add life2 1 0'
	echo 'add life3 1 0'
	echo status
}
slowly idle1
tp --connection-lifetime 2 -q <"$T/fifo"
is "$RC" 0 "lifetime: the adds succeed"
unlike "$ERR" "may or may not" "lifetime: no write of unknown fate"
is "$ERR" "" "lifetime: nothing said"
if [ "$(goods life1)" != "$(goods life2)" ]; then
	pass "lifetime: after the idle time the write went on a new connection"
else
	fail "lifetime: after the idle time the write went on a new connection"
fi
is "$(goods life3)" "$(goods life2)" "lifetime: replaced once, not per command"
like "$OUT" "^reconnects: +1$" "lifetime: counted as a reconnect"

idle2() {
	echo begin
	echo 'add life4 1 0'
	sleep 3		# not an assertion: the connection grows old
	echo 'add life5 1 0'
	echo commit
}
slowly idle2
tp --connection-lifetime 2 -q <"$T/fifo"
is "$RC" 0 "lifetime inside begin: the transaction commits"
is "$(goods life5)" "$(goods life4)" \
    "lifetime: never replaced inside a transaction"
is "$(count life)" 5 "lifetime: every row is there"

idle3() {
	echo 'add life6 1 0'
	sleep 3		# not an assertion: the connection grows old
	echo 'add life7 1 0'
}
slowly idle3
tp --connection-lifetime 0 -q <"$T/fifo"
is "$(goods life7)" "$(goods life6)" "lifetime 0: never replaced"

tpin 'count' -e count --connection-lifetime -1
is "$RC" 2 "a negative lifetime is a usage error"
sql "DROP TRIGGER conn_of"
sql "DELETE FROM players"

done_testing
