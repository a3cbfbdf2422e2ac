#!/bin/sh
# A real multi-primary cluster: three MariaDB Galera nodes (tests/galera.sh),
# where writes on different nodes conflict at COMMIT and a node can die.
#
# 1. Six shells, two on each node, run 150 random trades each at the same
#    time: every node conserves coins and goods and ends with the same rows,
#    no balance goes below 0, the conflicts the servers counted were
#    retried and said so, and no shell exits with a status of 2 or more.
# 2. A node is killed (kill -9) under trading shells: the shells on the
#    other two go on and conserve the totals; the killed node, restarted,
#    rejoins by IST and ends with the same rows.
. "$top_srcdir/tests/lib.sh"
start_cluster

NPLAYERS=6
NTRADES=150

add_players $NPLAYERS 3000 300
sums=$(nsql 1 'SELECT SUM(coins), SUM(goods) FROM players')

# trades SEED N: N random trades between the players (tests/lib.sh).
trades() {
	random_trades "$1" "$2" $NPLAYERS
}

# shell K NODE: shell K in the background on node NODE with $T/script.K
# (bg_shell: its pid in pid_K, its output in $T/out.K and $T/err.K;
# finish K puts its exit status in rc_K).
shell() {
	eval "_port=\$TP_PORT$2"
	bg_shell "$1" -P "$_port" --force -f "$T/script.$1"
}

# counted VAR...: the sum of these status counters over the three nodes.
counted() {
	_in=$(printf "'%s'," "$@")
	_n=0
	for _node in 1 2 3; do
		eval "_admin=\$TP_ADMIN$_node"
		_v=$("$_admin" -N -B -e "SHOW GLOBAL STATUS WHERE Variable_name
		    IN (${_in%,})" | awk '{ n += $2 } END { print n + 0 }')
		_n=$((_n + _v))
	done
	echo $_n
}
# Transactions that failed certification at COMMIT; and all conflicts:
# those, the ones a replicated write aborted, InnoDB's deadlocks. (A
# conflict can be counted twice, and an aborted trade that was refused
# anyway is rolled back without a word, so the second is an upper bound.)
CERT=wsrep_local_cert_failures
ALL="wsrep_local_cert_failures wsrep_local_bf_aborts Innodb_deadlocks"

# What shell K wrote to stderr: refused trades, retry notices, and trades
# that failed, each named by its script line. The only failure a trading
# shell may explain is a conflict that used up its retries; any other
# error (a usage error, a lost connection, a refusal of the wrong kind)
# is unexplained.
REFUSED='(buyer coins|seller goods) not enough$'
RETRY='^tidbplay: trade: server error [0-9]+, retrying \(attempt [0-9]+ of [0-9]+\)$'
GAVE_UP=' \(gave up after [0-9]+ attempts\)$'
failures() {
	grep -Ev "$RETRY" "$T/err.$1" | grep -Ev ": $REFUSED"
}
unexplained() {
	failures "$1" | grep -Ev "^$T/script\.$1:[0-9]+: .*server error.*$GAVE_UP"
}

# check_shells "K..." WHAT: each shell K exited with 0 or 1 (the documented
# statuses of a script whose commands all ran: 1, some failed) and wrote
# only refusals, retries and trades that used up their retries; sets
# refused, retried (retry notices and failures on a server error: attempts
# the client saw fail).
check_shells() {
	refused=0
	retried=0
	for k in $1; do
		eval "rc=\$rc_$k"
		case $rc in
		0|1) pass "$2: shell $k exited with $rc" ;;
		*) fail "$2: shell $k exited with $rc"
		   diag "$(tail -5 "$T/err.$k")" ;;
		esac
		is "$(unexplained $k)" "" \
		    "$2: shell $k wrote only refusals, retries and conflicts that used up their retries"
		failures $k >>"$T/failures"
		refused=$((refused + $(grep -Ec "$REFUSED" "$T/err.$k")))
		retried=$((retried + $(grep -Ec "$RETRY" "$T/err.$k") +
		    $(failures $k | grep -c 'server error')))
	done
}

# The same rows on every node, the totals of the start, nothing below 0.
converged() {
	_rows1=$(nsql 1 'SELECT id, name, coins, goods FROM players ORDER BY id')
	for n in 2 3; do
		is "$(nsql $n 'SELECT id, name, coins, goods FROM players ORDER BY id')" \
		    "$_rows1" "$1: node $n has the same rows as node 1"
	done
	for n in 1 2 3; do
		conserved $n "$1"
	done
	is "$(nsql 1 'SELECT COUNT(*) FROM players')" $NPLAYERS \
	    "$1: no player appeared or went"
}
conserved() {
	is "$(nsql $1 'SELECT SUM(coins), SUM(goods) FROM players')" \
	    "$sums" "$2: node $1 conserves coins and goods"
	is "$(nsql $1 'SELECT COUNT(*) FROM players WHERE coins < 0 OR goods < 0')" \
	    0 "$2: no balance on node $1 is below zero"
}

# -------------------------------------------- 1: six shells, two per node
for k in 0 1 2 3 4 5; do
	trades $((k + 1)) $NTRADES >"$T/script.$k"
done
cert0=$(counted $CERT)
all0=$(counted $ALL)
start=$(date +%s)
for k in 0 1 2 3 4 5; do
	shell $k $((k % 3 + 1))
done
for k in 0 1 2 3 4 5; do
	finish $k
done
diag "6 x $NTRADES trades in $(($(date +%s) - start)) s"
: >"$T/failures"
check_shells "0 1 2 3 4 5" "trades"
cert=$(($(counted $CERT) - cert0))
all=$(($(counted $ALL) - all0))
diag "$refused of $((6 * NTRADES)) trades refused; $retried failed" \
    "attempts reported; the servers counted $cert failed certifications" \
    "and $all conflicts in all"
[ -s "$T/failures" ] && diag "trades that failed:" "$(cat "$T/failures")"
total=$((6 * NTRADES))
if [ "$refused" -gt 0 ] && [ "$refused" -lt "$total" ]; then
	pass "trades: some were refused and some went through"
else
	fail "trades: some were refused and some went through"
	diag "refused: $refused of $total"
fi
if [ "$cert" -gt 0 ]; then
	pass "trades: the nodes really conflicted at COMMIT ($cert times)"
else
	fail "trades: the nodes really conflicted at COMMIT"
fi
if [ "$retried" -ge "$cert" ] && [ "$retried" -le "$all" ]; then
	pass "trades: every failed certification was reported and retried"
else
	fail "trades: every failed certification was reported and retried"
	diag "reported $retried; certification failures $cert; conflicts $all"
fi
converged "trades"

# -------------------------------------------------- 2: a node is killed
# Shells 6 and 7 on node 3, which is killed while they trade; 8 and 9 on
# node 1, 10 and 11 on node 2, which go on through the kill and the failure
# detection (about 3 s, during which commits wait). Node 3 is restarted at
# once; it rejoins by IST while shell 12 on node 1 keeps trading.
for k in 6 7 8 9 10 11 13; do
	trades $((k + 1)) $((NTRADES * 4)) >"$T/script.$k"
done
echo status >>"$T/script.13"
commits0=$(nsql 3 "SHOW GLOBAL STATUS LIKE 'wsrep_local_commits'" | cut -f2)
for k in 6 7; do
	shell $k 3
done
for k in 8 9; do
	shell $k 1
done
for k in 10 11; do
	shell $k 2
done
# Shell 13 is on node 3 too, but knows the whole cluster: a host list.
bg_shell 13 -H "$TP_HOST:$TP_PORT3,$TP_HOST:$TP_PORT1,$TP_HOST:$TP_PORT2" \
    --force -f "$T/script.13"
# Kill node 3 once its shells have committed some trades, and only then.
commits3() {
	nsql 3 "SHOW GLOBAL STATUS LIKE 'wsrep_local_commits'" | cut -f2
}
wait_for '[ $(($(commits3) - commits0)) -ge 20 ]' 30
ok $? "the shells on node 3 have committed trades before it is killed"
"$top_srcdir/tests/galera.sh" kill "$CLU" 3 >"$T/kill.out" 2>&1
ok $? "node 3 killed with its shells trading"
lines0=$(wc -l <"$TP_ERROR_LOG3")
start=$(date +%s)
"$top_srcdir/tests/galera.sh" restart "$CLU" 3 >"$T/restart.out" 2>&1 &
restart_pid=$!
# Shell 12: trades for as long as the restart takes.
mkfifo "$T/script.12"
while kill -0 $restart_pid 2>/dev/null; do
	echo 'trade p0 p1 1 1'
	echo 'trade p1 p0 1 1'
	sleep 0.05
done >"$T/script.12" &
shell 12 1
for k in 8 9 10 11 13; do
	finish $k
done
diag "the survivors' trades ended $(($(date +%s) - start)) s after the kill"
wait $restart_pid
rc=$?
ok $rc "node 3 restarted"
[ $rc -eq 0 ] || diag "$(cat "$T/restart.out")"
diag "node 3 was synced again $(($(date +%s) - start)) s after the kill"
finish 12
: >"$T/failures"
check_shells "8 9 10 11 12" "survivors"

# The shell with the host list went on on another node: one reconnect, to
# node 1 (the next in its list); no line failed but maybe the one in flight
# (a commit whose fate is unknown is said so, and not run again; a trade
# whose transaction went with the node is run again whole). A trade that
# used up its retries on conflicts, as any shell here may, is no loss of
# the failover's.
case $rc_13 in
0|1) pass "host list: the shell on the killed node went on ($rc_13: refused trades)" ;;
*) fail "host list: the shell on the killed node exited with $rc_13" ;;
esac
like "$(cat "$T/err.13")" "reconnected to $TP_HOST:$TP_PORT1 " \
    "host list: it reconnected to the next host of its list"
lost13=$(grep -Ev "$RETRY" "$T/err.13" | grep -Ev ": $REFUSED" |
    grep -Ev 'reconnected to|^tidbplay: now: |\(gave up after [0-9]+ attempts\)$')
[ "$(printf '%s' "$lost13" | grep -c .)" -le 1 ]
ok $? "host list: no line failed but at most the one in flight"
[ -n "$lost13" ] && diag "in flight: $lost13"
unlike "$lost13" 'could not reconnect' "host list: it never ran out of hosts"
like "$(cat "$T/out.13")" "server: +$TP_HOST:$TP_PORT1" \
    "host list: status names the host in use"
[ -s "$T/failures" ] && diag "trades that failed:" "$(cat "$T/failures")"
conserved 1 "survivors"
conserved 2 "survivors"

rejoin=$(tail -n +"$((lines0 + 1))" "$TP_ERROR_LOG3")
like "$rejoin" 'IST received' "node 3 rejoined by IST"
unlike "$rejoin" 'rsync SST completed' "node 3 needed no full state transfer"
# Node 3's shells lost their only host: a script whose connection is gone
# on every host stops there with exit status 3, --force or not.
for k in 6 7; do
	finish $k
	eval "is \"\$rc_$k\" 3 \"killed node: shell $k stopped with exit status 3\""
	like "$(cat "$T/err.$k")" "no server to run the rest of $T/script\\.$k on: stopping" \
	    "killed node: shell $k said why it stopped"
done
like "$(cat "$T/err.6" "$T/err.7")" 'lost the connection' \
    "killed node: its shells said they lost the connection"
converged "after the rejoin"

done_testing
