#!/bin/sh
# Reconnects without MYSQL_OPT_RECONNECT, against real faults (an idle
# connection closed by wait_timeout is tests/liveness.t's): the server
# killed and restarted, a
# connection killed while a write, a read or a COMMIT is in flight, and a
# transaction open when its connection goes.
. "$top_srcdir/tests/lib.sh"
start_server

# The id of the one other connection in STATE (or matching WHERE).
conn_where() {
	sql "SELECT ID FROM information_schema.PROCESSLIST
	    WHERE $1 AND ID <> CONNECTION_ID() LIMIT 1"
}

# kill_when WHERE: in the background, kill the connection that matches
# WHERE once one does; then run the rest of the arguments as SQL.
kill_when() {
	_where=$1
	shift
	(
		wait_sql "SELECT 1 FROM information_schema.PROCESSLIST
		    WHERE $_where AND ID <> CONNECTION_ID()" || exit 1
		sql "KILL CONNECTION $(conn_where "$_where")"
		for _q in "$@"; do
			sleep 0.3
			sql "$_q"
		done
	) >"$T/killer.out" 2>&1 &
	killer=$!
}

tpin 'add a 1000 1000; add b 1000 1000' -q
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"

# (c) The server restarted between two commands of one session.
{
	echo 'set coins a 6'
	wait_sql "SELECT 1 FROM players WHERE name = 'a' AND coins = 6"
	"$top_srcdir/tests/server.sh" restart "$SRV" >"$T/restart.out" 2>&1 ||
	    echo "# restart failed: $(cat "$T/restart.out")" >&2
	echo 'set coins a 7'
	echo 'status'
} | tpfed
tpdone
is "$RC" 0 "a restart between two commands: the session goes on"
like "$ERR" 'connection was lost; reconnected' "stderr says it reconnected"
is "$(val a coins)" 7 "the command after the restart was applied"
like "$OUT" 'reconnects: +1$' "status counts the reconnect"

# (d) Writes in flight when the connection goes. A trigger sleeps (the
# first K times) for one name, counting in MyISAM, which no rollback undoes.
sql "CREATE TABLE slow (name VARCHAR(32) PRIMARY KEY, k INT NOT NULL,
    n INT NOT NULL DEFAULT 0) ENGINE=MyISAM;
DELIMITER //
CREATE TRIGGER slow_bu BEFORE UPDATE ON players FOR EACH ROW BEGIN
  IF EXISTS (SELECT 1 FROM slow WHERE name = NEW.name AND n < k) THEN
    UPDATE slow SET n = n + 1 WHERE name = NEW.name;
    DO SLEEP(20);
  END IF;
END//
CREATE TRIGGER slow_bi BEFORE INSERT ON players FOR EACH ROW BEGIN
  IF EXISTS (SELECT 1 FROM slow WHERE name = NEW.name AND n < k) THEN
    UPDATE slow SET n = n + 1 WHERE name = NEW.name;
    DO SLEEP(20);
  END IF;
END//" || bail "cannot create the slow triggers"
slow() { sql "DELETE FROM slow; INSERT INTO slow VALUES ('$1', $2, 0)"; }
calls() { sql "SELECT COALESCE(SUM(n), 0) FROM slow"; }
sleeping="STATE = 'User sleep'"

# A relative set is not safe to repeat: its fate is unknown.
slow a 5
kill_when "$sleeping"
tpin 'set coins a +3'
wait "$killer"
is "$RC" 1 "a relative set whose connection is killed fails"
like "$ERR" "^stdin:1: the connection was lost while the change was sent: it may or may not have been applied" \
    "it says the change may or may not have been applied"
now=$(val a coins)
case $now in
7|10) pass "the change was applied at most once ($now coins)" ;;
*) fail "the change was applied at most once"; diag "coins: $now" ;;
esac
like "$ERR" "now: 'a' \(id [0-9]+\) has (7|10) coins and 1000 goods" \
    "it shows the record as it now is"
is "$(calls)" 1 "the write was not run again"

# So is an insert.
slow d 5
kill_when "$sleeping"
tpin 'add d 4 4'
wait "$killer"
is "$RC" 1 "an add whose connection is killed fails"
like "$ERR" 'may or may not have been applied' "its fate is unknown"
like "$ERR" "now: ('d' \(id [0-9]+\) has 4 coins|no player named 'd')" \
    "it shows the record, or that there is none"
is "$(calls)" 1 "the insert was not run again"
case $(sql "SELECT COUNT(*) FROM players WHERE name = 'd'") in
0|1) pass "at most one 'd'" ;;
*) fail "at most one 'd'" ;;
esac

# An absolute set is safe to repeat: it is run again and ends with 7.
slow b 1
kill_when "$sleeping"
tpin 'set coins b 7; status'
wait "$killer"
is "$RC" 0 "an absolute set whose connection is killed is run again"
like "$ERR" 'connection was lost; reconnected' "stderr says it reconnected"
is "$(val b coins)" 7 "it ends with 7"
is "$(calls)" 1 "the trigger slept once; the second run went through"
like "$OUT" 'reconnects: +1$' "status counts the reconnect"

# A read is run again: show, blocked behind LOCK TABLES, killed, re-run.
sql "DELETE FROM slow"
( printf 'LOCK TABLES players WRITE;\nSELECT SLEEP(20);\nUNLOCK TABLES;\n' |
    "$TP_ADMIN" -N -B test >/dev/null 2>&1 ) &
locker=$!
wait_sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE $sleeping"
kill_when "STATE = 'Waiting for table metadata lock'" \
    "KILL QUERY $(conn_where "$sleeping")"
tpin 'show b'
wait "$killer"
wait "$locker"
is "$RC" 0 "a show whose connection is killed is run again"
is "$OUT" "$(printf '%s\t%s\t%s\t%s' "$(val b id)" b 7 1000)" \
    "it still prints the record"
like "$ERR" 'connection was lost; reconnected' "stderr says it reconnected"

# A group of piped adds in flight when the connection goes, and no new
# connection to be had: what became of the group is unknown, and it is
# said so; no line of it runs again.
slow g1 1
before=$(sql "SELECT COUNT(*) FROM players")
{
	for i in 1 2 3 4 5; do echo "add g$i $i $i"; done
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST
	    WHERE $sleeping AND ID <> CONNECTION_ID()"
	sql "ALTER USER 'app'@'127.0.0.1' ACCOUNT LOCK;
	    ALTER USER 'app'@'%' ACCOUNT LOCK;
	    KILL CONNECTION $(conn_where "$sleeping")"
	echo 'add after 1 1'
} | tpfed --force
tpdone
sql "ALTER USER 'app'@'127.0.0.1' ACCOUNT UNLOCK;
    ALTER USER 'app'@'%' ACCOUNT UNLOCK"
like "$ERR" '^stdin:1: lines 1-5: the connection was lost while the change was sent: it may or may not have been applied' \
    "the group is reported as may or may not have been added"
unlike "$ERR" 'stdin:[2-5]:' "its lines are not run again one by one"
is "$(calls)" 1 "the group reached the server once"
is "$(sql "SELECT COUNT(*) FROM players WHERE name LIKE 'g_'")" 0 \
    "the killed statement added nothing"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'after'")" 0 \
    "the script stopped: no server left"
sql "DELETE FROM slow"
is "$RC" 3 "exit status 3"

# (e) A transaction open when its connection goes is lost, not replayed.
# While idle (found by the ping before the next command) ...
before=$(snapshot)
{
	echo 'begin'
	echo 'set coins a 1'
	wait_sql "SELECT 1 FROM information_schema.INNODB_TRX
	    WHERE trx_rows_modified > 0"
	sql "KILL CONNECTION $(conn_where "USER = 'app'")"
	wait_for app_gone 10 >&2
	echo 'set coins b 2'
	echo 'status'
	echo 'commit'
} | tpfed --force
tpdone
is "$RC" 1 "a transaction whose connection went fails the script"
like "$ERR" '^stdin:3: the connection was lost while a transaction was open: the server rolled it back, nothing in it was kept' \
    "it says the transaction was lost"
like "$OUT" 'transaction: rolled back' \
    "status says the server rolled the transaction back"
like "$ERR" 'stdin:5: nothing to commit: the transaction was rolled back' \
    "commit of the lost transaction is a failed command"
is "$(snapshot)" "$before" "nothing of the transaction was replayed"

# ... and while a statement of it runs.
slow b 1
before=$(snapshot)
kill_when "$sleeping"
tpin 'begin
set coins a 2
set coins b 3
status' --force
wait "$killer"
is "$RC" 1 "a transaction whose statement's connection went fails"
like "$ERR" '^stdin:3: the connection was lost inside a transaction: the server rolled it back' \
    "it says the transaction was lost"
like "$OUT" 'transaction: rolled back' \
    "status says the server rolled the transaction back"
is "$(calls)" 1 "the statement was not run again"
is "$(snapshot)" "$before" "nothing of the transaction was kept"

# A COMMIT whose connection goes may or may not have committed. The
# commit is held by BACKUP STAGE BLOCK_COMMIT (which would also hold the
# MyISAM writes of the triggers, so they go first).
sql "DROP TRIGGER slow_bu; DROP TRIGGER slow_bi;
    UPDATE players SET coins = 1000, goods = 1000 WHERE name IN ('a', 'b')"
block_commits() {
	( printf 'BACKUP STAGE START;\nBACKUP STAGE BLOCK_COMMIT;\n%s\n%s\n' \
	    'SELECT SLEEP(20);' 'BACKUP STAGE END;' |
	    "$TP_ADMIN" -N -B test >/dev/null 2>&1 ) &
	locker=$!
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE $sleeping"
	kill_when "STATE = 'Waiting for backup lock' AND INFO = 'COMMIT'" \
	    "KILL QUERY $(conn_where "$sleeping")"
}

before=$(snapshot)
block_commits
tpin 'trade a b 5 50'
wait "$killer"
wait "$locker"
is "$RC" 1 "a trade whose COMMIT loses the connection fails"
like "$ERR" 'connection was lost while the commit was sent: the transaction may or may not have been committed' \
    "it says the trade may or may not have been committed"
unlike "$ERR" 'rolled' "it does not claim a rollback"
like "$ERR" "now: 'a' .* coins" "it shows the buyer as it now is"
like "$ERR" "now: 'b' .* coins" "it shows the seller as it now is"
is "$(snapshot)" "$before" "the trade was not run again"

block_commits
tpin 'begin
set goods a 1
commit'
wait "$killer"
wait "$locker"
is "$RC" 1 "the user's COMMIT losing the connection fails"
like "$ERR" '^stdin:3: .*may or may not have been committed' \
    "it says the transaction may or may not have been committed"
is "$(snapshot)" "$before" "nothing was run again"

# (b) The server killed while a script runs: a clear error, exit 1.
{
	echo 'set coins a 8'
	wait_sql "SELECT 1 FROM players WHERE name = 'a' AND coins = 8"
	kill_server
	echo 'set coins a 9'
	echo 'add e 1 1'
} | tpfed
tpdone
is "$RC" 3 "the server killed: exit status 3 (no server left)"
like "$ERR" '^stdin:2: lost the connection and could not reconnect: cannot connect to 127\.0\.0\.1' \
    "the error says the connection is lost and why"
like "$ERR" 'no server to run the rest of stdin on: stopping' \
    "it says why the script stops"
unlike "$ERR" 'stdin:3' "the script stopped there"
"$top_srcdir/tests/server.sh" restart "$SRV" >"$T/restart.out" 2>&1 ||
    bail "the server did not come back: $(cat "$T/restart.out")"
is "$(val a coins)" 8 "the commands after the kill did nothing"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'e'")" 0 \
    "the script did not go on"

# The server killed while a transaction is open: lost, and said so.
before=$(snapshot)
{
	echo 'begin'
	echo 'set coins a 10'
	wait_sql "SELECT 1 FROM information_schema.INNODB_TRX
	    WHERE trx_rows_modified > 0"
	kill_server
	echo 'set coins b 10'
	echo 'commit'
} | tpfed
tpdone
is "$RC" 3 "the server killed inside a transaction: exit status 3"
like "$ERR" '^stdin:3: the connection was lost (while|inside) a transaction.*rolls it back, nothing in it is kept; lost the connection and could not reconnect' \
    "the error says the transaction is lost and the server is gone"
unlike "$ERR" 'leaving with a transaction open' \
    "no transaction is left to roll back on the way out"
"$top_srcdir/tests/server.sh" restart "$SRV" >"$T/restart.out" 2>&1 ||
    bail "the server did not come back: $(cat "$T/restart.out")"
is "$(snapshot)" "$before" "nothing of the transaction was kept"

# The server gone for good: the rest of a script, --force or not, is not
# tried line by line (each would take its own round of connect attempts).
{
	echo 'count'
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE USER = 'app'"
	kill_server
	for i in 1 2 3 4 5 6 7 8; do echo "set coins a $i"; done
} | tpfed --force
tpdone
is "$RC" 3 "no server left, with --force: exit status 3"
is "$(printf '%s\n' "$ERR" | grep -c 'could not reconnect')" 1 \
    "one failed reconnect, not one per remaining line"
unlike "$ERR" 'stdin:3:' "the script stopped at the first line that found no server"
"$top_srcdir/tests/server.sh" restart "$SRV" >"$T/restart.out" 2>&1 ||
    bail "the server did not come back: $(cat "$T/restart.out")"

# An error that arrives while rows are fetched is left by the library on
# the connection, not the statement: it is read from there, with its
# number. A list over a view that yields a row each 10 ms is killed from
# another client while its rows arrive, and says what happened.
sql "CREATE TABLE msrc LIKE players;
    INSERT INTO msrc (name, coins, goods)
    SELECT CONCAT('m', seq), seq, seq FROM seq_1_to_300;
    CREATE ALGORITHM=MERGE VIEW mview AS
    SELECT id, name, coins, goods FROM msrc WHERE SLEEP(0.01) = 0" ||
    bail "cannot make the slow view"
streaming="INFO LIKE 'SELECT id, name, coins, goods FROM \`mview\`%'"
# kill_query_when WHERE: in the background, KILL QUERY the statement that
# matches WHERE once it has run for half a second on the server (at 10 ms
# a row, its rows are arriving).
kill_query_when() {
	(
		wait_sql "SELECT 1 FROM information_schema.PROCESSLIST
		    WHERE $1 AND TIME_MS >= 500 AND ID <> CONNECTION_ID()" ||
		    exit 1
		sql "KILL QUERY $(conn_where "$1")"
	) >"$T/killer.out" 2>&1 &
	killer=$!
}
kill_query_when "$streaming"
tp --table mview -e 'list'
wait "$killer"
is "$RC" 1 "a list killed while its rows arrive: exit 1"
like "$ERR" '^-e:1: cancelled; the rest of the rows were not shown$' \
    "it says the rest of the rows were not shown"
unlike "$ERR" 'server error 0 ' "never 'server error 0'"
rows=$(printf '%s\n' "$OUT" | grep -c '^[0-9]')
[ "$rows" -gt 0 ] && [ "$rows" -lt 300 ]
ok $? "the rows that came before the kill were shown ($rows of 300)"

done_testing
