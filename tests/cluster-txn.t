#!/bin/sh
# What tidbplay says about a transaction is what the server did with it, on
# a real cluster (tests/galera.sh), where another node's write aborts a
# transaction that is open on node 1.
#
# The rule: once the server has rolled the user's transaction back,
# tidbplay says so once ("the transaction was rolled back by the server:
# nothing in it was kept; start again with begin"), refuses every further
# change until rollback or begin (none may autocommit), makes commit a
# failed command, and status shows the state the server has. No output
# ever says "committed" for a transaction the server did not commit whole.
#
# Each case feeds one tidbplay shell on node 1 line by line from a FIFO,
# in the table format a terminal shows (where notes such as "committed"
# appear), so the test decides what happens on the cluster between two
# lines: an UPDATE committed on node 2 of a row the transaction holds,
# which node 1 applies by aborting the transaction. After a pause of more
# than a second the shell pings the server before its next statement; with
# no pause the statement itself meets the abort.
. "$top_srcdir/tests/lib.sh"
start_cluster

tpin 'add p1 1000 300; add p2 1000 300; add p3 1000 300; add slow 1000 300' -q
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"
# The same players with ids that are not a key: a look-up by id scans the
# table in id order, so a locking read waits for a row it meets after it
# has started sending its result (see the fetch cases).
sql 'CREATE VIEW scanplayers AS SELECT id + 0 AS id, name, coins, goods
    FROM players' || bail "cannot create the view"

# Node 1 as an independent client, without waiting for the cluster.
q1() {
	"$TP_ADMIN1" -N -B -e "$1" test
}

now() {
	date +%s.%N
}
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

# until_true SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds.
until_true() {
	_end=$(($(date +%s) + $1 + 1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt $_end ] || return 1
		sleep 0.05
	done
}

reset_players() {
	sql 'UPDATE players SET coins = 1000, goods = 300' ||
	    bail "cannot reset the players"
}

# open_shell [ARGS]: tidbplay on port $SHELL_PORT (node 1's by default),
# reading $T/shell.in, which fd 7 writes.
open_shell() {
	rm -f "$T/shell.in"
	mkfifo "$T/shell.in" || bail "mkfifo failed"
	tpconn -P "${SHELL_PORT:-$TP_PORT1}" --force --format table "$@" \
	    <"$T/shell.in" >"$T/out" 2>"$T/err" 8>&- &
	shell_pid=$!
	exec 7>"$T/shell.in"
}
send() {
	printf '%s\n' "$@" >&7
}
close_shell() {
	exec 7>&-
	wait $shell_pid
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# The shell has written a line matching REGEX to stderr (notes such as
# "'p1' now has 305 goods" say a command is done).
said() {
	grep -Eq -- "$1" "$T/err"
}
wait_said() {
	until_true 30 said "$1" ||
	    bail "the shell never said /$1/: $(cat "$T/err")"
}

# conflict NAME: commit goods + 100 for NAME on node 2, and wait until node
# 1 has applied it, which it does by aborting the transaction that held
# NAME's row (a read that waits for the cluster, wsrep_sync_wait, returns
# only then). Two clients, so that the next line can follow well within a
# second; aborted says whether node 1 did abort one.
bf_aborts() {
	q1 "SHOW GLOBAL STATUS LIKE 'wsrep_local_bf_aborts'" | cut -f2
}
conflict() {
	"$TP_ADMIN2" -e "UPDATE players SET goods = goods + 100
	    WHERE name = '$1'" test || bail "the UPDATE on node 2 failed"
	nsql 1 "SELECT goods FROM players WHERE name = '$1'" >/dev/null ||
	    bail "node 1 did not catch up with node 2"
}
aborted() {
	_n=$(bf_aborts)
	if [ "$_n" -gt "$1" ]; then
		pass "$2: node 1 aborted the transaction to apply node 2's write"
	else
		fail "$2: node 1 aborted the transaction to apply node 2's write"
	fi
}

# Rows the transaction changed, as node 1 sees them.
rows_changed() {
	[ "$(q1 'SELECT COALESCE(SUM(trx_rows_modified), 0)
	    FROM information_schema.innodb_trx')" = "$1" ]
}
lock_waits() {
	[ "$(q1 "SELECT COUNT(*) FROM information_schema.innodb_trx
	    WHERE trx_state = 'LOCK WAIT'")" = "$1" ]
}

# hold_row NAME: an independent transaction on node 1 locks NAME's row
# until release_row.
hold_row() {
	rm -f "$T/hold.in"
	mkfifo "$T/hold.in"
	"$TP_ADMIN1" -N test <"$T/hold.in" >"$T/hold.out" 2>&1 7>&- &
	hold_pid=$!
	exec 8>"$T/hold.in"
	echo "BEGIN; SELECT id FROM players WHERE name = '$1' FOR UPDATE;" >&8
	until_true 20 q1_has_lock || bail "could not lock $1"
}
q1_has_lock() {
	[ "$(q1 'SELECT COALESCE(SUM(trx_rows_locked), 0)
	    FROM information_schema.innodb_trx')" -ge 1 ]
}
release_row() {
	echo 'ROLLBACK;' >&8
	exec 8>&-
	wait $hold_pid
	hold_pid=
}

# Lines of TEXT that claim a commit ("not committed" and the like do not).
says_committed() {
	printf '%s\n' "$1" | grep -Ei '(^|[^[:alpha:]])committed' |
	    grep -Eiv '(not|never|nothing( in it)?( was)?|none of it( was)?) (been )?committed'
}

# goods NAME: as the cluster has it.
goods() {
	nsql 2 "SELECT goods FROM players WHERE name = '$1'"
}

# gone CASE LINE: line LINE failed with the message the rule asks for.
gone() {
	_l=$(printf '%s\n' "$ERR" | grep "^stdin:$2: ")
	like "$_l" 'rolled back' "$1: line $2 says the transaction was rolled back"
	like "$_l" 'nothing .*kept|none of it .*kept' \
	    "$1: line $2 says nothing in it was kept"
	like "$_l" 'begin' "$1: line $2 says to start again with begin"
}
# refused CASE LINE: line LINE, a change, was a failed command.
refused() {
	like "$ERR" "^stdin:$2: " "$1: line $2, a change after the rollback, is refused"
}
# after CASE STATUS-LINE COMMIT-LINE: status shows no open transaction,
# commit is a failed command, nothing says committed, the script fails.
after() {
	unlike "$OUT" 'transaction: *open' \
	    "$1: status does not show the transaction the server rolled back"
	like "$ERR" "^stdin:$3: " "$1: commit (line $3) is a failed command"
	is "$(says_committed "$OUT
$ERR")" "" "$1: nothing says committed"
	is "$RC" 1 "$1: the script exits with 1"
	[ -n "$ERR" ] && diag "$1: stderr:" "$ERR"
}

# ------------------------------------- 1: an abort before the next change
# begin; a change; another node's write aborts the transaction; the next
# change meets the abort (issue 10, defect 1 with the pause).
change_case() {
	name="abort before a change, $1"
	reset_players
	b0=$(bf_aborts)
	open_shell
	send begin 'set goods p1 +5'
	wait_said "^'p1' now has 305 goods"
	t0=$(now)
	conflict p1
	if [ "$1" = pause ]; then
		sleep 1.5
	else
		diag "$name: the next line went $(elapsed "$t0") s after the change (a ping needs 1 s)"
	fi
	send 'set goods p2 +7' 'set goods p2 +7' status commit rollback \
	    'set goods p3 +1'
	close_shell
	aborted "$b0" "$name"
	gone "$name" 3
	refused "$name" 4
	after "$name" 5 6
	unlike "$ERR" "^stdin:8: " "$name: after rollback a change is taken again"
	is "$(goods p1)" 400 "$name: p1 has node 2's +100 and not the +5"
	is "$(goods p2)" 300 "$name: neither +7 on p2 was kept"
	is "$(goods p3)" 301 "$name: the change after rollback was kept"
}
change_case pause
change_case 'no pause'

# ---------------------------------------------- 2: an abort before COMMIT
# begin; two changes; another node's write aborts the transaction; the
# COMMIT meets the abort. The second commit is a failed command.
commit_case() {
	name="abort at COMMIT, $1"
	reset_players
	b0=$(bf_aborts)
	open_shell
	send begin 'set goods p1 +5' 'set goods p2 +7'
	wait_said "^'p2' now has 307 goods"
	t0=$(now)
	conflict p1
	if [ "$1" = pause ]; then
		sleep 1.5
	else
		diag "$name: the commit went $(elapsed "$t0") s after the last change (a ping needs 1 s)"
	fi
	send commit status commit
	close_shell
	aborted "$b0" "$name"
	gone "$name" 4
	after "$name" 5 6
	is "$(goods p1)" 400 "$name: p1 has node 2's +100 and not the +5"
	is "$(goods p2)" 300 "$name: p2's +7 was not kept"
}
commit_case pause
commit_case 'no pause'

# ------------------------------------- 3: begin after the abort starts anew
name="begin after an abort"
reset_players
b0=$(bf_aborts)
open_shell
send begin 'set goods p1 +5'
wait_said "^'p1' now has 305 goods"
conflict p1
sleep 1.5
send 'set goods p2 +7' begin 'set goods p2 +7' commit
close_shell
aborted "$b0" "$name"
gone "$name" 3
unlike "$ERR" "^stdin:[456]: " "$name: begin, a change and commit all succeed"
is "$(goods p1)" 400 "$name: p1 has node 2's +100 and not the +5"
is "$(goods p2)" 307 "$name: the new transaction's +7 was committed"
is "$RC" 1 "$name: the script exits with 1 (line 3 failed)"

# ------------------------------------- 4: the abort meets set's re-read
# In the table format set reads the row again to say what it now holds
# (issue 10, defect 2). A proxy between the shell and node 1 holds back
# the server's answers: set's UPDATE has run, its answer waits, node 2's
# write aborts the transaction, and only then is the answer let through,
# so the re-read is the statement that meets the abort.
cat >"$T/hold.py" <<'EOF'
import os, selectors, signal, socket, sys

# Forward 127.0.0.1:<free port> (written to argv[2]) to port argv[1];
# SIGUSR1 holds back what the server sends, SIGUSR2 lets it through.
hold = False
def on(sig, frame):
    global hold
    hold = sig == signal.SIGUSR1
signal.signal(signal.SIGUSR1, on)
signal.signal(signal.SIGUSR2, on)
lsn = socket.socket()
lsn.bind(("127.0.0.1", 0))
lsn.listen(4)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % lsn.getsockname()[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
sel = selectors.DefaultSelector()
sel.register(lsn, selectors.EVENT_READ)
peer, servers, held = {}, set(), {}
while True:
    if not hold:
        for s, data in held.items():
            peer[s].sendall(data)
        held.clear()
    for key, _ in sel.select(0.05):
        s = key.fileobj
        if s.fileno() < 0:
            continue
        if s is lsn:
            c, _ = lsn.accept()
            u = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            peer[c], peer[u] = u, c
            servers.add(u)
            sel.register(c, selectors.EVENT_READ)
            sel.register(u, selectors.EVENT_READ)
            continue
        data = s.recv(65536)
        if not data:
            for x in (s, peer[s]):
                held.pop(x, None)
                sel.unregister(x)
                x.close()
            continue
        if s in servers and hold:
            held[s] = held.get(s, b"") + data
        else:
            peer[s].sendall(data)
EOF
/usr/bin/python3 "$T/hold.py" "$TP_PORT1" "$T/hold.port" \
    </dev/null >"$T/hold.log" 2>&1 &
proxy_pid=$!
trap '[ -n "${proxy_pid:-}" ] && kill $proxy_pid 2>/dev/null
	[ -n "${hold_pid:-}" ] && kill $hold_pid 2>/dev/null
	cleanup' EXIT
until_true 10 test -s "$T/hold.port" || bail "the proxy did not start"

name="abort before set's re-read"
reset_players
b0=$(bf_aborts)
SHELL_PORT=$(cat "$T/hold.port")
open_shell
SHELL_PORT=
send begin 'set goods p1 +5'
wait_said "^'p1' now has 305 goods"
kill -USR1 $proxy_pid
send 'set goods p2 +7'
until_true 20 rows_changed 2 || bail "$name: the UPDATE of p2 never ran"
conflict p1
kill -USR2 $proxy_pid
send 'set goods p3 +1' status commit
close_shell
aborted "$b0" "$name"
gone "$name" 3
unlike "$ERR" "'p2' now has" "$name: set does not say what p2 holds"
refused "$name" 4
after "$name" 5 6
is "$(goods p1)" 400 "$name: p1 has node 2's +100 and not the +5"
is "$(goods p2)" 300 "$name: p2's +7 was not kept"
is "$(goods p3)" 300 "$name: p3's +1 was not applied outside the transaction"
kill $proxy_pid
wait $proxy_pid 2>/dev/null
proxy_pid=

# ------------------------- 5: the abort arrives while rows are fetched
# Through the view a look-up by id scans the players in id order, so
# trade's locking read meets p1, p2 and p3 and then waits for slow, which
# another transaction holds; node 2's write aborts the trade there, after
# the server has begun its answer, so the error comes with the rows
# (issue 10, defect 3).
name="abort while a trade's rows arrive"
reset_players
b0=$(bf_aborts)
hold_row slow
open_shell --table scanplayers
send 'trade p1 p3 1 1'
until_true 20 lock_waits 1 || bail "$name: the trade never waited for slow"
conflict p1
release_row
close_shell
aborted "$b0" "$name"
is "$RC" 0 "$name: the trade succeeds"
like "$ERR" 'server error 1213.*retrying' "$name: the conflict is named and retried"
unlike "$ERR" 'server error 0 ' "$name: no error without a number"
is "$(nsql 2 "SELECT coins, goods FROM players WHERE name = 'p1'")" \
    "$(printf '999\t401')" "$name: p1 paid once (and has node 2's +100)"
is "$(nsql 2 "SELECT coins, goods FROM players WHERE name = 'p3'")" \
    "$(printf '1001\t299')" "$name: p3 was paid once"
[ -n "$ERR" ] && diag "$name: stderr:" "$ERR"

name="abort while rows arrive, in a transaction"
reset_players
b0=$(bf_aborts)
hold_row slow
open_shell --table scanplayers
send begin 'set goods p3 +1'
wait_said "^'p3' now has 301 goods"
send 'trade p1 p2 1 1'
until_true 20 lock_waits 1 || bail "$name: the trade never waited for slow"
conflict p3
release_row
send 'set goods p3 +1' status commit
close_shell
aborted "$b0" "$name"
gone "$name" 3
refused "$name" 4
after "$name" 5 6
is "$(nsql 2 "SELECT coins, goods FROM players WHERE name IN ('p1', 'p2')
    ORDER BY name")" "$(printf '1000\t300\n1000\t300')" \
    "$name: the trade was not kept"
is "$(goods p3)" 400 "$name: p3 has node 2's +100 and neither +1"

done_testing
