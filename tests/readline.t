#!/bin/sh
# What readline keeps and what it knows, at a real terminal (tmux):
#
# - the history, as tidbplay(1) promises it: a line that starts with a
#   blank and a repeat of the line before are not kept; each line is
#   appended to the file as it is typed, so two shells at once do not
#   overwrite each other; the file keeps the last 1,000 lines;
# - a window resized (SIGWINCH): at the prompt, readline learns the new
#   width (the cursor lands where a wrapped line really is); while a
#   command runs, it goes on to its last row, and the prompt after it
#   knows the new width too.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

W32=wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww
sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('alice', 1, 1), ('$W32', 1, 2);
    CREATE TABLE msrc LIKE players;
    INSERT INTO msrc (name, coins, goods)
    SELECT CONCAT('m', seq), seq, seq FROM seq_1_to_300;
    CREATE ALGORITHM=MERGE VIEW mview AS
    SELECT id, name, coins, goods FROM msrc WHERE SLEEP(0.01) = 0" ||
    bail "cannot make the tables"

# run LINE: type LINE, and wait until it was echoed and the prompt came
# back after it.
run() {
	fresh "tidbplay>"
	typein "$1"
	key Enter
	until_ok screen_has "^tidbplay> $(printf '%s' "$1" |
	    sed 's/ *$//; s/[][\.*^$]/\\&/g')" &&
	    until_ok prompt_is "tidbplay>" ||
	    diag "the prompt did not come back after '$1'"
}

# ---- a file of 1,100 lines: the last 1,000 are kept ----

awk 'BEGIN { for (i = 1; i <= 1100; i++) printf "find seed_%04d\n", i }' \
    >"$T/hist"
chmod 600 "$T/hist"
start_shell -q
wait_prompt "tidbplay>" "a shell with a history of 1,100 lines"
key Up
wait_prompt "tidbplay> find seed_1100" "Up brings back the file's last line"
key C-u

# ---- what is kept ----

run count
run ' show alice'
run count
run 'find al'
run count
run 'list 1  '
key C-d
wait_exit "the shell leaves"
is "$(tail -n 4 "$T/hist")" "count
find al
count
list 1" "a repeat of the line before is not kept, an earlier line typed again is, trailing blanks are not"
unlike "$(cat "$T/hist")" "show alice" "a line that starts with a blank is not kept"
is "$(wc -l <"$T/hist" | tr -d ' ')" 1000 "the file keeps 1,000 lines"
is "$(head -n 1 "$T/hist")" "find seed_0105" \
    "the oldest lines went: 1,100 + 4 - 1,000 = 104 of them"

# ---- two shells at once ----

: >"$T/hist"
TP_PANE=one
start_shell -q
wait_prompt "tidbplay>" "shell one"
TP_PANE=two
start_shell -q
wait_prompt "tidbplay>" "shell two"
TP_PANE=one
run 'find from_one_a'
TP_PANE=two
run 'find from_two'
TP_PANE=one
run 'find from_one_b'
# Shell two leaves first, then shell one, whose memory lacks two's line.
TP_PANE=two
key C-d
wait_exit "shell two leaves"
TP_PANE=one
key C-d
wait_exit "shell one leaves after it"
is "$(cat "$T/hist")" "find from_one_a
find from_two
find from_one_b" "both shells' lines are in the file, in the order typed"

# A new shell has both.
TP_PANE=tp
start_shell -q
wait_prompt "tidbplay>" "a third shell"
key Up Up
wait_prompt "tidbplay> find from_two" "Up twice: the other shell's line"
key C-u C-d
wait_exit "the third shell leaves"

# ---- a resized window ----

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

# 300 rows from a view that takes 10 ms a row: a command that runs for
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
wait_screen "^300,m300,300,300$" "the last row came after the resizes"
wait_prompt "tidbplay>" "the prompt after the list"
is "$(pane | grep -c '^[0-9]*,m[0-9]*,[0-9]*,[0-9]*$')" 300 \
    "every one of the 300 rows was printed"
unlike "$(pane)" "error|cancelled" "the resizes did not interrupt the command"
wrapped_line_editing 30 "resized while rows were printed"
key C-d
wait_exit "the shell leaves"
is "$(cat "$T/exit")" 0 "exit status 0"

done_testing
