#!/bin/sh
# Several line sources: -e and -f given more than once run in the order
# given, each with its own SOURCE:LINE:, the first failure stops them all
# (--force goes on), files are checked before connecting; and the source
# command, which runs a script's lines inside the session.

. "$top_srcdir/tests/lib.sh"
start_server

names() {
	sql "SELECT name FROM players ORDER BY id" | tr '\n' ' '
}

reset() {
	sql "DROP TABLE IF EXISTS players"
	sql "CREATE TABLE players (id INTEGER NOT NULL AUTO_INCREMENT,
	    name VARCHAR(32), coins INTEGER, goods INTEGER, PRIMARY KEY (id),
	    UNIQUE (name))"
}

# ---- -e and -f, several, in the order given ----

reset
printf '%s\n' 'add f1 1 1' 'show f1' >"$T/one.tp"
printf '%s\n' 'count' >"$T/two.tp"
tp -e 'add e1 1 1' -f "$T/one.tp" -e 'show e1' -f "$T/two.tp" \
    -e 'add e2 2 2; count' </dev/null
is "$RC" 0 "-e -f -e -f -e: exit 0"
is "$OUT" "1
2
2	f1	1	1
1	e1	1	1
2
3
3" "-e -f -e -f -e: every source ran, in the order given"
is "$ERR" "" "-e -f -e -f -e: nothing on stderr"
is "$(names)" "e1 f1 e2 " "-e -f -e -f -e: the rows went in in that order"

reset
tp -e 'add a 1 1' -e 'add b 2 2' -e 'add c 3 3' </dev/null
is "$RC" 0 "three -e: exit 0"
is "$(names)" "a b c " "three -e: none replaces another"

# -f - reads standard input at its place among the others.
reset
tpin 'add s1 1 1' -e 'add e1 1 1' -f - -e 'add e2 1 1'
is "$RC" 0 "-e -f - -e: exit 0"
is "$(names)" "e1 s1 e2 " "-e -f - -e: standard input is read in its place"

# Adds grouped in one source never reach into the next.
reset
printf '%s\n' 'add g1 1 1' 'add g2 1 1' 'add g1 1 1' >"$T/dup.tp"
tp -e 'add g0 1 1' -f "$T/dup.tp" -e 'add never 1 1' </dev/null
is "$RC" 1 "a failing -f between two -e: exit 1"
like "$ERR" "^$T/dup\.tp:3: " "the failure is named by its own file and line"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "one line of error"
is "$(names)" "g0 g1 g2 " "the first failure stops every later source"

# ---- each source counts its own lines ----

reset
printf '%s\n' 'count' 'count' 'count' 'show nobody' >"$T/four.tp"
tp -e 'count
count' -f "$T/four.tp" </dev/null
is "$RC" 1 "-e then a failing -f: exit 1"
like "$ERR" "^$T/four\.tp:4: .*nobody" "-f after -e: FILE:LINE of the file itself"

tp -e 'count' -e 'count
show nobody' </dev/null
is "$RC" 1 "a failing second -e: exit 1"
like "$ERR" "^-e#2:2: .*nobody" "several -e: each named -e#N, with its own lines"
tp -e 'show nobody' -e 'count' </dev/null
like "$ERR" "^-e#1:1: .*nobody" "several -e: the first is -e#1"
is "$OUT" "" "several -e: the one after the failure did not run"
tp -e 'show nobody' </dev/null
like "$ERR" "^-e:1: .*nobody" "a single -e is still named -e"

# --force goes on into the next source; the status says one failed.
reset
tp --force -e 'show nobody' -e 'add h1 1 1' -f "$T/four.tp" \
    -e 'add h2 1 1' </dev/null
is "$RC" 1 "--force over several sources: exit 1"
is "$(names)" "h1 h2 " "--force: every source ran"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 2 "--force: both failures said"

# quit ends them all.
reset
tp -e 'add q1 1 1; quit' -e 'add never 1 1' </dev/null
is "$RC" 0 "quit in the first -e: exit 0"
is "$(names)" "q1 " "quit in the first -e: the second did not run"

# ---- files are checked before anything runs or connects ----

reset
tp -e 'add never 1 1' -f "$T/nosuch.tp" </dev/null
is "$RC" 2 "a missing -f after an -e: exit 2"
like "$ERR" "nosuch\.tp: No such file" "a missing -f: named, with why"
is "$(names)" "" "a missing -f: the -e before it did not run"

tp -P 1 -e 'add never 1 1' -f "$T" </dev/null
is "$RC" 2 "-f DIRECTORY: exit 2, before connecting"
like "$ERR" "$T: .*directory" "-f DIRECTORY: says it is a directory"
is "$(names)" "" "-f DIRECTORY: nothing ran"

# A usage error, found before connecting: no server on port 1 is needed.
tp -P 1 -f "$T/nosuch.tp" </dev/null
is "$RC" 2 "a missing -f is found before connecting"

done_testing
