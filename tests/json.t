#!/bin/sh
# format json all the way: a session that runs every command writes one
# JSON object per line of standard output, each checked by a real parser;
# the human formats say what they said before.

. "$top_srcdir/tests/lib.sh"
start_server

printf 'name,coins,goods\nfile_a,1,2\nfile_b,3,4\n' >"$T/in.csv"
printf 'name,coins,goods\nstdin_a,5,6\n' >"$T/stdin.csv"
printf 'add sourced 1 1\ncount\n' >"$T/sourced.tp"
cat >"$T/session.tp" <<EOF
add alice 100 20
add bob 1000 0
show alice
list
list 1 1
find al
top coins 1
count
set coins alice 150
set goods alice +5
set coins bob -10
rename alice carol
trade bob carol 5 50
bulk 3 p
import $T/in.csv
import -
export $T/out.csv
source $T/sourced.tp
begin
add in_txn 1 1
rollback
begin
del p_0
commit
status
format
timing
timing on
timing off
pager
del nobody
quit
EOF
tp --format json --force -f "$T/session.tp" <"$T/stdin.csv"
is "$RC" 1 "the json session: exit 1 (only 'del nobody' fails)"
# timing on shows the time of the one command it ran for (timing off).
errs=$(printf '%s\n' "$ERR" | grep -v '^Time: ')
like "$errs" "^$T/session.tp:$(grep -n 'del nobody' "$T/session.tp" | cut -d: -f1): " \
    "the json session: the one error, as text on stderr"
is "$(printf '%s\n' "$errs" | wc -l | tr -d ' ')" 1 "the json session: one error line on stderr"
printf '%s\n' "$OUT" >"$T/json"
lines=$(wc -l <"$T/json" | tr -d ' ')
objects=$(jq -c 'select(type == "object")' <"$T/json" 2>"$T/jq.err" | wc -l | tr -d ' ')
is "$objects" "$lines" "the json session: every line of standard output is a JSON object ($lines)"
is "$(cat "$T/jq.err")" "" "the json session: jq reads every line"

# has JQ-FILTER DESCRIPTION: some line of the session is such an object.
has() {
	[ -n "$(jq -c "select($1)" <"$T/json" 2>/dev/null)" ]
	ok $? "$2"
}
alice=$(sql "SELECT id FROM players WHERE name = 'carol'")
has ".added == \"alice\" and .id == $alice" 'add: {"added":"alice","id":N}'
has '.name == "alice" and .coins == 100 and .goods == 20' "show: the row"
has '.set == "alice" and .coins == 150' "set coins: the new value"
has '.set == "alice" and .goods == 25' "set goods +N: the new value"
has '.set == "bob" and .coins == 990' "set coins -N: the new value"
has '.renamed == "alice" and .to == "carol"' "rename"
has '.traded == 5 and .buyer == "bob" and .seller == "carol" and .price == 50' "trade"
has '.bulk == 3 and .prefix == "p"' "bulk"
has ".imported == 2 and .from == \"$T/in.csv\"" "import FILE"
has '.imported == 1 and .from == "-"' "import -"
has ".exported == 8 and .to == \"$T/out.csv\"" "export FILE"
has '.added == "sourced"' "source: the file's commands report too"
has '.transaction == "open"' "begin"
has '.transaction == "rolled back"' "rollback"
has '.transaction == "committed"' "commit"
has '.deleted == "p_0"' "del"
has '.count == 2' "count"
has '.count == 9' "count, in the sourced file"
has '.host == "127.0.0.1" and (.port | type) == "number" and .user == "app"
    and .database == "test" and .table == "players"
    and .collation == "utf8mb4_general_ci"
    and (.version | type) == "string" and .tidb == null
    and (.tls | type) == "string" and (.cipher | type) == "string"
    and (.verified | type) == "string" and .plaintext == null
    and (.connection | type) == "number" and .retries == 0
    and .reconnects == 0 and .transaction == "none" and .format == "json"
    and .timing == false and (.settings | type) == "string"' \
    "status: one object with every field"
has '.format == "json" and length == 1' "format: {\"format\":\"json\"}"
has '.timing == false and length == 1' "timing: {\"timing\":false}"
has '(.pager | type) == "string" and length == 1' "pager: {\"pager\":...}"

# help stays text; errors stay text on stderr.
tp --format json -e 'help count'
like "$OUT" "^ +count " "help in json: text"
tp --format json -e 'show nobody'
is "$OUT" "" "an error in json: nothing on standard output"
like "$ERR" "^-e:1: .*nobody" "an error in json: one line of text on standard error"

# The human formats say what they said.
tp --format table -e "add dora 1 2; set coins dora 5; rename dora dory; del dory; begin; commit"
is "$(printf '%s\n' "$ERR" | sed 's/with id [0-9][0-9]*$/with id N/')" "added 'dora' with id N
'dora' now has 5 coins
'dora' is now 'dory'
deleted 'dory'
transaction open
committed" "table: the confirmations on standard error, as before"
is "$OUT" "" "table: nothing on standard output for them"
tp --format tsv -e "add eve 1 2; set coins eve 5; begin; rollback; timing; format"
is "$OUT" "$(sql "SELECT id FROM players WHERE name = 'eve'")
off
tsv" "tsv: the id of an add, and the bare values, as before"
is "$ERR" "" "tsv: no confirmations"
tp --format tsv -e status
like "$OUT" "^server:      127\.0\.0\.1:$TP_PORT$" "status in tsv: text, as before"
like "$OUT" "^timing:      off$" "status in tsv: timing on or off"

done_testing
