#!/bin/sh
# Script mode: stdin, -f FILE, -e; no prompt; the first failing command
# stops the script with SOURCE:LINE: and exit 1; --force; comments and
# ';'; output formats; timing; exit statuses; server errors.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- stdin, -f, -e: all run, nothing but data on stdout ----

reset_players
tpin 'add s1 1 2
add s2 3 4
show s1
count'
is "$RC" 0 "stdin: exit 0"
is "$OUT" "1
2
1	s1	1	2
2" "stdin: exactly the data, no prompt, tsv without header"
is "$ERR" "" "stdin: nothing on stderr"

cat >"$T/ok.tp" <<'EOF'
add f1 5 6
show f1
EOF
tp -f "$T/ok.tp" </dev/null
is "$RC" 0 "-f: exit 0"
is "$OUT" "3
3	f1	5	6" "-f: exactly the data"
is "$ERR" "" "-f: nothing on stderr"

tpin 'add d1 7 8
show d1' -f -
is "$RC" 0 "-f -: reads stdin"
is "$OUT" "4
4	d1	7	8" "-f -: exactly the data"

tp -e 'add e1 1 1; show e1' </dev/null
is "$RC" 0 "-e with ';': exit 0"
is "$OUT" "5
5	e1	1	1" "-e with ';': both ran, in order"
tp -e 'add e2 2 2
show e2' </dev/null
is "$RC" 0 "-e with a newline: exit 0"
is "$OUT" "6
6	e2	2	2" "-e with a newline: both ran"
unlike "$OUT$ERR" "tidbplay>|> $" "no prompt anywhere"

# stdin is ignored with -e.
tpin 'add never 1 1' -e count
is "$OUT" 6 "-e: stdin is not read"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'never'")" 0 \
    "-e: the command on stdin did not run"

# ---- comments, blank lines, ';' ----

reset_players
printf '%s\n' '# a comment' '' '   ' 'add c1 1 1 # after a command' \
    '	# indented comment' 'add c2 2 2;add c3 3 3 ; add c4 4 4;' \
    ';;' "add 'c#5' 5 5" 'count' >"$T/comments.tp"
tp -f "$T/comments.tp" </dev/null
is "$RC" 0 "comments, blank lines, ';': exit 0"
is "$(names)" "c1 c2 c3 c4 c#5 " "comments and ';': the right commands ran"
is "$(printf '%s\n' "$OUT" | tail -n 1)" 5 "comments: count after them is 5"
is "$ERR" "" "comments: nothing on stderr"

# ---- the first failing command stops the script ----

reset_players
printf '%s\n' 'add a1 1 1' '# comment' '' 'add a2 2 2' 'show nobody' \
    'add a3 3 3' >"$T/fail.tp"
tp -f "$T/fail.tp" </dev/null
is "$RC" 1 "-f: a failing command is exit 1"
like "$ERR" "^$T/fail\.tp:5: .*nobody" "-f: FILE:LINE: with the exact path and line 5"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "-f: one line of error"
is "$(names)" "a1 a2 " "-f: the commands after the failure did not run"
is "$OUT" "1
2" "-f: the output before the failure is there"

reset_players
tpin 'add b1 1 1

show nobody
add b2 2 2'
is "$RC" 1 "stdin: a failing command is exit 1"
like "$ERR" "^stdin:3: .*nobody" "stdin: stdin:3:"
is "$(names)" "b1 " "stdin: the commands after it did not run"

reset_players
tp -e 'add x1 1 1
count
add x2 2 2; show nobody; add x3 3 3
add x4 4 4' </dev/null
is "$RC" 1 "-e: a failing command is exit 1"
like "$ERR" "^-e:3: .*nobody" "-e: -e:3:"
is "$(names)" "x1 x2 " "-e: the rest of the line and the later lines did not run"

reset_players
tp -e 'add y1 1 1; show nobody; add y2 2 2' </dev/null
like "$ERR" "^-e:1: " "-e on one line: -e:1:"
is "$(names)" "y1 " "-e on one line: stops after the failure"

# A relative path is reported as given.
reset_players
(cd "$T" && tp -f fail.tp </dev/null)
ERR=$(cat "$T/err")
like "$ERR" "^fail\.tp:5: " "-f relative: the path as given"

# An argument error stops the script as well.
reset_players
tpin 'add z1 1 1
add z2 one 2
add z3 3 3'
is "$RC" 1 "argument error: exit 1"
like "$ERR" "^stdin:2: .*one" "argument error: stdin:2: names the bad value"
is "$(names)" "z1 " "argument error: the script stopped"

# ---- --force ----

reset_players
tpin 'add g1 1 1
show nobody
add g2 2 2
add g1 9 9
bogus
add g3 3 3' --force
is "$RC" 1 "--force: still exit 1"
is "$(names)" "g1 g2 g3 " "--force: every good command ran"
like "$ERR" "^stdin:2: .*nobody" "--force: the first error with its line"
like "$ERR" "^stdin:4: " "--force: the second error with its line"
like "$ERR" "^stdin:5: .*bogus" "--force: the third error with its line"
is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 3 "--force: three errors"
is "$(sql "SELECT coins FROM players WHERE name = 'g1'")" 1 \
    "--force: the failed add changed nothing"

reset_players
tp --force -e 'add h1 1 1; show nobody; add h2 2 2' </dev/null
is "$RC" 1 "--force -e: exit 1"
is "$(names)" "h1 h2 " "--force -e: goes on within a line"

# ---- output formats ----

reset_players
sql "INSERT INTO players VALUES (7, 'a b', 10, 20), (8, 'q,\"r', 1, 2)"

tp --format tsv -e "show 'a b'; count" </dev/null
is "$OUT" "7	a b	10	20
2" "--format tsv"
tp --format csv -e "list" </dev/null
is "$OUT" "$(printf 'id,name,coins,goods\r\n7,a b,10,20\r\n8,"q,""r",1,2\r')" \
    "--format csv: header, CRLF, RFC 4180 quoting"
tp --format json -e "list" </dev/null
is "$OUT" '{"id":7,"name":"a b","coins":10,"goods":20}
{"id":8,"name":"q,\"r","coins":1,"goods":2}' "--format json: one object per line"
tp --format table -e "show 'a b'" </dev/null
is "$OUT" "+----+------+-------+-------+
| id | name | coins | goods |
+----+------+-------+-------+
|  7 | a b  |    10 |    20 |
+----+------+-------+-------+
(1 row)" "--format table"
tp --format vertical -e "show 'a b'" </dev/null
is "$OUT" "*************************** 1. row ***************************
   id: 7
 name: a b
coins: 10
goods: 20
(1 row)" "--format vertical"

tp -e "format json; show 'a b'; format csv; show 'a b'; format; format tsv; show 'a b'" </dev/null
is "$RC" 0 "format command: exit 0"
is "$OUT" "$(printf '{"id":7,"name":"a b","coins":10,"goods":20}\nid,name,coins,goods\r\n7,a b,10,20\r\ncsv\n7\ta b\t10\t20')" \
    "format command: switches the format for the commands after it"

tp -e "format yaml; show 'a b'" </dev/null
is "$RC" 1 "format yaml: exit 1"
like "$ERR" "^-e:1: .*yaml" "format yaml: named"
is "$OUT" "" "format yaml: stopped before show"

tp --format json -e "add 'j k' 3 4" </dev/null
is "$OUT" "{\"added\":\"j k\",\"id\":$(sql "SELECT id FROM players WHERE name = 'j k'")}" \
    "--format json: add prints the name and its id as an object"

# ---- timing ----

tp -e "timing on; count; timing off; count" </dev/null
is "$RC" 0 "timing: exit 0"
is "$OUT" "3
3" "timing: stdout holds only the data"
like "$ERR" "^Time: [0-9.]+ ms" "timing on: Time: on stderr"
n=$(printf '%s\n' "$ERR" | grep -c '^Time:')
is "$n" 1 "timing: Time: for count while on, none for timing on itself nor after off"
tp -e "count" </dev/null
unlike "$ERR" "Time:" "timing is off by default"

# ---- exit statuses ----

tp -e count </dev/null
is "$RC" 0 "exit 0: every command succeeded"
tp -e 'show nobody' </dev/null
is "$RC" 1 "exit 1: a command failed"
tp -P abc -e count </dev/null
is "$RC" 2 "exit 2: usage error"
tp --format yaml -e count </dev/null
is "$RC" 2 "exit 2: --format yaml"

before=$(snapshot)
tp -P 1 -e 'add never 1 1' </dev/null
is "$RC" 3 "exit 3: nothing listens on the port"
like "$ERR" "127\.0\.0\.1:1[^0-9]" "exit 3: the message names host:port"

tpenv TIDB_PASSWORD=wrong "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" \
    -u "$TP_USER" --ca "$TP_CA" \
    -e 'add never 1 1' >"$T/out" 2>"$T/err" </dev/null
RC=$?
ERR=$(cat "$T/err")
is "$RC" 3 "exit 3: wrong password"
like "$ERR" "access denied|wrong password" "wrong password: says so"
unlike "$ERR" "wrong[^ ]" "wrong password: the password is not shown"
is "$(snapshot)" "$before" "could not connect: nothing changed"

# ---- a server error surfaces with its number ----

sql "CREATE TABLE trig LIKE players"
sql "CREATE TRIGGER trig_no BEFORE INSERT ON trig FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1644,
    MESSAGE_TEXT = 'no new players today'"
tp --table trig -e 'add t1 1 1
count' </dev/null
is "$RC" 1 "server error: exit 1"
like "$ERR" "^-e:1: .*1644" "server error: its number"
like "$ERR" "no new players today" "server error: its message"
is "$OUT" "" "server error: the script stopped"
is "$(sql 'SELECT COUNT(*) FROM trig')" 0 "server error: nothing added"

done_testing
