#!/bin/sh
# export: NULL columns, the CSV writer shared with list --format csv, and
# how export writes into the path it is given.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- NULL coins and goods are empty fields ----

tp -e count
sql "INSERT INTO players (id, name, coins, goods) VALUES
    (1, 'a', 5, 6), (2, 'b', NULL, 7), (3, 'c', 8, NULL),
    (4, 'd', NULL, NULL), (5, 'e,\"x\"', 9, 10), (6, '', 11, 12)"
tp -e 'export -'
is "$RC" 0 "export - with NULL coins and goods: exit 0"
is "$OUT" "$(printf 'name,coins,goods\r\na,5,6\r\nb,,7\r\nc,8,\r\nd,,\r\n"e,""x""",9,10\r\n"",11,12\r')" \
    "export: a NULL is an empty field, never the row before's value"
tp -e "export $T/nulls.csv"
is "$RC" 0 "export FILE with NULLs: exit 0"
tp -e 'export -'
cmp -s "$T/out" "$T/nulls.csv"
ok $? "export FILE and export - write the same bytes"

# The same writer as list --format csv: the same rows without the id.
tp --format csv -e list
printf '%s\n' "$OUT" | sed '1s/^id,//; 2,$s/^[0-9][0-9]*,//' >"$T/list.csv"
tp -e 'export -'
printf '%s\n' "$OUT" >"$T/export.csv"
cmp -s "$T/list.csv" "$T/export.csv"
ok $? "export and list --format csv agree, field for field"

# ---- a NULL name: refused, since import could not read it back ----

sql "INSERT INTO players (id, name, coins, goods) VALUES (7, NULL, 1, 2)"
rm -f "$T/refused.csv"
tp -e "export $T/refused.csv"
is "$RC" 1 "export with a NULL name: exit 1"
like "$ERR" "^-e:1: export: player id 7 has no name \(NULL\)" \
    "export with a NULL name: the message names the row"
like "$ERR" "list --format csv" "export with a NULL name: says what shows it"
[ ! -e "$T/refused.csv" ]
ok $? "export with a NULL name to a new file: no file is left"
ls -a "$T" | grep -q tidbplay
ok $(($? == 0)) "export with a NULL name: no temporary file is left"
tp -e 'export -; count'
is "$RC" 1 "export - with a NULL name: exit 1"
unlike "$OUT" "^7$" "export - with a NULL name: the script stops there"
tp --format csv -e list
like "$OUT" "$(printf '^7,,1,2\r$')" "list --format csv shows the NULL name as an empty field"
sql "DELETE FROM players WHERE id = 7"

done_testing
