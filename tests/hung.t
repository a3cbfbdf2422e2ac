#!/bin/sh
# A hung server (kill -STOP on mariadbd), under tmux: one Ctrl-C gives the
# prompt back within two seconds when a statement waits; Tab completion of
# names gives up soon with no candidates and nothing said over the prompt;
# once the server runs again (kill -CONT) the next command connects again
# and works, and so does completion.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

tmux_extra_cleanup=resume

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# within_2s DESCRIPTION: Ctrl-C, then the prompt is back in two seconds.
ctrl_c_within_2s() {
	_t0=$(now_ms)
	key C-c
	if until_ok prompt_is "tidbplay>"; then
		_ms=$(($(now_ms) - _t0))
		ok $((_ms <= 2000 ? 0 : 1)) "$1 (the prompt after $_ms ms)"
	else
		fail "$1 (no prompt)"
		diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}

sql "$PLAYERS_DDL"
sql "INSERT INTO players (name, coins, goods) VALUES ('victim', 7, 7)"

start_shell -q
wait_prompt "tidbplay>" "a shell"
typein count
key Enter
wait_screen "^\\| +1 \\|$" "count while the server runs"
wait_prompt "tidbplay>" "the prompt"

# Each case starts from a live connection: the server runs, a command
# (re)connects, then the server hangs.
live() {
	resume
	fresh "tidbplay>"
	typein count
	key Enter
	wait_screen "^\\| +[0-9]+ \\|$" "$1: the server runs, a command works"
	wait_prompt "tidbplay>" "$1: the prompt"
	fresh "tidbplay>"
	hang
}

# ---- a read waits on a hung server ----

live "a read"
typein count
key Enter
sleep 1		# not an assertion: time for the count to be waiting
ctrl_c_within_2s "Ctrl-C with a read waiting on a hung server"
unlike "$(last_line)" "count" "the count was given up"

# ---- Tab completion of a name ----

resume
fresh "tidbplay>"
typein count
key Enter
wait_screen "^\\| +[0-9]+ \\|$" "Tab: the server runs, a command works"
fresh "tidbplay>"
typein 'show vic'
key Tab
wait_prompt "tidbplay> show victim" "Tab completes a name while the server runs"
key C-u
hang
typein 'show vic'
_t0=$(now_ms)
key Tab
typein 'X'
if until_ok prompt_is "tidbplay> show vicX"; then
	_ms=$(($(now_ms) - _t0))
	ok $((_ms <= 2000 ? 0 : 1)) "Tab on a hung server gives up soon ($_ms ms)"
else
	fail "Tab on a hung server gives up soon"
	diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 5)"
fi
unlike "$(pane)" "error|lost" "Tab on a hung server: nothing said over the prompt"
key C-u

# ---- a write waits on a hung server ----
# Its fate is unknown, and it is said so; its record is not read back
# from the server that hangs (that would mean a new connection to it).

resume
sql "INSERT INTO players (name, coins, goods) VALUES ('writer', 1, 1)"
fresh "tidbplay>"
typein 'set coins writer +1'
key Enter
wait_prompt "tidbplay>" "the prompt"
is "$(sql "SELECT coins FROM players WHERE name = 'writer'")" 2 \
    "a write while the server runs"
fresh "tidbplay>"
hang
typein 'set coins writer +1'
key Enter
sleep 1		# not an assertion: time for the write to be waiting
ctrl_c_within_2s "Ctrl-C with a write waiting on a hung server"
like "$(screen)" "may or may not have been applied" \
    "the write is reported as one that may or may not have been applied"
like "$(screen)" "now: no connection: the server did not answer" \
    "its record is not read from the server that hangs"

# The first use of a statement on a connection waits in its prepare.
live "a write's prepare"
typein 'set goods writer +1'
key Enter
sleep 1		# not an assertion: time for the prepare to be waiting
ctrl_c_within_2s "Ctrl-C with a write's prepare waiting on a hung server"
like "$(screen)" "the server did not answer, so the connection was dropped" \
    "it says the connection was dropped"

# ---- the server comes back ----

resume
fresh "tidbplay>"
typein 'show victim'
key Enter
wait_screen "^\\| +[0-9]+ \\| victim +\\| +7 \\| +7 \\|$" \
    "the server runs again: the next command connects and works"
wait_prompt "tidbplay>" "the prompt"
fresh "tidbplay>"
typein 'show vic'
key Tab
wait_prompt "tidbplay> show victim" "Tab completes names again"
key C-u
typein quit
key Enter
wait_exit "quit"

done_testing
