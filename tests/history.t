#!/bin/sh
# The history at a terminal, as tidbplay(1) promises it: a line that
# starts with a blank and a repeat of the line before are not kept; each
# line is appended to the file as it is typed, so two shells at once do not
# overwrite each other; the file keeps the last 1,000 lines.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('alice', 1, 1)"

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

done_testing
