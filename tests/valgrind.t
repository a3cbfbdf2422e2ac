#!/bin/sh
# Memory errors and leaks under valgrind: the unit test program, and a
# scripted session that goes through every kind of command against the test
# server. No errors, no definite leaks.
. "$top_srcdir/tests/lib.sh"

# --- the hardening configure asked for is in the binary
if grep -aq __asan_init "$TIDBPLAY" 2>/dev/null; then
	not_here "hardening: built with _FORTIFY_SOURCE" \
	    "a sanitizer build: _FORTIFY_SOURCE is off by design"
	sanitized=1
elif command -v readelf >/dev/null 2>&1; then
	sanitized=0
	like "$(readelf -d "$TIDBPLAY")" 'BIND_NOW|FLAGS.*NOW' \
	    "hardening: linked with -z now"
	like "$(readelf -lW "$TIDBPLAY")" 'GNU_RELRO' \
	    "hardening: linked with -z relro"
	like "$(readelf -sW --dyn-syms "$TIDBPLAY")" '__stack_chk_fail' \
	    "hardening: built with a stack protector"
	like "$(readelf -sW --dyn-syms "$TIDBPLAY")" '__[a-z]+_chk@' \
	    "hardening: built with _FORTIFY_SOURCE"
else
	sanitized=0
	skip "hardening: -z now, -z relro, stack protector, _FORTIFY_SOURCE" \
	    "readelf (binutils) is not installed"
fi

if ! command -v valgrind >/dev/null 2>&1; then
	skip "the unit tests and a session under valgrind" \
	    "valgrind is not installed (apt-get install valgrind)"
	done_testing
fi
# A sanitizer build cannot run under valgrind; it checks itself instead.
if [ $sanitized = 1 ]; then
	not_here "the unit tests and a session under valgrind" \
	    "a sanitizer build cannot run under valgrind (the sanitizers do its job)"
	done_testing
fi

VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --error-exitcode=99 --track-fds=no"

# --- the unit tests
unit=$top_builddir/tests/unit
if [ -x "$unit" ]; then
	(cd "$top_builddir" && $VG --log-file="$T/unit.vg" "$unit") \
	    >"$T/unit.out" 2>&1
	rc=$?
	is "$rc" 0 "unit tests under valgrind: exit 0 (99 is a valgrind error)"
	is "$(cat "$T/unit.vg")" "" "unit tests: valgrind reports nothing"
	[ "$rc" = 0 ] || diag "$(tail -n 20 "$T/unit.out")"
else
	skip "unit tests under valgrind" "tests/unit is not built in $top_builddir"
fi

# --- a session through every command
start_server
cd "$T" || bail "cd $T"
printf 'name,coins,goods\ncarol,10,1\n"dave ""d""",20,2\n' >"$T/in.csv"
cat >"$T/session" <<EOF
add alice 100 10
add bob 200 20
add 张伟 5 5
show alice
list
list 1 1
find a
top coins 2
top goods
count
set coins alice 150
set goods alice +5
set coins bob -10
trade alice bob 3 30
rename 张伟 zhang
import $T/in.csv
export $T/out.csv
export -
bulk 25 vg
begin
add eve 1 1
rollback
begin
del zhang
commit
format json
list 3
format vertical
show bob
format csv
status
help
help set
timing on
count
timing off
show nobody
EOF
env TIDB_PASSWORD="$TP_PASSWORD" HOME="$T" XDG_CONFIG_HOME="$T/config" \
    TIDBPLAY_HISTFILE= $VG --log-file="$T/session.vg" \
    "$TIDBPLAY" -H 127.0.0.1 -P "$TP_PORT" -u "$TP_USER" --ca "$TP_CA" \
    --force -f "$T/session" >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 1 "session under valgrind: exit 1 (only 'show nobody' failed; 99 is a valgrind error)"
is "$(cat "$T/session.vg")" "" "session: valgrind reports no errors and no definite leaks"
like "$(cat "$T/err")" 'session:37: .*nobody' "session: the one failure is the last line"
is "$(grep -c 'session:' "$T/err")" 1 "session: no other command failed"
is "$(sql 'SELECT COUNT(*) FROM players')" 29 "session: the table holds what the session left"
is "$(sql "SELECT coins, goods FROM players WHERE name = 'alice'")" "120	18" \
    "session: set and trade took effect"
is "$(wc -l <"$T/out.csv" | tr -d ' ')" 6 "session: export wrote the header and 5 players"

# A connection that fails (TLS) and settings that fail: their error paths
# free what they took too.
env TIDB_PASSWORD="$TP_PASSWORD" HOME="$T" TIDBPLAY_HISTFILE= \
    $VG --log-file="$T/tls.vg" "$TIDBPLAY" -H 127.0.0.1 -P "$TP_PORT" \
    -u "$TP_USER" --ca "$TP_OTHER_CA" -e count >/dev/null 2>"$T/err"
is "$?" 4 "TLS refusal under valgrind: exit 4"
is "$(cat "$T/tls.vg")" "" "TLS refusal: valgrind reports nothing"

printf "TIDB_PORT='4000\n" >"$T/bad.env"
env HOME="$T" TIDBPLAY_HISTFILE= $VG --log-file="$T/env.vg" "$TIDBPLAY" \
    --env "$T/bad.env" -e count >/dev/null 2>"$T/err"
is "$?" 2 "bad .env under valgrind: exit 2"
is "$(cat "$T/env.vg")" "" "bad .env: valgrind reports nothing"

done_testing
