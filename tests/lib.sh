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

done_testing() {
	echo "1..$t_n"
	exit $t_failed
}

# A scratch directory of this test's own, removed at the end.
T=$(mktemp -d "${TMPDIR:-/tmp}/tp.XXXXXX") || bail "mktemp failed"
SRV=$T/srv
CLU=$T/cluster

cleanup() {
	if [ -f "$SRV/pid" ]; then
		"$top_srcdir/tests/server.sh" stop "$SRV" >/dev/null 2>&1
	fi
	if [ -f "$CLU/base" ]; then
		"$top_srcdir/tests/galera.sh" stop "$CLU" >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Start a TLS server (TP_SERVER_CERT picks the certificate) and load its
# coordinates: TP_PORT, TP_CA, TP_ADMIN and the rest (tests/server.sh).
start_server() {
	if ! command -v mariadbd >/dev/null 2>&1 &&
	    ! [ -x /usr/sbin/mariadbd ]; then
		if [ "${CI:-}" = true ]; then
			bail "mariadbd is not installed (apt-get install mariadb-server)"
		fi
		echo "1..0 # SKIP mariadbd is not installed"
		exit 0
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
		if [ "${CI:-}" = true ]; then
			bail "cannot run a cluster: $_why"
		fi
		echo "1..0 # SKIP cannot run a cluster: $_why"
		exit 0
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

# Run tidbplay against the server as the TLS user; sets OUT, ERR and RC.
# Standard input is the caller's (use tp ... <file, or tpin TEXT ...).
tp() {
	env -u TIDB_HOST -u TIDB_PORT -u TIDB_USER -u TIDB_DB_NAME -u CA_PATH \
	    TIDB_PASSWORD="$TP_PASSWORD" HOME="$T" XDG_CONFIG_HOME="$T/config" \
	    TIDBPLAY_HISTFILE= \
	    "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" --ca "$TP_CA" \
	    "$@" >"$T/out" 2>"$T/err"
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

# Run tidbplay bare (no connection arguments), same captures.
tpraw() {
	"$TIDBPLAY" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# The database as an independent client sees it.
sql() {
	"$TP_ADMIN" --default-character-set=utf8mb4 -N -B -e "$1" test
}

# The whole table, to compare before and after a refused command.
snapshot() {
	sql "SELECT id, name, coins, goods FROM ${1:-players} ORDER BY id" 2>&1
}
