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

# ---- no player names offered after an unknown command ----

start_shell -q
wait_prompt "tidbplay>" "a shell for completion"
typein 'frob p_1'
key Tab Tab
typein 'X'
wait_screen "^tidbplay> frob p_1X$" "after an unknown command, Tab offers no player names"
unlike "$(pane)" "p_10" "after an unknown command: no list of names"
key C-u
typein quit
key Enter
wait_exit "quit after completion"

# ---- ./tests/try keeps tidbplay's exit status after a Ctrl-C ----

# tests/try with stand-ins for what it installs, builds and starts; the
# stand-in tidbplay takes Ctrl-C as tidbplay does and exits 0.
mkdir -p "$T/try/tests" "$T/try/build"
cp "$top_srcdir/tests/try" "$T/try/tests/try"
printf '#!/bin/sh\n' >"$T/try/tests/deps"
printf '#!/bin/sh\necho "%s"\n' "$T/try/build" >"$T/try/tests/build"
cat >"$T/try/tests/server.sh" <<'SHEOF'
#!/bin/sh
[ "$1" = start ] || exit 0
mkdir -p "$2"
printf 'TP_HOST=h TP_PORT=1 TP_CA=c TP_USER=u TP_DB=d TP_PASSWORD=p\n' >"$2/env"
SHEOF
cat >"$T/try/build/tidbplay" <<'SHEOF'
#!/bin/sh
trap 'echo "stand-in: Ctrl-C"; exit 0' INT
echo "stand-in: ready"
while :; do sleep 0.1; done
SHEOF
chmod +x "$T/try/tests/"* "$T/try/build/tidbplay"
rm -f "$T/try.exit"
tm new-session -d -s try -x 100 -y 20 \
    "sh '$T/try/tests/try'; echo \$? >'$T/try.exit.tmp'; mv '$T/try.exit.tmp' '$T/try.exit'; sleep 600"
until_ok sh -c "tmux -L '$TMUX_SOCK' capture-pane -p -t try | grep -q 'stand-in: ready'" ||
    fail "the stand-in of tests/try did not start"
tm send-keys -t try C-c
if until_ok test -s "$T/try.exit"; then
	is "$(cat "$T/try.exit")" 0 "./tests/try after Ctrl-C: tidbplay's exit status, not 130"
else
	fail "./tests/try after Ctrl-C: it ended"
fi
tm kill-session -t try 2>/dev/null

done_testing
