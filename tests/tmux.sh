# A real terminal for the tests: tidbplay in a tmux pane, keys typed into
# it, the screen read back. Sourced after tests/lib.sh and start_server.
# Every wait polls in a bounded loop; no sleep is an assertion.

command -v tmux >/dev/null 2>&1 ||
    skip_all "tmux is not installed (apt-get install tmux)"

TMUX_SOCK=tp$$
tmux_path=

tm() {
	tmux -L "$TMUX_SOCK" -f /dev/null "$@"
}

# Run by the EXIT trap; a test that needs more sets tmux_extra_cleanup.
tmux_extra_cleanup=:
tmux_stop() {
	$tmux_extra_cleanup
	tm kill-server 2>/dev/null
	# tmux leaves its socket behind.
	[ -n "$tmux_path" ] && rm -f "$tmux_path"
	cleanup
}
trap tmux_stop EXIT

# The screen, wrapped lines joined, with what scrolled away.
pane() {
	tm capture-pane -p -J -S -2000 -t tp 2>/dev/null
}

# Only what is on the screen now.
screen() {
	tm capture-pane -p -J -t tp 2>/dev/null
}

# The last line of the screen that holds anything.
last_line() {
	pane | sed '/^ *$/d' | tail -n 1 | sed 's/ *$//'
}

# until_ok CMD...: run CMD every 0.1 s until it succeeds, for at most 15 s.
until_ok() {
	_i=0
	while [ $_i -lt 150 ]; do
		if "$@"; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

screen_has() {
	pane | grep -Eq -- "$1"
}

prompt_is() {
	[ "$(last_line)" = "$1" ]
}

# wait_screen REGEX DESCRIPTION: passes when the screen comes to show REGEX.
wait_screen() {
	if until_ok screen_has "$1"; then
		pass "$2"
	else
		fail "$2"
		diag "the screen never showed: $1" "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}

# wait_prompt PROMPT DESCRIPTION: passes when the last line is PROMPT.
wait_prompt() {
	if until_ok prompt_is "$1"; then
		pass "$2"
	else
		fail "$2"
		diag "the last line never became '$1'" "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}

# Keys go in one at a time, as typed (send-keys -l: literally).
typein() {
	tm send-keys -t tp -l "$1"
}

key() {
	tm send-keys -t tp "$@"
}

# Clear the screen and tmux's scrollback, so that each step sees its own.
fresh() {
	key C-l
	until_ok prompt_is "$1" || true
	tm clear-history -t tp
}

# start_shell [ARGS...]: tidbplay at a terminal of 120x40 (TMUX_ROWS
# changes the height), with ARGS after the connection options. Its pid goes
# to $T/pid, its exit status to $T/exit; the terminal's settings before and
# after it ran to $T/stty.before and $T/stty.after (stty -g), and stty -a
# after it to $T/stty.a. TP_HISTFILE names the history file (default
# $T/hist). TP_SHELL_ENV adds NAME=VALUE words to its
# environment. An earlier session named tp is renamed and then killed.
start_shell() {
	_args=
	for _a in "$@"; do
		_args="$_args \"$_a\""
	done
	rm -f "$T/pid" "$T/exit" "$T/stty.before" "$T/stty.after" "$T/stty.a"
	if tm has-session -t tp 2>/dev/null; then
		tm rename-session -t tp old
	fi
	tpenv_write
	tm new-session -d -s tp -x 120 -y "${TMUX_ROWS:-40}" \
	    "stty -g >'$T/stty.before'; sh -c 'echo \$\$ >\"$T/pid\"; exec env \
	    -u PAGER \"$T/tpenv\" TERM=xterm LC_ALL=C.UTF-8 \
	    TIDBPLAY_HISTFILE=\"${TP_HISTFILE-$T/hist}\" ${TP_SHELL_ENV:-} \
	    \"$TIDBPLAY\" -H \"$TP_HOST\" -P \"$TP_PORT\" -u \"$TP_USER\" \
	    --ca \"$TP_CA\" $_args'; echo \$? >'$T/exit.tmp'; \
	    stty -g >'$T/stty.after'; stty -a >'$T/stty.a'; \
	    mv '$T/exit.tmp' '$T/exit'; sleep 600"
	# A tmux server with no session left exits: the old one goes last.
	tm kill-session -t old 2>/dev/null
	[ -n "$tmux_path" ] || tmux_path=$(tm display-message -p '#{socket_path}')
	until_ok test -s "$T/pid" || bail "tidbplay did not start in tmux"
	SHELL_PID=$(cat "$T/pid")
}

# wait_exit DESCRIPTION: passes when the shell has ended (within 15 s).
wait_exit() {
	if until_ok test -s "$T/exit"; then
		pass "$1"
	else
		fail "$1"
		diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}
