#!/bin/sh
# Many shells at once: six tidbplay processes each run 300 random trades in
# both directions among five players. Coins and goods must be conserved, no
# balance may go below zero, and the only failures allowed are refusals for
# lack of coins or goods (a deadlock or conflict must have been retried, not
# surfaced).
. "$top_srcdir/tests/lib.sh"
start_server

NPROC=6
NTRADES=300
NPLAYERS=5

i=0
while [ $i -lt $NPLAYERS ]; do
	echo "add p$i 2000 200"
	i=$((i + 1))
done >"$T/setup"
tp -q <"$T/setup"
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"
sums=$(sql 'SELECT SUM(coins), SUM(goods) FROM players')

# One script per process, each from its own seed; both directions between
# every pair, and prices high enough that some trades are refused.
p=0
while [ $p -lt $NPROC ]; do
	awk -v seed=$((p + 1)) -v n=$NTRADES -v np=$NPLAYERS 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			b = int(rand() * np)
			s = (b + 1 + int(rand() * (np - 1))) % np
			printf "trade p%d p%d %d %d\n", b, s,
			    1 + int(rand() * 20), 1 + int(rand() * 300)
		}
	}' >"$T/script.$p"
	p=$((p + 1))
done
cmp -s "$T/script.0" "$T/script.1"
is $? 1 "the processes run different scripts"

# Run them all at once, each with its own output files.
p=0
while [ $p -lt $NPROC ]; do
	(
		env -u TIDB_HOST -u TIDB_PORT -u TIDB_USER -u TIDB_DB_NAME \
		    -u CA_PATH TIDB_PASSWORD="$TP_PASSWORD" HOME="$T" \
		    XDG_CONFIG_HOME="$T/config" TIDBPLAY_HISTFILE= \
		    "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" \
		    --ca "$TP_CA" --force -f "$T/script.$p" \
		    >"$T/out.$p" 2>"$T/err.$p"
		echo $? >"$T/rc.$p"
	) &
	p=$((p + 1))
done
wait

refused=0
p=0
while [ $p -lt $NPROC ]; do
	rc=$(cat "$T/rc.$p")
	case $rc in
	0|1) pass "process $p exited with $rc (1: some trades refused)" ;;
	*) fail "process $p exited with $rc"; diag "$(tail -5 "$T/err.$p")" ;;
	esac
	# Every error is a refusal; retry notices are allowed, nothing else.
	other=$(grep -Ev "^$T/script\.$p:[0-9]+: (buyer coins|seller goods) not enough\$" "$T/err.$p" |
	    grep -Ev '^tidbplay: trade: server error (1213|1205|8002|8005|8022|8028|9007), retrying \(attempt [0-9]+ of [0-9]+\)$')
	is "$other" "" "process $p: every error line is a refused trade"
	n=$(grep -c 'not enough$' "$T/err.$p")
	refused=$((refused + n))
	p=$((p + 1))
done
diag "$refused of $((NPROC * NTRADES)) trades refused;" \
    "$(cat "$T"/err.* | grep -c retrying) retries"
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
