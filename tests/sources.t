#!/bin/sh
# Several line sources: -e and -f given more than once run in the order
# given, each with its own SOURCE:LINE:, the first failure stops them all
# (--force goes on), files are checked before connecting; and the source
# command, which runs a script's lines inside the session.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- -e and -f, several, in the order given ----

reset_players
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

reset_players
tp -e 'add a 1 1' -e 'add b 2 2' -e 'add c 3 3' </dev/null
is "$RC" 0 "three -e: exit 0"
is "$(names)" "a b c " "three -e: none replaces another"

# -f - reads standard input at its place among the others.
reset_players
tpin 'add s1 1 1' -e 'add e1 1 1' -f - -e 'add e2 1 1'
is "$RC" 0 "-e -f - -e: exit 0"
is "$(names)" "e1 s1 e2 " "-e -f - -e: standard input is read in its place"

# Adds grouped in one source never reach into the next.
reset_players
printf '%s\n' 'add g1 1 1' 'add g2 1 1' 'add g1 1 1' >"$T/dup.tp"
tp -e 'add g0 1 1' -f "$T/dup.tp" -e 'add never 1 1' </dev/null
is "$RC" 1 "a failing -f between two -e: exit 1"
like "$ERR" "^$T/dup\.tp:3: " "the failure is named by its own file and line"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "one line of error"
is "$(names)" "g0 g1 g2 " "the first failure stops every later source"

# ---- each source counts its own lines ----

reset_players
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
reset_players
tp --force -e 'show nobody' -e 'add h1 1 1' -f "$T/four.tp" \
    -e 'add h2 1 1' </dev/null
is "$RC" 1 "--force over several sources: exit 1"
is "$(names)" "h1 h2 " "--force: every source ran"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 2 "--force: both failures said"

# quit ends them all.
reset_players
tp -e 'add q1 1 1; quit' -e 'add never 1 1' </dev/null
is "$RC" 0 "quit in the first -e: exit 0"
is "$(names)" "q1 " "quit in the first -e: the second did not run"

# ---- files are checked before anything runs or connects ----

reset_players
tp -e 'add never 1 1' -f "$T/nosuch.tp" </dev/null
is "$RC" 2 "a missing -f after an -e: exit 2"
like "$ERR" "nosuch\.tp: No such file" "a missing -f: named, with why"
is "$(names)" "" "a missing -f: the -e before it did not run"

tp -P 1 -f "$T" </dev/null
is "$RC" 2 "-f DIRECTORY: exit 2, before connecting"
like "$ERR" "$T: Is a directory" "-f DIRECTORY: says it is a directory"
tp -e 'add never 1 1' -f "$T" </dev/null
is "$(names)" "" "-f DIRECTORY after -e: nothing ran"

# A usage error, found before connecting: no server on port 1 is needed.
tp -P 1 -f "$T/nosuch.tp" </dev/null
is "$RC" 2 "a missing -f is found before connecting"

# ---- source FILE: a script's lines inside the session ----

reset_players
printf '%s\n' 'add s1 1 1' 'add s2 2 2' 'show s1' >"$T/ok.tp"
tp -e "add before 1 1; source $T/ok.tp; count" </dev/null
is "$RC" 0 "source: exit 0"
is "$OUT" "1
2
3
2	s1	1	1
3" "source: the file's lines ran in place, then the rest of the line"
is "$ERR" "" "source: nothing on stderr"
is "$(names)" "before s1 s2 " "source: in the session, in order"

# From a piped script too, and relative to the current directory.
reset_players
cd "$T" || bail "cd $T"
tpin 'source ok.tp
count'
cd - >/dev/null || bail "cd back"
is "$RC" 0 "source from stdin, relative name: exit 0"
is "$OUT" "1
2
1	s1	1	1
2" "source from stdin: the file ran, then the next line"

# The first failing line of the file stops it, and the script that
# sourced it.
reset_players
printf '%s\n' 'add t1 1 1' '# a comment' 'show nobody' 'add t2 2 2' >"$T/fail.tp"
printf '%s\n' 'add o1 1 1' "source $T/fail.tp" 'add o2 2 2' >"$T/outer.tp"
tp -f "$T/outer.tp" </dev/null
is "$RC" 1 "a failing line in a sourced file: exit 1"
like "$ERR" "^$T/fail\.tp:3: .*nobody" "the error names the sourced file and its line"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "one line of error"
is "$(names)" "o1 t1 " "the rest of the sourced file and of the outer script did not run"

reset_players
tp --force -f "$T/outer.tp" </dev/null
is "$RC" 1 "--force: exit 1"
is "$(names)" "o1 t1 t2 o2 " "--force: the sourced file and the outer script go on"

# Nested: each file names its own lines; the outer line count goes on
# after the inner file.
reset_players
printf '%s\n' 'add n1 1 1' "source $T/ok.tp" 'show nobody' >"$T/mid.tp"
printf '%s\n' 'count' "source $T/mid.tp" 'count' >"$T/top.tp"
tp -f "$T/top.tp" </dev/null
is "$RC" 1 "nested sources: exit 1"
like "$ERR" "^$T/mid\.tp:3: .*nobody" "nested: the failure is named by the middle file, line 3"
is "$(names)" "n1 s1 s2 " "nested: everything before the failure ran"
printf '%s\n' "source $T/ok.tp" 'show nobody' >"$T/after.tp"
reset_players
tp -f "$T/after.tp" </dev/null
like "$ERR" "^$T/after\.tp:2: .*nobody" "after a source the outer file's own line numbers go on"

# ---- a source that never ends is refused ----

reset_players
printf '%s\n' 'add l1 1 1' "source $T/loop.tp" 'add never 1 1' >"$T/loop.tp"
tp -f "$T/loop.tp" </dev/null
is "$RC" 1 "a file that sources itself: exit 1"
like "$ERR" "^$T/loop\.tp:2: source: .*loop\.tp: already being read" \
    "a file that sources itself: a clear error at its line"
is "$(names)" "l1 " "a file that sources itself ran once"

reset_players
printf '%s\n' 'add a1 1 1' "source $T/pong.tp" >"$T/ping.tp"
printf '%s\n' 'add b1 1 1' "source $T/ping.tp" >"$T/pong.tp"
tp -e "source $T/ping.tp" </dev/null
is "$RC" 1 "two files that source each other: exit 1"
like "$ERR" "^$T/pong\.tp:2: source: .*ping\.tp: already being read" \
    "two files that source each other: refused where the loop closes"
is "$(names)" "a1 b1 " "two files that source each other: each ran once"

# Through another name of the same file.
reset_players
ln -s loop.tp "$T/again.tp"
tp -e "source $T/again.tp" </dev/null
like "$ERR" "already being read as $T/again\.tp" \
    "the same file under another name is found too"

# A deep chain stops at 16 files.
reset_players
i=1
while [ $i -le 20 ]; do
	printf '%s\n' "add d$i 1 1" "source $T/d$((i + 1)).tp" >"$T/d$i.tp"
	i=$((i + 1))
done
tp -e "source $T/d1.tp" </dev/null
is "$RC" 1 "a chain of 20 sources: exit 1"
like "$ERR" "^$T/d16\.tp:2: source: $T/d17\.tp: more than 16 scripts" \
    "a chain of 20 sources: refused at the 17th"
is "$(sql 'SELECT COUNT(*) FROM players')" 16 "a chain of 20 sources: 16 ran"

# ---- bad files ----

tp -e "source $T/nosuch.tp" </dev/null
is "$RC" 1 "source of a missing file: exit 1"
is "$ERR" "-e:1: source: $T/nosuch.tp: No such file or directory" \
    "source of a missing file: says so"
tp -e "source $T" </dev/null
is "$ERR" "-e:1: source: $T: Is a directory" "source of a directory: says so"
tp -e "source" </dev/null
like "$ERR" "missing arguments; usage: source FILE" "source without a file: its usage"

done_testing
