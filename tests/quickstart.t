#!/bin/sh
# examples/quickstart.tidbplay performs the TiDB quickstart's run: a test
# player, the bulk step, the count and the first three players, the refused
# trade (its own step) and the trade that goes through.

. "$top_srcdir/tests/lib.sh"
start_server

ex=$top_srcdir/examples/quickstart.tidbplay

tp -f "$ex"
is "$RC" 0 "the example runs to the end: exit 0"
is "$ERR" "" "the example: nothing on stderr"
t1=$(sql "SELECT id FROM players WHERE name = 'test'")
b=$(sql "SELECT id FROM players WHERE name = 'buyer'")
s=$(sql "SELECT id FROM players WHERE name = 'seller'")
p0=$(sql "SELECT id FROM players WHERE name = 'player_0'")
p1=$(sql "SELECT id FROM players WHERE name = 'player_1'")
is "$OUT" "$t1
$t1	test	1	1
201
$t1	test	1	1
$p0	player_0	10000	100
$p1	player_1	10000	100
$b
$s
$b	buyer	100	0
$s	seller	0	100
$b	buyer	0	10
$s	seller	100	90" "the example prints each step's result"

is "$(sql "SELECT COUNT(*) FROM players")" 203 "203 players at the end: test, 200 from bulk, buyer and seller"
is "$(sql "SELECT name, coins, goods FROM players WHERE name = 'test'")" \
    "test	1	1" "the test player"
is "$(sql "SELECT COUNT(*), MIN(coins), MAX(coins), MIN(goods), MAX(goods)
    FROM players WHERE name LIKE 'player!_%' ESCAPE '!'")" \
    "200	10000	10000	100	100" "bulk: 200 players with 10000 coins and 100 goods"
i=0
missing=
while [ $i -lt 200 ]; do
	missing="$missing player_$i"
	i=$((i + 1))
done
is "$(sql "SELECT name FROM players WHERE name LIKE 'player!_%' ESCAPE '!'
    ORDER BY CAST(SUBSTRING(name, 8) AS UNSIGNED)" | tr '\n' ' ')" \
    "${missing# } " "bulk: exactly player_0 to player_199"
is "$(sql "SELECT name, coins, goods FROM players
    WHERE name IN ('buyer', 'seller') ORDER BY name")" "buyer	0	10
seller	100	90" "after the trade: buyer 0 coins 10 goods, seller 100 coins 90 goods"
is "$(sql "SELECT SUM(coins), SUM(goods) FROM players
    WHERE name IN ('buyer', 'seller')")" "100	100" "the trade conserved coins and goods"

# The refused trade, as the file's comment says to run it.
before=$(snapshot)
tp -e 'trade buyer seller 10 500'
is "$RC" 1 "the refused trade: exit 1"
is "$ERR" "-e:1: buyer coins not enough" "the refused trade: the quickstart's message"
is "$OUT" "" "the refused trade: nothing on stdout"
is "$(snapshot)" "$before" "the refused trade: nothing changed"

# What the comment says about it matches what it does.
like "$(cat "$ex")" "tidbplay -e 'trade buyer seller 10 500'" \
    "the example documents the refused trade's command"
like "$(cat "$ex")" '"-e:1: buyer coins not enough"' \
    "the example documents the refused trade's message"

# In the quickstart's order too: refused before the trade that goes through.
tp --table fresh -f "$ex"
sql "UPDATE fresh SET coins = 100, goods = 0 WHERE name = 'buyer'"
sql "UPDATE fresh SET coins = 0, goods = 100 WHERE name = 'seller'"
before=$(snapshot fresh)
tp --table fresh -e 'trade buyer seller 10 500'
is "$ERR" "-e:1: buyer coins not enough" "refused with the quickstart's starting balances too"
is "$(snapshot fresh)" "$before" "and nothing changed"

# Run twice on the same table, it stops at the first name taken.
before=$(snapshot)
tp -f "$ex"
is "$RC" 1 "the example again on the same table: exit 1"
like "$ERR" "^$ex:13: a player with that name already exists" \
    "the example again: FILE:LINE of the first add"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "the example again: stops there"
is "$(snapshot)" "$before" "the example again: nothing changed"

# At a terminal's formats it reads as a tour.
tp --format table -f "$ex"  --table tour
is "$RC" 0 "the example in table format: exit 0"
like "$OUT" "^\| count \|$" "table format: the count has a heading"
like "$OUT" "^\| +[0-9]+ \| seller +\| +100 \| +90 \|$" "table format: the seller at the end"

done_testing
