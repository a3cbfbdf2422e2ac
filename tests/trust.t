#!/bin/sh
# Where the password may go (tidbplay(1), SETTINGS): a password goes only
# to a host, port and user named by a source at least as trusted as the
# one it came from (./.env found implicitly < a named file or the INI in
# $XDG_CONFIG_HOME < the environment < options and the -p prompt); an
# implicit ./.env is read only when safe to trust; the banner and status
# say where host, user and password came from. And the flows that must
# keep working: everything in ./.env as the quickstart writes it, -H with
# TIDB_PASSWORD, --env FILE with the password in it, the INI file alone.

. "$top_srcdir/tests/lib.sh"
start_server

home_dirs
chmod 755 "$T" "$W"

# The connections the server has accepted so far (the query's own
# included), to show that a refusal never connected.
connections() {
	sql "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2
}

# refused DESCRIPTION REGEX: exit 2 before connecting, one line matching
# REGEX, the password nowhere.
refused() {
	is "$RC" 2 "$1: refused with status 2"
	like "$ERR" "$2" "$1: the message names both sources"
	is "$(printf '%s\n' "$ERR" | wc -l)" 1 "$1: one line"
	unlike "$OUT$ERR" "$TP_PASSWORD" "$1: the password is not shown"
}

# The seed's .env, every key in it (TiDB Serverless's, with the test
# server's values).
SEED="TIDB_HOST='$TP_HOST'  # e.g. gateway01.ap-northeast-1.prod.aws.tidbcloud.com
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_USER'  # e.g. xxxxxx.root
TIDB_PASSWORD='$TP_PASSWORD'
TIDB_DB_NAME='test'
CA_PATH='$TP_CA'  # e.g. /etc/ssl/certs/ca-certificates.crt (Debian / Ubuntu / Arch)"

# The planted .env: where to connect, but no password.
PLANTED="TIDB_HOST='$TP_HOST'
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_USER'
CA_PATH='$TP_CA'"

# ---- rule 1: the password goes only where a source as trusted points ----

mkfile "$W/.env" "$PLANTED"
before=$(connections)
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -e 'add planted 1 1'
refused "planted ./.env, TIDB_PASSWORD" \
    "^tidbplay: the host comes from \./\.env:1 but the password from environment \(TIDB_PASSWORD\): give -H, or put the password in \./\.env$"
is "$(connections)" "$((before + 1))" \
    "planted ./.env, TIDB_PASSWORD: nothing connected to the server"
is "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE
    table_name = 'players'")" 0 "planted ./.env: nothing was written"

# A password of its own in the planted file changes nothing: the
# environment's is the one that would be sent.
mkfile "$W/.env" "$PLANTED
TIDB_PASSWORD='decoy'"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -e count
refused "planted ./.env with a decoy password, TIDB_PASSWORD" \
    "the host comes from \./\.env:1 but the password from environment \(TIDB_PASSWORD\)"

mkfile "$W/.env" "$PLANTED"
mkfile "$C/tidbplay/tidbplay.ini" "[connection]
password = $TP_PASSWORD"
tpe "$B" -e count
refused "planted ./.env, the password in \$XDG_CONFIG_HOME's INI" \
    "the host comes from \./\.env:1 but the password from $C/tidbplay/tidbplay\.ini:2: give -H"

mkfile "$W/.env" "TIDB_PORT='$TP_PORT'"
mkfile "$C/tidbplay/tidbplay.ini" "[connection]
host = $TP_HOST
user = $TP_USER
password = $TP_PASSWORD
ca = $TP_CA"
tpe "$B" -e count
refused "a port alone in ./.env, the rest in the INI" \
    "the port comes from \./\.env:1 but the password from $C/tidbplay/tidbplay\.ini:4: give -P, or put the password in \./\.env"
rm -f "$C/tidbplay/tidbplay.ini"

mkfile "$W/.env" "TIDB_USER='$TP_USER'"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -H "$TP_HOST" -P "$TP_PORT" \
    --ca "$TP_CA" -e count
refused "a user alone in ./.env, -H -P and TIDB_PASSWORD" \
    "the user comes from \./\.env:1 but the password from environment \(TIDB_PASSWORD\): give -u"

mkfile "$W/.env" "TIDB_HOST='$TP_HOST:$TP_PORT'"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -u "$TP_USER" --ca "$TP_CA" -e count
refused "HOST:PORT in ./.env, TIDB_PASSWORD" \
    "the host comes from \./\.env:1 but the password from environment"
rm -f "$W/.env"

mkfile "$T/named.env" "$PLANTED"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" --env "$T/named.env" -e count
refused "--env FILE without the password, TIDB_PASSWORD" \
    "the host comes from $T/named\.env:1 but the password from environment \(TIDB_PASSWORD\): give -H, or put the password in $T/named\.env$"

mkfile "$T/nopw.ini" "[connection]
host = $TP_HOST
port = $TP_PORT
user = $TP_USER
ca = $TP_CA"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -c "$T/nopw.ini" -e count
refused "-c FILE without the password, TIDB_PASSWORD" \
    "the host comes from $T/nopw\.ini:2 but the password from environment"

# A .env's database, CA and table are not where the password goes: they
# do not count.
mkfile "$W/.env" "TIDB_DB_NAME='test'
CA_PATH='$TP_CA'"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -H "$TP_HOST" -P "$TP_PORT" \
    -u "$TP_USER" -e status
is "$RC" 0 "./.env with database and CA, the rest from options: connects"
like "$OUT" "^verified: +$TP_CA, from \./\.env:2$" \
    "./.env with database and CA: its CA is used"
rm -f "$W/.env"

# ---- the flows that keep working ----

mkfile "$W/.env" "$SEED"
tpe "$B" -e status
is "$RC" 0 "the seed's ./.env, everything in it: connects"
is "$ERR" "" "the seed's ./.env: no warning"
like "$OUT" "^settings: +host from \./\.env:1, user from \./\.env:3, password from \./\.env:4$" \
    "the seed's ./.env: status names the origins"

rm -f "$W/.env"

tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" -H "$TP_HOST" -P "$TP_PORT" \
    -u "$TP_USER" --ca "$TP_CA" -e status
is "$RC" 0 "-H -P -u with TIDB_PASSWORD: connects"
like "$OUT" "^settings: +host from --host, user from --user, password from environment \(TIDB_PASSWORD\)$" \
    "-H with TIDB_PASSWORD: status names the origins"

tpe TIDB_PASSWORD="$TP_PASSWORD" TIDB_PORT="$TP_PORT" TIDB_USER="$TP_USER" \
    CA_PATH="$TP_CA" "$B" -H "$TP_HOST" -e count
is "$RC" 0 "-H with TIDB_PASSWORD, TIDB_PORT and TIDB_USER: connects"

mkfile "$T/seed.env" "$SEED"
tpe TIDB_PASSWORD=not-it "$B" --env "$T/seed.env" -H "$TP_HOST" \
    -P "$TP_PORT" -u "$TP_USER" -e count
is "$RC" 3 "--env FILE and TIDB_PASSWORD: the environment's password is used"
tpe "$B" --env "$T/seed.env" -e status
is "$RC" 0 "--env FILE with the password in it: connects"
like "$OUT" "^settings: +host from $T/seed\.env:1, user from $T/seed\.env:3, password from $T/seed\.env:4$" \
    "--env FILE: status names the origins"

mkfile "$T/all.ini" "[connection]
host = $TP_HOST
port = $TP_PORT
user = $TP_USER
password = $TP_PASSWORD
ca = $TP_CA"
tpe "$B" -c "$T/all.ini" -e status
is "$RC" 0 "the INI file alone (-c): connects"
like "$OUT" "^settings: +host from $T/all\.ini:2, user from $T/all\.ini:4, password from $T/all\.ini:5$" \
    "the INI file alone: status names the origins"
cp "$T/all.ini" "$C/tidbplay/tidbplay.ini"
tpe "$B" -e count
is "$RC" 0 "the INI file alone (\$XDG_CONFIG_HOME): connects"
rm -f "$C/tidbplay/tidbplay.ini"

tpe TIDB_PASSWORD="$TP_PASSWORD" TIDB_HOST="$TP_HOST" TIDB_PORT="$TP_PORT" \
    TIDB_USER="$TP_USER" CA_PATH="$TP_CA" "$B" -e count
is "$RC" 0 "everything in the environment: connects"

mkfile "$T/pw.env" "TIDB_PASSWORD='$TP_PASSWORD'"
tpe "$B" --env "$T/pw.env" -c "$T/nopw.ini" -e count
is "$RC" 0 "the password in --env FILE, the host in -c FILE: connects"

tpe TIDB_PASSWORD= "$B" -c "$T/nopw.ini" -u "$TP_PLAIN_USER" --ca "$TP_CA" \
    -e count
is "$RC" 3 "an empty TIDB_PASSWORD gives nothing away: not refused"

# ---- rule 2: an implicit ./.env is read only when safe to trust ----

# NOSUCH in ./.env would fail the connection: when ./.env is ignored the
# connection works.
ARGS="-H $TP_HOST -P $TP_PORT -u $TP_USER --ca $TP_CA"
printf "TIDB_DB_NAME='nosuchdb'\n" >"$W/.env"
for mode in 620 660 664; do
	chmod $mode "$W/.env"
	tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" $ARGS -e count
	is "$RC" 0 "./.env $mode (group-writable): ignored"
	is "$ERR" "tidbplay: warning: ignoring ./.env: its group can write it (chmod go-w ./.env)" \
	    "./.env $mode: the warning says why"
done
for mode in 602 666; do
	chmod $mode "$W/.env"
	tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" $ARGS -e count
	is "$RC" 0 "./.env $mode (writable by others): ignored"
	is "$ERR" "tidbplay: warning: ignoring ./.env: others can write it (chmod go-w ./.env)" \
	    "./.env $mode: the warning says why"
done
chmod 644 "$W/.env"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" $ARGS -e count
is "$RC" 3 "./.env 644, owned by the user: read"
like "$ERR" "nosuchdb" "./.env 644: its database is used"

chmod 660 "$W/.env"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" $ARGS --env ./.env -e count
is "$RC" 3 "--env ./.env: a group-writable file the user names is read"

chmod 644 "$W/.env"
chown nobody "$W/.env"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" $ARGS -e count
is "$RC" 0 "./.env owned by another user: ignored"
is "$ERR" "tidbplay: warning: ignoring ./.env: it belongs to nobody, not to you (name it with --env to read it)" \
    "./.env owned by another user: the warning says why"

# Owned by root, read by another user: read (as OpenSSH allows).
chown root "$W/.env"
chmod 755 "$H"
if can_be_nobody; then
	(cd "$W" && tpenv HOME="$H" XDG_CONFIG_HOME="$C" \
	    $AS_NOBODY "$NOBODY_TIDBPLAY" $ARGS -e count >"$T/out" 2>"$T/err" </dev/null)
	RC=$?
	ERR=$(cat "$T/err")
	is "$RC" 3 "./.env owned by root, run by nobody: read"
	like "$ERR" "nosuchdb" "./.env owned by root: its database is used"
else
	skip "./.env owned by root, run by nobody: read" "cannot run as nobody"
	skip "./.env owned by root: its database is used" "cannot run as nobody"
fi

# The seed's flow survives the check: a ./.env written by the user with
# the default umask.
rm -f "$W/.env"
(umask 022 && printf '%s\n' "$SEED" >"$W/.env")
tpe "$B" -e count
is "$RC" 0 "the seed's ./.env written with umask 022: read"
like "$ERR" "can be read by others" "the seed's ./.env 644: the password warning stays"
rm -f "$W/.env"

# ---- rule 3: the banner says where the settings came from ----

if ! command -v script >/dev/null 2>&1; then
	bail "script(1) is not installed (apt-get install bsdutils)"
fi
mkfile "$W/.env" "$SEED"
printf 'quit\n' | (cd "$W" && tpenv -u TIDB_PASSWORD HOME="$H" \
    XDG_CONFIG_HOME="$C" TERM=dumb script -qec "'$B'" /dev/null) \
    >"$T/tty" 2>&1
tty=$(tr -d '\r' <"$T/tty")
like "$tty" "^host from \./\.env:1, user from \./\.env:3, password from \./\.env:4$" \
    "the banner names the origins"
unlike "$tty" "$TP_PASSWORD" "the banner does not show the password"
rm -f "$W/.env"

# -p at a terminal: the password from the prompt, the rest from options.
# The password is typed once the question is on the screen.
cat >"$T/ask.py" <<'EOF'
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, typed, end = b"", False, time.time() + 30
while time.time() < end:
    if not select.select([fd], [], [], 0.5)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not typed and b"Password for " in out:
        os.write(fd, os.environ["PW"].encode() + b"\n")
        typed = True
else:
    os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
EOF
(cd "$W" && tpenv -u TIDB_PASSWORD HOME="$H" XDG_CONFIG_HOME="$C" \
    TERM=dumb PW="$TP_PASSWORD" \
    /usr/bin/python3 "$T/ask.py" "$B" -H "$TP_HOST" -P "$TP_PORT" \
    -u "$TP_USER" --ca "$TP_CA" -p -e status) >"$T/tty" 2>&1
tty=$(tr -d '\r' <"$T/tty")
like "$tty" "^settings: +host from --host, user from --user, password from the -p prompt$" \
    "-p with -H -P -u: connects, status names the prompt"
unlike "$tty" "$TP_PASSWORD" "-p: the password is not echoed"
unlike "$tty" "\\(host from" "-p with -H: the question needs no word on the host"

# -p with the host from a weaker source: the question says where the host
# came from, so the password typed there goes where the user has seen.
(cd "$W" && env -u TIDB_PORT -u TIDB_USER -u TIDB_PASSWORD \
    -u TIDB_DB_NAME -u CA_PATH HOME="$H" XDG_CONFIG_HOME="$C" \
    TIDBPLAY_HISTFILE= TERM=dumb PW="$TP_PASSWORD" TIDB_HOST="$TP_HOST" \
    /usr/bin/python3 "$T/ask.py" "$B" -P "$TP_PORT" \
    -u "$TP_USER" --ca "$TP_CA" -p -e status) >"$T/tty" 2>&1
tty=$(tr -d '\r' <"$T/tty")
like "$tty" "Password for $TP_USER@$TP_HOST \\(host from environment \\(TIDB_HOST\\)\\): " \
    "-p with TIDB_HOST: the question names where the host came from"
like "$tty" "^settings: +host from environment \\(TIDB_HOST\\), user from --user, password from the -p prompt$" \
    "-p with TIDB_HOST: connects"

done_testing
