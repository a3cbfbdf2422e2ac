#!/bin/sh
# The terminal, under tmux: the prompt setting and its escapes; source at
# the prompt (file-name completion, FILE:LINE: errors); and the signals
# that end the program (SIGTERM, SIGHUP, SIGQUIT) giving the terminal back
# as it was and keeping the history.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

sql "$PLAYERS_DDL"
sql "INSERT INTO players (name, coins, goods) VALUES ('victim', 7, 7)"

mkdir -p "$T/config/tidbplay"
ini() {
	printf '%s\n' "$@" >"$T/config/tidbplay/tidbplay.ini"
}

# ---- the prompt setting ----

ini '[shell]' "prompt = '\\u@\\h:\\p [\\d]\\T \\\\ \\q> '"
start_shell -q
p="app@$TP_HOST:$TP_PORT [test]"
wait_prompt "$p \\ q>" "prompt: \\u \\h \\p \\d, \\\\ a backslash, \\q just q"
typein begin
key Enter
wait_prompt "$p* \\ q>" "prompt: \\T is * while a transaction is open"
# The server ends the transaction: its connection is killed under it.
kill_conn() {
	sql "KILL $(sql "SELECT id FROM information_schema.processlist
	    WHERE user = 'app' AND command <> 'Killed' LIMIT 1")"
}
kill_conn
typein 'set coins victim 8'
key Enter
wait_screen "rolled it back" "the killed connection: the transaction is said to be gone"
wait_prompt "$p! \\ q>" "prompt: \\T is ! once the server has ended the transaction"
typein rollback
key Enter
wait_prompt "$p \\ q>" "prompt: after rollback, no mark"
is "$(sql "SELECT coins FROM players WHERE name = 'victim'")" 7 \
    "the change in the lost transaction is not in the table"
typein quit
key Enter
wait_exit "quit leaves"

# The built-in prompt when the setting is unset, with both marks.
ini '[shell]' 'timing = off'
start_shell -q
wait_prompt "tidbplay>" "no prompt setting: the built-in prompt"
typein begin
key Enter
wait_prompt "tidbplay (txn)>" "the built-in prompt marks an open transaction"
kill_conn
typein 'set coins victim 8'
key Enter
wait_prompt "tidbplay (txn gone)>" "the built-in prompt marks a transaction the server ended"
typein rollback
key Enter
wait_prompt "tidbplay>" "after rollback the plain prompt"

# ---- source at the prompt ----

mkdir "$T/scripts"
printf '%s\n' 'add src1 1 1' '' 'show nobody' 'add never 1 1' \
    >"$T/scripts/fails_here.tp"
printf '%s\n' 'add src2 2 2' >"$T/scripts/works.tp"
fresh "tidbplay>"
typein "source $T/scripts/fa"
key Tab
wait_prompt "tidbplay> source $T/scripts/fails_here.tp" \
    "source: Tab completes the file name"
key Enter
wait_screen "^$T/scripts/fails_here\\.tp:3: .*nobody" \
    "source at the terminal: the error says FILE:LINE:"
wait_prompt "tidbplay>" "source: the prompt comes back"
is "$(sql "SELECT name FROM players WHERE name LIKE 'src%' OR name = 'never'
    ORDER BY id" | tr '\n' ' ')" "src1 " "source: stopped at the failing line"
fresh "tidbplay>"
typein "show nobody"
key Enter
wait_screen "^error: " "typed at the prompt, an error is still error:"
typein "source $T/scripts/works.tp; count"
key Enter
wait_screen "^\\| +3 \\|$" \
    "after a failed command, a good source does not fail: the count after it ran"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'src2'")" 1 \
    "the sourced add ran"

# ---- Tab when the server has closed the connection ----

# TiDB Serverless closes idle connections: completion connects again, and
# what it says about that goes on a line of its own, above the prompt.
fresh "tidbplay>"
kill_conn
typein 'show vic'
key Tab
wait_prompt "tidbplay> show victim" \
    "Tab after the server closed the connection: the name is completed"
like "$(pane)" "^tidbplay: .*reconnected" "the reconnect is said on a line of its own"
like "$(pane)" "^tidbplay> show vic$" "the line as it was stays above it"
key C-u
typein quit
key Enter
wait_exit "quit leaves"

# ---- signals that end the program give the terminal back ----

# term_test SIGNAL STATUS: at the prompt, with a line half typed.
term_test() {
	start_shell -q
	wait_prompt "tidbplay>" "$1: a shell"
	typein "count"
	key Enter
	wait_screen "^\\| +[0-9]+ \\|$" "$1: a command ran"
	typein "add half typed"
	wait_prompt "tidbplay> add half typed" "$1: a line half typed"
	kill -"$1" "$SHELL_PID"
	wait_exit "$1 at the prompt ends tidbplay"
	is "$(cat "$T/exit")" "$2" "$1: ends by the signal (status $2)"
	is "$(cat "$T/stty.after")" "$(cat "$T/stty.before")" \
	    "$1: the terminal's settings are as they were"
	like "$(cat "$T/stty.a")" "(^|[ ;])icanon( |;|$)" "$1: stty -a says icanon"
	like "$(cat "$T/stty.a")" "(^|[ ;])echo( |;|$)" "$1: stty -a says echo"
	is "$(tail -n 1 "$T/hist")" count "$1: the history file has the command"
	is "$(grep -c 'half typed' "$T/hist")" 0 "$1: not the line half typed"
}

term_test TERM 143
term_test HUP 129
term_test QUIT 131

# While a command runs (the terminal cooked, its ^C echo off) and at del's
# question (readline has it again).
start_shell -q
wait_prompt "tidbplay>" "TERM while a command waits: a shell"
hold_rows "name = 'victim'"
ok $? "another client holds the row lock on victim"
typein 'set coins victim 5'
key Enter
app_runs 'UPDATE%'
ok $? "the update waits for the lock"
kill -TERM "$SHELL_PID"
wait_exit "TERM while a command waits ends tidbplay"
is "$(cat "$T/exit")" 143 "TERM while a command waits: status 143"
is "$(cat "$T/stty.after")" "$(cat "$T/stty.before")" \
    "TERM while a command waits: the terminal's settings are as they were"
release_rows

start_shell -q
wait_prompt "tidbplay>" "HUP at a question: a shell"
typein 'del victim'
key Enter
wait_screen "\\[y/N\\]" "del asks"
kill -HUP "$SHELL_PID"
wait_exit "HUP at del's question ends tidbplay"
is "$(cat "$T/exit")" 129 "HUP at the question: status 129"
is "$(cat "$T/stty.after")" "$(cat "$T/stty.before")" \
    "HUP at the question: the terminal's settings are as they were"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'victim'")" 1 \
    "HUP at the question: nothing deleted"

done_testing
