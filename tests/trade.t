#!/bin/sh
# trade: four statements on a warm connection (BEGIN, one SELECT ... FOR
# UPDATE of both rows, one UPDATE of both, COMMIT); opposite trades on the
# same pair never deadlock; a refused trade - for coins, goods, a NULL, a
# missing or doubled player - says why and changes nothing; names are
# matched by the server's collation, as every other command matches them.
. "$top_srcdir/tests/lib.sh"
start_server

# refused MESSAGE DESCRIPTION: the last tp failed with exactly MESSAGE for
# its one -e line, and the table is as it was in $before.
refused() {
	is "$RC" 1 "$2: exit 1"
	is "$ERR" "-e:1: $1" "$2: the reason"
	is "$(snapshot)" "$before" "$2: nothing changed"
}

tp -e 'add buyer 1000 1000; add seller 1000 1000; add other 5 5'
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"

# ---- what a warm trade sends

# The general log, as a table, holds every command of every connection;
# the tidbplay connection is the only one of user app.
sql "TRUNCATE TABLE mysql.general_log; SET GLOBAL log_output = 'TABLE';
    SET GLOBAL general_log = 1" || bail "cannot turn the general log on"
tp -e 'trade buyer seller 1 10; trade buyer seller 1 10'
sql "SET GLOBAL general_log = 0"
is "$RC" 0 "two trades in one session: exit 0"
sql "SELECT command_type, argument FROM mysql.general_log
    WHERE user_host LIKE 'app[app]%'" >"$T/log"
# The second trade: what follows the first COMMIT, up to the statements'
# closing at the end.
warm=$(awk -F '\t' 'done && ($1 == "Quit" || $1 == "Close stmt") { exit }
	done { sub(/ .*/, "", $2); print $1 " " $2 }
	($1 == "Execute" || $1 == "Query") && $2 == "COMMIT" { done = 1 }' "$T/log")
is "$warm" "Query START
Execute SELECT
Execute UPDATE
Query COMMIT" "a warm trade sends four statements: begin, select, update, commit"
# BEGIN and COMMIT take nothing from the user: sent as text, they need no
# prepare, which a one-shot command would pay a round trip for.
is "$(awk -F '\t' '$1 == "Prepare" { sub(/ .*/, "", $2); print $2 }' "$T/log" |
    sort | tr '\n' ' ')" "SELECT UPDATE " \
    "only the statements with parameters are prepared"
is "$(grep -c '^Execute	SELECT.*FOR UPDATE' "$T/log")" 2 \
    "each trade locks its rows with one SELECT ... FOR UPDATE"
like "$(grep '^Execute	SELECT.*FOR UPDATE' "$T/log" | head -n 1)" \
    "WHERE name IN \('buyer', ?'seller'\) ORDER BY id FOR UPDATE" \
    "the look-up takes both names and locks in id order"
unlike "$(grep '^Execute	UPDATE' "$T/log")" 'JOIN' \
    "the UPDATE names one table"
is "$(sql "SELECT name, coins, goods FROM players ORDER BY id")" \
    "buyer	980	1002
seller	1020	998
other	5	5" "two trades moved 20 coins and 2 goods, nobody else touched"

# ---- opposite trades on the same pair

# Two shells, one buying from the other and the other back, many times at
# once: the rows are always locked in the same order, so InnoDB never
# finds a deadlock (none to retry either), and every trade goes through.
sql "UPDATE players SET coins = 100000, goods = 100000"
d0=$(deadlocks)
awk 'BEGIN { for (i = 0; i < 400; i++) print "trade buyer seller 3 7" }' \
    >"$T/ab"
awk 'BEGIN { for (i = 0; i < 400; i++) print "trade seller buyer 3 7" }' \
    >"$T/ba"
# The other client holds both rows while the two shells start, so that
# both wait and go together; then they wait for each other's rows.
hold_rows "name IN ('buyer', 'seller')" ||
    bail "the other client did not take its locks"
w0=$(row_lock_waits)
for dir in ab ba; do
	bg_shell $dir -q -f "$T/$dir"
done
wait_for '[ "$(lock_waits_now)" = 2 ]'
ok $? "both shells are running at once (each waits for the held rows)"
release_rows
finish ab
finish ba
waits=$(($(row_lock_waits) - w0 - 2))
diag "the shells waited for each other's rows $waits times"
ok "$([ "$waits" -gt 0 ]; echo $?)" \
    "the shells overlapped: they waited for each other's rows"
is "$rc_ab $rc_ba" "0 0" "both shells exit 0"
is "$(cat "$T/err.ab" "$T/err.ba")" "" "no error, no retry on either side"
is "$(deadlocks)" "$d0" "the server saw no deadlock"
is "$(sql "SELECT coins, goods FROM players WHERE name IN ('buyer', 'seller')
    ORDER BY id" | tr '\n' ' ')" "100000	100000 100000	100000 " \
    "400 trades each way: every coin and good is back where it was"

# ---- a lock wait while the rows are fetched

# The locking SELECT waits for a row another client holds; its lock wait
# timeout (1205) arrives with the rows, and the trade is retried whole.
sql "SET GLOBAL innodb_lock_wait_timeout = 1"
(printf '%s\n' "BEGIN; SELECT id FROM players WHERE name = 'seller' FOR UPDATE;" \
    'SELECT SLEEP(3); COMMIT;' | "$TP_ADMIN" test >/dev/null 2>&1) &
holder=$!
wait_for '[ "$(sql "SELECT COUNT(*) FROM information_schema.INNODB_TRX")" = 1 ]'
tp -e 'trade buyer seller 1 1'
wait $holder
sql "SET GLOBAL innodb_lock_wait_timeout = DEFAULT"
is "$RC" 0 "a trade that waits out a lock held elsewhere: exit 0"
like "$ERR" '^tidbplay: trade: server error 1205, retrying \(attempt 2 of 5\)' \
    "the lock wait timeout is named and the trade retried"
is "$(sql "SELECT coins, goods FROM players WHERE name IN ('buyer', 'seller')
    ORDER BY id" | tr '\n' ' ')" "99999	100001 100001	99999 " \
    "the retried trade was applied once"

# ---- refusals change nothing

sql "UPDATE players SET coins = 100, goods = 100 WHERE name <> 'other'"
before=$(snapshot)
tp -e 'trade buyer seller 10 101'
refused "buyer coins not enough" "a buyer who cannot pay"
tp -e 'trade buyer seller 101 10'
refused "seller goods not enough" "a seller who cannot supply"
sql "UPDATE players SET goods = 2147483640 WHERE name = 'buyer'"
before=$(snapshot)
tp -e 'trade buyer seller 8 1'
refused "buyer goods would pass 2147483647" "a buyer's goods that would overflow"
sql "UPDATE players SET goods = 100 WHERE name = 'buyer';
    UPDATE players SET coins = 2147483640 WHERE name = 'seller'"
before=$(snapshot)
tp -e 'trade buyer seller 1 8'
refused "seller coins would pass 2147483647" "a seller's coins that would overflow"
sql "UPDATE players SET coins = 100 WHERE name = 'seller'"
before=$(snapshot)
tp -e 'trade buyer nobody 1 1'
refused "no player named 'nobody'" "a missing seller"
tp -e 'trade nobody seller 1 1'
refused "no player named 'nobody'" "a missing buyer"
tp -e 'trade nobody nemo 1 1'
refused "no player named 'nobody'" "two missing players: the buyer is named"

# Inside the user's transaction a refusal leaves it open and unchanged.
tpin 'begin
trade buyer seller 1 1000
commit' --force
is "$RC" 1 "a refused trade inside begin fails the script"
is "$ERR" "stdin:2: buyer coins not enough" "inside begin: the reason"
is "$(snapshot)" "$before" "inside begin: nothing changed"

# ---- NULL balances (the quickstart's table allows them)

# null COLUMN PLAYER MESSAGE DESCRIPTION: with PLAYER's COLUMN NULL, a trade
# of 1 good for 1 coin is refused with MESSAGE.
null() {
	sql "UPDATE players SET coins = 100, goods = 100 WHERE name <> 'other';
	    UPDATE players SET $1 = NULL WHERE name = '$2'"
	before=$(snapshot)
	tp -e 'trade buyer seller 1 1'
	refused "$3" "$4"
}
null coins buyer "buyer coins of 'buyer' is NULL; set an absolute value first" \
    "a buyer with NULL coins"
null goods seller "seller goods of 'seller' is NULL; set an absolute value first" \
    "a seller with NULL goods"
null goods buyer "buyer goods of 'buyer' is NULL; set an absolute value first" \
    "a buyer with NULL goods"
null coins seller "seller coins of 'seller' is NULL; set an absolute value first" \
    "a seller with NULL coins"

# ---- names, as the server's collation compares them

# The table's collation (utf8mb4_general_ci here) ignores case: 'ALICE' is
# 'Alice', as show and set find her. Two names for one row are one player.
sql "DELETE FROM players;
    INSERT INTO players (name, coins, goods) VALUES ('Bob', 100, 100),
    ('Alice', 100, 100)"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'ALICE'")" 1 \
    "the server matches names without regard to case"
before=$(snapshot)
tp -e "trade Alice alice 1 1"
refused "trade: buyer and seller are the same player ('Alice' and 'alice' are one name to the table's collation)" \
    "two spellings of one player"
tp -e "trade ALICE alice 1 1"
refused "trade: buyer and seller are the same player ('ALICE' and 'alice' are one name to the table's collation)" \
    "two spellings of one player, neither as stored"
tp -e "trade Alice alicia 1 1"
refused "no player named 'alicia'" "a seller missing beside a buyer found"
tp -e "trade ALICE alicia 1 1"
refused "no player named 'alicia'" \
    "a seller missing beside a buyer not written as stored"
tp -e "trade alicia ALICE 1 1"
refused "no player named 'alicia'" "a buyer missing beside a seller found"

# trade_is CMD 'ALICE-COINS ALICE-GOODS BOB-COINS BOB-GOODS' DESCRIPTION
trade_is() {
	sql "UPDATE players SET coins = 100, goods = 100"
	tp -e "$1"
	is "$RC $ERR" "0 " "$3: exit 0"
	is "$(sql "SELECT coins, goods FROM players ORDER BY name" |
	    tr '\t\n' '  ')" "$2 " "$3: the right player paid"
}
trade_is "trade Alice Bob 1 10" "90 101 110 99" "names as stored"
trade_is "trade alice Bob 1 10" "90 101 110 99" "the buyer not as stored"
trade_is "trade Alice BOB 1 10" "90 101 110 99" "the seller not as stored"
trade_is "trade alice BOB 1 10" "90 101 110 99" "neither as stored"
trade_is "trade BOB alice 1 10" "110 99 90 101" \
    "neither as stored, the other way"
trade_is "trade bob Alice 1 10" "110 99 90 101" \
    "the buyer not as stored, the other way"

done_testing
