#!/bin/sh
# A window resized (SIGWINCH) under tidbplay at a terminal: at the prompt,
# readline learns the new width (the cursor lands where a wrapped line
# really is); while rows are being printed, the command goes on to its last
# row, and the prompt after it knows the new width too.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

W32=wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww
sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('$W32', 1, 2);
    CREATE TABLE msrc LIKE players;
    INSERT INTO msrc (name, coins, goods)
    SELECT CONCAT('m', seq), seq, seq FROM seq_1_to_500;
    CREATE ALGORITHM=MERGE VIEW mview AS
    SELECT id, name, coins, goods FROM msrc WHERE SLEEP(0.01) = 0" ||
    bail "cannot make the tables"

resize() {
	tm resize-window -t "$TP_PANE" -x "$1" -y "$2"
}
# The cursor as tmux sees it: "X Y".
cursor() {
	tm display-message -p -t "$TP_PANE" '#{cursor_x} #{cursor_y}'
}
# The row (from 0) of the last line of the screen that starts with
# "tidbplay> " (no joining of wrapped lines).
prompt_row() {
	tm capture-pane -p -t "$TP_PANE" | grep -n '^tidbplay> ' | tail -n 1 |
	    cut -d: -f1 | awk '{ print $1 - 1 }'
}

# wrapped_line_editing WIDTH WHAT: a line of 47 characters with the prompt
# is typed at a terminal WIDTH columns wide (< 47); Ctrl-A must put the
# cursor right after the prompt on the line's first row and Ctrl-E at its
# end on the next, which readline finds only if it knows the width; Enter
# runs the line.
wrapped_line_editing() {
	fresh "tidbplay>"
	typein "find $W32"
	until_ok screen_has "^tidbplay> find w+"
	key C-a
	_want="10 $(prompt_row)"
	until_ok eval '[ "$(cursor)" = "$_want" ]'
	is "$(cursor)" "$_want" "$2: Ctrl-A on a line wrapped at $1 columns goes to its start"
	key C-e
	_want="$(((10 + 37) % $1)) $(($(prompt_row) + (10 + 37) / $1))"
	until_ok eval '[ "$(cursor)" = "$_want" ]'
	is "$(cursor)" "$_want" "$2: Ctrl-E goes to its end, on the next row"
	key Enter
	wait_prompt "tidbplay>" "$2: the line runs and the prompt comes back"
	unlike "$(pane)" "error" "$2: no error"
}

# ---- at the prompt ----

start_shell -q
wait_prompt "tidbplay>" "a shell at 120 columns"
typein "show "
until_ok prompt_is "tidbplay> show"
resize 40 20
until_ok eval '[ "$(tm display-message -p -t tp "#{window_width}")" = 40 ]'
is "$(tm display-message -p -t tp '#{window_width}')" 40 "the window is now 40 columns wide"
wait_prompt "tidbplay> show" "after the resize the typed text is still there"
key C-u
wrapped_line_editing 40 "resized at the prompt"
ok "$(kill -0 "$SHELL_PID"; echo $?)" "tidbplay is still running"

# ---- while rows are printed ----

# 500 rows from a view that takes 10 ms a row: a command that runs for
# several seconds, resized while it runs.
TMUX_ROWS=40
start_shell -q --table mview --format csv --no-pager
wait_prompt "tidbplay>" "a shell over a slow view"
listing_sql() {
	echo "SELECT 1 FROM information_schema.PROCESSLIST
	    WHERE USER = 'app' AND INFO LIKE '%FROM \`mview\`%'"
}
typein list
key Enter
wait_sql "$(listing_sql)"
ok $? "the list runs on the server"
resize 60 30
resize 90 25
resize 30 20
until_ok eval '[ "$(tm display-message -p -t tp "#{window_width}")" = 30 ]'
is "$(tm display-message -p -t tp '#{window_width}')" 30 "resized three times"
is "$(sql "$(listing_sql)")" 1 "the list was still running after the resizes"
wait_screen "^500,m500,500,500$" "the last row came after the resizes"
wait_prompt "tidbplay>" "the prompt after the list"
is "$(pane | grep -c '^[0-9]*,m[0-9]*,[0-9]*,[0-9]*$')" 500 \
    "every one of the 500 rows was printed"
unlike "$(pane)" "error|cancelled" "the resizes did not interrupt the command"
wrapped_line_editing 30 "resized while rows were printed"
key C-d
wait_exit "the shell leaves"
is "$(cat "$T/exit")" 0 "exit status 0"

done_testing
