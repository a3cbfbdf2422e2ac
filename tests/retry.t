#!/bin/sh
# Retries on the errors TiDB asks clients to retry, against a real server:
# a trigger raises SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = <code> for a
# chosen player while a counter is below K. The counter lives in a MyISAM
# table, whose writes the failed statement's rollback does not undo, so it
# counts the attempts that reached the server.
. "$top_srcdir/tests/lib.sh"
start_server

tpin 'add a 1000 1000; add b 1000 1000; add c 1000 1000' -q
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"

# A trigger that raises the error fault names for a player while its
# counter is below k; the counter is MyISAM, so the failed statement's
# rollback does not undo it.
fault_trigger() {
	cat <<EOF
CREATE TRIGGER $1 BEFORE $2 ON players FOR EACH ROW BEGIN
  DECLARE e INT;
  SET e = (SELECT errno FROM fault WHERE name = NEW.name AND n < k);
  IF e IS NOT NULL THEN
    UPDATE fault SET n = n + 1 WHERE name = NEW.name;
    SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = e,
        MESSAGE_TEXT = 'injected conflict';
  END IF;
END//
EOF
}

sql "CREATE TABLE fault (name VARCHAR(32) PRIMARY KEY, errno INT NOT NULL,
    k INT NOT NULL, n INT NOT NULL DEFAULT 0) ENGINE=MyISAM;
DELIMITER //
$(fault_trigger fault_bu UPDATE)
$(fault_trigger fault_bi INSERT)" || bail "cannot create the fault triggers"

# fault NAME ERRNO K: the next K writes to NAME fail with ERRNO.
fault() {
	sql "DELETE FROM fault; INSERT INTO fault VALUES ('$1', $2, $3, 0)"
}
hits() { sql "SELECT COALESCE(SUM(n), 0) FROM fault"; }

# The server really hands 9007 to a client as error 9007 (what the code's
# MYSQL_ERRNO says, with SQLSTATE 40001), through the independent client...
fault a 9007 1
msg=$(sql "UPDATE players SET coins = coins + 1 WHERE name = 'a'" 2>&1)
like "$msg" '^ERROR 9007 \(40001\)' "the server passes MYSQL_ERRNO 9007 through"
is "$(val a coins)" 1000 "the failed UPDATE changed nothing"

# ... and through a prepared statement (tidbplay reports
# mysql_stmt_errno and mysql_stmt_sqlstate), here with retries = 1.
mkdir -p "$T/cfg"
printf '[shell]\nretries = 1\n' >"$T/cfg/one.ini"
fault a 9007 1
tpin 'set coins a +5' -c "$T/cfg/one.ini"
is "$RC" 1 "retries = 1: the conflict fails the command"
like "$ERR" '^stdin:1: .*server error 9007 \(40001\)' \
    "retries = 1: the message has the error number and SQLSTATE"
unlike "$ERR" 'retrying' "retries = 1: no retry at all"
is "$(hits)" 1 "retries = 1: one attempt reached the server"
is "$(val a coins)" 1000 "retries = 1: nothing changed"

# K < retries: run again until it goes through, applied exactly once.
fault a 9007 3
tpin 'set coins a +5; status'
is "$RC" 0 "9007 three times, retries 5: the command succeeds"
like "$ERR" 'server error 9007, retrying \(attempt 2 of 5\)' \
    "stderr says it retried"
like "$ERR" '^tidbplay: set: server error 9007, retrying \(attempt 2 of 5\)$' \
    "the retry names the command, as the man page shows"
unlike "$ERR" 'statement:' "not the word 'statement'"
is "$(printf '%s\n' "$ERR" | grep -c retrying)" 3 "three retries announced"
is "$(hits)" 3 "three failed attempts reached the server"
is "$(val a coins)" 1005 "the relative change was applied exactly once"
like "$OUT" 'retries: +3' "status counts the retries"

# Every code TiDB (and InnoDB) asks to retry is retried.
for code in 1213 1205 8002 8005 8022 8028 9007; do
	fault b "$code" 1
	tpin 'set goods b +1'
	if [ "$RC" -eq 0 ] && printf '%s\n' "$ERR" |
	    grep -q "server error $code, retrying"; then
		pass "error $code is retried"
	else
		fail "error $code is retried"
		diag "rc $RC: $ERR"
	fi
done
is "$(val b goods)" 1007 "each of the seven changes applied once"

# K >= retries: a clean failure, nothing changed.
fault a 8022 5
tpin 'set coins a +5'
is "$RC" 1 "8022 five times, retries 5: the command fails"
like "$ERR" 'server error 8022 \(40001\).*gave up after 5 attempts' \
    "the message has the error number and the attempts"
is "$(printf '%s\n' "$ERR" | grep -c retrying)" 4 "four retries announced"
is "$(hits)" 5 "five attempts reached the server"
is "$(val a coins)" 1005 "nothing changed"

# An insert is retried as well, and inserted once.
fault newp 1213 2
tpin 'add newp 7 7'
is "$RC" 0 "a deadlocked add is retried and succeeds"
is "$(sql "SELECT COUNT(*), SUM(coins) FROM players WHERE name = 'newp'")" \
    "$(printf '1\t7')" "the player was inserted exactly once"

# Inside begin ... commit nothing is retried: the transaction is gone,
# and what it had written is rolled back.
fault a 9007 1
before=$(snapshot)
tpin 'begin
set coins c +100
add inside 1 1
set coins a +5
set coins c +1
status
commit' --force
is "$RC" 1 "a conflict inside begin fails the script"
like "$ERR" '^stdin:4: .*server error 9007 .*the server kept the transaction, and tidbplay rolled it back: nothing in it was kept' \
    "the message says the transaction is gone, and who rolled it back"
like "$ERR" 'stdin:5: refused: the transaction was rolled back' \
    "the next change is refused, not run on its own"
unlike "$ERR" 'retrying' "nothing inside the transaction is retried"
is "$(hits)" 1 "one attempt reached the server"
like "$OUT" 'transaction: rolled back' \
    "status says the transaction was rolled back"
like "$ERR" 'stdin:7: nothing to commit: the transaction was rolled back' \
    "commit of the gone transaction is a failed command"
unlike "$ERR" 'committed' "nothing says committed"
is "$(snapshot)" "$before" \
    "the transaction's earlier writes were rolled back"

# trade: the whole transaction runs again (the conflict hits its UPDATE at
# the seller's row, after the buyer's was changed), and coins and goods
# are conserved.
sums=$(sql 'SELECT SUM(coins), SUM(goods) FROM players')
fault b 1213 2
tpin 'trade a b 3 30; status'
is "$RC" 0 "a trade whose UPDATE deadlocks is retried"
like "$ERR" 'trade: server error 1213, retrying \(attempt 2 of 5\)' \
    "stderr says the trade was retried"
is "$(hits)" 2 "two failed attempts reached the server"
is "$(val a coins) $(val a goods) $(val b coins) $(val b goods)" \
    "975 1003 1030 1004" "the trade was applied exactly once"
like "$OUT" 'retries: +2' "status counts the trade's retries"

fault b 9007 9
before=$(snapshot)
tpin 'trade a b 3 30'
is "$RC" 1 "a trade that keeps conflicting fails"
like "$ERR" 'server error 9007 .*gave up after 5 attempts' \
    "the failed trade names the error and the attempts"
is "$(hits)" 5 "the trade was tried five times"
is "$(snapshot)" "$before" "the failed trade changed nothing"
is "$(sql 'SELECT SUM(coins), SUM(goods) FROM players')" "$sums" \
    "coins and goods are conserved"

# Ctrl-C while it waits to retry (at a terminal: script(1) gives it one)
# gives the command up and the session goes on.
if command -v script >/dev/null 2>&1; then
	printf '[shell]\nretries = 100\n' >"$T/cfg/many.ini"
	fault a 9007 1000
	before=$(snapshot)
	# Ctrl-C once it has retried; the next lines once it says so.
	{
		wait_for '[ "$(hits)" -ge 2 ]' >&2
		printf '\003'
		wait_for 'grep -q "error: cancelled" "$T/tty"' >&2
		echo 'show a'
		echo 'status'
		echo 'quit'
	} | {
		echo 'set coins a +1'
		cat
	} | tpenv TERM=dumb script -qfec "'$TIDBPLAY' -H $TP_HOST -P $TP_PORT -u $TP_USER \
	    --ca '$TP_CA' -c '$T/cfg/many.ini'" /dev/null >"$T/tty" 2>&1
	tty=$(tr -d '\r' <"$T/tty")
	like "$tty" 'retrying \(attempt 2 of 100\)' "at a terminal it retries"
	like "$tty" 'error: cancelled' "Ctrl-C gives the retrying command up"
	like "$tty" "^\\| +[0-9]+ +\\| a +\\| +$(val a coins) +\\|" \
	    "the session goes on: show works afterwards"
	like "$tty" 'transaction: none' "and no transaction was left open"
	n=$(hits)
	if [ "$n" -ge 2 ] && [ "$n" -lt 100 ]; then
		pass "the retries stopped at Ctrl-C ($n attempts)"
	else
		fail "the retries stopped at Ctrl-C"
		diag "attempts: $n"
	fi
	is "$(snapshot)" "$before" "the cancelled command changed nothing"
else
	skip "Ctrl-C while it waits to retry" \
	    "script(1) is not installed (apt-get install bsdutils)"
fi

# A lock wait timeout (1205) inside begin: MariaDB (innodb_rollback_on_
# timeout off) keeps the transaction and undoes only the statement. What
# the server did is asked, not assumed: tidbplay rolls the rest back
# itself, and says that it did, not that the server did.
sql "INSERT INTO players (name, coins, goods) VALUES ('held', 1, 1)
    ON DUPLICATE KEY UPDATE coins = 1"
sql "DELETE FROM fault" 2>/dev/null
bob=$(sql "SELECT coins FROM players WHERE name = 'c'")
sql "SET GLOBAL innodb_lock_wait_timeout = 1"
"$TP_ADMIN" -N -B -e "BEGIN; SELECT * FROM players WHERE name = 'held'
    FOR UPDATE; SELECT SLEEP(6); ROLLBACK" test >/dev/null 2>&1 &
holder=$!
_i=0
until [ -n "$(sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE
    STATE = 'User sleep'")" ] || [ $_i -ge 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
tpin 'begin
set coins c +1
set coins held 5
commit'
wait "$holder"
sql "SET GLOBAL innodb_lock_wait_timeout = 50"
is "$RC" 1 "a lock wait timeout inside begin fails the script"
like "$ERR" '^stdin:3: server error 1205 .*the server kept the transaction, and tidbplay rolled it back: nothing in it was kept' \
    "it says tidbplay rolled the transaction back, which the server kept"
unlike "$ERR" 'server rolled' "it does not say the server rolled it back"
is "$(sql "SELECT coins FROM players WHERE name = 'c'")" "$bob" \
    "the change before it was not kept"

done_testing
