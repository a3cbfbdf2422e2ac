#!/bin/sh
# Liveness and the host list, against real servers: a live connection is
# used without a ping unless it idled for four minutes; one the server closed while
# idle is found before an unsafe write is sent; a server that stops
# answering ends a script within read_timeout; a refused connection says
# so; a list of hosts is tried in order, and a lost connection goes on on
# the next host, the write in flight reported and never replayed.
. "$top_srcdir/tests/lib.sh"
start_server

SRV2=$T/srv2
server_pid=$(cat "$SRV/pid")

# SIGSTOP, and wait until the server is stopped indeed (on a busy machine
# it may run on for a moment), so that what follows finds it hung.
stop_server() {
	kill -STOP "$server_pid"
	_i=0
	while [ $_i -lt 100 ] && [ "$(sed 's/^.*) //' "/proc/$server_pid/stat" |
	    cut -d' ' -f1)" != T ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
# A stopped server must never outlive the test, nor the second one.
mute_pid=
cleanup_all() {
	kill -CONT "$server_pid" 2>/dev/null
	[ -n "$mute_pid" ] && kill "$mute_pid" 2>/dev/null
	if [ -f "$SRV2/pid" ]; then
		"$top_srcdir/tests/server.sh" stop "$SRV2" >/dev/null 2>&1
	fi
	cleanup
}
trap cleanup_all EXIT

# Kill the app user's idle connection, in one call of the admin client
# (the server shuts the socket down before KILL returns), so that the
# next line follows within a second of the last.
kill_app_connection() {
	sql "SELECT ID INTO @id FROM information_schema.PROCESSLIST
	    WHERE USER = 'app' LIMIT 1; KILL CONNECTION @id"
}

# tph HOSTS ARGS: tidbplay against the host list HOSTS, with the CA in
# $CA (both servers' CAs once there are two); same captures as tp.
CA=$TP_CA
tph() {
	_hosts=$1
	shift
	tpenv "$TIDBPLAY" -H "$_hosts" -u "$TP_USER" --ca "$CA" \
	    "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	echo "$RC" >"$T/rc"
}

tpin 'add a 1000 1000; add b 1000 1000; add z 0 0' -q
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"

# (a) A live connection is not pinged while it idles for less than four
# minutes: reads, unsafe writes, a transaction, status, each 1.5 s after
# the last. (After four minutes it is: below.)
# The server counts the pings it gets in Com_admin_commands (its general
# log leaves them out); the admin client sends none.
admin_commands() {
	sql "SHOW GLOBAL STATUS LIKE 'Com_admin_commands'" | cut -f2
}
conns() { sql "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2; }
p0=$(admin_commands)
mariadb-admin --no-defaults -uroot --socket="$TP_SOCK" ping >/dev/null 2>&1
p1=$(admin_commands)
is "$((p1 - p0))" 1 "the server counts a ping (mariadb-admin ping)"
c0=$(conns)
{
	for line in 'show a' 'set coins a +1' 'add live1 1 1' \
	    'set goods a -1' 'count' 'begin' 'set coins b +1' 'commit'; do
		echo "$line"
		sleep 1.5
	done
	echo 'status'
} | tpfed
tpdone
c1=$(conns)
p2=$(admin_commands)
is "$RC" 0 "a session of commands 1.5 s apart runs"
is "$((p2 - p1))" 0 "no ping was sent on the live connection"
is "$((c1 - c0))" 2 "one connection throughout (and the counter's own)"
is "$(val a coins)/$(val a goods)/$(val b coins)" 1001/999/1001 \
    "every change was applied once"
like "$OUT" 'reconnects: +0$' "nothing was reconnected"

# ... but a connection idle for four minutes is pinged once before it is
# used. The clock is moved (libfaketime, which reads it from a file at
# each call) between two commands: 200 s idle, no ping; then 300 s, one.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ -f "$FAKETIME_LIB" ]; then
	echo '+0' >"$T/clock"
	printf '#!/bin/sh\nexec env LD_PRELOAD=%s FAKETIME_TIMESTAMP_FILE=%s FAKETIME_NO_CACHE=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" %s "$@"\n' \
	    "$FAKETIME_LIB" "$T/clock" "$TIDBPLAY" >"$T/faked"
	chmod +x "$T/faked"
	real=$TIDBPLAY
	TIDBPLAY=$T/faked
	p0=$(admin_commands)
	{
		echo 'set coins z 10'
		wait_sql "SELECT 1 FROM players WHERE name = 'z' AND coins = 10"
		echo '+200' >"$T/clock"
		echo 'set coins z 11'
		wait_sql "SELECT 1 FROM players WHERE name = 'z' AND coins = 11"
		admin_commands >"$T/pings.200"
		echo '+500' >"$T/clock"
		echo 'set coins z 12'
	} | tpfed
	tpdone
	TIDBPLAY=$real
	p1=$(admin_commands)
	p200=$(cat "$T/pings.200")
	is "$RC" 0 "a session whose clock moves: exit 0"
	is "$((p200 - p0))" 0 "idle for 200 s: no ping"
	is "$((p1 - p200))" 1 "idle for 300 s: one ping before the next command"
	is "$(val z coins)" 12 "the command after the ping ran"
	unlike "$ERR" 'reconnect' "the pinged connection was used, not replaced"
else
	skip "a connection idle for four minutes is pinged" \
	    "libfaketime is not installed (apt-get install faketime)"
fi

# (b) The server closes the connection while it idles (KILL CONNECTION;
# TiDB Serverless closes idle ones): found before the unsafe write is
# sent, within a second of the last command, so the write goes once, on a
# new connection, with no 'may or may not'.
a0=$(val a coins)
{
	echo 'set coins z 1'
	wait_sql "SELECT 1 FROM players WHERE name = 'z' AND coins = 1"
	kill_app_connection
	echo 'set coins a +1'
	wait_sql "SELECT 1 FROM players WHERE name = 'a' AND coins = $((a0 + 1))"
	kill_app_connection
	echo 'add killed1 5 5'
	echo 'status'
} | tpfed
tpdone
is "$RC" 0 "connections killed while idle: the script goes on"
is "$(val a coins)" $((a0 + 1)) "the relative set after a kill was applied once"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'killed1'")" 1 \
    "the add after a kill was applied once"
unlike "$ERR" 'may or may not' "no write was sent on the closed connection"
is "$(printf '%s\n' "$ERR" | grep -c 'connection was lost; reconnected')" 2 \
    "each closed connection was found and made again"
like "$OUT" 'reconnects: +2$' "status counts both reconnects"

# ... and closed by wait_timeout, the same way: each next line is sent
# once the server has closed the idle connection (it is gone from the
# process list), not after a sleep that a slow machine could outlast.
sql "SET GLOBAL wait_timeout = 2; SET GLOBAL interactive_timeout = 2"
a0=$(val a coins)
{
	echo 'set coins z 2'
	wait_sql "SELECT 1 FROM players WHERE name = 'z' AND coins = 2"
	wait_for app_gone
	echo 'set coins a +1'
	wait_sql "SELECT 1 FROM players WHERE name = 'a' AND coins = $((a0 + 1))"
	wait_for app_gone
	echo 'add idle1 5 5'
	echo 'status'
} | tpfed
tpdone
sql "SET GLOBAL wait_timeout = 28800; SET GLOBAL interactive_timeout = 28800"
is "$RC" 0 "idle past wait_timeout: the script goes on"
unlike "$ERR" 'stdin:' "idle past wait_timeout: no command failed"
is "$(val a coins)" $((a0 + 1)) \
    "the relative set after wait_timeout was applied once"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'idle1'")" 1 \
    "the add after wait_timeout was applied once"
unlike "$ERR" 'may or may not' "no write was sent on the closed connection"
is "$(printf '%s\n' "$ERR" | grep -c 'connection was lost; reconnected')" 2 \
    "each closed connection was found and made again"
like "$OUT" 'reconnects: +2$' "status counts both reconnects"

# (c) A server that stops answering (SIGSTOP): the script ends within
# read_timeout with exit status 3, the write in flight reported, and no
# reconnect tried (it would hang as well). An outer timeout catches a
# tidbplay that hangs.
cat >"$T/bounded" <<EOF
#!/bin/sh
exec timeout 30 "$TIDBPLAY" "\$@"
EOF
chmod +x "$T/bounded"
real=$TIDBPLAY
TIDBPLAY=$T/bounded
a0=$(val a coins)
zv=3
for cmd in 'set coins a +1' 'show a'; do
	t0=$(date +%s)
	{
		echo "set coins z $zv"
		wait_sql "SELECT 1 FROM players WHERE name = 'z' AND coins = $zv"
		stop_server
		echo "$cmd"
		echo 'add after 1 1'
	} | tpfed --read-timeout 2 --force
	tpdone
	kill -CONT "$server_pid"
	t1=$(date +%s)
	diag "$cmd on a stopped server: $((t1 - t0)) s"
	is "$RC" 3 "$cmd on a stopped server: exit status 3"
	like "$ERR" "^stdin:2: .*the server did not answer within read_timeout \\(2 s\\)" \
	    "$cmd: it says the server did not answer within read_timeout"
	like "$ERR" 'no server to run the rest of stdin on: stopping' \
	    "$cmd: it says why the script stops"
	unlike "$ERR" 'stdin:3:|could not reconnect' \
	    "$cmd: no reconnect was tried and nothing after it ran"
	case $cmd in
	set*) like "$ERR" "now: no connection: the server did not answer" \
	    "$cmd: the record is not read from the server that hangs" ;;
	esac
	zv=$((zv + 1))
done
TIDBPLAY=$real
case $(($(val a coins) - a0)) in
0|1) pass "the write in flight was applied at most once" ;;
*) fail "the write in flight was applied at most once"; diag "$(val a coins)" ;;
esac
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'after'")" 0 \
    "the lines after it did not run"

# (d) A refused connection says so, not the library's "(115)".
tph "127.0.0.1:1" -e count
is "$RC" 3 "nothing listening: exit status 3"
like "$ERR" 'cannot connect to 127\.0\.0\.1:1: connection refused' \
    "it says the connection was refused"
unlike "$ERR" '\(115\)' "no bare errno from the library"

# A server that takes the connection and never speaks (a listener that
# accepts and says nothing): tidbplay gives up after connect_timeout with
# exit status 3. Loosely bounded: an outer timeout of 20 s catches a
# tidbplay that waits on; a control with connect_timeout = 60 is still
# waiting when its outer timeout of 3 s ends it, so it is the setting that
# ends the wait.
python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])' >"$T/mute.port" 2>/dev/null &
mute_pid=$!
wait_for '[ -s "$T/mute.port" ]' || bail "the mute listener did not start"
MUTE=$(cat "$T/mute.port")
printf '[connection]\nconnect_timeout = %s\n' 2 >"$T/ct2.ini"
printf '[connection]\nconnect_timeout = %s\n' 60 >"$T/ct60.ini"
real=$TIDBPLAY
printf '#!/bin/sh\nexec timeout "$LIMIT" %s "$@"\n' "$TIDBPLAY" >"$T/limited"
chmod +x "$T/limited"
TIDBPLAY=$T/limited
t0=$(date +%s)
LIMIT=20
export LIMIT
tph "127.0.0.1:$MUTE" -c "$T/ct2.ini" -e count
t1=$(date +%s)
is "$RC" 3 "a server that never speaks, connect_timeout = 2: exit status 3"
like "$ERR" "cannot connect to 127\\.0\\.0\\.1:$MUTE" "it names the server it gave up on"
ok "$([ $((t1 - t0)) -ge 1 ]; echo $?)" \
    "it waited for the server before giving up ($((t1 - t0)) s)"
LIMIT=3
tph "127.0.0.1:$MUTE" -c "$T/ct60.ini" -e count
is "$RC" 124 "control: connect_timeout = 60 is still waiting after 3 s"
TIDBPLAY=$real
kill "$mute_pid" 2>/dev/null
wait "$mute_pid" 2>/dev/null
mute_pid=

# (e) The host list: tried in order, the first that takes us is used.
tph "127.0.0.1:1,127.0.0.1:$TP_PORT" -e status
is "$RC" 0 "a dead first host, a live second: connected"
like "$OUT" "^server: +127\\.0\\.0\\.1:$TP_PORT\$" "status names the host in use"
like "$OUT" '^tls: +TLSv1\.[23]' "verified TLS on the second host"

# A first host whose name does not resolve (.invalid never does) is a
# host that is down like any other: skipped.
tph "nonexistent.invalid:$TP_PORT,127.0.0.1:$TP_PORT" -e status
is "$RC" 0 "a first host that does not resolve, a live second: connected"
like "$OUT" "^server: +127\\.0\\.0\\.1:$TP_PORT\$" "status names the second host"

# A bad list is refused before anything connects.
c0=$(conns)
tph "127.0.0.1:$TP_PORT,,127.0.0.1:1" -e count
c1=$(conns)
is "$RC" 2 "a list with an empty entry: exit status 2"
like "$ERR" "host list '127\\.0\\.0\\.1:$TP_PORT,,127\\.0\\.0\\.1:1': entry 2 is empty" \
    "it names the empty entry"
c2=$(conns)
tph "127.0.0.1:$TP_PORT,127.0.0.1:65536" -e count
c3=$(conns)
is "$RC" 2 "a list with a bad port: exit status 2"
like "$ERR" "bad port in host '127\\.0\\.0\\.1:65536'" "it names the bad entry"
is "$((c1 - c0)):$((c3 - c2))" 1:1 \
    "no connection was made for either (only the counter's own)"

# (f) Two servers. The one in use is killed while a write to it is in
# flight: the session goes on on the other, the write is reported as
# unknown and not replayed there, the next line runs there.
"$top_srcdir/tests/server.sh" start "$SRV2" >"$T/server2.out" 2>&1 ||
    bail "the second server did not start: $(cat "$T/server2.out")"
P2=$(. "$SRV2/env" && echo "$TP_PORT")
sql2() { "$SRV2/admin" -N -B -e "$1" test; }
cat "$TP_CA" "$SRV2/ca.pem" >"$T/both-ca.pem"
CA=$T/both-ca.pem
tph "127.0.0.1:$P2" -q -e 'add inflight 1000 1000; add a 1000 1000; add b 1000 1000'
[ "$RC" -eq 0 ] || bail "setup of the second server failed: $ERR"
sql "INSERT INTO players (name, coins, goods) VALUES ('inflight', 1000, 1000);
DELIMITER //
CREATE TRIGGER slow_bu BEFORE UPDATE ON players FOR EACH ROW BEGIN
  IF NEW.name = 'inflight' THEN DO SLEEP(20); END IF;
END//" || bail "cannot create the slow trigger"

restart_server() {
	"$top_srcdir/tests/server.sh" restart "$SRV" >"$T/restart.out" 2>&1 ||
	    bail "the server did not come back: $(cat "$T/restart.out")"
	server_pid=$(cat "$SRV/pid")
}

{
	echo 'status'
	echo 'set coins inflight +1'
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST
	    WHERE STATE = 'User sleep'"
	kill_server
	echo 'set coins inflight +10'
	echo 'status'
} | tph "127.0.0.1:$TP_PORT,127.0.0.1:$P2" --force
tpdone
is "$RC" 1 "the server in use killed under a write: the write fails, the session goes on"
like "$ERR" '^stdin:2: the connection was lost while the change was sent: it may or may not have been applied' \
    "the write in flight is reported as may or may not"
like "$ERR" "reconnected to 127\\.0\\.0\\.1:$P2 " "the notice names the new host and port"
like "$(printf '%s\n' "$OUT" | grep '^server:' | head -n 1)" ":$TP_PORT\$" \
    "status named the first host before"
like "$(printf '%s\n' "$OUT" | grep '^server:' | tail -n 1)" ":$P2\$" \
    "status names the second host after"
is "$(sql2 "SELECT coins FROM players WHERE name = 'inflight'")" 1010 \
    "the write in flight was not replayed on the other host; the next line ran there"
restart_server
is "$(val inflight coins)" 1000 "the killed write was not kept on the first host"

# A transaction open on the host that dies is gone: the session says so on
# the other host, refuses changes until rollback, and commits nothing.
before=$(snapshot)
{
	echo 'begin'
	echo 'set coins a 5'
	wait_sql "SELECT 1 FROM information_schema.INNODB_TRX
	    WHERE trx_rows_modified > 0"
	kill_server
	echo 'set coins b 5'
	echo 'set coins b 6'
	echo 'status'
	echo 'commit'
} | tph "127.0.0.1:$TP_PORT,127.0.0.1:$P2" --force
tpdone
is "$RC" 1 "a transaction on a host that dies fails the script"
like "$ERR" '^stdin:3: the connection was lost while a transaction was open: the server rolled it back, nothing in it was kept' \
    "it says the transaction is gone"
like "$ERR" 'stdin:4: refused: the transaction was rolled back' \
    "the next change is refused, not autocommitted on the other host"
like "$OUT" 'transaction: rolled back' "status says so"
like "$OUT" "^server: +127\\.0\\.0\\.1:$P2\$" "status names the other host"
like "$ERR" 'stdin:6: nothing to commit' "commit is a failed command"
unlike "$ERR" 'committed' "nothing says committed"
is "$(sql2 "SELECT coins FROM players WHERE name IN ('a', 'b') ORDER BY name" |
    tr '\n' ' ')" "1000 1000 " "nothing of it reached the other host"
restart_server
is "$(snapshot)" "$before" "nothing of it was kept on the first host"

done_testing
