#!/bin/sh
# Many shells at once: six tidbplay processes each run 300 random trades in
# both directions among five players. Coins and goods must be conserved, no
# balance may go below zero, and the only failures allowed are refusals for
# lack of coins or goods. The server's row lock waits prove that they ran at
# once; both rows of a trade are locked in one order, so there is no
# deadlock (and no retry of one).
. "$top_srcdir/tests/lib.sh"
start_server

NPROC=6
NTRADES=300
NPLAYERS=5

add_players $NPLAYERS 2000 200
sums=$(sql 'SELECT SUM(coins), SUM(goods) FROM players')

# One script per process, each from its own seed.
p=0
while [ $p -lt $NPROC ]; do
	random_trades $((p + 1)) $NTRADES $NPLAYERS >"$T/script.$p"
	p=$((p + 1))
done
cmp -s "$T/script.0" "$T/script.1"
is $? 1 "the processes run different scripts"

# Run them all at once: another client holds every row while they start,
# so that each one's first trade waits for it, and they all go when it
# lets go; then they wait for each other's rows (the server counts it).
d0=$(deadlocks)
hold_rows 1 || bail "the other client did not take its locks"
w0=$(row_lock_waits)
p=0
while [ $p -lt $NPROC ]; do
	bg_shell $p --force -f "$T/script.$p"
	p=$((p + 1))
done
wait_for '[ "$(lock_waits_now)" = $NPROC ]'
ok $? "all $NPROC processes are running at once (each waits for the held rows)"
release_rows
p=0
while [ $p -lt $NPROC ]; do
	finish $p
	p=$((p + 1))
done
waits=$(($(row_lock_waits) - w0 - NPROC))
diag "the processes waited for each other's rows $waits times"
ok "$([ "$waits" -gt 0 ]; echo $?)" \
    "the processes overlapped: they waited for each other's rows"
# Both rows of a trade are locked by one statement in one order, so no
# two trades can deadlock: none to see, none to retry.
is "$(deadlocks)" "$d0" "the server saw no deadlock"

refused=0
p=0
while [ $p -lt $NPROC ]; do
	eval "rc=\$rc_$p"
	case $rc in
	0|1) pass "process $p exited with $rc (1: some trades refused)" ;;
	*) fail "process $p exited with $rc"; diag "$(tail -5 "$T/err.$p")" ;;
	esac
	# Every error is a refusal: no deadlock, so no retry either.
	other=$(grep -Ev "^$T/script\.$p:[0-9]+: (buyer coins|seller goods) not enough\$" "$T/err.$p")
	is "$other" "" "process $p: every error line is a refused trade"
	n=$(grep -c 'not enough$' "$T/err.$p")
	refused=$((refused + n))
	p=$((p + 1))
done
diag "$refused of $((NPROC * NTRADES)) trades refused"
total=$((NPROC * NTRADES))
if [ "$refused" -gt 0 ] && [ "$refused" -lt "$total" ]; then
	pass "some trades were refused and some went through"
else
	fail "some trades were refused and some went through"
	diag "refused: $refused of $total"
fi

is "$(sql 'SELECT SUM(coins), SUM(goods) FROM players')" "$sums" \
    "coins and goods are conserved"
is "$(sql 'SELECT COUNT(*) FROM players WHERE coins < 0 OR goods < 0')" 0 \
    "no balance is below zero"
is "$(sql 'SELECT COUNT(*) FROM players')" "$NPLAYERS" \
    "no player appeared or went"
unlike "$(sql 'SELECT coins, goods FROM players' | sort -u | tr '\n' ' ')" \
    '^2000	200 $' "the balances moved"

done_testing
