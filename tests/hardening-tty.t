#!/bin/sh
# Hardening, round three, at a real terminal (tmux, 20 lines): a pager
# that fails, TERM=dumb, and the rest of a typed line after an error.

. "$top_srcdir/tests/lib.sh"
start_server
. "$top_srcdir/tests/tmux.sh"

TMUX_ROWS=20

sql "CREATE TABLE IF NOT EXISTS players (id INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(32), coins INTEGER, goods INTEGER, PRIMARY KEY (id),
    UNIQUE (name))"
sql "INSERT INTO players (name, coins, goods)
    SELECT CONCAT('p_', seq), seq, seq FROM seq_1_to_100"
mkdir -p "$T/config/tidbplay" "$T/bin"
: >"$T/config/tidbplay/tidbplay.ini"

# ---- a pager that fails: said, and the rows shown without it ----

start_shell -q
wait_prompt "tidbplay>" "a shell on a terminal of 20 lines"
# (pager false would be pager off: false is a switch's value.)
typein 'pager /bin/false'
key Enter
fresh "tidbplay>"
typein 'list'
key Enter
wait_screen "^\\(100 rows\\)$" "pager false: the rows are shown without it"
like "$(pane)" "the pager '/bin/false' failed \\(exit status 1\\); the output follows without it" \
    "pager false: says the pager failed"
is "$(pane | grep -c '^| ')" 101 "pager false: the header and every row, once"
wait_prompt "tidbplay>" "pager false: the prompt"

fresh "tidbplay>"
typein "pager $T/no-such-pager"
key Enter
fresh "tidbplay>"
typein 'list'
key Enter
wait_screen "^\\(100 rows\\)$" "a pager that does not exist: the rows are shown"
like "$(pane)" "the pager '$T/no-such-pager' was not found \\(exit status 127\\)" \
    "a pager that does not exist: says so"
is "$(pane | grep -c '^| ')" 101 "a pager that does not exist: every row, once"
typein quit
key Enter
wait_exit "quit"
is "$(cat "$T/exit")" 0 "a pager that failed is no failed command"

# ---- TERM=dumb: the default pager (less) is not used ----

cat >"$T/bin/less" <<EOF
#!/bin/sh
echo ran >>"$T/less.runs"
cat >/dev/null
EOF
chmod +x "$T/bin/less"
TP_SHELL_ENV="TERM=dumb PATH=$T/bin:$PATH"
start_shell -q
wait_prompt "tidbplay>" "TERM=dumb: a shell"
typein 'list'
key Enter
wait_screen "^\\(100 rows\\)$" "TERM=dumb: the rows on the terminal"
[ ! -e "$T/less.runs" ]
ok $? "TERM=dumb: less is not started"
typein quit
key Enter
wait_exit "TERM=dumb: quit"
TP_SHELL_ENV="PATH=$T/bin:$PATH"
start_shell -q
wait_prompt "tidbplay>" "TERM=xterm: a shell"
typein 'list'
key Enter
wait_prompt "tidbplay>" "TERM=xterm: list"
is "$(cat "$T/less.runs" 2>/dev/null)" ran "TERM=xterm: less pages (the fake on PATH)"
typein quit
key Enter
wait_exit "TERM=xterm: quit"
TP_SHELL_ENV=

# ---- the rest of a typed line after an error: named, not run ----

start_shell -q
wait_prompt "tidbplay>" "a shell for a line with an error"
typein "list 1; show nobody; count; show 'a b'"
key Enter
wait_screen "^error: no player named 'nobody'" "the failing command's error"
wait_screen "^tidbplay: not run: count; show 'a b'$" \
    "the commands not run after it are named"
unlike "$(pane)" "^100$" "count was not run"
fresh "tidbplay>"
typein "show nobody"
key Enter
wait_screen "^error: no player named 'nobody'" "an error alone on its line"
unlike "$(pane)" "not run" "an error alone on its line: nothing said about the rest"
typein quit
key Enter
wait_exit "quit after the errors"

done_testing
