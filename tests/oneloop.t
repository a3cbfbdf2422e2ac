#!/bin/sh
# One thread, one wait (issue "connection"). In a script, a server that
# accepts and never speaks is "timed out", and when every host of a list
# fails each is named. At a real terminal (tmux),
# Ctrl-C gives the prompt back within about two seconds whatever tidbplay
# waits on — a reconnect to a server that accepts and never answers (one
# host, and a host list), a FIFO's other end for export and for import
# (and the import does not run once a writer comes), the pager during a
# long list (and the next command runs at once, not refused) — and while a
# command waits there is one thread in the process, so nothing is shared.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

silent_pids=
stop_silent() {
	resume
	for _p in $silent_pids; do
		kill "$_p" 2>/dev/null
	done
}
tmux_extra_cleanup=stop_silent

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# A listener that accepts every connection and never says a word, as a
# server that hangs before its greeting does. Prints its port.
silent_listener() {
	_pf=$(mktemp "$T/silent.XXXXXX")
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % s.getsockname()[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' "$_pf" </dev/null >/dev/null 2>&1 &
	silent_pids="$silent_pids $!"
	until_ok test -s "$_pf" || bail "the silent listener did not start"
	cat "$_pf"
}

# ctrl_c_within_2s DESCRIPTION: Ctrl-C, then the prompt is back in 2 s.
ctrl_c_within_2s() {
	_t0=$(now_ms)
	key C-c
	if until_ok prompt_is "tidbplay>"; then
		_ms=$(($(now_ms) - _t0))
		ok $((_ms <= 2500 ? 0 : 1)) "$1 (the prompt after $_ms ms)"
	else
		fail "$1 (no prompt)"
		diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}

# Our shell's connection, killed from the server's side.
kill_ours() {
	for _id in $(sql "SELECT id FROM information_schema.processlist
	    WHERE user = '$TP_USER'"); do
		sql "KILL CONNECTION $_id" 2>/dev/null
	done
}

# threads: how many threads the shell has now.
threads() {
	ls "/proc/$SHELL_PID/task" | wc -l
}

cat >"$T/slow.ini" <<EOF
[connection]
connect_timeout = 60
EOF

sql "CREATE TABLE IF NOT EXISTS players (id INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(32), coins INTEGER, goods INTEGER, PRIMARY KEY (id),
    UNIQUE (name))"
sql "INSERT INTO players (name, coins, goods) VALUES ('victim', 7, 7)"

# ---- in a script: a server that never speaks, and a list that fails ----

s0=$(silent_listener)
printf '[connection]\nconnect_timeout = 1\n' >"$T/quick.ini"
tp -c "$T/quick.ini" -H "127.0.0.1:$s0" -e count
is "$RC" 3 "a server that accepts and never speaks: exit 3"
like "$ERR" "127\\.0\\.0\\.1:$s0: timed out" "it says timed out, not the library's words"
unlike "$ERR" "system error|handshake:" "no raw library message"
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tp -c "$T/quick.ini" -H "127.0.0.1:$s0,127.0.0.1:$closed" -e count
is "$RC" 3 "every host of a list fails: exit 3"
like "$ERR" ":$s0: timed out.*:$closed: connection refused" \
    "each host's failure is named, in the order tried"

# ---- a reconnect to the one host, which hangs ----

start_shell -q -c "$T/slow.ini"
wait_prompt "tidbplay>" "a shell"
typein count
key Enter
wait_screen "^\\| +1 \\|$" "count while the server runs"
fresh "tidbplay>"
kill_ours
hang
typein count
key Enter
# The count finds the connection gone and connects again, to a server
# whose kernel takes the connection and which never greets.
sleep 1		# not an assertion: time for the connect to be waiting
is "$(threads)" 1 "while a reconnect waits there is one thread"
ctrl_c_within_2s "Ctrl-C during a reconnect to a server that never answers"
like "$(screen)" "cancelled" "it says the reconnect was cancelled"
resume
fresh "tidbplay>"
typein count
key Enter
wait_screen "^\\| +1 \\|$" "the server runs again: the next command connects"
fresh "tidbplay>"
typein quit
key Enter
wait_exit "quit"

# ---- a reconnect along a host list whose other hosts never answer ----

s1=$(silent_listener)
s2=$(silent_listener)
start_shell -q -c "$T/slow.ini" -H \
    "$TP_HOST:$TP_PORT,127.0.0.1:$s1,127.0.0.1:$s2"
wait_prompt "tidbplay>" "a shell with a host list"
typein count
key Enter
wait_screen "^\\| +1 \\|$" "count on the first host"
fresh "tidbplay>"
kill_ours
typein count
key Enter
sleep 1		# not an assertion: time for the connect to the next host
ctrl_c_within_2s "Ctrl-C during a reconnect along a host list that never answers"
like "$(screen)" "cancelled" "it says the reconnect was cancelled"
unlike "$(screen)" "^\\| +1 \\|$" "the count did not run after the Ctrl-C"
fresh "tidbplay>"
typein quit
key Enter
wait_exit "quit"

# ---- a FIFO's other end ----

start_shell -q
wait_prompt "tidbplay>" "a shell for the FIFOs"
mkfifo "$T/out.fifo" "$T/in.fifo"
typein "export $T/out.fifo"
key Enter
sleep 1		# not an assertion: time for the open to be waiting
ctrl_c_within_2s "Ctrl-C while export waits for the FIFO's reader"
like "$(screen)" "cancelled while waiting for a reader" \
    "it says the export was cancelled"
fresh "tidbplay>"
typein "import $T/in.fifo"
key Enter
sleep 1		# not an assertion: time for the open to be waiting
ctrl_c_within_2s "Ctrl-C while import waits for the FIFO's writer"
like "$(screen)" "cancelled while waiting for a writer" \
    "it says the import was cancelled"
# A writer that comes now finds no reader, and nothing is imported.
timeout 3 sh -c "printf 'name,coins,goods\nlatecomer,1,1\n' >'$T/in.fifo'" \
    2>/dev/null
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'latecomer'")" 0 \
    "the cancelled import does not run when a writer comes"
fresh "tidbplay>"
typein quit
key Enter
wait_exit "quit"

# ---- the pager, during a long list ----

sql "INSERT INTO players (name, coins, goods)
    SELECT CONCAT('p', seq), seq, seq FROM seq_1_to_20000"
TP_SHELL_ENV="PAGER=less" start_shell -q
wait_prompt "tidbplay>" "a shell with a pager"
typein list
key Enter
wait_screen "p[0-9]+" "the list is in the pager"
key C-c
sleep 0.3	# not an assertion: less takes its Ctrl-C first
key q
if until_ok prompt_is "tidbplay>"; then
	pass "the prompt after Ctrl-C and q in the pager"
else
	fail "the prompt after Ctrl-C and q in the pager"
	diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 10)"
fi
fresh "tidbplay>"
typein count
key Enter
wait_screen "^\\| +20001 \\|$" "the next command runs at once"
unlike "$(screen)" "cancelled|refused|dropped" \
    "and is not taken for the cancelled one"
fresh "tidbplay>"
typein quit
key Enter
wait_exit "quit"

done_testing
