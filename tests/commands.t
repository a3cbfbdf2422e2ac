#!/bin/sh
# The core commands in scripts: add, show, set, del, count, list, help,
# quit; names with spaces and in UTF-8; the table created on first use.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- the table is created on first use, with the quickstart's DDL ----

is "$(sql "SELECT COUNT(*) FROM information_schema.tables
    WHERE table_schema = 'test' AND table_name = 'players'")" 0 \
    "no players table before the first command"
tp -e count
is "$RC" 0 "count on a missing table succeeds"
is "$OUT" 0 "count on a new table is 0"
cols=$(sql "SELECT column_name, column_type, is_nullable, extra
    FROM information_schema.columns
    WHERE table_schema = 'test' AND table_name = 'players'
    ORDER BY ordinal_position")
is "$cols" "id	int(11)	NO	auto_increment
name	varchar(32)	YES	
coins	int(11)	YES	
goods	int(11)	YES	" "the table has the quickstart's columns"
keys=$(sql "SELECT index_name, non_unique, column_name
    FROM information_schema.statistics
    WHERE table_schema = 'test' AND table_name = 'players'
    ORDER BY index_name, seq_in_index")
is "$keys" "name	0	name
PRIMARY	0	id" "PRIMARY KEY (id) and UNIQUE (name), nothing else"
create=$(sql "SHOW CREATE TABLE players")
like "$create" "\`id\` int\(11\) NOT NULL AUTO_INCREMENT" "SHOW CREATE: id"
like "$create" "PRIMARY KEY \(\`id\`\)" "SHOW CREATE: PRIMARY KEY"
like "$create" "UNIQUE KEY \`name\` \(\`name\`\)" "SHOW CREATE: UNIQUE KEY on name"
like "$create" "CHARSET=utf8mb4" "the table is utf8mb4"

# ---- add ----

tp -e 'add alice 100 20'
is "$RC" 0 "add: exit 0"
id=$(sql "SELECT id FROM players WHERE name = 'alice'")
is "$OUT" "$id" "add: prints the new id (tsv)"
is "$ERR" "" "add: nothing on stderr"
is "$(sql "SELECT name, coins, goods FROM players WHERE id = $id")" \
    "alice	100	20" "add: the row has exactly the values given"

tp -e 'add bob 0 2147483647'
is "$RC" 0 "add: 0 and 2147483647 are accepted"
is "$(sql "SELECT coins, goods FROM players WHERE name = 'bob'")" \
    "0	2147483647" "add: bounds stored exactly"
bobid=$OUT

# ---- show ----

tp -e 'show alice'
is "$RC" 0 "show: exit 0"
is "$OUT" "$id	alice	100	20" "show: id, name, coins, goods in tsv"

before=$(snapshot)
tp -e 'show nobody'
is "$RC" 1 "show missing player: exit 1"
like "$ERR" "^-e:1: .*nobody" "show missing player: the message names it"
is "$OUT" "" "show missing player: nothing on stdout"
is "$(snapshot)" "$before" "show missing player: table unchanged"

# ---- set coins / set goods ----

tp -e 'set coins alice 500'
is "$RC" 0 "set coins absolute: exit 0"
is "$(sql "SELECT coins, goods FROM players WHERE name = 'alice'")" \
    "500	20" "set coins absolute: coins changed, goods not"
tp -e 'set goods alice 7'
is "$(sql "SELECT coins, goods FROM players WHERE name = 'alice'")" \
    "500	7" "set goods absolute"
tp -e 'set coins alice +25'
is "$RC" 0 "set coins +N: exit 0"
is "$(sql "SELECT coins FROM players WHERE name = 'alice'")" 525 \
    "set coins +25 adds"
tp -e 'set coins alice -125'
is "$(sql "SELECT coins FROM players WHERE name = 'alice'")" 400 \
    "set coins -125 subtracts"
tp -e 'set goods alice +3; set goods alice -10'
is "$RC" 0 "set goods +N then -N: exit 0"
is "$(sql "SELECT goods FROM players WHERE name = 'alice'")" 0 \
    "set goods to exactly 0 by -N is allowed"
tp -e 'set coins alice 0; set coins alice +2147483647'
is "$(sql "SELECT coins FROM players WHERE name = 'alice'")" 2147483647 \
    "set coins to exactly 2147483647 by +N is allowed"
tp -e 'set coins alice 400'

before=$(snapshot)
tp -e 'set coins alice -401'
is "$RC" 1 "set coins below 0: exit 1"
like "$ERR" "^-e:1: .*(below 0|negative)" "set coins below 0: says so"
is "$(snapshot)" "$before" "set coins below 0: nothing changed"

tp -e 'set goods bob +1'
is "$RC" 1 "set goods above 2147483647: exit 1"
like "$ERR" "^-e:1: .*2147483647" "set goods above INT max: says so"
is "$(snapshot)" "$before" "set goods above INT max: nothing changed"

tp -e 'set goods bob -2147483647; set goods bob -1'
is "$RC" 1 "set goods 0 - 1: exit 1"
is "$(sql "SELECT goods FROM players WHERE name = 'bob'")" 0 \
    "set goods: the first change kept, the refused one not"
sql "UPDATE players SET goods = 2147483647 WHERE name = 'bob'"
before=$(snapshot)

tp -e 'set coins alice 2147483648'
is "$RC" 1 "set coins 2147483648: exit 1"
is "$(snapshot)" "$before" "set coins 2147483648: nothing changed"
tp -e 'set coins alice +2147483648'
is "$RC" 1 "set coins +2147483648: exit 1"
is "$(snapshot)" "$before" "set coins +2147483648: nothing changed"

tp -e 'set coins nobody 5'
is "$RC" 1 "set coins on a missing player: exit 1"
like "$ERR" "nobody" "set coins on a missing player: named"
tp -e 'set goods nobody +5'
is "$RC" 1 "set goods +N on a missing player: exit 1"
like "$ERR" "nobody" "set goods +N on a missing player: named"
is "$(snapshot)" "$before" "set on missing players: nothing changed"

# ---- duplicate names ----

tp -e 'add alice 1 1'
is "$RC" 1 "add a duplicate name: exit 1"
like "$ERR" "^-e:1: .*(already exists|duplicate|Duplicate)" \
    "add a duplicate name: says the name is taken"
is "$OUT" "" "add a duplicate name: no id printed"
is "$(snapshot)" "$before" "add a duplicate name: nothing changed"

# ---- del ----

tp -e 'add carol 1 2'
tp -e 'del carol'
is "$RC" 0 "del in a script: exit 0, no question"
is "$ERR" "" "del in a script: nothing on stderr"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'carol'")" 0 \
    "del: the row is gone"
is "$(snapshot)" "$before" "del: the others are untouched"
tp -e 'del carol'
is "$RC" 1 "del a missing player: exit 1"
like "$ERR" "^-e:1: .*carol" "del a missing player: named"

# ---- count and list ----

sql "DELETE FROM players"
# Ids out of insertion order, names out of id order: list follows the id.
sql "INSERT INTO players (id, name, coins, goods) VALUES
    (30, 'p_a', 3, 30), (10, 'p_d', 1, 10), (50, 'p_b', 5, 50),
    (20, 'p_e', 2, 20), (40, 'p_c', 4, 40)"
tp -e count
is "$OUT" 5 "count: 5 players"

tp -e list
is "$RC" 0 "list: exit 0"
is "$OUT" "10	p_d	1	10
20	p_e	2	20
30	p_a	3	30
40	p_c	4	40
50	p_b	5	50" "list: all players ordered by id"
tp -e 'list 2'
is "$OUT" "10	p_d	1	10
20	p_e	2	20" "list 2: the first two"
tp -e 'list 2 3'
is "$OUT" "40	p_c	4	40
50	p_b	5	50" "list 2 3: two after skipping three"
tp -e 'list 10 4'
is "$OUT" "50	p_b	5	50" "list 10 4: what is left"
tp -e 'list 0'
is "$RC" 0 "list 0: exit 0"
is "$OUT" "" "list 0: nothing"
tp -e 'list 5 5'
is "$OUT" "" "list past the end: nothing"

sql "DELETE FROM players"
tp -e count
is "$OUT" 0 "count on an empty table: 0"
tp -e list
is "$RC" 0 "list on an empty table: exit 0"
is "$OUT" "" "list on an empty table: nothing"

# ---- help ----

tp -e help
is "$RC" 0 "help: exit 0"
for c in add show list find top count 'set coins' 'set goods' rename del \
    trade bulk import export begin commit rollback status format timing \
    help quit exit; do
	like "$OUT" "^ +$c( |$)" "help lists '$c'"
done
tp -e 'help add'
is "$RC" 0 "help add: exit 0"
like "$OUT" "add NAME COINS GOODS" "help add: its usage"
unlike "$OUT" "^ +show " "help add: only add"
tp -e 'help nosuch'
is "$RC" 1 "help for an unknown command: exit 1"
like "$ERR" "nosuch" "help for an unknown command: named"

# ---- quit and exit ----

tp -e 'add q1 1 1
quit
add q2 1 1'
is "$RC" 0 "quit: exit 0"
is "$(sql "SELECT name FROM players WHERE name LIKE 'q%' ORDER BY name")" \
    "q1" "quit: the commands after it do not run"
tpin 'add q3 1 1
exit
add q4 1 1'
is "$RC" 0 "exit (stdin): exit 0"
is "$(sql "SELECT name FROM players WHERE name LIKE 'q%' ORDER BY name")" \
    "q1
q3" "exit (stdin): the commands after it do not run"
tp -e 'quit; add q5 1 1'
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'q5'")" 0 \
    "quit; on one line stops the line too"

# ---- names with spaces, UTF-8 ----

tp -e "add 'ann lee' 1 2; add \"bo  b\" 3 4"
is "$RC" 0 "names with spaces via quotes: exit 0"
is "$(sql "SELECT name FROM players WHERE name IN ('ann lee', 'bo  b')
    ORDER BY name")" "ann lee
bo  b" "names with spaces stored exactly"
tp -e "show 'ann lee'"
like "$OUT" "	ann lee	1	2$" "show a quoted name with a space"
tp -e "add 'it''s' 1 1"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'its'")" 1 \
    "adjacent quoted parts make one word"

cjk=$(printf '\344\270\255\346\226\207\345\220\215')	# 中文名
emoji=$(printf '\360\237\230\200x\360\237\216\256')	# U+1F600 x U+1F3AE
tp -e "add $cjk 5 6; add '$emoji' 7 8"
is "$RC" 0 "UTF-8 names: exit 0"
is "$(sql "SELECT HEX(name) FROM players WHERE coins = 5")" \
    "E4B8ADE69687E5908D" "CJK name stored byte for byte"
is "$(sql "SELECT HEX(name) FROM players WHERE coins = 7")" \
    "F09F988078F09F8EAE" "4-byte emoji name stored byte for byte (utf8mb4)"
tp -e "show '$emoji'"
is "$RC" 0 "show an emoji name: exit 0"
is "$(printf '%s' "$OUT" | cut -f2-)" "$emoji	7	8" \
    "show an emoji name: the same bytes come back"
sql "INSERT INTO players (name, coins, goods) VALUES
    (UNHEX('F09F8D95F09F8D95'), 9, 9)"
tp -e "show $(printf '\360\237\215\225\360\237\215\225')"
is "$RC" 0 "show a 4-byte name written by another client: found"
got=$(printf '%s\n' "$OUT" | cut -f2)
is "$(printf '%s' "$got" | od -An -tx1 | tr -d ' \n')" \
    "f09f8d95f09f8d95" "show: a 4-byte name read back exactly"

# 32 characters of 4 bytes each: VARCHAR(32) counts characters.
name32=$(i=0; while [ $i -lt 32 ]; do printf '\360\237\230\200'; \
    i=$((i + 1)); done)
tp -e "add $name32 1 1"
is "$RC" 0 "a name of 32 four-byte characters is accepted"
is "$(sql "SELECT CHAR_LENGTH(name), LENGTH(name) FROM players
    WHERE coins = 1 AND goods = 1 AND LENGTH(name) = 128")" "32	128" \
    "a name of 32 four-byte characters is stored whole"

# ---- --table ----

before=$(snapshot)
tp --table other_players -e 'add elsewhere 11 12'
is "$RC" 0 "--table: add in another table"
is "$(sql 'SELECT name, coins, goods FROM other_players')" \
    "elsewhere	11	12" "--table: the row is in other_players"
is "$(snapshot)" "$before" "--table: players is unchanged"
tp --table other_players -e 'count; show elsewhere'
is "$OUT" "1
1	elsewhere	11	12" "--table: count and show read the other table"

done_testing
