#!/bin/sh
# TLS policy: verified connections succeed and say what verified them; every
# refusal exits 4 (3 for authentication), names its cause, never shows the
# password, and leaves the table as it was.
. "$top_srcdir/tests/lib.sh"

# Three more servers, each with its own CA, for the bad certificates and
# the server without TLS; stopped at the end.
stop_extra() {
	for _v in wrongname expired none; do
		[ -f "$T/srv-$_v/pid" ] &&
		    "$top_srcdir/tests/server.sh" stop "$T/srv-$_v" >/dev/null 2>&1
	done
	cleanup
}
trap stop_extra EXIT

for v in wrongname expired none; do
	TP_SERVER_CERT=$v "$top_srcdir/tests/server.sh" start "$T/srv-$v" \
	    >"$T/srv-$v.out" 2>&1 &
done
start_server
wait
for v in wrongname expired none; do
	[ -f "$T/srv-$v/env" ] ||
	    bail "the $v server did not start: $(cat "$T/srv-$v.out")"
done
# port_of VARIANT, ca_of VARIANT
port_of() { cat "$T/srv-$1/port"; }
ca_of() { echo "$T/srv-$1/ca.pem"; }

sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('alice', 100, 10)"
before=$(snapshot)

# The bundle OpenSSL names by default, unless a test chooses another.
unset SSL_CERT_FILE SSL_CERT_DIR

# run ARGS...: tidbplay with no connection settings but ours (no CA unless
# given); TIDB_PASSWORD is $PW.
PW=$TP_PASSWORD
run() {
	tpenv TIDB_PASSWORD="$PW" "$TIDBPLAY" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# tpc ARGS...: run as app with the right CA (later options override).
tpc() { run -H 127.0.0.1 -P "$TP_PORT" -u app --ca "$TP_CA" "$@"; }

# refused WHAT STATUS REGEX: the last run was refused as expected.
refused() {
	is "$RC" "$2" "$1: exit status $2"
	like "$ERR" "$3" "$1: the message names the cause"
	unlike "$OUT$ERR" "$PW" "$1: the password is not shown"
	is "$(snapshot)" "$before" "$1: the table is unchanged"
}

# --- verified TLS works and says how it was verified
tpc -e status
is "$RC" 0 "verified TLS: exit 0"
like "$OUT" '^tls: +TLSv1\.[23], [A-Z0-9_-]+' "status shows TLSv1.2/1.3 and a cipher"
like "$OUT" "^verified: +$TP_CA, from --ca" "status shows the CA and where it came from"
unlike "$OUT$ERR" "$PW" "status does not show the password"

# --- the server's certificate is refused
tpc --ca "$TP_OTHER_CA" -e 'add intruder 1 1'
refused "unrelated CA" 4 'not signed by a trusted CA'
like "$ERR" "$TP_OTHER_CA" "unrelated CA: the message names the CA used"

run -H 127.0.0.1 -P "$(port_of wrongname)" -u app --ca "$(ca_of wrongname)" \
    -e 'add intruder 1 1'
refused "certificate for another name" 4 'does not name the host'
like "$ERR" '127\.0\.0\.1' "another name: the message names the address used"

run -H 127.0.0.1 -P "$(port_of expired)" -u app --ca "$(ca_of expired)" \
    -e 'add intruder 1 1'
refused "expired certificate" 4 'expired'

run -H 127.0.0.1 -P "$(port_of none)" -u app --ca "$TP_CA" \
    -e 'add intruder 1 1'
refused "server without TLS, CA given" 4 'offers no TLS'

# A CA given but not loopback-plaintext: the none server never gets the
# password even from a user without a TLS requirement.
PW=$TP_PLAIN_PASSWORD
run -H 127.0.0.1 -P "$(port_of none)" -u "$TP_PLAIN_USER" --ca "$TP_CA" \
    -e 'add intruder 1 1'
refused "server without TLS, user without TLS requirement" 4 'offers no TLS'
PW=$TP_PASSWORD

# --- the CA file itself is wrong
sysbundle=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/cert.pem
tpc --ca "$T/no-such-ca.pem" -e 'add intruder 1 1'
refused "missing CA file" 4 "no-such-ca\.pem: No such file"
like "$ERR" "$sysbundle" "missing CA file: names the system bundle OpenSSL would use ($sysbundle)"

export SSL_CERT_FILE="$T/bundle.pem"
tpc --ca "$T/no-such-ca.pem" -e count
unset SSL_CERT_FILE
like "$ERR" "$T/bundle\.pem" "missing CA file: names the bundle SSL_CERT_FILE chooses"

mkdir "$T/cadir"
tpc --ca "$T/cadir" -e 'add intruder 1 1'
refused "CA is a directory" 4 "cadir is a directory"

tpc --ca "$TP_NOTPEM" -e 'add intruder 1 1'
refused "CA file not PEM" 4 "notpem\.pem holds no PEM certificate"

: >"$T/empty.pem"
tpc --ca "$T/empty.pem" -e 'add intruder 1 1'
refused "CA file empty" 4 "empty\.pem holds no PEM certificate"

# Unreadable: root reads anything, so run as nobody where we can.
cp "$TP_CA" "$T/unreadable.pem"
chmod 000 "$T/unreadable.pem"
if can_be_nobody; then
	mkdir "$T/pub" && chmod 755 "$T/pub" && chmod 711 "$T"
	cp "$T/unreadable.pem" "$T/pub/ca.pem" && chmod 000 "$T/pub/ca.pem"
	(cd "$T/pub" && tpenv TIDB_PASSWORD="$PW" HOME="$T/pub" $AS_NOBODY \
	    "$NOBODY_TIDBPLAY" -H 127.0.0.1 -P "$TP_PORT" -u app \
	    --ca "$T/pub/ca.pem" -e 'add intruder 1 1' >"$T/out" 2>"$T/err")
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	chmod 700 "$T"
	refused "unreadable CA file (as nobody)" 4 "ca\.pem: Permission denied"
elif [ "$(id -u)" != 0 ]; then
	tpc --ca "$T/unreadable.pem" -e 'add intruder 1 1'
	refused "unreadable CA file" 4 "unreadable\.pem: Permission denied"
else
	for what in "exit status 4" "the message names the cause" \
	    "the password is not shown" "the table is unchanged"; do
		skip "unreadable CA file (as nobody): $what" \
		    "root, and cannot run as nobody (setpriv)"
	done
fi

# --- authentication
PW=not-the-password
tpc -e 'add intruder 1 1'
refused "wrong password" 3 '[Aa]ccess denied'
PW=$TP_PASSWORD

# app requires TLS; loopback without a CA is plaintext.
run -H 127.0.0.1 -P "$TP_PORT" -u app -e 'add intruder 1 1'
refused "TLS-only account over loopback plaintext" 3 '[Aa]ccess denied'
like "$ERR" 'requires TLS.*--ca' "TLS-only account: the message hints at TLS and --ca"

# --- plaintext by choice
PW=$TP_PLAIN_PASSWORD
run -H 127.0.0.1 -P "$TP_PORT" -u "$TP_PLAIN_USER" --tls off -e status
is "$RC" 0 "--tls off to loopback: exit 0"
like "$OUT" '^tls: +not encrypted' "--tls off: status says not encrypted"
unlike "$ERR" 'warning' "--tls off to loopback: no warning"

run -H 127.0.0.1 -P "$TP_PORT" -u "$TP_PLAIN_USER" -e status
is "$RC" 0 "loopback without a CA: exit 0"
like "$OUT" '^tls: +not encrypted \(loopback' "loopback without a CA: status says not encrypted (loopback)"

run -H localhost.invalid -P "$TP_PORT" -u "$TP_PLAIN_USER" --tls off \
    -e 'add intruder 1 1'
is "$RC" 3 "--tls off to another host: cannot connect (3)"
like "$(printf '%s\n' "$ERR" | head -n 1)" \
    'warning: tls is off.*plaintext' "--tls off to another host: warns first"
like "$ERR" 'localhost\.invalid' "--tls off to another host: the failure names the host"
unlike "$OUT$ERR" "$PW" "--tls off to another host: the password is not shown"
PW=$TP_PASSWORD

# --- the CA from the settings files
cd "$T" || bail "cd $T"
printf "TIDB_HOST='127.0.0.1'\nTIDB_PORT='%s'\nTIDB_USER='app'\nCA_PATH='%s'\n" \
    "$TP_PORT" "$TP_CA" >"$T/ca.env"
# Host, port and user as trusted as the password (TIDB_PASSWORD): options.
run -H 127.0.0.1 -P "$TP_PORT" -u app --env "$T/ca.env" -e status
is "$RC" 0 "CA_PATH in a .env: exit 0"
like "$OUT" "^verified: +$TP_CA, from $T/ca\.env:4" "CA_PATH in a .env: status says so"
like "$OUT" '^tls: +TLSv1\.[23]' "CA_PATH in a .env: TLS in use"

printf "CA_PATH='%s'\n" "$TP_OTHER_CA" >"$T/bad.env"
run -H 127.0.0.1 -P "$TP_PORT" -u app --env "$T/bad.env" -e 'add intruder 1 1'
refused "unrelated CA from a .env" 4 'not signed by a trusted CA'

printf '[connection]\nhost = 127.0.0.1\nport = %s\nuser = app\nca = %s\n' \
    "$TP_PORT" "$TP_CA" >"$T/ca.ini"
run -H 127.0.0.1 -P "$TP_PORT" -u app -c "$T/ca.ini" -e status
is "$RC" 0 "ca in an INI file: exit 0"
like "$OUT" "^verified: +$TP_CA, from $T/ca\.ini:5" "ca in an INI file: status says so"

printf '[connection]\nca = %s\n' "$T/gone.pem" >"$T/gone.ini"
run -H 127.0.0.1 -P "$TP_PORT" -u app -c "$T/gone.ini" -e 'add intruder 1 1'
refused "missing CA from an INI file" 4 'gone\.pem: No such file'

done_testing
