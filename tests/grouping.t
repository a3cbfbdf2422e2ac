#!/bin/sh
# Scripts send consecutive add lines that have already arrived as one
# multi-row INSERT. Nothing the user sees may change: each line's own id,
# the failing line named exactly, no waiting for input, no grouping inside
# a transaction.

. "$top_srcdir/tests/lib.sh"
start_server

executes() {
	sql "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f2
}

tp -e count			# creates the table
awk 'BEGIN { for (i = 1; i <= 300; i++) print "add g" i, i, 300 - i }' \
    >"$T/adds"

# 300 adds: the ids printed are the ids stored, line by line.
before=$(executes)
tp <"$T/adds"
after=$(executes)
is "$RC" 0 "300 piped adds succeed"
printf '%s\n' "$OUT" >"$T/ids"
is "$(wc -l <"$T/ids" | tr -d ' ')" 300 "one id per line"
sql "SELECT id FROM players WHERE name LIKE 'g%' ORDER BY CAST(SUBSTR(name, 2) AS UNSIGNED)" >"$T/want"
if cmp -s "$T/ids" "$T/want"; then
	pass "each line's id is the id stored for its name"
else
	fail "each line's id is the id stored for its name"
	diag "$(diff "$T/ids" "$T/want" | head -5)"
fi
is "$(sql "SELECT COUNT(*), SUM(coins), SUM(goods) FROM players")" \
    "300	45150	44850" "every row stored with its values"
n=$((after - before))
if [ "$n" -lt 30 ]; then
	pass "300 adds took $n statements, not 300"
else
	fail "300 adds took $n statements, not 300"
fi

# A duplicate in the middle: the lines before it are added, it is named
# exactly, the ones after it are not.
sql "DELETE FROM players"
awk 'BEGIN { for (i = 1; i <= 100; i++) print "add d" (i == 60 ? 10 : i), 1, 1 }' \
    >"$T/dup"
tp <"$T/dup"
is "$RC" 1 "a duplicate stops the script"
like "$ERR" '^stdin:60: .*already exists' "the error names line 60"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "one line of error"
is "$(sql "SELECT COUNT(*) FROM players")" 59 "lines 1-59 added"
is "$(sql "SELECT COUNT(*) FROM players WHERE name IN ('d61', 'd100')")" 0 \
    "lines after 60 not run"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 59 "59 ids printed"
is "$(printf '%s\n' "$OUT" | tail -n 1)" \
    "$(sql "SELECT id FROM players WHERE name = 'd59'")" "the last id is d59's"

# ... and with --force the rest goes on.
sql "DELETE FROM players"
tp --force <"$T/dup"
is "$RC" 1 "--force: still exit 1"
like "$ERR" '^stdin:60: ' "--force: line 60 named"
is "$(sql "SELECT COUNT(*) FROM players")" 99 "--force: every other line added"

# A bad line between adds: the adds before it land, nothing after.
sql "DELETE FROM players"
printf 'add b1 1 1\nadd b2 1 1\nadd b3 x 1\nadd b4 1 1\n' >"$T/bad"
tp <"$T/bad"
is "$RC" 1 "a bad argument stops the script"
like "$ERR" '^stdin:3: add: COINS' "the bad line is named"
is "$(sql "SELECT GROUP_CONCAT(name ORDER BY name) FROM players")" "b1,b2" \
    "the adds before it are in, the one after is not"

# Input is never waited for: an add is in the table before the next line
# has been written.
sql "DELETE FROM players"
{
	echo 'add w1 1 1'
	wait_sql "SELECT 1 FROM players WHERE name = 'w1'" 10 >&2
	sql "SELECT COUNT(*) FROM players WHERE name = 'w1'" >"$T/mid"
	echo 'add w2 1 1'
} | { tp; echo "$RC" >"$T/rc"; }
# (tp ran in the pipeline's subshell: its status comes back in a file)
is "$(cat "$T/rc")" 0 "a slow writer's adds succeed"
is "$(wc -l <"$T/out" | tr -d ' ')" 2 "a slow writer gets both ids"
is "$(cat "$T/mid")" 1 "the first add was done before the second line came"
is "$(sql "SELECT COUNT(*) FROM players")" 2 "both added"

# Inside a transaction every add is its own statement, and rolls back.
sql "DELETE FROM players"
{ echo begin; awk 'BEGIN { for (i = 1; i <= 50; i++) print "add t" i, 1, 1 }'
  echo rollback; } >"$T/txn"
before=$(executes)
tp <"$T/txn"
after=$(executes)
is "$RC" 0 "adds inside begin/rollback"
n=$((after - before))
if [ "$n" -ge 50 ]; then
	pass "inside a transaction each add is a statement ($n)"
else
	fail "inside a transaction each add is a statement ($n)"
fi
is "$(sql "SELECT COUNT(*) FROM players")" 0 "rolled back"

# People's formats still get a sentence per line, on stderr.
tp --format table <"$T/bad"
like "$ERR" "added 'b1' with id [0-9]+" "table format: a sentence for b1"
like "$ERR" "added 'b2' with id [0-9]+" "table format: a sentence for b2"
is "$OUT" "" "table format: nothing on stdout for adds"

# -e with newlines groups too, and prints the ids.
sql "DELETE FROM players"
tp -e 'add e1 1 1
add e2 2 2
count'
is "$RC" 0 "-e adds"
is "$(printf '%s\n' "$OUT" | tail -n 1)" 2 "-e: the count after the adds"
is "$(printf '%s\n' "$OUT" | head -n 2 | tr '\n' ' ')" \
    "$(sql "SELECT id FROM players ORDER BY name" | tr '\n' ' ')" "-e: the ids"

done_testing
