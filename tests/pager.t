#!/bin/sh
# The pager, under tmux on a terminal of 20 lines: only a table or
# vertical result taller than the screen goes through it (a boundary test
# on each side), $PAGER or less -SFRX, the pager command and setting,
# --no-pager, never in scripts; messages keep their place; rows stream to
# it as they arrive, and quitting it ends the command quietly and stops
# the rows.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

TMUX_ROWS=20

sql "$PLAYERS_DDL"
sql "INSERT INTO players (name, coins, goods)
    SELECT CONCAT('p_', seq), seq, seq FROM seq_1_to_100"

# A pager that keeps what it is given and says that it ran.
cat >"$T/fakepager" <<EOF
#!/bin/sh
echo ran >>"$T/pager.runs"
cat >"$T/paged"
EOF
cat >"$T/otherpager" <<EOF
#!/bin/sh
echo ran >>"$T/other.runs"
cat >"$T/other"
EOF
chmod +x "$T/fakepager" "$T/otherpager"

runs() {
	if [ -f "$T/pager.runs" ]; then
		wc -l <"$T/pager.runs" | tr -d ' '
	else
		echo 0
	fi
}

mkdir -p "$T/config/tidbplay"
: >"$T/config/tidbplay/tidbplay.ini"

TP_SHELL_ENV="PAGER=$T/fakepager"
start_shell -q
wait_prompt "tidbplay>" "a shell on a terminal of 20 lines"

# ---- what fits is printed, what does not is paged ----

# A table of N rows takes N + 5 lines; with the prompt's line, 14 rows
# fit in 20 and 15 do not.
typein 'list 14'
key Enter
wait_screen "^\\(14 rows\\)$" "list 14 (19 lines): printed on the terminal"
wait_prompt "tidbplay>" "list 14: the prompt"
is "$(runs)" 0 "list 14: no pager"

fresh "tidbplay>"
typein 'list 15'
key Enter
wait_prompt "tidbplay>" "list 15 (20 lines): the prompt comes back"
is "$(runs)" 1 "list 15: through the pager"
is "$(tail -n 1 "$T/paged")" "(15 rows)" "list 15: the pager had all of it"
is "$(head -n 2 "$T/paged" | tail -n 1 | tr -s ' ')" "| id | name | coins | goods |" \
    "list 15: the pager had the header"
unlike "$(pane)" "15 rows|p_1 " "list 15: none of it on the terminal itself"

fresh "tidbplay>"
typein 'list'
key Enter
wait_prompt "tidbplay>" "list (100 rows): the prompt comes back"
is "$(runs)" 2 "list: through the pager"
is "$(grep -c '^| ' "$T/paged")" 101 "list: the pager had the header and every row"

# Vertical: 5 lines a row, and the count.
fresh "tidbplay>"
typein 'format vertical; list 3'
key Enter
wait_screen "^\\(3 rows\\)$" "vertical list 3 (16 lines): printed"
is "$(runs)" 2 "vertical list 3: no pager"
typein 'list 4'
key Enter
wait_prompt "tidbplay>" "vertical list 4 (21 lines): the prompt"
is "$(runs)" 3 "vertical list 4: through the pager"
like "$(cat "$T/paged")" "4\\. row" "vertical list 4: the pager had the rows"

# Machine formats are never paged.
fresh "tidbplay>"
typein 'format tsv; list'
key Enter
wait_screen "^100 +p_100 +100 +100$" "tsv at a terminal: printed"
wait_prompt "tidbplay>" "tsv: the prompt"
is "$(runs)" 3 "tsv: no pager"
typein 'format table'
key Enter

# ---- messages keep their place ----

fresh "tidbplay>"
typein 'list 3; show nobody'
key Enter
wait_screen "^error: " "a short result, then an error"
r=$(pane | grep -n '^(3 rows)$' | cut -d: -f1)
e=$(pane | grep -n '^error:' | cut -d: -f1)
ok $((${r:-99} < ${e:-0} ? 0 : 1)) "the error comes after the result it followed"
is "$(pane | grep -c '^(3 rows)$')" 1 "the result is shown once"

fresh "tidbplay>"
typein 'list; show nobody'
key Enter
wait_screen "^error: .*nobody" "a paged result, then an error: the error is shown after"
is "$(runs)" 4 "the result went to the pager"
is "$(tail -n 1 "$T/paged")" "(100 rows)" "the pager had the whole result"
unlike "$(cat "$T/paged")" "nobody" "the error did not go into the pager"

# ---- the pager command and setting ----

fresh "tidbplay>"
typein 'pager'
key Enter
wait_screen "^on \\(PAGER: $T/fakepager\\)$" "pager: says it is on, and which"
typein 'pager off'
key Enter
typein 'pager'
key Enter
wait_screen "^off$" "pager off: says off"
fresh "tidbplay>"
typein 'list'
key Enter
wait_prompt "tidbplay>" "pager off: list"
is "$(runs)" 4 "pager off: no pager"
like "$(pane)" "p_99" "pager off: the rows on the terminal"

fresh "tidbplay>"
typein "pager '$T/otherpager'"
key Enter
typein 'list'
key Enter
wait_prompt "tidbplay>" "pager COMMAND: list"
is "$(cat "$T/other.runs" 2>/dev/null)" ran "pager COMMAND: that command pages"
is "$(tail -n 1 "$T/other" 2>/dev/null)" "(100 rows)" "pager COMMAND: it had the result"
is "$(runs)" 4 "pager COMMAND: not \$PAGER"

typein 'pager on'
key Enter
typein 'list'
key Enter
wait_prompt "tidbplay>" "pager on: list"
is "$(runs)" 5 "pager on: \$PAGER again"

typein 'pager maybe yes'
key Enter
wait_screen "^error: pager: too many arguments" "pager with two words: its usage"
typein quit
key Enter
wait_exit "quit"

# --no-pager, and pager = off in the settings file.
start_shell -q --no-pager
wait_prompt "tidbplay>" "--no-pager: a shell"
typein 'list'
key Enter
wait_prompt "tidbplay>" "--no-pager: list"
is "$(runs)" 5 "--no-pager: no pager"
typein quit
key Enter
wait_exit "quit"

printf '%s\n' '[shell]' 'pager = off' >"$T/config/tidbplay/tidbplay.ini"
start_shell -q
wait_prompt "tidbplay>" "pager = off: a shell"
typein 'list'
key Enter
wait_prompt "tidbplay>" "pager = off: list"
is "$(runs)" 5 "pager = off: no pager"
typein quit
key Enter
wait_exit "quit"

printf '%s\n' '[shell]' "pager = '$T/otherpager'" >"$T/config/tidbplay/tidbplay.ini"
rm -f "$T/other.runs"
start_shell -q
wait_prompt "tidbplay>" "pager = COMMAND: a shell"
typein 'list'
key Enter
wait_prompt "tidbplay>" "pager = COMMAND: list"
is "$(cat "$T/other.runs" 2>/dev/null)" ran "pager = COMMAND: that command pages"
typein quit
key Enter
wait_exit "quit"
: >"$T/config/tidbplay/tidbplay.ini"

# Never in scripts, even with standard output a terminal.
start_shell -q -e list
wait_exit "-e list at a terminal: runs and leaves"
is "$(runs)" 5 "-e list at a terminal: no pager"
like "$(pane)" "\\(100 rows\\)" "-e list at a terminal: printed"

# ---- less -SFRX, streaming, and quitting it ----

if command -v less >/dev/null 2>&1; then
	sql "INSERT INTO players (name, coins, goods)
	    SELECT CONCAT('big_', seq), seq, seq FROM seq_1_to_1000000"
	sent() {
		sql "SHOW GLOBAL STATUS LIKE 'Rows_sent'" | cut -f2
	}
	all=$(sql "SELECT COUNT(*) FROM players")
	TP_SHELL_ENV=
	start_shell -q
	wait_prompt "tidbplay>" "no PAGER: a shell"
	s0=$(sent)
	typein 'list'
	key Enter
	wait_screen "^:$" "no PAGER: less has the result and waits"
	like "$(screen | sed -n 2p)" "^\\| +id \\| name +\\| coins \\| goods \\|$" \
	    "less shows the first page"
	running() {
		sql "SELECT COUNT(*) FROM information_schema.processlist
		    WHERE user = 'app' AND info LIKE 'SELECT%'" | grep -qx 1
	}
	running
	ok $? "the first page is shown while the server is still sending (streaming)"
	key q
	wait_prompt "tidbplay>" "q in less: the prompt comes back"
	s1=$(sent)
	unlike "$(pane)" "error|cannot|cancelled" "q in less: quietly"
	ok $(($((s1 - s0)) * 2 < all ? 0 : 1)) \
	    "q in less: the server stops sending ($((s1 - s0)) of $all rows)"
	fresh "tidbplay>"
	typein 'count'
	key Enter
	wait_screen "^\\| +$all \\|$" "after q the session goes on"
	typein quit
	key Enter
	wait_exit "quit"
	is "$(cat "$T/exit")" 0 "quitting the pager is not a failure: exit 0"
else
	fail "less is not installed (apt-get install less)"
fi

done_testing
