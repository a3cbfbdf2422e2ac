#!/bin/sh
# A node that is up but not serving, on a real cluster (tests/galera.sh):
# node 3 cut off from the others (gmcast.isolate) is outside the primary
# component and answers every statement with 1047 ("WSREP has not yet
# prepared node for application use"). Nothing it refuses is applied, so
# with a host list that starts at it tidbplay goes on on the next host,
# as for a lost connection, and each write lands exactly once; with that
# node alone every command fails, and a script under --force stops at the
# first failure only as its status says.
. "$top_srcdir/tests/lib.sh"
start_cluster

n1="127.0.0.1:$TP_PORT1"
n2="127.0.0.1:$TP_PORT2"
n3="127.0.0.1:$TP_PORT3"

tpin 'add alice 10 10' -q
[ "$RC" -eq 0 ] || bail "setup failed: $ERR"

status_of() {
	"$(eval echo "\$TP_ADMIN$1")" -N -B -e \
	    "SHOW STATUS LIKE 'wsrep_cluster_status'" | cut -f2
}
size_of() {
	"$(eval echo "\$TP_ADMIN$1")" -N -B -e \
	    "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2
}
isolate3() {
	"$TP_ADMIN3" -N -B -e \
	    "SET GLOBAL wsrep_provider_options = 'gmcast.isolate = $1'"
}
rejoin() {
	isolate3 0 2>/dev/null
}

isolate3 1 || bail "cannot isolate node 3"
if wait_for '[ "$(status_of 3)" = non-Primary ]' 60; then
	pass "node 3 is outside the primary component"
else
	bail "node 3 did not leave the primary component: $(status_of 3)"
fi
wait_for '[ "$(size_of 1)" = 2 ]' 60 ||
    bail "nodes 1 and 2 did not form a component of their own"

# The control: node 3 really refuses, with 1047.
like "$("$TP_ADMIN3" -N -B -e 'SELECT COUNT(*) FROM players' test 2>&1)" \
    "1047|WSREP has not yet prepared" "node 3 answers a statement with 1047"

# ---- a host list that starts at node 3 ----

tp -H "$n3,$n1,$n2" -e 'add bob 1 1' -e 'set coins alice +5' \
    -e 'trade bob alice 1 1' -e 'count'
is "$RC" 0 "with a host list, every command ran on the next host"
like "$ERR" "not serving" "it says node 3 is not serving"
is "$(printf '%s\n' "$OUT" | tail -n 1)" 2 \
    "the count came from a node that serves"
is "$(nsql 1 "SELECT COUNT(*) FROM players WHERE name = 'bob'")" 1 \
    "the add landed once"
is "$(nsql 1 "SELECT coins FROM players WHERE name = 'alice'")" 16 \
    "the relative set landed once (10 + 5 + 1 from the trade)"
is "$(nsql 1 "SELECT coins, goods FROM players WHERE name = 'bob'")" \
    "$(printf '0\t2')" "the trade landed once"

# A piped script with many lines goes on too, never burning them on node 3.
i=0
: >"$T/many.tp"
while [ $i -lt 50 ]; do
	echo "add many_$i $i $i" >>"$T/many.tp"
	i=$((i + 1))
done
tp -H "$n3,$n1" --force <"$T/many.tp"
is "$RC" 0 "50 piped adds with node 3 first: exit 0"
is "$(nsql 1 "SELECT COUNT(*) FROM players WHERE name LIKE 'many!_%' ESCAPE '!'")" \
    50 "all 50 landed, each once"

# ---- node 3 alone ----

tp -H "$n3" -e 'add carol 1 1'
is "$RC" 1 "node 3 alone: the add fails (exit 1)"
like "$ERR" "1047" "and says what the node answered"
is "$(nsql 1 "SELECT COUNT(*) FROM players WHERE name = 'carol'")" 0 \
    "nothing was applied"

rejoin
wait_for '[ "$(size_of 1)" = 3 ]' 60 &&
    pass "node 3 rejoins" || fail "node 3 rejoins"

done_testing
