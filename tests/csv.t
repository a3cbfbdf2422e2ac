#!/bin/sh
# export and import: a round trip of awkward names through CSV into a fresh
# table, export to standard output, import errors that name the line and
# import nothing, one transaction over many batches.

. "$top_srcdir/tests/lib.sh"
start_server

# refused WANT-ERR-REGEX DESCRIPTION [TABLE]: the last tp failed with exit
# 1, said WANT on stderr, and the table is as it was ($before).
refused() {
	is "$RC" 1 "$2: exit 1"
	like "$ERR" "$1" "$2: the message"
	is "$(snapshot ${3:-players})" "$before" "$2: nothing imported"
}

# ---- the round trip ----

tp -e count
sql "INSERT INTO players (name, coins, goods) VALUES
    ('plain', 1, 2),
    ('comma, inside', 3, 4),
    ('say \"hi\"', 5, 6),
    ('\"', 7, 8),
    ('two  spaces', 9, 10),
    (' leading', 11, 12),
    ('trailing ', 13, 14),
    ('  both  ', 15, 16),
    ('Zürich Straße', 17, 18),
    ('张三', 19, 20),
    ('🎉🎂 party', 0, 2147483647),
    ('\"\",,\"', 21, 22),
    ('back\\\\slash', 23, 24),
    ('$(printf '%.0s字' $(seq 32))', 25, 26),
    ('é🦄', 27, 28)"
tp -e 'add "quote \"added\", too" 29 30'
is "$RC" 0 "a name with quotes and a comma added through tidbplay"
n=$(sql "SELECT COUNT(*) FROM players")
is "$n" 16 "sixteen awkward names"

tp -e "export $T/all.csv"
is "$RC" 0 "export FILE: exit 0"
is "$OUT" "" "export FILE: nothing on stdout"
is "$(head -n 1 "$T/all.csv")" "$(printf 'name,coins,goods\r')" "export: the header, CRLF"
is "$(grep -c "$(printf '\r$')" "$T/all.csv")" 17 "export: every line ends in CRLF"
like "$(cat "$T/all.csv")" "^\"comma, inside\",3,4" "export: a comma is quoted"
like "$(cat "$T/all.csv")" '^"say ""hi""",5,6' "export: quotes are doubled"
like "$(cat "$T/all.csv")" '^" leading",11,12' "export: a leading space is quoted"
like "$(cat "$T/all.csv")" '^"trailing ",13,14' "export: a trailing space is quoted"
like "$(cat "$T/all.csv")" '^plain,1,2' "export: a plain name is not quoted"
ls "$T"/.tidbplay-export-* >/dev/null 2>&1
is $? 2 "export: no temporary file left behind"

tp --table t2 -e "import $T/all.csv"
is "$RC" 0 "import into a fresh table: exit 0"
is "$(sql "SELECT HEX(name), coins, goods FROM t2 ORDER BY id")" \
    "$(sql "SELECT HEX(name), coins, goods FROM players ORDER BY id")" \
    "round trip: every name byte for byte, coins and goods, in order"
is "$(sql "SELECT COUNT(*) FROM t2 WHERE CHAR_LENGTH(name) = 32")" 1 \
    "round trip: a name of 32 multi-byte characters fits"
is "$(sql "SELECT HEX(name) FROM t2 WHERE coins = 0")" \
    "$(printf '🎉🎂 party' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
    "round trip: emoji stored as 4-byte UTF-8 (utf8mb4 end to end)"
is "$(sql "SELECT table_collation FROM information_schema.tables
    WHERE table_schema = 'test' AND table_name = 't2'" | cut -d_ -f1)" utf8mb4 \
    "the table import created is utf8mb4"

tp --table t2 -e 'export -'
is "$RC" 0 "export -: exit 0"
cmp -s "$T/out" "$T/all.csv"
ok $? "export - writes the same bytes to standard output"
is "$ERR" "" "export -: nothing on stderr"

# The CSV of list, find and top has an id column: import takes it back and
# leaves the ids to the new table.
tp --format csv -e list
printf '%s\n' "$OUT" >"$T/list.csv"
is "$(head -n 1 "$T/list.csv")" "$(printf 'id,name,coins,goods\r')" \
    "list --format csv: the header names id"
tp --table t3 -e "import $T/list.csv"
is "$RC" 0 "list --format csv imports back: exit 0"
is "$ERR" "" "list --format csv imports back: nothing on stderr"
is "$(sql "SELECT HEX(name), coins, goods FROM t3 ORDER BY id")" \
    "$(sql "SELECT HEX(name), coins, goods FROM players ORDER BY id")" \
    "list --format csv round trip: every name byte for byte, coins and goods"
sql "UPDATE t3 SET coins = coins + 1000"
tp --table t3 --format csv -e 'find Z; top goods 1'
printf '%s\n' "$OUT" | grep -v '^id,' >"$T/rows.csv"
{ printf 'id,name,coins,goods\r\n'; cat "$T/rows.csv"; } >"$T/found.csv"
tp --table t4 -e "import $T/found.csv"
is "$RC" 0 "find and top --format csv import back: exit 0"
is "$(sql "SELECT name, coins FROM t4 ORDER BY id" | tr '\n\t' ' :')" \
    "Zürich Straße:1017 🎉🎂 party:1000 " \
    "find and top --format csv round trip: their rows, new ids"
is "$(sql "SELECT MIN(id) FROM t4")" 1 "the ids in the file are not used"

# The header may come in any order.
printf 'goods,name,coins\n5,reordered,7\n' >"$T/order.csv"
tp --table t2 -e "import $T/order.csv"
is "$RC" 0 "import with the columns in another order: exit 0"
is "$(sql "SELECT coins, goods FROM t2 WHERE name = 'reordered'")" "7	5" \
    "import maps the columns by the header"

# LF line ends, a byte order mark, a quoted line break in no name.
printf '\357\273\277name,coins,goods\nbom,1,1\n"quoted",2,2\n' >"$T/bom.csv"
tp --table t2 -e "import $T/bom.csv"
is "$RC" 0 "import with a BOM and LF line ends: exit 0"
is "$(sql "SELECT name FROM t2 WHERE name IN ('bom', 'quoted') ORDER BY id" | tr '\n' ' ')" \
    "bom quoted " "import: the BOM is not part of the first name"

# ---- import errors name the line and import nothing ----

before=$(snapshot)
good='name,coins,goods\r\na,1,1\r\nb,2,2\r\n'

printf "${good}c,3\r\nd,4,4\r\n" >"$T/ragged.csv"
tp -e "import $T/ragged.csv"
refused "^-e:1: $T/ragged.csv:4: 2 fields; expected 3, as the header has; nothing was imported$" \
    "a ragged row"
printf "${good}c,3,3,3\r\n" >"$T/ragged2.csv"
tp -e "import $T/ragged2.csv"
refused "$T/ragged2.csv:4: 4 fields; expected 3" "a row with a field too many"

printf "${good}c,12x,3\r\n" >"$T/num.csv"
tp -e "import $T/num.csv"
refused "$T/num.csv:4: coins '12x' is not a whole number from 0 to 2147483647" \
    "a bad number"
printf "${good}c,3,-1\r\n" >"$T/neg.csv"
tp -e "import $T/neg.csv"
refused "$T/neg.csv:4: goods '-1' is not a whole number" "a negative number"
printf "${good}c,2147483648,1\r\n" >"$T/big.csv"
tp -e "import $T/big.csv"
refused "$T/big.csv:4: coins '2147483648' is not a whole number" "a number above INT max"
printf "${good}c, ,1\r\n" >"$T/emptynum.csv"
tp -e "import $T/emptynum.csv"
refused "$T/emptynum.csv:4: coins ' ' is not a whole number" "a blank number"

printf "${good}\"c\"x,1,1\r\n" >"$T/q1.csv"
tp -e "import $T/q1.csv"
refused "$T/q1.csv:4: text after a closing quote" "text after a closing quote"
printf "${good}c\"d,1,1\r\n" >"$T/q2.csv"
tp -e "import $T/q2.csv"
refused "$T/q2.csv:4: quote inside an unquoted field" "a quote inside an unquoted field"
printf "${good}\"c,1,1\r\nd,2,2\r\n" >"$T/q3.csv"
tp -e "import $T/q3.csv"
refused "$T/q3.csv:4: quoted field never closed" "a quote never closed names the line it opens on"

printf 'a,1,1\r\nb,2,2\r\n' >"$T/nohead.csv"
tp -e "import $T/nohead.csv"
refused "$T/nohead.csv:1: expected the header name,coins,goods" "a missing header"
printf 'name,coins,silver\r\na,1,1\r\n' >"$T/badhead.csv"
tp -e "import $T/badhead.csv"
refused "$T/badhead.csv:1: expected the header name,coins,goods" "a header with an unknown column"
: >"$T/empty.csv"
tp -e "import $T/empty.csv"
refused "$T/empty.csv:1: empty file" "an empty file"
printf 'name,coins,goods\r\n' >"$T/headonly.csv"
tp --format table -e "import $T/headonly.csv"
is "$RC" 0 "a header and no rows (an empty table's export) imports nothing"
like "$ERR" "imported 0 players from" "a header and no rows: says so"
is "$(snapshot)" "$before" "a header and no rows: nothing changed"
printf 'name,coins,goods\r\n\r\nblank1,1,1\r\n\r\n' >"$T/blanks.csv"
tp -e "import $T/blanks.csv"
is "$RC" 0 "blank lines are skipped"
is "$(sql "SELECT coins FROM players WHERE name = 'blank1'")" 1 \
    "blank lines are skipped: the row between them is added"
sql "DELETE FROM players WHERE name = 'blank1'"

printf "${good}$(printf '%.0sx' $(seq 33)),1,1\r\n" >"$T/long.csv"
tp -e "import $T/long.csv"
refused "$T/long.csv:4: .*32" "a name over 32 characters"
printf "${good}\"\",1,1\r\n" >"$T/noname.csv"
tp -e "import $T/noname.csv"
refused "$T/noname.csv:4: " "an empty name"
printf "${good}c\001d,1,1\r\n" >"$T/ctl.csv"
tp -e "import $T/ctl.csv"
refused "$T/ctl.csv:4: " "a name with a control character"
printf "${good}c\377d,1,1\r\n" >"$T/utf.csv"
tp -e "import $T/utf.csv"
refused "$T/utf.csv:4: " "a name that is not UTF-8"

tp -e "import $T/nosuch.csv"
refused "$T/nosuch.csv: No such file or directory" "a file that is not there"
tp -e "import"
refused "import: missing arguments; usage: import FILE" "import without a file"

# An error on the last line of a long file: nothing before it is written.
{
	printf 'name,coins,goods\r\n'
	i=0
	while [ $i -lt 300 ]; do
		printf 'late%d,%d,1\r\n' $i $i
		i=$((i + 1))
	done
	printf 'late300,1\r\n'
} >"$T/late.csv"
tp -e "import $T/late.csv"
refused "$T/late.csv:302: 2 fields" "an error on line 302 of 302"

# ---- one transaction over many batches ----

printf '[shell]\nbatch = 100\n' >"$T/batch.ini"
sql "INSERT INTO players (name, coins, goods) VALUES ('dup230', 1, 1)"
before=$(snapshot)
{
	printf 'name,coins,goods\r\n'
	i=0
	while [ $i -lt 250 ]; do
		printf 'dup%d,1,1\r\n' $i
		i=$((i + 1))
	done
} >"$T/dup.csv"
tp -c "$T/batch.ini" -e "import $T/dup.csv"
refused "$T/dup.csv:232: a player named 'dup230' already exists; nothing was imported$" \
    "a name taken in the third batch of 100"
is "$(sql "SELECT COUNT(*) FROM players WHERE name LIKE 'dup%'")" 1 \
    "the first two batches were rolled back too"

sql "DELETE FROM players WHERE name = 'dup230'"
printf 'dup5,1,1\r\n' >>"$T/dup.csv"
before=$(snapshot)
tp -c "$T/batch.ini" -e "import $T/dup.csv"
refused "$T/dup.csv:252: the name 'dup5' is also on line 7; nothing was imported$" \
    "a name twice in the same file, 245 lines apart"

{
	printf 'name,coins,goods\r\n'
	i=0
	while [ $i -lt 5000 ]; do
		printf 'many%d,%d,%d\r\n' $i $i $((5000 - i))
		i=$((i + 1))
	done
} >"$T/many.csv"
com_insert() {
	sql "SHOW GLOBAL STATUS LIKE 'Com_insert'" | cut -f2
}
c0=$(com_insert)
tp -c "$T/batch.ini" --table many -e "import $T/many.csv"
c1=$(com_insert)
is "$RC" 0 "5000 rows in batches of 100: exit 0"
is "$(sql "SELECT COUNT(*), SUM(coins), SUM(goods), MIN(name), MAX(coins) FROM many")" \
    "5000	12497500	12502500	many0	4999" "5000 rows: every row with its values"
is "$(sql "SELECT COUNT(*) FROM many a JOIN many b ON b.id = a.id + 1
    WHERE b.coins <> a.coins + 1")" 0 "5000 rows: in the file's order"
is "$((c1 - c0))" 50 "5000 rows: written as 50 multi-row INSERTs of 100"
tp --table many -e "export $T/many-out.csv"
cmp -s "$T/many.csv" "$T/many-out.csv"
ok $? "5000 rows: export gives back the very file imported"

# ---- export errors ----

tp -e "export $T/no/such/dir/x.csv"
is "$RC" 1 "export into a missing directory: exit 1"
like "$ERR" "export: $T/no/such/dir/x.csv: No such file or directory" \
    "export into a missing directory: says so"
tp -e "export"
is "$RC" 1 "export without a file: exit 1"
like "$ERR" "export: missing arguments; usage: export FILE\|-" "export without a file: usage"

# A table that is not there yet is created before anything of the import
# is written: creating it inside the transaction would commit there and
# then, and the batches before a failing one would stay.
printf '[shell]\nbatch = 1\n' >"$T/one.ini"
printf 'name,coins,goods\nfa,1,1\nfb,2,2\nfa,3,3\n' >"$T/freshdup.csv"
tp -c "$T/one.ini" --table fresh_t -e "import $T/freshdup.csv"
is "$RC" 1 "import into a table not there yet, a name twice: exit 1"
is "$(sql "SELECT COUNT(*) FROM fresh_t")" 0 \
    "a failed import into a new table keeps nothing"
tpin "begin
add inside 1 1
commit" --table fresh_u
is "$RC" 0 "begin, add into a table not there yet, commit: exit 0"
is "$(sql "SELECT COUNT(*) FROM fresh_u")" 1 "the add was committed"
tpin "begin
add gone 1 1
rollback" --table fresh_v
is "$(sql "SELECT COUNT(*) FROM fresh_v")" 0 \
    "an add into a new table, rolled back, is not kept"

done_testing
