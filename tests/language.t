#!/bin/sh
# The rest of the command language, each command with its bad input: find,
# top, rename, relative set, trade, bulk, begin/commit/rollback, status,
# format, timing, help COMMAND. A refused command says why, exits 1 and
# leaves the table as it was.

. "$top_srcdir/tests/lib.sh"
start_server

# refused WANT-ERR-REGEX DESCRIPTION: the last tp failed with exit 1, said
# WANT on stderr, printed nothing on stdout and changed nothing ($before).
refused() {
	is "$RC" 1 "$2: exit 1"
	like "$ERR" "$1" "$2: the message"
	is "$OUT" "" "$2: nothing on stdout"
	is "$(snapshot)" "$before" "$2: table unchanged"
}

# ---- find: LIKE metacharacters are literal ----

tp -e "add 'a%b' 1 1; add a_b 2 2; add axb 3 3; add 'a!c' 4 4; add ab 5 5"
is "$RC" 0 "find: players added"
tp -e 'find a%'
is "$RC" 0 "find a%: exit 0"
is "$(printf '%s\n' "$OUT" | cut -f2)" 'a%b' "find a%: only a%b (% is literal)"
tp -e 'find a_'
is "$(printf '%s\n' "$OUT" | cut -f2)" 'a_b' "find a_: only a_b (_ is literal)"
tp -e 'find a!'
is "$(printf '%s\n' "$OUT" | cut -f2)" 'a!c' "find a!: only a!c (the escape character is literal)"
tp -e 'find a'
is "$(printf '%s\n' "$OUT" | cut -f2 | tr '\n' ' ')" \
    "$(sql "SELECT name FROM players ORDER BY name" | tr '\n' ' ')" \
    "find a: every name starting with a, in the server's order of names"
is "$(printf '%s\n' "$OUT" | wc -l)" 5 "find a: all five"
tp -e 'find ax'
is "$OUT" "$(sql "SELECT id, name, coins, goods FROM players WHERE name = 'axb'")" \
    "find ax: the whole row, as the server has it"
tp -e 'find zzz'
is "$RC" 0 "find with no match: exit 0"
is "$OUT" "" "find with no match: no rows"

before=$(snapshot)
tp -e 'find'
refused 'find: missing arguments; usage: find PREFIX' "find without a prefix"
tp -e 'find a b'
refused 'find: too many arguments' "find with two prefixes"
tp -e "find $(printf 'x%.0s' $(seq 33))"
refused 'find: PREFIX: .*32' "find with a prefix over 32 characters"

# ---- top ----

sql "DELETE FROM players"
i=1
while [ $i -le 12 ]; do
	sql "INSERT INTO players (name, coins, goods) VALUES
	    ('t$i', $((i * 10)), $((1000 - i)))"
	i=$((i + 1))
done
sql "INSERT INTO players (name, coins, goods) VALUES ('tie', 120, 0)"
tp -e 'top coins 3'
is "$RC" 0 "top coins 3: exit 0"
is "$(printf '%s\n' "$OUT" | cut -f2-3 | tr '\n' ' ')" \
    't12	120 tie	120 t11	110 ' "top coins 3: richest first, ties by id"
tp -e 'top goods 2'
is "$(printf '%s\n' "$OUT" | cut -f2,4 | tr '\n' ' ')" 't1	999 t2	998 ' \
    "top goods 2: most goods first"
tp -e 'top coins'
is "$(printf '%s\n' "$OUT" | wc -l)" 10 "top coins: 10 rows by default"
is "$(printf '%s\n' "$OUT" | tail -n 1 | cut -f2)" t4 "top coins: the tenth is t4"
tp -e 'top goods 100'
is "$(printf '%s\n' "$OUT" | wc -l)" 13 "top goods 100: every player once"

before=$(snapshot)
tp -e 'top silver'
refused "top: coins or goods, not 'silver'" "top of an unknown column"
tp -e 'top coins -1'
refused "top: N must be a whole number from 0 to 2147483647, not '-1'" \
    "top with a negative N"
tp -e 'top coins 3x'
refused "top: N must be a whole number" "top with N not a number"
tp -e 'top'
refused 'top: missing arguments; usage: top coins\|goods \[N\]' "top alone"

# ---- rename ----

id=$(sql "SELECT id FROM players WHERE name = 't1'")
tp -e 'rename t1 first'
is "$RC" 0 "rename: exit 0"
is "$(sql "SELECT name, coins, goods FROM players WHERE id = $id")" \
    "first	10	999" "rename: same id, coins and goods, new name"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 't1'")" 0 \
    "rename: the old name is gone"

before=$(snapshot)
tp -e 'rename nobody someone'
refused "no player named 'nobody'" "rename a missing player"
tp -e 'rename t2 t3'
refused "already exists" "rename to a name that is taken"
tp -e "rename t2 $(printf 'y%.0s' $(seq 33))"
refused 'rename: NEWNAME: .*32' "rename to a name over 32 characters"
tp -e 'rename t2'
refused 'rename: missing arguments' "rename without the new name"

# ---- set +N / -N, applied in SQL ----

sql "DELETE FROM players"
sql "INSERT INTO players (name, coins, goods) VALUES ('r', 10, 2147483640)"
tp -e 'set coins r +5; set goods r -40; set coins r -15'
is "$RC" 0 "relative set: exit 0"
is "$(sql "SELECT coins, goods FROM players WHERE name = 'r'")" \
    "0	2147483600" "relative set: +5 then -15 leaves 0 coins; -40 goods"

before=$(snapshot)
tp -e 'set coins r -1'
refused "coins of 'r' would be -1, below 0; nothing changed" \
    "relative set below 0"
tp -e 'set goods r +48'
refused "goods of 'r' would be 2147483648, above 2147483647; nothing changed" \
    "relative set above INT max"
tp -e 'set goods r +2147483647'
refused "would be .*above 2147483647" "relative set of INT max above INT max"
tp -e 'set coins r +-5'
refused "set coins: VALUE must be a whole number from 0 to 2147483647, or \+N or -N, not '\+-5'" \
    "relative set with two signs"
tp -e 'set coins r +2147483648'
refused "set coins: VALUE must be" "relative set beyond INT"
tp -e 'set coins nobody +5'
refused "no player named 'nobody'" "relative set of a missing player"
tp -e 'set silver r +5'
refused "set: unknown field 'silver': set coins or set goods" "set of an unknown column"

# Ten shells adding at once lose nothing: the change is made in SQL.
sql "UPDATE players SET coins = 0 WHERE name = 'r'"
i=0
while [ $i -lt 10 ]; do
	printf 'set coins r +1\n%.0s' $(seq 20) >"$T/plus$i"
	(env TIDB_PASSWORD="$TP_PASSWORD" TIDBPLAY_HISTFILE= "$TIDBPLAY" \
	    -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" --ca "$TP_CA" -q \
	    <"$T/plus$i" >/dev/null 2>"$T/plus$i.err"; echo $? >"$T/plus$i.rc") &
	i=$((i + 1))
done
wait
is "$(cat "$T"/plus*.rc | sort -u)" 0 "ten concurrent shells: all exit 0"
is "$(sql "SELECT coins FROM players WHERE name = 'r'")" 200 \
    "ten shells x 20 'set coins r +1': exactly 200"

# ---- trade ----

sql "DELETE FROM players"
tp -e 'add buyer 100 0; add seller 0 100; add other 5 5'
before=$(snapshot)
tp -e 'trade buyer seller 10 500'
is "$RC" 1 "trade the buyer cannot afford: exit 1"
is "$ERR" "-e:1: buyer coins not enough" "trade the buyer cannot afford: the quickstart's message"
is "$(snapshot)" "$before" "trade the buyer cannot afford: nothing changed"
tp -e 'trade buyer seller 101 100'
is "$RC" 1 "trade the seller cannot supply: exit 1"
is "$ERR" "-e:1: seller goods not enough" "trade the seller cannot supply: the quickstart's message"
is "$(snapshot)" "$before" "trade the seller cannot supply: nothing changed"
tp -e 'trade buyer buyer 1 1'
refused "buyer and seller are the same player" "trade with oneself"
tp -e 'trade buyer nobody 1 1'
refused "no player named 'nobody'" "trade with a missing seller"
tp -e 'trade nobody seller 1 1'
refused "no player named 'nobody'" "trade with a missing buyer"
tp -e 'trade buyer seller -1 1'
refused "trade: AMOUNT must be a whole number from 0 to 2147483647, not '-1'" \
    "trade with a negative amount"
tp -e 'trade buyer seller 1 x'
refused "trade: PRICE must be a whole number" "trade with a price not a number"
tp -e 'trade buyer seller 1'
refused "trade: missing arguments; usage: trade BUYER SELLER AMOUNT PRICE" \
    "trade with three arguments"

tp -e 'trade buyer seller 10 100'
is "$RC" 0 "trade: exit 0"
is "$ERR" "" "trade: nothing on stderr"
is "$(sql "SELECT name, coins, goods FROM players ORDER BY id")" \
    "buyer	0	10
seller	100	90
other	5	5" "trade: exactly PRICE coins and AMOUNT goods moved, nobody else touched"
tp -e 'trade seller buyer 10 0'
is "$(sql "SELECT coins, goods FROM players WHERE name IN ('buyer', 'seller') ORDER BY id")" \
    "0	0
100	100" "trade for no coins: only the goods move"
before=$(snapshot)
tp -e 'trade buyer seller 1 1'
refused "^-e:1: buyer coins not enough$" "trade by a buyer with 0 coins"

# ---- bulk ----

sql "DELETE FROM players"
tp -e 'bulk 5 pre'
is "$RC" 0 "bulk 5 pre: exit 0"
is "$(sql "SELECT name, coins, goods FROM players ORDER BY id" | tr '\n' ' ')" \
    "pre_0	10000	100 pre_1	10000	100 pre_2	10000	100 pre_3	10000	100 pre_4	10000	100 " \
    "bulk 5 pre: pre_0 to pre_4 with 10000 coins and 100 goods"
tp -e 'bulk 3'
is "$(sql "SELECT name FROM players WHERE name LIKE 'player!_%' ESCAPE '!' ORDER BY id" | tr '\n' ' ')" \
    "player_0 player_1 player_2 " "bulk 3: the prefix is player by default"

p30=$(printf 'p%.0s' $(seq 30))
tp -e "bulk 10 $p30"
is "$RC" 0 "bulk 10 with a 30-character prefix: names of 32 characters fit"
is "$(sql "SELECT MAX(CHAR_LENGTH(name)) FROM players")" 32 \
    "bulk: the longest name has 32 characters"
sql "DELETE FROM players WHERE name LIKE 'pp%'"
before=$(snapshot)
tp -e "bulk 11 $p30"
refused "bulk: names ${p30}_0 to ${p30}_10 would be longer than 32 characters" \
    "bulk whose names would pass 32 characters"
tp -e "bulk 2 'né_$(printf 'é%.0s' $(seq 28))'"
refused "would be longer than 32 characters" "bulk: the limit counts characters, not bytes"
tp -e 'bulk 0'
refused "bulk: N must be a whole number from 1 to 2147483647, not '0'" "bulk 0"
tp -e 'bulk 2147483648'
refused "bulk: N must be a whole number from 1 to 2147483647" "bulk over what the INTEGER id holds"
tp -e 'bulk x'
refused "bulk: N must be a whole number" "bulk of a word"

# A duplicate in the last of several batches: all or nothing.
printf '[shell]\nbatch = 2\n' >"$T/small.ini"
sql "DELETE FROM players"
sql "INSERT INTO players (name, coins, goods) VALUES ('dup_6', 1, 1)"
before=$(snapshot)
tp -c "$T/small.ini" -e 'bulk 7 dup'
refused "already exists" "bulk that meets an existing name in its last batch"
is "$(sql "SELECT COUNT(*) FROM players")" 1 "bulk: not one of the earlier batches was kept"
tp -c "$T/small.ini" -e 'bulk 7 fresh'
is "$RC" 0 "bulk in batches of 2: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name LIKE 'fresh!_%' ESCAPE '!'")" 7 \
    "bulk in batches of 2: every row"

# ---- begin / commit / rollback ----

sql "DELETE FROM players"
tpin 'begin
add t1 1 1
show t1
rollback'
is "$RC" 0 "begin ... rollback: exit 0"
like "$OUT" "t1	1	1" "begin: the session sees its own uncommitted row"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 't1'")" 0 "rollback undoes the add"

tpin 'begin
add t2 2 2
set coins t2 +3
commit'
is "$RC" 0 "begin ... commit: exit 0"
is "$(sql "SELECT coins, goods FROM players WHERE name = 't2'")" "5	2" \
    "commit keeps the changes"

before=$(snapshot)
tpin 'begin
add t3 3 3
set coins t2 0'
is "$RC" 1 "a script that ends inside a transaction: exit 1"
like "$ERR" "leaving with a transaction open: rolled back" \
    "a script that ends inside a transaction: says so"
is "$(snapshot)" "$before" "a script that ends inside a transaction: rolled back"

tpin 'begin
add t4 4 4
add t2 9 9
add t5 5 5
commit'
is "$RC" 1 "a failure inside a transaction: exit 1"
like "$ERR" "^stdin:3: a player with that name already exists" \
    "a failure inside a transaction: FILE:LINE and the cause"
like "$ERR" "leaving with a transaction open: rolled back" \
    "a failure inside a transaction: the script stops and rolls back"
is "$(snapshot)" "$before" "a failure inside a transaction: nothing kept"

tp -e 'commit'
refused "no transaction is open" "commit without begin"
tp -e 'rollback'
refused "no transaction is open" "rollback without begin"
tp -e 'begin; begin'
is "$RC" 1 "begin twice: exit 1"
like "$ERR" "-e:1: a transaction is already open" "begin twice: says so"
tp -e 'begin now'
refused "begin: too many arguments" "begin with an argument"

# ---- status ----

tp -e status
is "$RC" 0 "status: exit 0"
like "$OUT" "^server: +$TP_HOST:$TP_PORT$" "status: host:port"
like "$OUT" "^user: +app$" "status: user"
like "$OUT" "^database: +test$" "status: database"
is "$(printf '%s\n' "$OUT" | sed -n 's/^version: *//p')" "$(sql 'SELECT VERSION()')" \
    "status: the server's version"
like "$OUT" "^tls: +TLSv1\.[23], [A-Z0-9_-]+$" "status: TLS protocol and cipher"
like "$OUT" "^verified: +$TP_CA, from --ca$" "status: verified with the CA file, and where it came from"
like "$OUT" "^connection: +[1-9][0-9]*$" "status: the connection id"
like "$OUT" "^retries: +0$" "status: retries so far"
like "$OUT" "^reconnects: +0$" "status: reconnects so far"
unlike "$OUT$ERR" "app-secret" "status: never the password"
tp -e 'status; status'
is "$(printf '%s\n' "$OUT" | grep -c '^connection:')" 2 "status twice: two reports"
tpin "add idcheck 1 1
status"
like "$OUT" "^connection: +[1-9][0-9]*$" "status: a number after commands too"
tp -e 'status now'
is "$RC" 1 "status with an argument: exit 1"
like "$ERR" "status: too many arguments" "status with an argument: says so"

# ---- format ----

sql "DELETE FROM players"
sql "INSERT INTO players (name, coins, goods) VALUES
    ('say \"hi\"', 1, 2), ('back\\\\slash', 3, 4),
    (CONCAT('tab', CHAR(9), 'bed'), 5, 6), ('🎉 party', 7, 8),
    (CONCAT('new', CHAR(10), 'line'), 9, 10), ('张三', 11, 12)"
tp -e 'format json; list'
is "$RC" 0 "format json: exit 0"
is "$(printf '%s\n' "$OUT" | wc -l)" 6 "format json: one line per player"
printf '%s\n' "$OUT" >"$T/json"
/usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$T/json"
ok $? "format json: every line is a JSON document"
got=$(/usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    print(repr((sorted(o), o["name"], o["coins"], o["goods"])))' <"$T/json")
want=$(/usr/bin/python3 -c '
for n, c, g in (("say \"hi\"", 1, 2), ("back\\slash", 3, 4),
    ("tab\tbed", 5, 6), ("\U0001f389 party", 7, 8), ("new\nline", 9, 10),
    ("\u5f20\u4e09", 11, 12)):
    print(repr((["coins", "goods", "id", "name"], n, c, g)))')
is "$got" "$want" "format json: names with quotes, backslashes, tabs, newlines, emoji exact"
is "$(jq -r .name <"$T/json" | head -n 1)" 'say "hi"' "format json: jq reads it too"
tp --format table -e 'list'
is "$(printf '%s\n' "$OUT" | grep -cv '^[+|(]')" 0 \
    "format table: a tab or a line break in a name does not break the table"
like "$OUT" '^\| +[0-9]+ \| tab\\x09bed +\| +5 \| +6 \|$' "format table: a tab is shown as \\x09"
like "$OUT" '^\| +[0-9]+ \| new\\x0aline +\| +9 \| +10 \|$' "format table: a line break is shown as \\x0a"
sql "INSERT INTO players (name, coins, goods) VALUES
    (CONCAT('esc', CHAR(27), '[2J'), 13, 14)"
tp --format table -e 'find esc'
unlike "$OUT" "$(printf '\033')" "format table: no escape character reaches the terminal"
like "$OUT" '^\| +[0-9]+ \| esc\\x1b\[2J \| +13 \| +14 \|$' "format table: the escape shown as \\x1b"
tp --format vertical -e 'find esc'
like "$OUT" '^ name: esc\\x1b\[2J$' "format vertical: the escape shown as \\x1b"
tp --format json -e 'find esc'
is "$(printf '%s\n' "$OUT" | jq -r .name | od -An -c | tr -s ' ' | sed 's/^ //')" \
    'e s c 033 [ 2 J \n' "format json: the name exact, for programs"
sql "DELETE FROM players WHERE name LIKE 'esc%'"
tp --format json -e 'count'
is "$OUT" '{"count":6}' "format json: count is an object"
tp -e 'format csv; show "say \"hi\""'
id=$(sql "SELECT id FROM players WHERE name LIKE 'say%'")
is "$OUT" "$(printf 'id,name,coins,goods\r\n%s,"say ""hi""",1,2\r' "$id")" \
    "format csv: a header, then RFC 4180 quoting and CRLF"
tp -e 'format vertical; show 张三'
like "$OUT" "^ name: 张三$" "format vertical: one field per line"
tp -e 'format'
is "$OUT" tsv "format alone: prints the format (tsv when not a terminal)"
tp -e 'format json; format'
is "$OUT" '{"format":"json"}' "format: the new format stays for the session"

before=$(snapshot)
tp -e 'format xml'
refused "format: unknown format 'xml': table, vertical, tsv, csv or json" \
    "format of an unknown name"
tp -e 'format json csv'
refused "format: too many arguments" "format with two names"

# ---- timing ----

tp -e 'timing on; count; timing off; count'
is "$RC" 0 "timing: exit 0"
is "$OUT" "6
6" "timing: stdout only has the data"
is "$(printf '%s\n' "$ERR" | grep -c '^Time: [0-9]*\.[0-9]* ms$')" 1 \
    "timing on: a time for count, none for timing on itself nor after timing off"
is "$(printf '%s\n' "$ERR" | grep -vc '^Time: [0-9]*\.[0-9]* ms$')" 0 \
    "timing: nothing else on stderr"
tp -e 'timing on; count; count; list 1'
is "$(printf '%s\n' "$ERR" | grep -c '^Time: [0-9]*\.[0-9]* ms$')" 3 \
    "timing on: one time per command after it"
tp -e 'timing'
is "$OUT" off "timing alone: off by default"
tp -e 'timing on; timing'
like "$OUT" "^on$" "timing alone: on after timing on"
tp -e 'timing maybe'
refused "timing: on or off, not 'maybe'" "timing of a word"

# ---- help COMMAND ----

tp -e help
is "$(printf '%s\n' "$OUT" | awk 'length($0) > 79' | head -n 3)" "" \
    "help fits an 80-column terminal"
like "$OUT" "^ {41}\(player\), 10000 coins, 100 goods$" \
    "help: a long description goes on under its own column"

tp -e 'help trade'
is "$RC" 0 "help trade: exit 0"
like "$OUT" "^ +trade BUYER SELLER AMOUNT PRICE +BUYER pays PRICE coins" \
    "help trade: usage and what it does"
is "$(printf '%s\n' "$OUT" | grep -c '^  [a-z]')" 1 "help trade: only trade"
tp -e 'help set'
is "$(printf '%s\n' "$OUT" | grep -c '^  set ')" 2 "help set: set coins and set goods"
tp -e 'help set goods'
is "$(printf '%s\n' "$OUT" | grep -c '^  [a-z]')" 1 "help set goods: one row"
like "$OUT" "set goods NAME" "help set goods: that row"
for c in find top rename bulk begin commit rollback status format timing \
    import export; do
	tp -e "help $c"
	like "$RC:$OUT" "^0:  $c( |$)" "help $c: its row"
done
tp -e 'help nosuch'
refused "^-e:1: help: no command 'nosuch'$" "help for an unknown command"
tp -e 'help set silver'
refused "help: no command 'set silver'" "help for an unknown sub-command"

done_testing
