#!/bin/sh
# Secrets: the password is never needed on the command line nor accepted
# there, never printed, prompted for with echo off; files that hold it
# warn when others can read them; the history file is private.
. "$top_srcdir/tests/lib.sh"

start_server
sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('alice', 100, 10)"
before=$(snapshot)
PW=$TP_PASSWORD
cd "$T" || bail "cd $T"

# run ARGS...: tidbplay with only the settings given here.
run() {
	tpenv -u TIDB_PASSWORD "$TIDBPLAY" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# --- the command line never takes the password
for form in "-p$PW" "--password=$PW" "-p $PW" "--password $PW" \
    "-e count -p $PW"; do
	# shellcheck disable=SC2086
	run -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" $form \
	    -e 'add intruder 1 1' </dev/null
	is "$RC" 2 "'$(echo "$form" | sed "s/$PW/X/")': usage error (2)"
	like "$ERR" 'password|-p' "'$(echo "$form" | sed "s/$PW/X/")': says why"
	unlike "$OUT$ERR" "$PW" "'$(echo "$form" | sed "s/$PW/X/")': the password is not echoed"
done
is "$(snapshot)" "$before" "passwords on the command line: the table is unchanged"

# -p without a terminal to ask on.
if command -v setsid >/dev/null 2>&1; then
	setsid -w "$TIDBPLAY" -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" \
	    -p -e 'add intruder 1 1' </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	is "$RC" 2 "-p without a terminal: usage error (2)"
	like "$(cat "$T/err")" 'needs a terminal' "-p without a terminal: says so"
	is "$(snapshot)" "$before" "-p without a terminal: the table is unchanged"
else
	skip "-p without a terminal: usage error (2)" \
	    "setsid is not installed (apt-get install util-linux)"
fi

# --- never printed: status, and every kind of failure
run_pw() { env TIDB_PASSWORD="$PW" HOME="$T" TIDBPLAY_HISTFILE= \
    "$TIDBPLAY" "$@" >"$T/out" 2>"$T/err"; RC=$?; OUT=$(cat "$T/out");
    ERR=$(cat "$T/err"); }

run_pw -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" -e status
is "$RC" 0 "status: exit 0"
like "$OUT" '^user: +app' "status shows the user"
unlike "$OUT$ERR" "$PW" "status does not show the password"

PW=wrong-pw-for-app
run_pw -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" -e count
is "$RC" 3 "wrong password: exit 3"
unlike "$OUT$ERR" "$PW" "wrong password: not shown"
PW=$TP_PASSWORD

run_pw -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_OTHER_CA" -e count
is "$RC" 4 "TLS failure: exit 4"
unlike "$OUT$ERR" "$PW" "TLS failure: the password is not shown"

# A port nobody listens on: the server's own port plus one is ours alone
# only by luck, so use port 1 on loopback (refused at once).
run_pw -H 127.0.0.1 -P 1 -u app --ca "$TP_CA" -e count
is "$RC" 3 "connection refused: exit 3"
unlike "$OUT$ERR" "$PW" "connection refused: the password is not shown"

run_pw -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" -D no_such_db -e count
is "$RC" 3 "unknown database: exit 3"
unlike "$OUT$ERR" "$PW" "unknown database: the password is not shown"

run_pw -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" \
    -e "show $PW; add $PW x 1"
unlike "$ERR" "app-secret.*app-secret" "command errors: nothing but the user's own words"

# Broken settings files that hold the password: the errors leave it out.
printf "TIDB_PASSWORD='%s\n" "$PW" >"$T/bad1.env"
printf 'TIDB_PASSWORD="%s" trailing\n' "$PW" >"$T/bad2.env"
printf '[connection]\npassword = "%s\n' "$PW" >"$T/bad1.ini"
printf '[connection]\npassword = %s\npassword = %s\n' "$PW" "$PW" >"$T/bad2.ini"
printf '[connection]\npasword = %s\n' "$PW" >"$T/bad3.ini"
printf 'password = %s\n' "$PW" >"$T/bad4.ini"
for f in bad1.env bad2.env; do
	chmod 600 "$T/$f"
	run -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" --env "$T/$f" \
	    -e 'add intruder 1 1'
	is "$RC" 2 "$f: settings error (2)"
	like "$ERR" "$f:1: " "$f: the error names FILE:LINE"
	unlike "$OUT$ERR" "$PW" "$f: the password is not shown"
done
for f in bad1.ini bad2.ini bad3.ini bad4.ini; do
	chmod 600 "$T/$f"
	run -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" -c "$T/$f" \
	    -e 'add intruder 1 1'
	is "$RC" 2 "$f: settings error (2)"
	like "$ERR" "$f:[0-9]+: " "$f: the error names FILE:LINE"
	unlike "$OUT$ERR" "$PW" "$f: the password is not shown"
done
is "$(snapshot)" "$before" "broken settings files: the table is unchanged"

# --- files that hold the password
printf "TIDB_HOST='127.0.0.1'\nTIDB_PORT='%s'\nTIDB_USER='app'\nTIDB_PASSWORD='%s'\nCA_PATH='%s'\n" \
    "$TP_PORT" "$PW" "$TP_CA" >"$T/pw.env"
printf '[connection]\nhost = 127.0.0.1\nport = %s\nuser = app\npassword = %s\nca = %s\n' \
    "$TP_PORT" "$PW" "$TP_CA" >"$T/pw.ini"
printf "TIDB_HOST='127.0.0.1'\nTIDB_PORT='%s'\nTIDB_USER='app'\nCA_PATH='%s'\n" \
    "$TP_PORT" "$TP_CA" >"$T/nopw.env"
for f in pw.env pw.ini; do
	opt=--env
	case $f in *.ini) opt=-c ;; esac
	for mode in 644 640 604; do
		chmod $mode "$T/$f"
		run $opt "$T/$f" -e count
		is "$RC" 0 "$f $mode: connects"
		like "$ERR" "warning: .*$f.*(read|readable) by others.*chmod 600" \
		    "$f $mode: warns that others can read the password"
		unlike "$OUT$ERR" "$PW" "$f $mode: the warning does not show it"
	done
	chmod 600 "$T/$f"
	run $opt "$T/$f" -e count
	is "$RC" 0 "$f 600: connects"
	is "$ERR" "" "$f 600: no warning"
done
chmod 644 "$T/nopw.env"
env TIDB_PASSWORD="$PW" HOME="$T" TIDBPLAY_HISTFILE= "$TIDBPLAY" \
    -H 127.0.0.1 -P "$TP_PORT" -u app --env "$T/nopw.env" -e count \
    >"$T/out" 2>"$T/err"
is "$?" 0 "a .env without a password, 644: connects"
is "$(cat "$T/err")" "" "a .env without a password, 644: no warning"

# The implicit ./.env is checked too.
cp "$T/pw.env" "$T/.env" && chmod 644 "$T/.env"
run -e count
is "$RC" 0 "./.env 644: connects"
like "$ERR" 'warning: .*\.env' "./.env 644: warns"
rm -f "$T/.env"

# --- at a terminal: the prompt does not echo, and the history is private
if ! command -v tmux >/dev/null 2>&1; then
	skip "at a terminal: -p does not echo, the history file is private" \
	    "tmux is not installed (apt-get install tmux)"
	done_testing
fi

TMUX_SOCK=tp-secrets-$$
export TERM=${TERM:-xterm}
[ "$TERM" = dumb ] && TERM=xterm
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1; cleanup' EXIT
# A session that outlives the others, so that the server never exits
# between two of them.
tm new-session -d -s keep "sleep 600" || bail "tmux cannot start"

# wait_pane REGEX: until the pane shows REGEX (at most about 20 s).
wait_pane() {
	_i=0
	while [ $_i -lt 200 ]; do
		if tm capture-pane -p -t tp 2>/dev/null | grep -Eq -- "$1"; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# The shell inside tmux writes its exit status where we can read it.
cat >"$T/term.sh" <<EOF
#!/bin/sh
cd "$T"
env -u TIDB_PASSWORD -u CA_PATH HOME="$T" XDG_STATE_HOME="$T/state" \\
    "\$@"
echo "exit=\$?"
EOF
chmod +x "$T/term.sh"

tm new-session -d -s tp -x 120 -y 40 \
    "$T/term.sh $TIDBPLAY -H 127.0.0.1 -P $TP_PORT -u app --ca $TP_CA -p -e status; sleep 60"
if wait_pane 'Password for app@127\.0\.0\.1'; then
	pass "-p asks on the terminal"
	tm send-keys -t tp -l "$PW"
	tm send-keys -t tp Enter
	wait_pane '^exit=' || diag "the session did not finish"
	screen=$(tm capture-pane -p -t tp)
	like "$screen" 'exit=0' "-p: the typed password connects (exit 0)"
	like "$screen" 'tls: +TLSv1' "-p: the session ran (status shown)"
	unlike "$screen" "$PW" "-p: the typed password is not echoed"
else
	fail "-p asks on the terminal"
	diag "$(tm capture-pane -p -t tp)"
fi
tm kill-session -t tp 2>/dev/null

# Wrong password at the prompt: refused, not echoed either.
tm new-session -d -s tp -x 120 -y 40 \
    "$T/term.sh $TIDBPLAY -H 127.0.0.1 -P $TP_PORT -u app --ca $TP_CA -p -e 'add intruder 1 1'; sleep 60"
if wait_pane 'Password for'; then
	tm send-keys -t tp -l "typed-but-wrong"
	tm send-keys -t tp Enter
	wait_pane '^exit=' || diag "the session did not finish"
	screen=$(tm capture-pane -p -t tp)
	like "$screen" 'exit=3' "-p, wrong password: exit 3"
	unlike "$screen" 'typed-but-wrong' "-p, wrong password: not echoed nor printed"
else
	fail "-p asks on the terminal (wrong password)"
fi
tm kill-session -t tp 2>/dev/null
is "$(snapshot)" "$before" "-p, wrong password: the table is unchanged"

# The history file: created 0600 even under umask 000, and an existing
# 0644 one is made private.
for pre in new existing; do
	hist=$T/hist-$pre
	rm -f "$hist"
	if [ $pre = existing ]; then
		echo count >"$hist"
		chmod 644 "$hist"
	fi
	tm new-session -d -s tp -x 120 -y 40 \
	    "umask 000; TIDBPLAY_HISTFILE=$hist TIDB_PASSWORD=$PW $TIDBPLAY -H 127.0.0.1 -P $TP_PORT -u app --ca $TP_CA; echo exit=\$?; sleep 60"
	if wait_pane 'tidbplay>'; then
		tm send-keys -t tp -l "count"
		tm send-keys -t tp Enter
		tm send-keys -t tp -l "quit"
		tm send-keys -t tp Enter
		wait_pane '^exit=' || diag "the session did not finish"
		is "$(stat -c %a "$hist" 2>&1)" 600 "history ($pre file): mode 0600"
		like "$(cat "$hist")" '^count$' "history ($pre file): the command was kept"
		unlike "$(cat "$hist")" "$PW" "history ($pre file): no password in it"
	else
		fail "interactive session started ($pre history)"
		diag "$(tm capture-pane -p -t tp)"
	fi
	tm kill-session -t tp 2>/dev/null
done

done_testing
