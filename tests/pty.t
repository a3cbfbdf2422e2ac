#!/bin/sh
# A real terminal session in tmux: the prompt, completion of commands,
# sub-words and player names, the history file, del's question, the
# transaction mark in the prompt, Ctrl-C at the prompt, and Ctrl-C
# cancelling an update that waits for a row lock held by another client.
# Every wait polls the screen or the server in a bounded loop; no sleep is
# an assertion.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

sql "$PLAYERS_DDL"
sql "INSERT INTO players (name, coins, goods) VALUES
    ('zanzibar_player', 1, 2), ('victim', 7, 7), ('other', 3, 3)"

start_shell

# ---- the banner and the prompt ----

wait_screen "^Type help for the commands" "the banner"
wait_screen "^tidbplay $(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac" | sed 's/\./\\./g'), connected to app@$TP_HOST:$TP_PORT, database test$" \
    "the banner names the version and the connection"
wait_screen "TLSv1\.[23], certificate verified$" "the banner says the server was verified"
wait_prompt "tidbplay>" "the prompt 'tidbplay> '"
unlike "$(pane)" "app-secret" "the banner does not show the password"

# ---- completion of a command word, then the history file ----

typein cou
key Tab
wait_prompt "tidbplay> count" "Tab completes 'cou' to 'count'"
key Enter
wait_screen "^\| +3 \|$" "the completed count runs"
wait_prompt "tidbplay>" "the prompt comes back after count"
until_ok test -s "$T/hist"
is "$(stat -c %a "$T/hist" 2>&1)" 600 "the history file is created with mode 0600"
is "$(tail -n 1 "$T/hist")" count "the command is in the history file"

fresh "tidbplay>"
typein 'set c'
key Tab
wait_prompt "tidbplay> set coins" "Tab completes the sub-word 'c' to 'coins'"
key C-u

# ---- completion of a player name ----

fresh "tidbplay>"
typein 'show zanz'
key Tab
wait_prompt "tidbplay> show zanzibar_player" "Tab completes a player name from the server"
key Enter
wait_screen "^\| +[0-9]+ \| zanzibar_player \| +1 \| +2 \|$" "show of the completed name runs"
wait_prompt "tidbplay>" "the prompt comes back after show"

# Names with blanks and quotes complete quoted, and a quoted word before
# the one completed counts as one word.
sql "INSERT INTO players (name, coins, goods) VALUES ('two words', 1, 1),
    ('it''s', 1, 1)"
fresh "tidbplay>"
typein "show 'two w"
key Tab
wait_prompt "tidbplay> show 'two words'" "Tab inside an open quote completes the name and closes it"
key C-u
fresh "tidbplay>"
typein 'show two'
key Tab
wait_prompt "tidbplay> show 'two words'" "Tab completes a name with a blank, quoted"
key C-u
fresh "tidbplay>"
typein "trade 'two words' it"
key Tab
wait_prompt "tidbplay> trade 'two words' \"it's\"" \
    "after a quoted name, the seller completes; a name with ' is double-quoted"
key C-u
sql "DELETE FROM players WHERE name IN ('two words', 'it''s')"

# ---- del asks first, showing the record ----

fresh "tidbplay>"
id=$(sql "SELECT id FROM players WHERE name = 'zanzibar_player'")
typein 'del zanzibar_player'
key Enter
wait_screen "^Delete 'zanzibar_player' \(id $id, 1 coin, 2 goods\)\? \[y/N\]" \
    "del asks, showing the record"
typein n
key Enter
wait_screen "^not deleted$" "answering n: not deleted"
wait_prompt "tidbplay>" "answering n: the prompt comes back"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'zanzibar_player'")" 1 \
    "answering n keeps the player"

fresh "tidbplay>"
typein 'del zanzibar_player'
key Enter
wait_screen "\[y/N\]" "del asks again"
key C-c
wait_screen "\[y/N\] \^C$" "Ctrl-C at the question shows ^C"
wait_screen "^not deleted$" "Ctrl-C at the question answers no"
wait_prompt "tidbplay>" "Ctrl-C at the question: the prompt comes back"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'zanzibar_player'")" 1 \
    "Ctrl-C at the question keeps the player"

fresh "tidbplay>"
typein 'del zanzibar_player'
key Enter
wait_screen "\[y/N\]" "del asks a third time"
typein y
key Enter
wait_screen "^deleted 'zanzibar_player'$" "answering y: deleted"
wait_prompt "tidbplay>" "answering y: the prompt comes back"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'zanzibar_player'")" 0 \
    "answering y deletes the player"

# ---- begin marks the prompt ----

fresh "tidbplay>"
typein begin
key Enter
wait_prompt "tidbplay (txn)>" "begin: the prompt shows the open transaction"
typein 'set coins other 99'
key Enter
# The prompt reads (txn) before the keys are even echoed: wait for the
# set's own answer, which says it succeeded.
wait_screen "^'other' now has 99 coins$" "inside the transaction: the set succeeded"
wait_prompt "tidbplay (txn)>" "inside the transaction the mark stays"
is "$(sql "SELECT coins FROM players WHERE name = 'other'")" 3 \
    "inside the transaction: others do not see the change yet"
typein rollback
key Enter
wait_prompt "tidbplay>" "rollback: the plain prompt again"
is "$(sql "SELECT coins FROM players WHERE name = 'other'")" 3 \
    "rollback: nothing changed"

# ---- Ctrl-C at the prompt clears the line ----

fresh "tidbplay>"
typein 'add ctrlc_junk 1 1'
wait_prompt "tidbplay> add ctrlc_junk 1 1" "a line typed but not entered"
key C-c
wait_screen "^tidbplay> add ctrlc_junk 1 1\^C$" "Ctrl-C at the prompt ends the line with ^C"
wait_prompt "tidbplay>" "Ctrl-C at the prompt: an empty prompt"
typein count
key Enter
wait_screen "^\| +2 \|$" "after Ctrl-C the next line runs alone"
wait_prompt "tidbplay>" "the prompt comes back after count"
unlike "$(pane)" "error" "after Ctrl-C no error: the cleared text was not run"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'ctrlc_junk'")" 0 \
    "Ctrl-C at the prompt: the typed command never ran"

# ---- Ctrl-C cancels an update waiting for a row lock ----

fresh "tidbplay>"
hold_rows "name = 'victim'"
ok $? "another client holds the row lock on victim"
typein 'set coins victim 5'
key Enter
app_runs 'UPDATE%'
ok $? "the update waits for the lock (SHOW PROCESSLIST)"
key C-c
wait_screen "^error: cancelled" "Ctrl-C: the update is cancelled and says so"
wait_prompt "tidbplay>" "Ctrl-C: the prompt comes back"
unlike "$(pane)" "\^C" "Ctrl-C while a command runs: no ^C in the output"
is "$(sql "SELECT COUNT(*) FROM information_schema.processlist
    WHERE user = 'app' AND info LIKE 'UPDATE%'")" 0 \
    "the update is no longer on the server"
rows_held
ok $? "the other client still holds its lock"
fresh "tidbplay>"
typein 'show victim'
key Enter
wait_screen "^\| +[0-9]+ \| victim +\| +7 \| +7 \|$" \
    "the session goes on: show victim, unchanged"
wait_prompt "tidbplay>" "the prompt after show"
is "$(sql "SELECT coins FROM players WHERE name = 'victim'")" 7 \
    "the cancelled update changed nothing"
release_rows

fresh "tidbplay>"
typein 'set coins victim 5'
key Enter
wait_screen "^'victim' now has 5 coins$" "with the lock gone the same update works"
is "$(sql "SELECT coins FROM players WHERE name = 'victim'")" 5 \
    "the update is in the table"

# ---- Ctrl-C stops a long bulk, between batches or inside one ----

fresh "tidbplay>"
before=$(snapshot)
typein 'bulk 1000000 long'
key Enter
wait_screen "^bulk: [0-9]+ of 1000000 rows" "a long bulk shows its progress on the terminal"
key C-c
wait_screen "^error: cancelled" "Ctrl-C cancels the bulk"
wait_prompt "tidbplay>" "after the cancelled bulk: the prompt"
is "$(snapshot)" "$before" "the cancelled bulk added nothing (one transaction)"
unlike "$(pane | tail -n 3)" "bulk: [0-9]+ of" "the progress line is cleared"

# ---- Ctrl-D leaves ----

key C-d
wait_exit "Ctrl-D at the prompt leaves the shell"
is "$(grep -c . "$T/hist")" 11 "every command typed is in the history file"
unlike "$(cat "$T/hist")" "ctrlc_junk" "a line cleared with Ctrl-C is not in the history"

# ---- the history comes back in a new shell ----

start_shell
wait_prompt "tidbplay>" "a second shell: the prompt"
key Up
wait_prompt "tidbplay> bulk 1000000 long" "Up brings back the last command of the first shell"
key C-u C-d
wait_exit "the second shell leaves"

# ---- Ctrl-Z under a shell with job control, and fg ----

if command -v bash >/dev/null 2>&1; then
	tm rename-session -t tp second
	tm new-session -d -s tp -x 120 -y 40 \
	    "env PS1='jobshell\$ ' HOME='$T' TERM=xterm bash --norc --noprofile -i"
	tm kill-session -t second
	wait_prompt 'jobshell$' "a shell with job control"
	typein "'$T/tpenv' LC_ALL=C.UTF-8 '$TIDBPLAY' -q -H '$TP_HOST' \
	    -P '$TP_PORT' -u '$TP_USER' --ca '$TP_CA'"
	key Enter
	wait_prompt "tidbplay>" "tidbplay runs under the shell"
	fresh "tidbplay>"
	typein cou
	key C-z
	wait_screen "Stopped" "Ctrl-Z at the prompt stops tidbplay"
	wait_prompt 'jobshell$' "the shell has the terminal"
	typein fg
	key Enter
	wait_prompt "tidbplay> cou" "fg: the prompt and the typed text are back"
	typein nt
	key Enter
	wait_screen "^\| +2 \|$" "the line typed before and after Ctrl-Z runs"
	unlike "$(pane)" "^nt$" "after fg the terminal does not echo twice"
	wait_prompt "tidbplay>" "the prompt after count"
	typein quit
	key Enter
	wait_prompt 'jobshell$' "quit returns to the shell"
else
	skip "Ctrl-Z under a shell with job control, and fg" \
	    "bash is not installed"
fi

done_testing
