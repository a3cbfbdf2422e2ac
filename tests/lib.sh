# Shared by the integration tests: TAP output, a throwaway TLS server, and a
# way to run tidbplay against it. Sourced, not run.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
TIDBPLAY=${TIDBPLAY:-$top_builddir/tidbplay}
export LC_ALL=C.UTF-8

# Sanitizer builds (configure --enable-sanitizers): leaks in third-party
# libraries are suppressed (tests/lsan.supp), ours fail; and their exit
# statuses (98 ASan, 97 UBSan, 96 a leak) are never mistaken for ours.
: "${ASAN_OPTIONS:=detect_leaks=1:exitcode=98}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:exitcode=97}"
: "${LSAN_OPTIONS:=suppressions=$top_srcdir/tests/lsan.supp:print_suppressions=0:exitcode=96}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

t_n=0
t_failed=0

plan() { echo "1..$1"; }

bail() {
	echo "Bail out! $*"
	exit 1
}

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

pass() { t_n=$((t_n + 1)); echo "ok $t_n - $1"; }

fail() {
	t_n=$((t_n + 1))
	t_failed=1
	echo "not ok $t_n - $1"
}

# ok STATUS DESCRIPTION: passes when STATUS is 0.
ok() {
	if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "got:  '$1'" "want: '$2'"
	fi
}

# like TEXT EXTENDED-REGEX DESCRIPTION
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3"
		diag "text: '$1'" "does not match: $2"
	fi
}

# unlike TEXT EXTENDED-REGEX DESCRIPTION
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3"
		diag "text: '$1'" "matches: $2"
	else
		pass "$3"
	fi
}

# skip DESCRIPTION REASON: a check that cannot run on this machine. In CI
# (CI=true), which must have every tool, it fails; elsewhere it is a
# visible "ok N # SKIP", counted by the TAP driver.
skip() {
	if [ "${CI:-}" = true ]; then
		fail "$1"
		diag "cannot run in CI: $2"
	else
		t_n=$((t_n + 1))
		echo "ok $t_n - $1 # SKIP $2"
	fi
}

# not_here DESCRIPTION REASON: a check that this build cannot run by
# design (valgrind on a sanitizer build): a visible skip, in CI too.
not_here() {
	t_n=$((t_n + 1))
	echo "ok $t_n - $1 # SKIP $2"
}

# skip_all REASON: skip's counterpart for a whole file, before its plan.
skip_all() {
	if [ "${CI:-}" = true ]; then
		bail "cannot run in CI: $1"
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

# wait_for COND [SECONDS]: evaluate the shell command COND every 0.1 s
# until it succeeds, for at most SECONDS (default 15). Returns 1, with a
# diagnostic, when it never did: the caller asserts what it waited for.
wait_for() {
	_wf_n=$((${2:-15} * 10))
	_wf_i=0
	while [ $_wf_i -lt $_wf_n ]; do
		eval "$1" && return 0
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
	diag "gave up after ${2:-15} s waiting for: $1"
	return 1
}

# wait_sql SQL [SECONDS]: wait_for the independent client to find a row
# for SQL.
wait_sql() {
	_ws_q=$1
	wait_for '[ -n "$(sql "$_ws_q" 2>/dev/null)" ]' "${2:-15}"
}

done_testing() {
	echo "1..$t_n"
	exit $t_failed
}

# A scratch directory of this test's own, removed at the end.
T=$(mktemp -d "${TMPDIR:-/tmp}/tp.XXXXXX") || bail "mktemp failed"
SRV=$T/srv
CLU=$T/cluster
PUB=

# hang: the test server stopped (SIGSTOP), as a server that hangs: it
# takes connections in the kernel and answers nothing. resume: running
# again; it does nothing when the server runs, and cleanup calls it.
hang() {
	kill -STOP "$(cat "$SRV/pid")" && _hung=1
}
resume() {
	if [ -n "${_hung:-}" ]; then
		kill -CONT "$(cat "$SRV/pid")" 2>/dev/null
		_hung=
	fi
}

cleanup() {
	resume
	if [ -n "${hold_pid:-}" ]; then
		kill "$hold_pid" 2>/dev/null
	fi
	if [ -f "$SRV/pid" ]; then
		"$top_srcdir/tests/server.sh" stop "$SRV" >/dev/null 2>&1
	fi
	if [ -f "$CLU/base" ]; then
		"$top_srcdir/tests/galera.sh" stop "$CLU" >/dev/null 2>&1
	fi
	rm -rf "$T"
	if [ -n "$PUB" ]; then
		rm -rf "$PUB"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Start a TLS server (TP_SERVER_CERT picks the certificate) and load its
# coordinates: TP_PORT, TP_CA, TP_ADMIN and the rest (tests/server.sh).
start_server() {
	if ! command -v mariadbd >/dev/null 2>&1 &&
	    ! [ -x /usr/sbin/mariadbd ]; then
		skip_all "mariadbd is not installed (apt-get install mariadb-server)"
	fi
	"$top_srcdir/tests/server.sh" start "$SRV" >"$T/server.out" 2>&1 ||
	    bail "the test server did not start: $(cat "$T/server.out")"
	. "$SRV/env"
	export TP_PORT TP_CA
}

# Start a 3-node Galera cluster (tests/galera.sh) and load its coordinates:
# TP_PORT1..3, TP_ADMIN1..3, TP_CA and the rest; TP_PORT and TP_ADMIN are
# node 1's, so tp and sql talk to node 1 until on_node says otherwise.
start_cluster() {
	if ! _why=$("$top_srcdir/tests/galera.sh" check 2>&1); then
		skip_all "cannot run a cluster: $_why"
	fi
	# As root the nodes run as mysql, which must reach the cluster's
	# directory; the rest of T stays unreadable to it.
	[ "$(id -u)" -eq 0 ] && chmod 711 "$T"
	"$top_srcdir/tests/galera.sh" start "$CLU" >"$T/cluster.out" 2>&1 ||
	    bail "the test cluster did not start: $(cat "$T/cluster.out")"
	. "$CLU/env"
	export TP_PORT TP_CA
}

# on_node N: tp and sql talk to node N from now on.
on_node() {
	eval "TP_PORT=\$TP_PORT$1 TP_ADMIN=\$TP_ADMIN$1"
}

# nsql N QUERY: QUERY on node N once it has applied everything the cluster
# committed before (wsrep_sync_wait), as an independent client.
nsql() {
	eval "_admin=\$TP_ADMIN$1"
	"$_admin" --default-character-set=utf8mb4 -N -B \
	    -e "SET SESSION wsrep_sync_wait = 1; $2" test
}

# tpenv [-u NAME | NAME=VALUE]... COMMAND...: COMMAND (tidbplay, or a
# wrapper of it) in the environment every test gives tidbplay: none of the
# caller's TIDB_* settings or CA_PATH, the test server's password, the
# scratch directory as home, no history file. -u NAME and NAME=VALUE, in
# order, change it. It is a script, $T/tpenv, so that tmux, a job-control
# shell or a background job can run it too; it is written again when the
# password changes.
tpenv() {
	[ "${TP_PASSWORD:-}" = "${_tpenv_pw-}" ] && [ -x "$T/tpenv" ] ||
	    tpenv_write
	"$T/tpenv" "$@"
}
tpenv_write() {
	_tpenv_pw=${TP_PASSWORD:-}
	cat >"$T/tpenv.new" <<EOF
#!/bin/sh
unset TIDB_HOST TIDB_PORT TIDB_USER TIDB_DB_NAME CA_PATH XDG_STATE_HOME
TIDB_PASSWORD='$_tpenv_pw' HOME='$T' XDG_CONFIG_HOME='$T/config'
TIDBPLAY_HISTFILE=
export TIDB_PASSWORD HOME XDG_CONFIG_HOME TIDBPLAY_HISTFILE
while [ \$# -gt 0 ]; do
	case \$1 in
	-u) unset "\$2"; shift 2 ;;
	[A-Za-z_]*=*) export "\$1"; shift ;;
	*) break ;;
	esac
done
exec "\$@"
EOF
	chmod 755 "$T/tpenv.new" && mv "$T/tpenv.new" "$T/tpenv" ||
	    bail "cannot write $T/tpenv"
}

# tpconn ARGS...: tidbplay connected to the test server (or node, or the port
# in TP_PORT) as the TLS user, in the tpenv environment; output as the
# caller redirects it.
tpconn() {
	tpenv "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" \
	    --ca "$TP_CA" "$@"
}

# Run tidbplay against the server as the TLS user; sets OUT, ERR and RC.
# Standard input is the caller's (use tp ... <file, or tpin TEXT ...).
tp() {
	tpconn "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# tpin TEXT ARGS...: tp with TEXT on standard input.
tpin() {
	_in=$1
	shift
	printf '%s\n' "$_in" >"$T/in"
	tp "$@" <"$T/in"
}

# For tests of where settings come from. home_dirs: a home $H, a config
# directory $C (with tidbplay/ in it) and a working directory $W of the
# test's own; B is tidbplay.
home_dirs() {
	H=$T/home
	C=$T/config
	W=$T/work
	B=$TIDBPLAY
	mkdir -p "$H" "$C/tidbplay" "$W"
}
# tpe [-u NAME | NAME=VALUE]... COMMAND...: COMMAND in $W, as tpenv with
# no password, HOME=$H and XDG_CONFIG_HOME=$C, standard input empty; sets
# OUT ERR RC.
tpe() {
	(cd "$W" && tpenv -u TIDB_PASSWORD HOME="$H" XDG_CONFIG_HOME="$C" \
	    "$@" >"$T/out" 2>"$T/err" </dev/null)
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# mkfile PATH CONTENT: a private file (no warnings about passwords).
mkfile() {
	printf '%s\n' "$2" >"$1"
	chmod 600 "$1"
}

# Run tidbplay bare (no connection arguments), same captures.
tpraw() {
	"$TIDBPLAY" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# The quickstart's table, as tidbplay creates it on first use; tests that
# need it before tidbplay runs make it with sql "$PLAYERS_DDL".
PLAYERS_DDL="CREATE TABLE IF NOT EXISTS players (id INTEGER NOT NULL
    AUTO_INCREMENT, name VARCHAR(32), coins INTEGER, goods INTEGER,
    PRIMARY KEY (id), UNIQUE (name))"

# reset_players: an empty table; names: its names in id order, on one line.
reset_players() {
	sql "DROP TABLE IF EXISTS players; $PLAYERS_DDL"
}
names() {
	sql "SELECT name FROM players ORDER BY id" | tr '\n' ' '
}

# The database as an independent client sees it.
sql() {
	"$TP_ADMIN" --default-character-set=utf8mb4 -N -B -e "$1" test
}

# The whole table, to compare before and after a refused command.
snapshot() {
	sql "SELECT id, name, coins, goods FROM ${1:-players} ORDER BY id" 2>&1
}

# can_be_nobody: whether tidbplay can run as the user nobody (root, with
# setpriv, and a nobody on the system). If so, $AS_NOBODY "$NOBODY_TIDBPLAY"
# ARGS runs it so (after tpenv too): NOBODY_TIDBPLAY is a copy of tidbplay
# in a directory of /tmp open to all, since the checkout may lie under a
# directory that nobody cannot enter (a 0700 home, a mktemp -d). The copy
# links only system libraries (a sanitizer build's runtime too); its leak
# suppressions come along. Call it in the test's own shell, not in a
# subshell, so that cleanup removes the copy.
NOBODY_TIDBPLAY=
AS_NOBODY=
can_be_nobody() {
	[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	    id nobody >/dev/null 2>&1 || return 1
	if [ -z "$PUB" ]; then
		PUB=$(mktemp -d /tmp/tp-pub.XXXXXX) || bail "mktemp failed"
		chmod 755 "$PUB"
		cp "$TIDBPLAY" "$PUB/tidbplay" &&
		    cp "$top_srcdir/tests/lsan.supp" "$PUB/lsan.supp" ||
		    bail "cannot copy tidbplay to $PUB"
		chmod 755 "$PUB/tidbplay"
		chmod 644 "$PUB/lsan.supp"
	fi
	NOBODY_TIDBPLAY=$PUB/tidbplay
	AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups env
	    LSAN_OPTIONS=suppressions=$PUB/lsan.supp:print_suppressions=0:exitcode=96"
}

# ---- many shells at once ----

# add_players N COINS GOODS: players p0..p{N-1} with COINS and GOODS each,
# added by tidbplay.
add_players() {
	awk -v n="$1" -v c="$2" -v g="$3" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "add p%d %d %d\n", i, c, g
	}' >"$T/players.tp"
	tp -q <"$T/players.tp"
	[ "$RC" -eq 0 ] || bail "adding the players failed: $ERR"
}

# random_trades SEED N NPLAYERS: N random trades between players
# p0..p{NPLAYERS-1}, both directions between every pair, with prices high
# enough that some are refused.
random_trades() {
	awk -v seed="$1" -v n="$2" -v np="$3" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			b = int(rand() * np)
			s = (b + 1 + int(rand() * (np - 1))) % np
			printf "trade p%d p%d %d %d\n", b, s,
			    1 + int(rand() * 20), 1 + int(rand() * 300)
		}
	}'
}

# bg_shell K ARGS...: tpconn ARGS in the background (a later -P or -H
# overrides), its output in $T/out.K and $T/err.K, its pid in pid_K;
# finish K waits for it and puts its exit status in rc_K.
bg_shell() {
	_bg_k=$1
	shift
	tpconn "$@" >"$T/out.$_bg_k" 2>"$T/err.$_bg_k" &
	eval "pid_$_bg_k=\$!"
}
finish() {
	eval "wait \$pid_$1"
	eval "rc_$1=\$?"
}

# The server's count of row lock waits so far, of deadlocks so far, and of
# the waits now: a wait that moved proves that two transactions wanted the
# same row at once.
row_lock_waits() {
	sql "SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_waits'" | cut -f2
}
deadlocks() {
	sql "SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'" | cut -f2
}
lock_waits_now() {
	sql "SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_current_waits'" | cut -f2
}

# hold_rows WHERE: another client locks the players WHERE selects (FOR
# UPDATE) until release_rows; fails if it has not within 15 s. Shells
# started meanwhile queue behind it (so that they start together when it
# lets go); rows_held: whether it still holds them.
HOLDING="INFO LIKE 'SELECT SLEEP(120) AS holding%'"
hold_pid=
hold_rows() {
	"$TP_ADMIN" test -e "BEGIN; SELECT id FROM players WHERE $1 FOR UPDATE;
	    SELECT SLEEP(120) AS holding; ROLLBACK" >/dev/null 2>&1 &
	hold_pid=$!
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE $HOLDING"
}
rows_held() {
	[ -n "$(sql "SELECT 1 FROM information_schema.PROCESSLIST WHERE $HOLDING")" ]
}
release_rows() {
	[ -n "$hold_pid" ] || return 0
	sql "SELECT ID INTO @id FROM information_schema.PROCESSLIST
	    WHERE $HOLDING LIMIT 1; KILL CONNECTION @id" 2>/dev/null
	wait "$hold_pid" 2>/dev/null
	hold_pid=
}

# app_runs PATTERN: wait until a statement of tidbplay's (user app) LIKE
# PATTERN is running on the server.
app_runs() {
	wait_sql "SELECT 1 FROM information_schema.PROCESSLIST
	    WHERE USER = 'app' AND INFO LIKE '$1'"
}

# ---- faults ----

# val NAME COLUMN: one player's column, as the independent client sees it.
val() { sql "SELECT $2 FROM players WHERE name = '$1'"; }

# feed ... | tpfed ARGS: tp reading a pipeline whose commands may wait for
# the server between lines. The last command of a pipeline may run in a
# subshell, so tpfed leaves its results in files and tpdone reads them back.
tpfed() {
	tp "$@"
	echo "$RC" >"$T/rc"
}
tpdone() {
	RC=$(cat "$T/rc")
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# kill_server: kill the test server outright, and wait until it is gone.
kill_server() {
	_ks_pid=$(cat "$SRV/pid")
	kill -9 "$_ks_pid"
	wait_for '! kill -0 "$_ks_pid" 2>/dev/null' 10
}

# app_gone: the server holds no connection of the user app (it closed an
# idle one, or a kill has taken effect).
app_gone() {
	[ "$(sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST
	    WHERE USER = 'app'")" = 0 ]
}
