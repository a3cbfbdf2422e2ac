#!/bin/sh
# Settings: defaults < INI < .env < environment < options, seen through
# what tidbplay does (where it connects, which table it writes), the
# quickstart's .env as the seed page writes it, and bad settings.

. "$top_srcdir/tests/lib.sh"
start_server

home_dirs

# A port where nothing listens: connecting there must fail.
DEAD=1

# The INI with everything right but what the test overrides.
ini() {
	mkfile "$1" "[connection]
host = $TP_HOST
port = ${2:-$TP_PORT}
user = $TP_USER
password = $TP_PASSWORD
ca = $TP_CA"
}

# ---- defaults ----

tpe "$B" -e count
is "$RC" 3 "defaults: nothing at 127.0.0.1:4000 is exit 3"
like "$ERR" "127\.0\.0\.1:4000" "defaults: host 127.0.0.1, port 4000"

tpe "$B" -P "$TP_PORT" -e count
is "$RC" 3 "defaults: user root over TCP is refused"
like "$ERR" "access denied for user 'root'" "defaults: user root"

tpe TIDB_PASSWORD="$TP_PLAIN_PASSWORD" "$B" -P "$TP_PORT" \
    -u "$TP_PLAIN_USER" -e status
is "$RC" 0 "defaults: loopback without a CA connects"
like "$OUT" "^database: +test$" "defaults: database test"
like "$OUT" "^table: +players$" "defaults: table players"

# ---- INI over defaults, .env over INI ----

ini "$T/dead.ini" "$DEAD"
tpe "$B" --config "$T/dead.ini" -e count
is "$RC" 3 "INI: its port is used (nothing listens there)"
like "$ERR" "127\.0\.0\.1:$DEAD[^0-9]" "INI: the message names the INI's port"

ini "$T/good.ini"
tpe "$B" --config "$T/good.ini" -e status
is "$RC" 0 "INI: the right port connects (INI over the default 4000)"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "INI: status shows its port"
like "$OUT" "^user: +app$" "INI: status shows its user"

mkfile "$T/port.env" "TIDB_PORT='$TP_PORT'"
tpe "$B" --config "$T/dead.ini" --env "$T/port.env" -e status
is "$RC" 0 ".env over INI: the .env's port connects"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" ".env over INI: status"

mkfile "$T/nouser.ini" "[connection]
host = $TP_HOST
port = $TP_PORT
user = nobody
password = wrong
ca = $TP_CA"
mkfile "$T/user.env" "TIDB_USER=$TP_USER
TIDB_PASSWORD=$TP_PASSWORD"
tpe "$B" --config "$T/nouser.ini" -e count
is "$RC" 3 "INI: its user and password are used"
like "$ERR" "access denied for user 'nobody'" "INI: user nobody refused"
tpe "$B" --config "$T/nouser.ini" --env "$T/user.env" -e status
is "$RC" 0 ".env over INI: user and password"
like "$OUT" "^user: +app$" ".env over INI: status shows the .env's user"

# ---- environment over .env ----

mkfile "$T/dead.env" "TIDB_PORT=$DEAD"
tpe "$B" --config "$T/good.ini" --env "$T/dead.env" -e count
is "$RC" 3 ".env: its port is used over the INI's"
like "$ERR" "127\.0\.0\.1:$DEAD[^0-9]" ".env: the message names its port"
tpe TIDB_PORT="$TP_PORT" "$B" --config "$T/good.ini" --env "$T/dead.env" \
    -e status
is "$RC" 0 "environment over .env: TIDB_PORT connects"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "environment over .env: status"

mkfile "$T/badpw.env" "TIDB_PASSWORD='not-it'"
tpe "$B" --config "$T/good.ini" --env "$T/badpw.env" -e count
is "$RC" 3 ".env: its password is used"
tpe TIDB_PASSWORD="$TP_PASSWORD" "$B" --config "$T/good.ini" \
    -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" --env "$T/badpw.env" -e count
is "$RC" 0 "environment over .env: TIDB_PASSWORD"

mkfile "$T/otherca.env" "CA_PATH=$TP_OTHER_CA"
tpe "$B" --config "$T/good.ini" --env "$T/otherca.env" -e count
is "$RC" 4 ".env: its CA_PATH is used (an unrelated CA fails to verify)"
tpe CA_PATH="$TP_CA" "$B" --config "$T/good.ini" --env "$T/otherca.env" \
    -e status
is "$RC" 0 "environment over .env: CA_PATH"
like "$OUT" "^verified: +$TP_CA, from environment" \
    "status says the CA came from the environment"

# ---- options over the environment ----

tpe TIDB_PORT="$DEAD" "$B" --config "$T/good.ini" -e count
is "$RC" 3 "environment: TIDB_PORT over the INI"
like "$ERR" "127\.0\.0\.1:$DEAD[^0-9]" "environment: message names TIDB_PORT"
tpe TIDB_PORT="$DEAD" "$B" --config "$T/good.ini" -P "$TP_PORT" -e status
is "$RC" 0 "options over environment: -P connects"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "options over environment: status"
tpe TIDB_PORT="$DEAD" "$B" --config "$T/good.ini" --port="$TP_PORT" -e count
is "$RC" 0 "options over environment: --port=N"

tpe TIDB_USER=nobody "$B" --config "$T/good.ini" -e count
is "$RC" 3 "environment: TIDB_USER is used"
tpe TIDB_USER=nobody "$B" --config "$T/good.ini" -u "$TP_USER" -e count
is "$RC" 0 "options over environment: -u"

tpe TIDB_DB_NAME=nosuchdb "$B" --config "$T/good.ini" -e count
is "$RC" 3 "environment: TIDB_DB_NAME is used"
like "$ERR" "nosuchdb" "environment: the missing database is named"
tpe TIDB_DB_NAME=nosuchdb "$B" --config "$T/good.ini" -D test -e count
is "$RC" 0 "options over environment: -D"

tpe CA_PATH="$TP_OTHER_CA" "$B" --config "$T/good.ini" -e count
is "$RC" 4 "environment: CA_PATH over the INI's ca"
tpe CA_PATH="$TP_OTHER_CA" "$B" --config "$T/good.ini" --ca "$TP_CA" -e count
is "$RC" 0 "options over environment: --ca"

# ---- the table: INI [shell] table < --table ----

sql "DROP TABLE IF EXISTS t_ini, t_opt, players"
mkfile "$T/table.ini" "[connection]
host = $TP_HOST
port = $TP_PORT
user = $TP_USER
password = $TP_PASSWORD
ca = $TP_CA

[shell]
table = t_ini"
tpe "$B" --config "$T/table.ini" -e 'add in_ini 1 2'
is "$RC" 0 "table from the INI: add succeeds"
is "$(sql 'SELECT name, coins, goods FROM t_ini')" "in_ini	1	2" \
    "table from the INI: the row is in t_ini"
tpe "$B" --config "$T/table.ini" --table t_opt -e 'add in_opt 3 4'
is "$RC" 0 "--table over the INI: add succeeds"
is "$(sql 'SELECT name, coins, goods FROM t_opt')" "in_opt	3	4" \
    "--table over the INI: the row is in t_opt"
is "$(sql 'SELECT name FROM t_ini')" "in_ini" "--table: t_ini untouched"
is "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE
    table_schema = 'test' AND table_name = 'players'")" 0 \
    "no players table was created"

# ---- implicit files ----

mkfile "$C/tidbplay/tidbplay.ini" "[connection]
host = $TP_HOST
port = $DEAD
user = $TP_USER
password = $TP_PASSWORD
ca = $TP_CA"
tpe "$B" -e count
is "$RC" 3 "implicit INI: \$XDG_CONFIG_HOME/tidbplay/tidbplay.ini is read"
like "$ERR" "127\.0\.0\.1:$DEAD[^0-9]" "implicit INI: its port is used"
mkfile "$W/.env" "TIDB_PORT='$TP_PORT'  # the right one
TIDB_PASSWORD='$TP_PASSWORD'"
tpe "$B" -e status
is "$RC" 0 "implicit .env: ./.env is read, over the implicit INI"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "implicit .env: status"
like "$OUT" "^verified: +$TP_CA, from $C/tidbplay/tidbplay\.ini:6$" \
    "implicit INI: status names the file and line of the CA"
tpe "$B" --env "$T/dead.env" -e count
is "$RC" 3 "--env replaces ./.env"
rm -f "$W/.env"

mv "$C/tidbplay/tidbplay.ini" "$T/moved.ini"
mkdir -p "$H/.config/tidbplay"
ini "$H/.config/tidbplay/tidbplay.ini" "$DEAD"
tpe -u XDG_CONFIG_HOME "$B" -e count
is "$RC" 3 "no XDG_CONFIG_HOME: ~/.config/tidbplay/tidbplay.ini is read"
rm -rf "$H/.config"

tpe TIDB_PORT="$TP_PORT" TIDB_USER="$TP_USER" TIDB_PASSWORD="$TP_PASSWORD" \
    CA_PATH="$TP_CA" "$B" -e count
is "$RC" 0 "absent implicit files are fine"
is "$ERR" "" "absent implicit files: nothing on stderr"

tpe "$B" --config /nonexistent/tidbplay.ini -P "$TP_PORT" -e count
is "$RC" 2 "--config with a missing file: exit 2"
like "$ERR" "/nonexistent/tidbplay\.ini" "--config: the message names the file"
tpe "$B" --env /nonexistent/.env -P "$TP_PORT" -e count
is "$RC" 2 "--env with a missing file: exit 2"
like "$ERR" "/nonexistent/\.env" "--env: the message names the file"
tpe "$B" -c "$T" -e count
is "$RC" 2 "--config with a directory: exit 2"

# ---- the seed's .env, verbatim ----

# TiDB Serverless, as the seed page writes it; only the placeholders (and
# the port, which is the test server's) are replaced.
mkfile "$T/serverless.env" "TIDB_HOST='$TP_HOST'  # e.g. gateway01.ap-northeast-1.prod.aws.tidbcloud.com
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_USER'  # e.g. xxxxxx.root
TIDB_PASSWORD='$TP_PASSWORD'
TIDB_DB_NAME='test'
CA_PATH='$TP_CA'  # e.g. /etc/ssl/certs/ca-certificates.crt (Debian / Ubuntu / Arch)"
tpe "$B" --env "$T/serverless.env" -e status
is "$RC" 0 "seed .env (Serverless): connects"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "seed .env (Serverless): host and port"
like "$OUT" "^user: +app$" "seed .env (Serverless): user without the comment"
like "$OUT" "^tls: +TLSv1\.[23], " "seed .env (Serverless): TLS 1.2 or 1.3"
like "$OUT" "^verified: +$TP_CA, from $T/serverless\.env:6$" \
    "seed .env (Serverless): verified against CA_PATH"
is "$ERR" "" "seed .env (Serverless): no warnings"

# TiDB Dedicated.
mkfile "$T/dedicated.env" "TIDB_HOST='$TP_HOST'  # e.g. tidb.xxxx.clusters.tidb-cloud.com
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_USER'  # e.g. root
TIDB_PASSWORD='$TP_PASSWORD'
TIDB_DB_NAME='test'
CA_PATH='$TP_CA'"
tpe "$B" --env "$T/dedicated.env" -e status
is "$RC" 0 "seed .env (Dedicated): connects"
like "$OUT" "^tls: +TLSv1\.[23], " "seed .env (Dedicated): over TLS"

# TiDB Self-Hosted, CA_PATH line removed as the page says: plaintext on
# loopback, for the user that does not require TLS.
mkfile "$T/selfhosted.env" "TIDB_HOST='127.0.0.1'
TIDB_PORT='$TP_PORT'
TIDB_USER='$TP_PLAIN_USER'
TIDB_PASSWORD='$TP_PLAIN_PASSWORD'
TIDB_DB_NAME='test'"
tpe "$B" --env "$T/selfhosted.env" -e status
is "$RC" 0 "seed .env (Self-Hosted): connects"
like "$OUT" "^tls: +not encrypted" "seed .env (Self-Hosted): not encrypted"
like "$OUT" "^user: +plain$" "seed .env (Self-Hosted): user plain"
unlike "$OUT" "^verified:" "seed .env (Self-Hosted): nothing verified"

# The same, with what the quickstart's .env.example may also hold.
mkfile "$T/styles.env" "# written by hand
export TIDB_HOST=\"127.0.0.1\"

TIDB_PORT=$TP_PORT   # unquoted, trailing comment
TIDB_USER = '$TP_PLAIN_USER'
TIDB_PASSWORD=\"$TP_PLAIN_PASSWORD\"
SOMETHING_ELSE='for another program'
TIDB_DB_NAME=test"
tpe "$B" --env "$T/styles.env" -e status
is "$RC" 0 ".env: export, double quotes, comments, unknown keys"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" ".env styles: host and port"

# ---- bad INI files ----

mkfile "$T/badkey.ini" "# settings

[connection]
host = $TP_HOST
[shell]
tabel = players"
tpe "$B" --config "$T/badkey.ini" -e count
is "$RC" 2 "INI unknown key: exit 2"
like "$ERR" "$T/badkey\.ini:6: .*tabel" "INI unknown key: FILE:6: names the key"

mkfile "$T/badsec.ini" "[connection]
port = $TP_PORT

[conection]
host = $TP_HOST"
tpe "$B" --config "$T/badsec.ini" -e count
is "$RC" 2 "INI unknown section: exit 2"
like "$ERR" "$T/badsec\.ini:4: .*conection" "INI unknown section: FILE:4:"

mkfile "$T/emptysec.ini" "[connection]
port = $TP_PORT
[nosuch]"
tpe "$B" --config "$T/emptysec.ini" -e count
is "$RC" 2 "INI unknown empty section: exit 2"
like "$ERR" "$T/emptysec\.ini:3: .*nosuch" "INI unknown empty section: FILE:3:"

for p in 0 70000 abc 4000x; do
	mkfile "$T/badport.ini" "; comment
[connection]
host = $TP_HOST
port = $p"
	tpe "$B" --config "$T/badport.ini" -e count
	is "$RC" 2 "INI port $p: exit 2"
	like "$ERR" "$T/badport\.ini:4: .*port" "INI port $p: FILE:4:"
done

mkfile "$T/nosec.ini" "port = $TP_PORT"
tpe "$B" --config "$T/nosec.ini" -e count
is "$RC" 2 "INI key outside a section: exit 2"
like "$ERR" "$T/nosec\.ini:1: " "INI key outside a section: FILE:1:"

mkfile "$T/junk.ini" "[connection]
this is not a setting"
tpe "$B" --config "$T/junk.ini" -e count
is "$RC" 2 "INI junk line: exit 2"
like "$ERR" "$T/junk\.ini:2: " "INI junk line: FILE:2:"

# Debian's inih: quotes are kept (we take them off), ' ;' starts a comment,
# lines over 200 bytes are cut (we refuse them).
mkfile "$T/quoted.ini" "[connection]
host = '$TP_HOST'
port = \"$TP_PORT\" ; the test server
user = $TP_USER
password = '$TP_PASSWORD'
ca = $TP_CA"
tpe "$B" --config "$T/quoted.ini" -e status
is "$RC" 0 "INI: quoted values and a ' ;' comment"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "INI quoted: values unquoted"

mkfile "$T/semi.ini" "[connection]
host = $TP_HOST
password = 'abc ;def'"
tpe "$B" --config "$T/semi.ini" -e count
is "$RC" 2 "INI: a quoted value cut by ' ;' is refused"
like "$ERR" "$T/semi\.ini:3: .*quote" "INI ' ;': FILE:3: says why"
unlike "$ERR" "abc" "INI ' ;': the password is not shown"

long=$(printf '%0250d' 0)
mkfile "$T/long.ini" "[connection]
host = $TP_HOST
ca = /$long"
tpe "$B" --config "$T/long.ini" -e count
is "$RC" 2 "INI: a line over 200 bytes is refused"
like "$ERR" "$T/long\.ini:3: .*long" "INI long line: FILE:3:"

mkfile "$T/twice.ini" "[connection]
port = $TP_PORT
port = $DEAD"
tpe "$B" --config "$T/twice.ini" -e count
is "$RC" 2 "INI: a key given twice is refused"
like "$ERR" "$T/twice\.ini:3: " "INI key twice: FILE:3:"

mkfile "$T/badport.env" "TIDB_HOST=127.0.0.1

TIDB_PORT='forty'"
tpe "$B" --env "$T/badport.env" -e count
is "$RC" 2 ".env bad port: exit 2"
like "$ERR" "$T/badport\.env:3: .*port" ".env bad port: FILE:3:"

mkfile "$T/unterminated.env" "TIDB_HOST='127.0.0.1"
tpe "$B" --env "$T/unterminated.env" -e count
is "$RC" 2 ".env unterminated quote: exit 2"
like "$ERR" "$T/unterminated\.env:1: .*quote" ".env unterminated quote: FILE:1:"

tpe TIDB_PORT=abc "$B" -e count
is "$RC" 2 "environment bad TIDB_PORT: exit 2"
like "$ERR" "TIDB_PORT" "environment bad TIDB_PORT: named"

# ---- the command line ----

for p in 0 70000 abc -1 ''; do
	tpe "$B" --config "$T/good.ini" -P "$p" -e count
	is "$RC" 2 "-P '$p': exit 2"
	like "$ERR" "port" "-P '$p': the message is about the port"
done

# The host list: -H HOST:PORT, and -P still gives a single host its port.
tpe "$B" --config "$T/dead.ini" -H "127.0.0.1:$TP_PORT" -e status
is "$RC" 0 "-H HOST:PORT: the entry's port is used over the INI's"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "-H HOST:PORT: status"
tpe "$B" --config "$T/dead.ini" -H 127.0.0.1 -P "$TP_PORT" -e status
is "$RC" 0 "-H HOST with -P: the port applies to the host"
like "$OUT" "^server: +127\.0\.0\.1:$TP_PORT$" "-H HOST -P PORT: status"
tpe TIDB_HOST="127.0.0.1:$TP_PORT" "$B" --config "$T/dead.ini" -e status
is "$RC" 0 "TIDB_HOST=HOST:PORT: the entry's port is used"
for h in 'a,,b' 'a,' 'a:0' 'a:70000' 'a:x' '[::1' '[db]:1' \
    "$(printf 'h,%.0s' $(seq 16))h"; do
	tpe "$B" --config "$T/good.ini" -H "$h" -e count
	is "$RC" 2 "-H '$h': exit 2"
	like "$ERR" "^tidbplay: --host: (bad|host|too many)" \
	    "-H '$h': one line naming the option"
	is "$(printf '%s\n' "$ERR" | grep -cv '^Try ')" 1 "-H '$h': one line"
done
tpe TIDB_HOST='db1,,db2' "$B" --config "$T/good.ini" -e count
is "$RC" 2 "TIDB_HOST with an empty entry: exit 2"
like "$ERR" "TIDB_HOST: host list 'db1,,db2': entry 2 is empty" \
    "TIDB_HOST with an empty entry: names the variable and the entry"
mkfile "$T/hosts.env" "TIDB_USER=$TP_USER
TIDB_HOST='127.0.0.1:$TP_PORT,127.0.0.1:0'"
tpe "$B" --env "$T/hosts.env" -e count
is "$RC" 2 ".env host list with a bad port: exit 2"
like "$ERR" "$T/hosts\.env:2: TIDB_HOST: bad port in host '127\.0\.0\.1:0'" \
    ".env host list with a bad port: FILE:LINE:"

# read_timeout: an option and a key; a value that is not seconds is refused.
tpe "$B" --config "$T/good.ini" --read-timeout 30 -e count
is "$RC" 0 "--read-timeout 30: accepted"
tpe "$B" --config "$T/good.ini" --read-timeout=0 -e count
is "$RC" 0 "--read-timeout=0 (no limit): accepted"
for v in -1 abc 86401 ''; do
	tpe "$B" --config "$T/good.ini" --read-timeout "$v" -e count
	is "$RC" 2 "--read-timeout '$v': exit 2"
	like "$ERR" "^tidbplay: --read-timeout: bad read_timeout" \
	    "--read-timeout '$v': says so"
done
mkfile "$T/rt.ini" "[connection]
read_timeout = soon"
tpe "$B" --config "$T/rt.ini" -e count
is "$RC" 2 "INI read_timeout soon: exit 2"
like "$ERR" "$T/rt\.ini:2: bad read_timeout 'soon'" "INI read_timeout: FILE:LINE:"
mkfile "$T/shell.ini" "[shell]
pager = ''"
tpe "$B" --config "$T/shell.ini" -e count
is "$RC" 2 "INI empty pager: exit 2"
like "$ERR" "$T/shell\.ini:2: bad pager" "INI empty pager: FILE:LINE:"

tpe "$B" --config "$T/good.ini" --table 'bad-name' -e count
is "$RC" 2 "--table with a bad identifier: exit 2"
tpe "$B" --config "$T/good.ini" --table "$(printf 't%064d' 0)" -e count
is "$RC" 2 "--table of 65 characters: exit 2"
tpe "$B" --config "$T/good.ini" --format yaml -e count
is "$RC" 2 "--format yaml: exit 2"
tpe "$B" --config "$T/good.ini" --tls maybe -e count
is "$RC" 2 "--tls maybe: exit 2"

tpe "$B" --help
is "$RC" 0 "--help: exit 0"
like "$OUT" "^usage: tidbplay" "--help: usage on stdout"
like "$OUT" "--config" "--help: lists the options"
is "$ERR" "" "--help: nothing on stderr"
tpe "$B" -h
is "$RC" 0 "-h: exit 0"
like "$OUT" "^usage: tidbplay" "-h: usage on stdout"

tpe "$B" --version
is "$RC" 0 "--version: exit 0"
like "$OUT" "^tidbplay [0-9]+\.[0-9]+" "--version: on stdout"
is "$ERR" "" "--version: nothing on stderr"
tpe "$B" -V
is "$RC" 0 "-V: exit 0"
like "$OUT" "^tidbplay [0-9]" "-V: on stdout"

tpe "$B" --no-such-option
is "$RC" 2 "unknown long option: exit 2"
like "$ERR" "no-such-option" "unknown long option: named"
is "$OUT" "" "unknown long option: nothing on stdout"
tpe "$B" -Z
is "$RC" 2 "unknown short option: exit 2"
tpe "$B" --config "$T/good.ini" stray
is "$RC" 2 "a stray argument: exit 2"
like "$ERR" "stray" "a stray argument: named"

for a in -pfoo --password=foo; do
	tpe "$B" --config "$T/good.ini" "$a" -e count
	is "$RC" 2 "$a: exit 2"
	like "$ERR" "password" "$a: the message is about the password"
	unlike "$ERR$OUT" "foo" "$a: the value is not echoed"
done

tpe "$B" --config "$T/good.ini" -f "$T/no-such-script"
is "$RC" 2 "-f with a missing file: exit 2"
like "$ERR" "$T/no-such-script" "-f with a missing file: named"

done_testing
