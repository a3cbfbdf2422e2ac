#!/bin/sh
# Host names, not addresses, as a cloud endpoint is reached: each run has
# a private /etc/hosts (a mount namespace of its own) that binds names to
# 127.0.0.1, where a server listens whose certificate names only
# gateway01.serverless.test, signed by the test CA.
#
# - A name that merely starts with 127. is not loopback: with no CA it is
#   verified against the system trust store like any other name, so
#   nothing (no password) goes to it in plaintext.
# - The TiDB Serverless path for real: the seed's .env verbatim, CA_PATH
#   empty (the system store, which SSL_CERT_FILE names) or the Debian
#   bundle path the seed writes; and its refusals, a name the certificate
#   does not hold and a CA the store does not trust.

. "$top_srcdir/tests/lib.sh"

NAME=gateway01.serverless.test

why=
if [ "$(id -u)" != 0 ]; then
	why="needs root for a private /etc/hosts"
elif ! command -v unshare >/dev/null 2>&1; then
	why="unshare is not installed (apt-get install util-linux)"
elif ! unshare -m sh -c 'mount --bind /etc/hosts /etc/hosts' 2>/dev/null; then
	why="cannot bind-mount over /etc/hosts in a mount namespace"
fi
[ -z "$why" ] || skip_all "$why"

TP_SERVER_CERT=dnsname
export TP_SERVER_CERT
start_server

BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$BUNDLE" ] || bail "$BUNDLE is missing (apt-get install ca-certificates)"

printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s\n127.0.0.1\t%s\n127.0.0.1\t%s\n' \
    127.attacker.example "$NAME" gateway02.serverless.test >"$T/hosts"
cat "$BUNDLE" "$TP_CA" >"$T/bundle.crt"
mkdir -p "$T/empty" "$T/work"

# inns [NAME=VALUE...] -- [ARGS...]: tidbplay ARGS -e status in $T/work,
# in a mount namespace of its own where $T/hosts is /etc/hosts and
# $BUNDLE_SRC is the Debian bundle, with none of the caller's settings or
# trust store variables but the NAME=VALUEs; sets OUT ERR RC.
BUNDLE_SRC=$BUNDLE
inns() {
	(cd "$T/work" && tpenv -u TIDB_PASSWORD -u SSL_CERT_FILE \
	    -u SSL_CERT_DIR unshare -m sh -c '
	    mount --bind "$1" /etc/hosts && mount --bind "$2" "$3" || exit 99
	    tp=$4
	    shift 4
	    while [ $# -gt 0 ] && [ "$1" != -- ]; do
		export "$1"
		shift
	    done
	    shift
	    exec "$tp" "$@" -e status' inns "$T/hosts" "$BUNDLE_SRC" \
	    "$BUNDLE" "$TIDBPLAY" "$@" >"$T/out" 2>"$T/err" </dev/null)
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# The private /etc/hosts is in force, and only there.
out=$(unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
    getent hosts 127.attacker.example' sh "$T/hosts")
like "$out" "^127\.0\.0\.1 +127\.attacker\.example$" \
    "the private /etc/hosts binds 127.attacker.example to 127.0.0.1"
if getent hosts 127.attacker.example >/dev/null; then
	bail "127.attacker.example resolves outside the test's namespace"
fi

# ---- a name that starts with 127. is a name, not loopback ----

# The plain user needs no TLS: a client that took the name for loopback
# would log in in plaintext and succeed.
inns TIDB_PASSWORD="$TP_PLAIN_PASSWORD" -- -H 127.attacker.example \
    -P "$TP_PORT" -u "$TP_PLAIN_USER"
is "$RC" 4 "127.attacker.example, no CA: TLS verification fails (4)"
unlike "$OUT" "not encrypted" "127.attacker.example: never in plaintext"
like "$ERR" "certificate is not signed by a trusted CA \(verified with the system trust store " \
    "127.attacker.example: verified against the system store"
unlike "$OUT$ERR" "$TP_PLAIN_PASSWORD" "127.attacker.example: no password shown"

inns TIDB_PASSWORD="$TP_PLAIN_PASSWORD" SSL_CERT_FILE="$TP_CA" -- \
    -H 127.attacker.example -P "$TP_PORT" -u "$TP_PLAIN_USER"
is "$RC" 4 "127.attacker.example, the test CA in the store: refused (4)"
like "$ERR" "of 127\.attacker\.example:$TP_PORT failed: the server's certificate does not name the host" \
    "127.attacker.example: the certificate does not name it"

mkfile() {
	printf '%s\n' "$2" >"$1"
	chmod 600 "$1"
}
mkfile "$T/work/.env" "TIDB_HOST='127.attacker.example'
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_PLAIN_USER'
TIDB_PASSWORD='$TP_PLAIN_PASSWORD'
TIDB_DB_NAME='test'"
inns --
is "$RC" 4 "127.attacker.example from a .env without CA_PATH: refused (4)"
unlike "$OUT" "not encrypted" "127.attacker.example from a .env: never in plaintext"

# The real loopback names and addresses still need no CA.
for h in 127.0.0.1 localhost; do
	inns TIDB_PASSWORD="$TP_PLAIN_PASSWORD" -- -H "$h" -P "$TP_PORT" \
	    -u "$TP_PLAIN_USER"
	is "$RC" 0 "$h, no CA: connects"
	like "$OUT" "^tls: +not encrypted \(loopback\)$" "$h: plaintext on loopback"
done

# ---- the TiDB Serverless path: a DNS name, the system trust store ----

# The seed's .env (step 6 of the quickstart), verbatim but for the values
# that name the test server.
seed() {
	mkfile "$T/work/.env" "TIDB_HOST='$1'  # e.g. gateway01.ap-northeast-1.prod.aws.tidbcloud.com
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_USER'  # e.g. xxxxxx.root
TIDB_PASSWORD='$TP_PASSWORD'
TIDB_DB_NAME='test'
CA_PATH='$2'  # e.g. /etc/ssl/certs/ca-certificates.crt (Debian / Ubuntu / Arch)"
}

seed "$NAME" ''
inns SSL_CERT_FILE="$TP_CA" --
is "$RC" 0 "Serverless .env, CA_PATH empty, the CA in SSL_CERT_FILE: connects"
is "$ERR" "" "Serverless .env, CA_PATH empty: no warnings"
like "$OUT" "^server: +$NAME:$TP_PORT$" "Serverless .env: the DNS name"
like "$OUT" "^tls: +TLSv1\.[23], " "Serverless .env: TLS 1.2 or 1.3"
like "$OUT" "^verified: +the system trust store $TP_CA$" \
    "Serverless .env: verified against the store SSL_CERT_FILE names"

# The Debian bundle with the test CA added, as an installed CA would be.
BUNDLE_SRC=$T/bundle.crt
seed "$NAME" "$BUNDLE"
inns --
is "$RC" 0 "Serverless .env, CA_PATH the Debian bundle: connects"
like "$OUT" "^verified: +$BUNDLE, from \./\.env:6$" \
    "Serverless .env, Debian bundle: verified against CA_PATH"

# The refusals on that path.
seed gateway02.serverless.test ''
inns SSL_CERT_FILE="$TP_CA" --
is "$RC" 4 "Serverless .env, a name the certificate lacks: refused (4)"
like "$ERR" "of gateway02\.serverless\.test:$TP_PORT failed: the server's certificate does not name the host" \
    "name mismatch: says so, naming the host"
unlike "$ERR" "$TP_PASSWORD" "name mismatch: no password shown"

seed gateway02.serverless.test "$BUNDLE"
inns --
is "$RC" 4 "Serverless .env, Debian bundle, a name the certificate lacks: refused (4)"
BUNDLE_SRC=$BUNDLE

seed "$NAME" ''
inns SSL_CERT_FILE="$TP_OTHER_CA" SSL_CERT_DIR="$T/empty" --
is "$RC" 4 "Serverless .env, a store without the server's CA: refused (4)"
like "$ERR" "not signed by a trusted CA" "unknown CA: says so"

seed "$NAME" ''
inns SSL_CERT_DIR="$T/empty" --
is "$RC" 4 "Serverless .env, the real system bundle: the test CA is unknown (4)"

# The quickstart's .env.example path, which Debian lacks: refused, naming
# the system store to use instead (here the one SSL_CERT_FILE names).
seed "$NAME" /etc/ssl/cert.pem
inns SSL_CERT_FILE="$TP_CA" --
if [ -e /etc/ssl/cert.pem ]; then
	bail "/etc/ssl/cert.pem exists on this machine"
fi
is "$RC" 4 "Serverless .env, CA_PATH /etc/ssl/cert.pem: refused"
like "$ERR" "/etc/ssl/cert\.pem: No such file.*system store, $TP_CA\)$" \
    "CA_PATH /etc/ssl/cert.pem: names the system store instead"

done_testing
