#!/bin/sh
# import reads its input once, inside the transaction that makes it all or
# nothing: a FIFO, a pipe, /dev/stdin and "import -" (standard input: the
# lines after the command when the script itself comes from standard
# input, up to a line "\.", as psql's \copy ... from stdin) all work, and
# errors name the line they are on.

. "$top_srcdir/tests/lib.sh"
start_server

# refused WANT-ERR-REGEX DESCRIPTION: the last tp failed with exit 1, said
# WANT on stderr, and the table is as it was ($before).
refused() {
	is "$RC" 1 "$2: exit 1"
	like "$ERR" "$1" "$2: the message"
	is "$(snapshot)" "$before" "$2: nothing imported"
}

# mkcsv N PREFIX: a header and N rows PREFIX0..PREFIX{N-1}, LF line ends.
mkcsv() {
	awk -v n="$1" -v p="$2" 'BEGIN { print "name,coins,goods";
	    for (i = 0; i < n; i++) printf "%s%d,%d,%d\n", p, i, i, n - i }'
}
# tppipe FILE ARGS...: tp with FILE on standard input through a pipe.
tppipe() {
	_f=$1
	shift
	cat "$_f" | { tp "$@"; echo "$RC" >"$T/rc"; }
	RC=$(cat "$T/rc")
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
names() { sql "SELECT GROUP_CONCAT(name ORDER BY id SEPARATOR ' ') FROM players"; }

printf '[shell]\nbatch = 100\n' >"$T/batch.ini"
tp -e count
[ "$RC" -eq 0 ] || bail "cannot reach the server: $ERR"

# ---- inputs that can be read only once ----

mkcsv 250 fifo >"$T/250.csv"
mkfifo "$T/fifo"
cat "$T/250.csv" >"$T/fifo" &
tp -c "$T/batch.ini" -e "import $T/fifo"
wait
is "$RC" 0 "import of a FIFO: exit 0"
is "$(sql "SELECT COUNT(*), SUM(coins), MIN(name) FROM players")" \
    "250	31125	fifo0" "import of a FIFO: every row, in three batches"
sql "DELETE FROM players"

mkcsv 3 dev >"$T/3.csv"
tppipe "$T/3.csv" -e 'import /dev/stdin'
is "$RC" 0 "import /dev/stdin from a pipe: exit 0"
is "$(names)" "dev0 dev1 dev2" "import /dev/stdin from a pipe: the rows"
sql "DELETE FROM players"

# ---- import - with -e and -f: standard input is the data ----

tppipe "$T/3.csv" --format table -e 'import -'
is "$RC" 0 "import - with -e: exit 0"
is "$(names)" "dev0 dev1 dev2" "import - with -e: the rows of standard input"
like "$ERR" "^imported 3 players from standard input$" \
    "import - with -e: says where they came from"
sql "DELETE FROM players"

printf 'import -\ncount\n' >"$T/load.tp"
tppipe "$T/3.csv" -f "$T/load.tp"
is "$RC" 0 "import - in a -f script: exit 0"
is "$OUT" 3 "import - in a -f script: standard input is the data, the script goes on"
sql "DELETE FROM players"

# A line "\." ends the data; what follows is there for the next import -.
printf 'name,coins,goods\na,1,1\n\\.\nname,coins,goods\nb,2,2\nc,x,3\n' \
    >"$T/two.csv"
tppipe "$T/two.csv" -e 'import -; import -'
is "$RC" 1 "two import - in one -e, the second bad: exit 1"
like "$ERR" '^-e:1: stdin:6: coins .x. is not a whole number' \
    "the second import's error names the line of standard input"
is "$(names)" "a" "the first import - took the data up to its \\., the second none"
sql "DELETE FROM players"

: >"$T/empty"
tppipe "$T/empty" -e 'import -'
is "$RC" 1 "import - of empty standard input: exit 1"
like "$ERR" '^-e:1: stdin:1: no data: expected the header name,coins,goods' \
    "import - of empty standard input: says so"

# ---- a script on standard input: the data follows import -, up to \. ----

before=$(snapshot)
tpin 'add first 1 1
import -
name,coins,goods
"in, line",5,6
line2,7,8
\.
show "in, line"
count'
is "$RC" 0 "import - inside a piped script: exit 0"
is "$(printf '%s\n' "$OUT" | tail -n 1)" 3 \
    "import - inside a piped script: the rows, then the commands after \\."
like "$OUT" "in, line	5	6" "import - inside a piped script: a quoted name"
sql "DELETE FROM players"

# Without \. the data runs to the end of the input.
printf 'import -\nname,coins,goods\nz,1,1\n' >"$T/s.tp"
tppipe "$T/s.tp"
is "$RC" 0 "import - to the end of a piped script: exit 0"
is "$(names)" "z" "import - to the end of a piped script: the row"
sql "DELETE FROM players"

# CRLF and a \. with CR, as a script saved on another system has them.
printf 'import -\r\nname,coins,goods\r\ncr,1,1\r\n\\.\r\ncount\r\n' >"$T/s.tp"
tppipe "$T/s.tp"
is "$RC" 0 "import - with CRLF lines: exit 0"
is "$OUT" 1 "import - with CRLF lines: the \\. line ends the data"
sql "DELETE FROM players"

# An error in the data: its line in the script, the rest of the data is
# skipped (never run as commands), nothing is imported, the script stops.
sql "INSERT INTO players (name, coins, goods) VALUES ('keep', 1, 1)"
before=$(snapshot)
BAD_IMPORT='import -
name,coins,goods
ok1,1,1
bad,1,x
del keep
\.
add after 1 1'
tpin "$BAD_IMPORT" -c "$T/batch.ini"
refused '^stdin:1: stdin:4: goods .x. is not a whole number.*; nothing was imported$' \
    "a bad row in the data of import -"
unlike "$ERR" "unknown command|del" "the data after the bad row is not run as commands"
before=$(snapshot)
tpin "$BAD_IMPORT
show nosuch" --force
is "$RC" 1 "--force: a bad import - fails the script"
like "$ERR" '^stdin:1: stdin:4: goods' "--force: the import's error names its line"
like "$ERR" '^stdin:8: no player named .nosuch.' \
    "--force: the script goes on after \\. with its own line numbers"
is "$(names)" "keep after" "--force: nothing of the import, then the rest of the script"
sql "DELETE FROM players"

# A file sourced from a piped script: its import - reads the lines after
# it in that file, as psql's \copy from stdin reads from the source that
# issued it; the file goes on after \., and both keep their numbers.
printf 'import -\nname,coins,goods\nfrom_file,2,2\n\\.\nadd in_file 1 1\nshow nosuch\n' >"$T/inner.tp"
tpin "source $T/inner.tp
add never 1 1"
is "$RC" 1 "import - in a sourced file, then a failing line: exit 1"
like "$ERR" "^$T/inner.tp:6: no player named .nosuch." \
    "import - in a sourced file: the file's lines keep their numbers"
is "$(names)" "from_file in_file" \
    "import - in a sourced file reads the data that follows it in the file"
sql "DELETE FROM players"

# ---- one pass, all or nothing ----

# An error on the last line of a piped input: the batches already sent go
# with the transaction, nothing is kept.
before=$(snapshot)
{ mkcsv 350 late; echo 'late350,1'; } >"$T/late.csv"
com_insert() { sql "SHOW GLOBAL STATUS LIKE 'Com_insert'" | cut -f2; }
c0=$(com_insert)
tppipe "$T/late.csv" -c "$T/batch.ini" -e 'import -'
c1=$(com_insert)
refused '^-e:1: stdin:352: 2 fields; expected 3, as the header has; nothing was imported$' \
    "an error on the last line of a pipe"
is "$((c1 - c0))" 3 "the rows before it were sent as they were read: three batches, rolled back"

# ---- inside begin: a failed import or bulk takes back only itself ----

printf '[shell]\nbatch = 2\n' >"$T/batch2.ini"
sql "DELETE FROM players"
sql "INSERT INTO players (name, coins, goods) VALUES ('old', 1, 1)"
{ mkcsv 250 sp; echo 'sp250,1,x'; } >"$T/sp.csv"
tpin "begin
add mine 1 1
import $T/sp.csv
count
commit" -c "$T/batch.ini" --force
is "$RC" 1 "begin, then an import whose last line is bad: exit 1"
like "$ERR" "^stdin:3: $T/sp.csv:252: goods 'x' is not a whole number.*; nothing was imported: the transaction is still open, as it was before$" \
    "the message says the import was undone and the transaction goes on"
is "$(printf '%s\n' "$OUT" | tail -n 1)" 2 \
    "inside the transaction the import's first batches are gone"
is "$(names)" "old mine" "commit keeps what the transaction held, none of the import"

sql "DELETE FROM players WHERE name = 'mine'"
sql "INSERT INTO players (name, coins, goods) VALUES ('sp230', 1, 1)"
mkcsv 250 sp >"$T/sp.csv"
tpin "begin
add mine 1 1
import $T/sp.csv
commit" -c "$T/batch.ini" --force
like "$ERR" "^stdin:3: $T/sp.csv:.*already exists.*; nothing was imported: the transaction is still open, as it was before$" \
    "a name taken in the third batch, inside begin: the import undone"
is "$(names)" "old sp230 mine" "a name taken in the third batch: commit keeps the rest"

sql "DELETE FROM players WHERE name = 'mine'"
sql "INSERT INTO players (name, coins, goods) VALUES ('bk_5', 1, 1)"
tpin "begin
add mine 1 1
bulk 7 bk
commit" -c "$T/batch2.ini" --force
like "$ERR" "^stdin:3: .*already exists.*; nothing was added: the transaction is still open, as it was before$" \
    "bulk that fails in its third batch inside begin: undone alone"
is "$(names)" "old sp230 bk_5 mine" "bulk inside begin: commit keeps the rest, no bk_0 to bk_4"

tpin "begin
import $T/250.csv
bulk 5 ok
commit" -c "$T/batch.ini"
is "$RC" 0 "import and bulk inside begin, committed: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name LIKE 'fifo%' OR name LIKE 'ok%'")" \
    255 "import and bulk inside begin, committed: every row"

# A table made on first use commits there and then, and takes the
# savepoint with it: the import cannot be undone alone, so the whole
# transaction is rolled back, and said so.
{ mkcsv 250 fr; echo 'fr250,1'; } >"$T/fr.csv"
tpin "begin
import $T/fr.csv
commit" -c "$T/batch.ini" --table fresh --force
like "$ERR" "^stdin:2: .*; nothing was imported, and as what was sent could not be taken back alone \(.*\), the whole transaction was rolled back: nothing in it was kept \(start again with begin\)$" \
    "a savepoint the server lost: the whole transaction is rolled back, and said so"
like "$ERR" "^stdin:3: .*no transaction is open" "then commit has no transaction to commit"
is "$(sql "SELECT COUNT(*) FROM fresh")" 0 "a savepoint the server lost: nothing kept"
sql "DELETE FROM players"

# ---- a duplicate name is reported on its line ----

sql "INSERT INTO players (name, coins, goods) VALUES ('taken', 1, 1), ('alice', 1, 1)"
before=$(snapshot)
printf 'name,coins,goods\na,1,1\ntwin,1,1\nb,1,1\ntwin,2,2\n' >"$T/twin.csv"
tp -e "import $T/twin.csv"
refused "^-e:1: $T/twin.csv:5: the name 'twin' is also on line 3; nothing was imported$" \
    "a name twice in one batch"
tppipe "$T/twin.csv" -e 'import -'
refused "^-e:1: stdin:5: the name 'twin' is also on line 3; nothing was imported$" \
    "a name twice in one batch of standard input"
{ mkcsv 300 x; echo 'x7,1,1'; } >"$T/far.csv"
tppipe "$T/far.csv" -c "$T/batch.ini" -e 'import -'
refused "^-e:1: stdin:302: the name 'x7' is on an earlier line too \\(which one cannot be told: the input cannot be read twice\\); nothing was imported$" \
    "a name twice, batches apart, in a pipe (its earlier line is gone)"
printf 'name,coins,goods\na,1,1\ntaken,1,1\ntaken,2,2\n' >"$T/taken.csv"
tp -e "import $T/taken.csv"
refused "^-e:1: $T/taken.csv:3: a player named 'taken' already exists; nothing was imported$" \
    "a name in the table and twice in the file: its first line"
printf 'name,coins,goods\nAlice,1,1\n' >"$T/case.csv"
tp -e "import $T/case.csv"
refused "^-e:1: $T/case.csv:2: the name 'Alice' is taken: a player named 'alice' already exists \(the table's collation counts them as one name\); nothing was imported$" \
    "a name the table's collation counts as one already there"
printf 'name,coins,goods\nbob,1,1\nz,1,1\nBOB ,1,1\n' >"$T/case2.csv"
tp -e "import $T/case2.csv"
refused "^-e:1: $T/case2.csv:4: the name 'BOB ' is also on line 2; nothing was imported$" \
    "two names in the file that the table's collation counts as one"
{ mkcsv 300 y; echo 'Y7,1,1'; } >"$T/far2.csv"
tp -c "$T/batch.ini" -e "import $T/far2.csv"
refused "^-e:1: $T/far2.csv:302: the name 'Y7' is also on line 9; nothing was imported$" \
    "a file is read again to find the earlier line, batches back"
sql "DELETE FROM players"

# ---- too large for one TiDB transaction (8004, 8025, 9500) ----

sql "CREATE TABLE toobig (name VARCHAR(32) PRIMARY KEY, errno INT NOT NULL)
    ENGINE=MyISAM;
DELIMITER //
CREATE TRIGGER toobig_bi BEFORE INSERT ON players FOR EACH ROW BEGIN
  DECLARE e INT;
  SET e = (SELECT errno FROM toobig WHERE name = NEW.name);
  IF e IS NOT NULL THEN
    SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = e,
        MESSAGE_TEXT = 'Transaction is too large, size: 104857600';
  END IF;
END//" || bail "cannot create the trigger"
sql "INSERT INTO toobig VALUES ('big230', 8004), ('tiny1', 8025), ('bb_5', 8004)"
sql "INSERT INTO players (name, coins, goods) VALUES ('here', 1, 1)"
before=$(snapshot)
mkcsv 250 big >"$T/big.csv"
tp -c "$T/batch.ini" -e "import $T/big.csv"
refused "^-e:1: $T/big.csv: the import is too large for one transaction on this server \(server error 8004 \(HY000\): Transaction is too large, size: 104857600\): split the file and import the parts one by one, each all or nothing by itself; nothing was imported$" \
    "8004 in the third batch: too large, said so, with what to do"
mkcsv 3 tiny >"$T/big3.csv"
tp -e "import $T/big3.csv"
refused "^-e:1: $T/big3.csv: the import is too large for one transaction on this server \(server error 8025 " \
    "8025 in a one-statement import: too large too"
sql "UPDATE toobig SET errno = 9500 WHERE name = 'tiny1'"
tp -e "import $T/big3.csv"
refused "too large for one transaction on this server \(server error 9500 " \
    "9500: too large too"
tpin "begin
add mine 1 1
import $T/big.csv
commit" -c "$T/batch.ini" --force
like "$ERR" "^stdin:3: $T/big.csv: the import is too large .*; nothing was imported: the transaction is still open, as it was before$" \
    "8004 inside begin: the import undone, the transaction goes on"
is "$(names)" "here mine" "8004 inside begin: commit keeps the rest"
sql "DELETE FROM players WHERE name = 'mine'"
before=$(snapshot)
tp -c "$T/batch2.ini" -e 'bulk 8 bb'
refused "^-e:1: the bulk is too large for one transaction on this server \(server error 8004 .*\): add fewer players at a time, each all or nothing by itself; nothing was added$" \
    "bulk meeting 8004: too large, said so"
sql "DROP TRIGGER toobig_bi; DELETE FROM players"

# ---- retries: a file is run again whole, a statement as a statement ----

sql "CREATE TABLE fault (name VARCHAR(32) PRIMARY KEY, k INT NOT NULL,
    n INT NOT NULL DEFAULT 0) ENGINE=MyISAM;
DELIMITER //
CREATE TRIGGER fault_bi BEFORE INSERT ON players FOR EACH ROW BEGIN
  IF (SELECT n < k FROM fault WHERE name = NEW.name) THEN
    UPDATE fault SET n = n + 1 WHERE name = NEW.name;
    SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 9007,
        MESSAGE_TEXT = 'injected conflict';
  END IF;
END//" || bail "cannot create the fault trigger"
fault() { sql "DELETE FROM fault; INSERT INTO fault VALUES ('$1', $2, 0)"; }
hits() { sql "SELECT n FROM fault"; }

fault tiny1 99
tp -e "import $T/big3.csv"
is "$RC" 1 "a conflict every time, one statement: exit 1"
like "$ERR" "server error 9007 .*\(gave up after 5 attempts\); nothing was imported$" \
    "one statement: gives up after the retries"
is "$(hits)" 5 "one statement: retried as a statement, 5 attempts in all"
fault sp230 2
tp -c "$T/batch.ini" -e "import $T/sp.csv"
is "$RC" 0 "a conflict twice in the third batch of a file: exit 0"
is "$(printf '%s\n' "$ERR" | grep -c 'retrying (attempt [23] of 5)')" 2 \
    "the file's transaction was run again twice, and said so"
is "$(sql "SELECT COUNT(*), COUNT(DISTINCT name) FROM players WHERE name LIKE 'sp%'")" \
    "250	250" "the file was read again from its start: every row once"
sql "DELETE FROM players"
fault sp230 2
tppipe "$T/sp.csv" -c "$T/batch.ini" -e 'import -'
is "$RC" 1 "a conflict in the third batch of a pipe: exit 1"
like "$ERR" "server error 9007 .*\(not tried again: its input cannot be read twice\); nothing was imported$" \
    "a pipe is not run again, and the error says why"
is "$(hits)" 1 "a pipe: one attempt"
is "$(sql "SELECT COUNT(*) FROM players")" 0 "a pipe: nothing kept"
sql "DROP TRIGGER fault_bi"

# ---- batches sized by the server's max_allowed_packet ----

com() { sql "SHOW GLOBAL STATUS LIKE 'Com_$1'" | cut -f2; }
# 28 four-byte characters and a number: names of 128 bytes or so.
wide=$(printf '\360\237\216\211%.0s' $(seq 28))
awk -v p="$wide" 'BEGIN { print "name,coins,goods";
    for (i = 0; i < 1000; i++) printf "%s%04d,%d,1\n", p, i, i }' >"$T/wide.csv"
sql "SET GLOBAL max_allowed_packet = 16384"
s0=$(com select) i0=$(com insert)
tp -e "import $T/wide.csv"
s1=$(com select) i1=$(com insert)
is "$RC" 0 "1000 rows of long names, max_allowed_packet 16 KiB: exit 0"
is "$ERR" "" "a batch too large for one packet is split, never refused"
is "$(sql "SELECT COUNT(*), SUM(coins), MAX(LENGTH(name)) FROM players")" \
    "1000	499500	116" "every row, in as many INSERTs as the packet needs"
ok $([ $((i1 - i0)) -ge 8 ]; echo $?) "split into at least 8 INSERTs ($((i1 - i0)))"
ok $([ $((s1 - s0)) -le 2 ]; echo $?) \
    "max_allowed_packet is read once for the connection, not per batch ($((s1 - s0)) reads)"
s0=$(com select)
tp -e "import $T/3.csv"
s1=$(com select)
# One SELECT per connection is the check of the table's shape.
is "$((s1 - s0))" 1 "a batch smaller than any packet needs no read of max_allowed_packet"
sql "DELETE FROM players"
tp -e "bulk 1000 '$(printf '\360\237\216\211%.0s' $(seq 26))'"
is "$RC" 0 "bulk 1000 of long names, max_allowed_packet 16 KiB: exit 0"
is "$(sql "SELECT COUNT(*) FROM players")" 1000 "bulk: every row"
sql "DELETE FROM players"
awk -v p="$wide" 'BEGIN { for (i = 0; i < 600; i++)
    printf "add %s%04d %d 1\n", p, i, i }' >"$T/wide.tp"
tp <"$T/wide.tp"
is "$RC" 0 "600 piped adds of long names, max_allowed_packet 16 KiB: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c '^[0-9][0-9]*$')" 600 "every add says its id"
is "$(sql "SELECT COUNT(*) FROM players")" 600 "piped adds: every row"
sql "SET GLOBAL max_allowed_packet = 16777216; DELETE FROM players"

# ---- at a terminal (tmux): typed data, and progress without a total ----

if ! command -v tmux >/dev/null 2>&1; then
	skip "at a terminal: typed data, and progress without a total" \
	    "tmux is not installed (apt-get install tmux)"
	done_testing
fi
TMUX_SOCK=tpi$$
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
stop_all() {
	tm kill-server 2>/dev/null
	[ -n "${tmux_path:-}" ] && rm -f "$tmux_path"
	cleanup
}
trap stop_all EXIT
# shell NAME ARGS...: tidbplay at a terminal of its own, in session NAME.
shell() {
	S=$1
	shift
	rm -f "$T/exit"
	tpenv_write
	tm new-session -d -s "$S" -x 120 -y 40 \
	    "'$T/tpenv' TERM=xterm LC_ALL=C.UTF-8 '$TIDBPLAY' -H '$TP_HOST' \
	    -P '$TP_PORT' -u '$TP_USER' --ca '$TP_CA' $*; \
	    echo \$? >'$T/exit'; sleep 600"
	tmux_path=$(tm display-message -p '#{socket_path}')
}
pane() { tm capture-pane -p -J -S -2000 -t "$S" 2>/dev/null; }
screen_has() { pane | grep -Eq -- "$1"; }
until_ok() {
	_i=0
	while [ $_i -lt 150 ]; do
		"$@" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
wait_screen() {
	if until_ok screen_has "$1"; then
		pass "$2"
	else
		fail "$2"
		diag "the screen never showed: $1" "it shows:" "$(pane | tail -n 15)"
	fi
}
typein() { tm send-keys -t "$S" -l "$1"; tm send-keys -t "$S" Enter; }
count_is() { [ "$(sql "SELECT COUNT(*) FROM players WHERE name LIKE '$1%'")" = "$2" ]; }

sql "DELETE FROM players"
shell tty
wait_screen '^tidbplay> $' "at a terminal: the prompt"
typein 'import -'
wait_screen 'end with a line \\\. or Ctrl-D' "import - at a terminal says how the data ends"
typein 'name,coins,goods'
typein 'tty1,1,2'
typein '\.'
wait_screen '^imported 1 player from standard input$' \
    "typed rows up to \\. are imported"
until_ok count_is tty 1
ok $? "the typed row is in the table"
typein 'import -'
typein 'name,coins,goods'
typein 'tty2,3,4'
tm send-keys -t "$S" C-d
wait_screen '^imported 1 player from standard input$' "Ctrl-D ends the typed data too"
tm send-keys -t "$S" C-l
typein 'add tty3 5 6'
wait_screen "^added 'tty3'" "the shell goes on after Ctrl-D ended the data"
until_ok count_is tty 3
ok $? "both typed imports and the add are in the table"

typein 'import -'
typein 'name,coins,goods'
typein 'tty_c1,1,1'
tm send-keys -t "$S" C-c
wait_screen '^error: stdin:[0-9]+: cancelled; nothing was imported$' \
    "Ctrl-C while rows are typed cancels the import at once"
typein 'add tty_c2 1 1'
wait_screen "^added 'tty_c2'" "after Ctrl-C the prompt takes commands again"
until_ok count_is tty_c2 1
ok $? "the command after the cancelled import ran"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'tty_c1'")" 0 \
    "the cancelled import kept nothing"

# -e 'import -' at a terminal: the rows are typed there too.
shell tty_e -e "'import -'"
wait_screen 'end with a line \\\. or Ctrl-D' "-e 'import -' at a terminal says how the data ends"
typein 'name,coins,goods'
typein 'tty_e1,1,1'
typein '\.'
until_ok test -s "$T/exit"
is "$(cat "$T/exit")" 0 "-e 'import -' at a terminal: exit 0"
until_ok count_is tty_e 1
ok $? "-e 'import -' at a terminal: the typed row is in the table"

# Progress once the import has run a second, as rows, the total unknown.
mkcsv 400 prog >"$T/400.csv"
rm -f "$T/fifo" "$T/go"
mkfifo "$T/fifo"
{
	head -n 1 "$T/400.csv"
	sleep 1.5
	sed -n '2,251p' "$T/400.csv"
	until_ok test -f "$T/go"
	sed -n '252,$p' "$T/400.csv"
} >"$T/fifo" &
writer=$!
shell prog -c "'$T/batch.ini'" -e "'import $T/fifo'"
wait_screen '^import: 200 rows' "progress on a terminal counts the rows sent"
touch "$T/go"
# Should tidbplay never open the FIFO, the writer is let go all the same.
until_ok sh -c "! kill -0 $writer 2>/dev/null" || cat "$T/fifo" >/dev/null
wait "$writer"
until_ok test -s "$T/exit"
is "$(cat "$T/exit")" 0 "the import with progress: exit 0"
until_ok count_is prog 400
ok $? "the import with progress: every row"

# Ctrl-C while a file's batches are queued on a slow server (5 s a batch
# here): the one running is stopped, and the ones behind it are neither
# waited for nor left to run: the connection goes with them (KILL
# CONNECTION), and nothing of the import is kept.
sql "CREATE TRIGGER slow_rows BEFORE INSERT ON players FOR EACH ROW SET NEW.coins = NEW.coins + 0 * SLEEP(IF(NEW.name LIKE 'slowc\\_%', 0.005, 0))"
mkcsv 20000 slowc_ >"$T/slowc.csv"
tm kill-session -t "$S" 2>/dev/null
shell slowc
wait_screen '^tidbplay> $' "the slow import's shell: the prompt"
typein "import $T/slowc.csv"
wait_screen '^import: [0-9]+ rows' "the slow import shows its progress"
tm send-keys -t "$S" C-c
wait_screen 'cancelled.*nothing was imported' \
    "Ctrl-C stops an import whose batches are queued on a slow server"
# Left to run, the next batch would go on for seconds after the message.
stopped() {
	[ "$(sql "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'INSERT INTO%'")" = 0 ]
}
_i=0
until stopped || [ $_i -ge 20 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
stopped
ok $? "the batches queued behind the cancelled one do not run on the server"
typein 'add slowc_after 1 1'
wait_screen "^added 'slowc_after'" "the shell goes on after the cancelled import"
until_ok count_is slowc_after 1
ok $? "the add after the cancelled import is committed"
until_ok count_is slowc_ 1
ok $? "nothing of the cancelled import is kept"
sql "DROP TRIGGER slow_rows"

done_testing
