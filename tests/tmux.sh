# A real terminal for the tests: tidbplay in a tmux pane, keys typed into
# it, the screen read back. Sourced after tests/lib.sh and start_server.
# Every wait polls in a bounded loop; no sleep is an assertion.

command -v tmux >/dev/null 2>&1 ||
    skip_all "tmux is not installed (apt-get install tmux)"

TMUX_SOCK=tp$$
tmux_path=
# The session the helpers below type into and read: tp, unless a test
# with two shells at once names the other.
TP_PANE=tp

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
	tm capture-pane -p -J -S -2000 -t "$TP_PANE" 2>/dev/null
}

# Only what is on the screen now.
screen() {
	tm capture-pane -p -J -t "$TP_PANE" 2>/dev/null
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
	tm send-keys -t "$TP_PANE" -l "$1"
}

key() {
	tm send-keys -t "$TP_PANE" "$@"
}

# Clear the screen and tmux's scrollback, so that each step sees its own.
fresh() {
	key C-l
	until_ok prompt_is "$1" || true
	tm clear-history -t "$TP_PANE"
}

# start_shell [ARGS...]: tidbplay at a terminal of 120x40 (TMUX_ROWS
# changes the height), with ARGS after the connection options, in the
# session $TP_PANE. Its pid goes to $T/pid, its exit status to $T/exit;
# the terminal's settings before and after it ran to $T/stty.before and
# $T/stty.after (stty -g), and stty -a after it to $T/stty.a (for a
# session other than tp, the same files in $T/pane.NAME). TP_HISTFILE
# names the history file (default $T/hist). TP_SHELL_ENV adds NAME=VALUE
# words to its environment. An earlier session of the same name is
# renamed and then killed.
pane_dir() {
	if [ "$TP_PANE" = tp ]; then
		echo "$T"
	else
		echo "$T/pane.$TP_PANE"
	fi
}
start_shell() {
	_args=
	for _a in "$@"; do
		_args="$_args \"$_a\""
	done
	_d=$(pane_dir)
	mkdir -p "$_d"
	rm -f "$_d/pid" "$_d/exit" "$_d/stty.before" "$_d/stty.after" "$_d/stty.a"
	if tm has-session -t "$TP_PANE" 2>/dev/null; then
		tm rename-session -t "$TP_PANE" old
	fi
	tpenv_write
	tm new-session -d -s "$TP_PANE" -x 120 -y "${TMUX_ROWS:-40}" \
	    "stty -g >'$_d/stty.before'; sh -c 'echo \$\$ >\"$_d/pid\"; exec \
	    \"$T/tpenv\" -u PAGER TERM=xterm LC_ALL=C.UTF-8 \
	    TIDBPLAY_HISTFILE=\"${TP_HISTFILE-$T/hist}\" ${TP_SHELL_ENV:-} \
	    \"$TIDBPLAY\" -H \"$TP_HOST\" -P \"$TP_PORT\" -u \"$TP_USER\" \
	    --ca \"$TP_CA\" $_args'; echo \$? >'$_d/exit.tmp'; \
	    stty -g >'$_d/stty.after'; stty -a >'$_d/stty.a'; \
	    mv '$_d/exit.tmp' '$_d/exit'; sleep 600"
	# A tmux server with no session left exits: the old one goes last.
	tm kill-session -t old 2>/dev/null
	[ -n "$tmux_path" ] || tmux_path=$(tm display-message -p '#{socket_path}')
	until_ok test -s "$_d/pid" || bail "tidbplay did not start in tmux"
	SHELL_PID=$(cat "$_d/pid")
}

# wait_exit DESCRIPTION: passes when the shell has ended (within 15 s).
wait_exit() {
	if until_ok test -s "$(pane_dir)/exit"; then
		pass "$1"
	else
		fail "$1"
		diag "it shows:" "$(pane | sed '/^ *$/d' | tail -n 15)"
	fi
}
