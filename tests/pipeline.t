#!/bin/sh
# A load in a transaction of its own sends batch after batch without
# waiting for each answer. Across a slow link that is one round trip for
# all the batches, and what the server does with the batches sent after
# one that failed is never kept: not after a duplicate, not after a bad
# row, not after a deadlock that rolled the transaction back while the
# batches behind it were still on their way.
. "$top_srcdir/tests/lib.sh"
start_server

PY=/usr/bin/python3
printf '[shell]\nbatch = 100\n' >"$T/batch.ini"
tp -e count
[ "$RC" -eq 0 ] || bail "cannot reach the server: $ERR"

# mkcsv N PREFIX: a header and N rows PREFIX_1 ... PREFIX_N.
mkcsv() {
	awk -v n="$1" -v p="$2" 'BEGIN {
		print "name,coins,goods"
		for (i = 1; i <= n; i++)
			printf "%s_%d,%d,%d\n", p, i, i % 1000, i % 7
	}'
}
count() { sql "SELECT COUNT(*) FROM players WHERE name LIKE '$1\\_%'"; }
# soon CMD...: CMD succeeds within 30 seconds.
soon() {
	_i=0
	until "$@"; do
		[ $_i -ge 300 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
said() { grep -q "$1" "$T/b.out" 2>/dev/null; }

# ---- through a link of 50 ms round trips, counted ----

"$PY" "$top_srcdir/bench/delay_proxy.py" --delay 25 --ready "$T/proxy.ready" \
    "$TP_PORT" 2>"$T/proxy.err" &
proxy=$!
soon test -s "$T/proxy.ready"
read -r pport pctl <"$T/proxy.ready" || bail "no proxy: $(cat "$T/proxy.err")"

# ask COMMAND: the proxy's answer, once no client of it is connected.
ask() {
	"$PY" - "$pctl" "$1" <<'EOF'
import socket, sys, time
for _ in range(500):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall((sys.argv[2] + "\n").encode())
    line = s.makefile().readline().split()
    s.close()
    if line[5] == "0":
        break
    time.sleep(0.01)
print(line[1])
EOF
}

mkcsv 3000 slow >"$T/slow.csv"
ask reset >/dev/null
TP_PORT_SAVED=$TP_PORT
TP_PORT=$pport
tp -c "$T/batch.ini" -e "import $T/slow.csv"
TP_PORT=$TP_PORT_SAVED
trips=$(ask get)
is "$RC" 0 "import of 3000 rows in 30 batches through the slow link: exit 0"
is "$(count slow)" 3000 "every row is in the table"
# Waiting for each batch would be 30 round trips for the batches alone,
# and 38 in all (connect 3, max_allowed_packet, autocommit off, prepare,
# 30 batches, commit, autocommit on; 7 now that those pairs go together).
if [ "$trips" -le 15 ]; then
	pass "the 30 batches did not wait for each other ($trips round trips in all)"
else
	fail "the 30 batches did not wait for each other ($trips round trips in all)"
fi

ask reset >/dev/null
TP_PORT=$pport
tp -c "$T/batch.ini" -e "bulk 3000 fast"
TP_PORT=$TP_PORT_SAVED
trips=$(ask get)
is "$RC" 0 "bulk 3000 in 30 batches through the slow link: exit 0"
if [ "$trips" -le 15 ]; then
	pass "bulk: the batches did not wait for each other ($trips round trips)"
else
	fail "bulk: the batches did not wait for each other ($trips round trips)"
fi
kill "$proxy" 2>/dev/null
wait "$proxy" 2>/dev/null

# ---- the statements that need no answer in between travel together ----

# Through a link of 200 ms round trips (long, so that nothing but waiting
# on the server is counted), a load of many batches costs connect 3, the
# table's shape checked at connect (which reads max_allowed_packet too) 1,
# autocommit off 1, the prepare 1, the batches 1, commit with autocommit
# on 1: 8. Each of those asked alone is 10.
"$PY" "$top_srcdir/bench/delay_proxy.py" --delay 100 \
    --ready "$T/proxy2.ready" "$TP_PORT" 2>"$T/proxy2.err" &
proxy=$!
soon test -s "$T/proxy2.ready"
read -r pport pctl <"$T/proxy2.ready" || bail "no proxy: $(cat "$T/proxy2.err")"
mkcsv 3000 paired >"$T/paired.csv"
for what in "import $T/paired.csv" "bulk 3000 pbulk"; do
	ask reset >/dev/null
	TP_PORT=$pport
	tp -c "$T/batch.ini" -e "$what"
	TP_PORT=$TP_PORT_SAVED
	trips=$(ask get)
	is "$RC" 0 "${what%% *} of 3000 rows in 30 batches, 200 ms round trips: exit 0"
	if [ "$trips" -le 8 ]; then
		pass "${what%% *}: 8 round trips at most ($trips)"
	else
		fail "${what%% *}: 8 round trips at most ($trips)"
	fi
done
is "$(count paired)" 3000 "the import's rows are in the table"
is "$(count pbulk)" 3000 "the bulk's rows are in the table"
# The COMMIT went with SET autocommit = 1: an add after it is kept.
mkcsv 3000 paired2 >"$T/paired2.csv"
TP_PORT=$pport
tp -c "$T/batch.ini" -e "import $T/paired2.csv" -e "add paired_after 1 1"
TP_PORT=$TP_PORT_SAVED
is "$RC" 0 "import, then add, 200 ms round trips: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'paired_after'")" 1 \
    "the add after the paired commit is committed"
kill "$proxy" 2>/dev/null
wait "$proxy" 2>/dev/null

# A load expected to be many batches begins its transaction before its
# first batch is read; that batch's failure still undoes everything and
# turns autocommit on again.
mkcsv 3000 early | awk 'NR == 51 { print "early_50,many,1"; next } { print }' \
    >"$T/early.csv"
tp -c "$T/batch.ini" -e "import $T/early.csv"
is "$RC" 1 "a bad row in the first batch of many: exit 1"
like "$ERR" "early.csv:51:" "the bad row is named by its line"
is "$(count early)" 0 "nothing of that import is kept"
tp -c "$T/batch.ini" --force -e "import $T/early.csv" -e "add early_after 1 1"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'early_after'")" 1 \
    "an add after it is committed: autocommit is on again"
# A large file with no rows at all (blank lines): nothing, and autocommit
# on again.
{ echo name,coins,goods; awk 'BEGIN { for (i = 0; i < 8000; i++) print "" }'; } \
    >"$T/blank.csv"
tp -c "$T/batch.ini" -e "import $T/blank.csv" -e "add blank_after 1 1"
is "$RC" 0 "a large file without rows: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'blank_after'")" 1 \
    "an add after it is committed"

# ---- a failure with batches in flight behind it ----

# A duplicate on the last line, of a name on an early line: every batch
# before it was sent and ran; none of it is kept, and the lines are named.
mkcsv 2999 dup >"$T/dup.csv"
echo "dup_7,1,1" >>"$T/dup.csv"
tp -c "$T/batch.ini" -e "import $T/dup.csv"
is "$RC" 1 "a duplicate in the last of 30 batches: exit 1"
like "$ERR" "dup\\.csv:3001: the name 'dup_7' is also on line 8" \
    "the duplicate is named by its line and the other one"
is "$(count dup)" 0 "nothing of that import is kept"

# A row that is no number, in batch 25: the 24 batches before it are on
# their way or done, and all of them are taken back.
mkcsv 3000 bad | awk 'NR == 2450 { print "bad_oops,lots,1"; next } { print }' \
    >"$T/bad.csv"
tp -c "$T/batch.ini" -e "import $T/bad.csv"
is "$RC" 1 "a bad row in batch 25: exit 1"
like "$ERR" "bad\\.csv:2450:" "the bad row is named by its line"
is "$(count bad)" 0 "nothing of that import is kept"

# The same with a duplicate of a name already in the table, in batch 20.
tp -e "add taken_x 1 1"
mkcsv 3000 taken | awk 'NR == 1950 { print "taken_x,1,1"; next } { print }' \
    >"$T/taken.csv"
tp -c "$T/batch.ini" -e "import $T/taken.csv"
is "$RC" 1 "a name already in the table, in batch 20: exit 1"
like "$ERR" "taken\\.csv:1950: a player named 'taken_x' already exists" \
    "the taken name is named by its line"
is "$(count taken)" 1 "nothing of that import is kept (the one player stays)"

# ---- autocommit is back after a pipelined load ----

# If the session stayed with autocommit off, the add after the import
# would be rolled back when tidbplay leaves.
mkcsv 500 ac >"$T/ac.csv"
tp -c "$T/batch.ini" -e "import $T/ac.csv" -e "add ac_after 1 1"
is "$RC" 0 "import, then add: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'ac_after'")" 1 \
    "the add after a pipelined import is committed"
tp -c "$T/batch.ini" --force -e "import $T/dup.csv" -e "add ac_after2 1 1"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'ac_after2'")" 1 \
    "the add after a failed pipelined import is committed"

# ---- a deadlock while batches are in flight ----

# Another session holds 'dl_b' (in a transaction that changed 2,000 rows,
# so that the deadlock detector takes the import as its victim). The
# import's first batch waits for 'dl_b' with 29 batches queued behind it;
# the other session then asks for 'dl_1', which the import holds. The
# server rolls the import's transaction back with 1213 and goes on to
# the queued batches: kept, they would make the retry fail on its own
# rows. The import is retried whole and goes through once.
mkcsv 3000 dl | awk 'NR == 101 { print "dl_b,1,1"; next } { print }' \
    >"$T/dl.csv"
rm -f "$T/b.in"
mkfifo "$T/b.in"
"$TP_ADMIN" -n -N -B test <"$T/b.in" >"$T/b.out" 2>"$T/b.err" &
other=$!
exec 3>"$T/b.in"
echo "BEGIN; INSERT INTO players (name, coins, goods) SELECT CONCAT('fill_', seq), 1, 1 FROM seq_1_to_2000; INSERT INTO players (name, coins, goods) VALUES ('dl_b', 1, 1); SELECT 'held';" >&3
soon said held || bail "the other session did not start: $(cat "$T/b.err")"

(
	tpconn -c "$T/batch.ini" -e "import $T/dl.csv" \
	    >"$T/dl.out" 2>"$T/dl.err"
	echo $? >"$T/dl.rc"
) &
imp=$!
waiting() {
	[ "$(sql "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")" = 1 ]
}
soon waiting
ok $? "the import's first batch waits for the other session's row"
echo "INSERT INTO players (name, coins, goods) VALUES ('dl_1', 1, 1); SELECT 'second';" >&3
soon said second
ok $? "the other session got 'dl_1' once the import was the deadlock's victim"
echo "ROLLBACK; SELECT 'done';" >&3
exec 3>&-
wait "$imp"
wait "$other"
is "$(cat "$T/dl.rc")" 0 "the import after the deadlock: exit 0"
like "$(cat "$T/dl.err")" "server error 1213, retrying" \
    "the deadlock was retried"
is "$(count dl)" 3000 "every row of the import is in the table, once"
is "$(count fill)" 0 "nothing of the other session is kept"

done_testing
