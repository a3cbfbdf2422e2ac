#!/bin/sh
# Throwaway 3-node MariaDB Galera cluster on free loopback ports, with TLS
# for clients: a real multi-primary cluster where writes on different nodes
# conflict at COMMIT and a node can really die.
#
# Usage:
#   tests/galera.sh start DIR       create DIR (absent or empty), the
#                                   certificates and a synced 3-node
#                                   cluster with the users; prints nothing
#                                   on success
#   tests/galera.sh stop DIR        stop every node by its pid (SIGTERM, up to
#                                   20 s, then SIGKILL)
#   tests/galera.sh kill DIR N      kill -9 node N
#   tests/galera.sh restart DIR N   stop node N if it runs, wait until the
#                                   others have dropped it, recover its
#                                   position (--wsrep-recover) and start it
#                                   there (--wsrep-start-position), so it
#                                   rejoins by IST; waits until it is synced
#   tests/galera.sh env DIR         print TP_* shell assignments (also DIR/env)
#   tests/galera.sh check           exit 0 if everything a cluster needs is
#                                   installed, else say what is missing
#
# Certificates, accounts and database as tests/server.sh makes them (the
# "normal" certificate: IP:127.0.0.1 and DNS:localhost, from DIR/ca.pem):
# root over each node's socket, app / app-secret (REQUIRE SSL), plain /
# plain-pw; database test.  DIR/nodeN/admin runs the mariadb client as root
# on node N.  Reads on one node may lag a write committed on another: a
# client that needs to see it says SET SESSION wsrep_sync_wait = 1 first.
#
# Node N (1..3) listens on base + 10 * (N - 1) for clients and on the next
# three ports for group communication, IST and SST (the defaults would
# collide).  A dead node is dropped after about 3 s (the default is 6 to
# 7); a view change may take longer on a loaded machine before a live node
# is declared gone (evs.install_timeout).  As root the nodes run as the
# mysql user (with --user=root the joiner's rsync daemon drops to nobody
# and cannot write the data directory), so DIR must be reachable by mysql.
# Each node reads only DIR/nodeN/my.cnf: the SST scripts read the file
# mariadbd was given, else /etc/mysql/my.cnf, even with --no-defaults.
#
# Everything lives under DIR; removing DIR after "stop" removes all traces.
# Only POSIX sh features are used (runs under dash and bash).

set -u

me=${0##*/}
# shellcheck source=tests/server-lib.sh
. "$(dirname "$0")/server-lib.sh"

NODES=3

usage() {
    printf 'usage: %s start|stop|env DIR, kill|restart DIR N, or check\n' \
        "$me" >&2
    exit 2
}

find_provider() {
    for fp_p in /usr/lib/galera/libgalera_smm.so \
        /usr/lib64/galera-4/libgalera_smm.so /usr/lib/libgalera_smm.so; do
        [ -f "$fp_p" ] && { provider=$fp_p; return 0; }
    done
    die "the Galera provider libgalera_smm.so is not installed (galera-4)"
}

find_cluster_tools() {
    find_tools
    find_provider
    command -v rsync >/dev/null 2>&1 || die "rsync not found (state transfer)"
    if [ "$(id -u)" = 0 ]; then
        id mysql >/dev/null 2>&1 || die "there is no mysql user to run the nodes"
        command -v runuser >/dev/null 2>&1 || die "runuser not found"
    fi
}

# The node's ports, from the base in DIR/base: client, group (gcomm), IST,
# SST.
node_ports() {
    np_base=$(tr -dc 0-9 < "$DIR/base")
    [ -n "$np_base" ] || die "bad $DIR/base"
    port=$((np_base + 10 * ($1 - 1)))
    gport=$((port + 1))
    iport=$((port + 2))
    sport=$((port + 3))
}

# A base with all 4 * NODES ports free, below 32768 (see random_port).
pick_base() {
    pb_try=0
    while [ $pb_try -lt 50 ]; do
        pb_try=$((pb_try + 1))
        base=$(random_port)
        base=$((base - base % 10))
        [ $((base + 10 * NODES)) -lt 32768 ] || continue
        pb_busy=0
        pb_n=0
        while [ $pb_n -lt $((10 * NODES)) ]; do
            if [ $((pb_n % 10)) -lt 4 ] && port_in_use $((base + pb_n)); then
                pb_busy=1
                break
            fi
            pb_n=$((pb_n + 1))
        done
        [ $pb_busy = 0 ] && return 0
    done
    return 1
}

# Run a command as the user the nodes run as.
as_node_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u mysql -- "$@"
    else
        "$@"
    fi
}

write_cnf() {
    wc_d=$DIR/node$1
    wc_addr=
    wc_i=1
    while [ $wc_i -le $NODES ]; do
        node_ports $wc_i
        wc_addr=$wc_addr${wc_addr:+,}127.0.0.1:$gport
        wc_i=$((wc_i + 1))
    done
    node_ports "$1"
    provider_options="base_port=$gport;gmcast.listen_addr=tcp://127.0.0.1:$gport;ist.recv_addr=127.0.0.1:$iport;gcache.size=32M;evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2.5S;evs.inactive_timeout=PT7.5S;evs.install_timeout=PT7.5S;evs.inactive_check_period=PT0.5S"
    {
        echo '[mysqld]'
        [ "$(id -u)" = 0 ] && echo 'user = mysql'
        cat <<EOF
datadir = $wc_d/data
socket = $wc_d/mysqld.sock
pid-file = $wc_d/mysqld.pid
log-error = $wc_d/error.log
tmpdir = $wc_d/tmp
port = $port
bind-address = 127.0.0.1
skip-networking = 0
skip-name-resolve
innodb-buffer-pool-size = 32M
innodb-log-file-size = 16M
innodb-flush-log-at-trx-commit = 2
character-set-server = utf8mb4
max-connections = 200
ssl-ca = $DIR/ca.pem
ssl-cert = $DIR/server-cert.pem
ssl-key = $DIR/server-key.pem
binlog-format = ROW
innodb-autoinc-lock-mode = 2
wsrep-on = ON
wsrep-provider = $provider
wsrep-cluster-name = tidbplay-test
wsrep-cluster-address = gcomm://$wc_addr
wsrep-node-name = node$1
wsrep-node-address = 127.0.0.1:$gport
wsrep-node-incoming-address = 127.0.0.1:$port
wsrep-sst-method = rsync
wsrep-sst-receive-address = 127.0.0.1:$sport
wsrep-provider-options = $provider_options

# The state transfer stays on loopback, unencrypted (the rsync script would
# otherwise take the client TLS settings above and want stunnel).
[sst]
ssl-mode = DISABLED
EOF
    } > "$wc_d/my.cnf"
}

write_admin() {
    write_admin_script "$DIR/node$1/admin" "$DIR/node$1/mysqld.sock" \
        "node $1's"
}

# A node's directory, with its settings and an empty data directory.
make_node() {
    mn_d=$DIR/node$1
    rm -rf "$mn_d"
    mkdir -p "$mn_d/data" "$mn_d/tmp" || return 1
    write_cnf "$1" && write_admin "$1" || return 1
    [ "$(id -u)" = 0 ] && chown mysql:mysql "$mn_d" "$mn_d/data" "$mn_d/tmp"
    return 0
}

# Launch node $1 in the background with extra options; sets node_pid.
launch_node() {
    ln_d=$DIR/node$1
    shift
    background "$ln_d/mariadbd.out" "$mariadbd" "--defaults-file=$ln_d/my.cnf" "$@"
    node_pid=$!
    echo "$node_pid" > "$ln_d/pid"
}

# What node $1 says of status variable $2 (empty if it does not answer).
node_status() {
    "$DIR/node$1/admin" --connect-timeout=2 -N -B \
        -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

node_pid_of() {
    [ -f "$DIR/node$1/pid" ] && tr -dc 0-9 < "$DIR/node$1/pid"
}

# Wait up to $2 s for node $1 to be synced with the cluster.
# Returns 0 synced, 1 the process died, 2 timeout.
wait_synced() {
    ws_pid=$(node_pid_of "$1")
    ws_end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt $ws_end ]; do
        is_alive "$ws_pid" || return 1
        if [ "$(node_status "$1" wsrep_local_state_comment)" = Synced ] &&
            [ "$(node_status "$1" wsrep_ready)" = ON ]; then
            return 0
        fi
        sleep 0.1
    done
    return 2
}

# Wait for node $1, launched as node_pid; on failure stop it, set
# fail_reason and fail_node.
await_node() {
    wait_synced "$1" 90
    case $? in
    0)  return 0 ;;
    1)  fail_reason="node $1 exited while starting" ;;
    *)  fail_reason="node $1 was not synced within 90 s" ;;
    esac
    an_pid=$(node_pid_of "$1")
    [ -n "$an_pid" ] && kill_server "$an_pid" child
    rm -f "$DIR/node$1/pid"
    fail_node=$1
    return 1
}

# Start node $1 (extra options follow) and wait for it.
run_node() {
    rn_n=$1
    shift
    launch_node "$rn_n" "$@"
    await_node "$rn_n"
}

# True if a node's logs say a port was taken.
port_was_taken() {
    cat "$DIR"/node*/error.log "$DIR"/node*/mariadbd.out 2>/dev/null |
        grep -q -e 'Address already in use' -e 'Bind on TCP/IP port' \
            -e 'Failed to listen'
}

# Node 1 makes the cluster, with the accounts, and stops, its position
# saved.
seed_node1() {
    sd_user=
    [ "$(id -u)" = 0 ] && sd_user=mysql
    install_data "$DIR/node1/data" "$DIR/node1/tmp" "$DIR/install.log" \
        "$sd_user" || {
        fail_reason="mariadb-install-db failed"
        fail_log=$DIR/install.log
        return 1
    }
    run_node 1 --wsrep-new-cluster || return 1
    setup_sql "$DIR/node1/mysqld.sock" >"$DIR/setup.log" 2>&1 || {
        fail_reason="creating users failed"
        fail_log=$DIR/setup.log
        return 1
    }
    stop_nodes || { fail_reason="node 1 did not stop"; return 1; }
    grep -q '^seqno: *[0-9]' "$DIR/node1/data/grastate.dat" 2>/dev/null || {
        fail_reason="node 1 saved no position"
        fail_log=$DIR/node1/data/grastate.dat
        return 1
    }
}

# Node $1 gets a copy of node 1's data: not node 1's identity in the group
# (gvwstate.dat), nor the caches.
clone_node1() {
    (cd "$DIR/node1/data" && tar cf - --exclude=./gvwstate.dat \
        --exclude=./galera.cache --exclude=./ibtmp1 .) |
        (cd "$DIR/node$1/data" && tar xpf -) || {
        fail_reason="cannot copy node 1's data to node $1"
        return 1
    }
}

# Each node's saved view (gvwstate.dat) of a primary component of all the
# nodes: its own identity, and all of them as members.
write_views() {
    wv_members=
    wv_n=1
    while [ $wv_n -le $NODES ]; do
        wv_members="$wv_members $(cat /proc/sys/kernel/random/uuid)"
        wv_n=$((wv_n + 1))
    done
    # shellcheck disable=SC2086
    wv_first=$(set -- $wv_members; echo "$1")
    wv_n=1
    for wv_me in $wv_members; do
        {
            echo "my_uuid: $wv_me"
            echo '#vwbeg'
            # 3 is a primary view; its id is the first member's.
            echo "view_id: 3 $wv_first 2"
            echo 'bootstrap: 0'
            for wv_m in $wv_members; do
                echo "member: $wv_m 0"
            done
            echo '#vwend'
        } > "$DIR/node$wv_n/data/gvwstate.dat" || {
            fail_reason="cannot write node $wv_n's saved view"
            return 1
        }
        [ "$(id -u)" = 0 ] &&
            chown mysql:mysql "$DIR/node$wv_n/data/gvwstate.dat"
        wv_n=$((wv_n + 1))
    done
}

# One attempt at the whole cluster on the base in DIR/base.
#
# A node that joins a running cluster needs a state transfer, even if only
# of the membership changes, and the SST scripts take from 4 s to a minute
# of shell (on a loaded machine) each time. So no node joins: node 1 makes
# the cluster and stops; the others get copies of its data at its
# position; each node is given the saved view Galera leaves after a crash,
# of a primary component of all three, and all three start together and
# recover that component (pc.recovery) at the same position, so no data
# moves. Later restarts rejoin by IST, as configured.
start_nodes() {
    fail_node=
    sn_n=1
    while [ $sn_n -le $NODES ]; do
        make_node $sn_n || { fail_reason="cannot create $DIR/node$sn_n"; return 1; }
        sn_n=$((sn_n + 1))
    done
    seed_node1 || return 1
    sn_n=2
    while [ $sn_n -le $NODES ]; do
        clone_node1 $sn_n || return 1
        sn_n=$((sn_n + 1))
    done
    write_views || return 1
    sn_n=1
    while [ $sn_n -le $NODES ]; do
        launch_node $sn_n
        sn_n=$((sn_n + 1))
    done
    sn_n=1
    while [ $sn_n -le $NODES ]; do
        await_node $sn_n || return 1
        sn_n=$((sn_n + 1))
    done
    [ "$(node_status 1 wsrep_cluster_size)" = $NODES ] || {
        fail_reason="the cluster has $(node_status 1 wsrep_cluster_size) nodes, not $NODES"
        return 1
    }
}

stop_nodes() {
    sn_pids=
    sn_n=1
    while [ $sn_n -le $NODES ]; do
        sn_pid=$(node_pid_of $sn_n)
        if [ -n "$sn_pid" ] && is_our_server "$sn_pid"; then
            kill -TERM "$sn_pid" 2>/dev/null
            sn_pids="$sn_pids $sn_pid"
        fi
        sn_n=$((sn_n + 1))
    done
    for sn_pid in $sn_pids; do
        kill_server "$sn_pid"
    done
    for sn_pid in $sn_pids; do
        is_our_server "$sn_pid" && return 1
    done
    rm -f "$DIR"/node*/pid
    return 0
}

write_env() {
    {
        we_hosts=
        we_n=1
        while [ $we_n -le $NODES ]; do
            node_ports $we_n
            we_hosts=$we_hosts${we_hosts:+,}127.0.0.1:$port
            printf 'TP_PORT%d=%s\n' $we_n "$port"
            printf 'TP_SOCK%d=%s\n' $we_n "$(shquote "$DIR/node$we_n/mysqld.sock")"
            printf 'TP_ADMIN%d=%s\n' $we_n "$(shquote "$DIR/node$we_n/admin")"
            printf 'TP_ERROR_LOG%d=%s\n' $we_n "$(shquote "$DIR/node$we_n/error.log")"
            we_n=$((we_n + 1))
        done
        node_ports 1
        common_env
        env_lines \
            "TP_DIR=$DIR" \
            "TP_NODES=$NODES" \
            "TP_HOSTS=$we_hosts" \
            "TP_PORT=$port" \
            "TP_SOCK=$DIR/node1/mysqld.sock" \
            "TP_ADMIN=$DIR/node1/admin" \
            "TP_ERROR_LOG=$DIR/node1/error.log"
    } > "$DIR/env.tmp" && mv "$DIR/env.tmp" "$DIR/env"
}

# Abort a start or restart: stop what we launched, report, exit 1.
start_fail() {
    trap - INT TERM HUP
    if [ "$action" = start ]; then
        stop_nodes
    elif [ -n "${node_pid:-}" ]; then
        kill_server "$node_pid" child
        rm -f "$DIR/node$node/pid"
    fi
    fail_report "$1" "${2:-}" 40
}

cmd_start() {
    start_dir
    check_sock_len 18
    find_cluster_tools
    command -v openssl >/dev/null 2>&1 || die "openssl not found"
    if ! as_node_user test -x "$DIR"; then
        die "start: the mysql user cannot reach $DIR (every directory above it needs o+x)"
    fi
    node_pid=
    trap 'start_fail "interrupted"' INT TERM HUP

    make_certs || start_fail "certificate generation failed" \
        "$DIR/tls/openssl.log"
    [ "$(id -u)" = 0 ] && chown mysql "$DIR/server-key.pem"

    sc_attempt=0
    while :; do
        sc_attempt=$((sc_attempt + 1))
        pick_base || start_fail "no free ports found"
        echo "$base" > "$DIR/base"
        fail_log=
        start_nodes && break
        fail_reason="$fail_reason (ports $base..$((base + 10 * NODES - 1)))"
        [ -n "$fail_node" ] && [ -z "$fail_log" ] &&
            fail_log=$DIR/node$fail_node/error.log
        stop_nodes
        if port_was_taken && [ $sc_attempt -lt 3 ]; then
            rm -rf "$DIR"/node*
            continue
        fi
        start_fail "$fail_reason" "$fail_log"
    done
    write_env || start_fail "cannot write $DIR/env"
    trap - INT TERM HUP
    exit 0
}

cmd_stop() {
    [ -d "$DIR" ] || exit 0
    stop_nodes || die "stop: a node did not exit"
    exit 0
}

check_node() {
    case $node in
    ''|*[!0-9]*) usage ;;
    esac
    if [ "$node" -lt 1 ] || [ "$node" -gt $NODES ]; then
        die "$action: there are nodes 1 to $NODES, not $node"
    fi
    if [ ! -f "$DIR/base" ] || [ ! -f "$DIR/node$node/my.cnf" ]; then
        die "$action: $DIR does not hold a cluster made by start"
    fi
}

cmd_kill() {
    check_node
    ck_pid=$(node_pid_of "$node")
    if [ -z "$ck_pid" ] || ! is_our_server "$ck_pid"; then
        die "kill: node $node is not running"
    fi
    kill -KILL "$ck_pid"
    ck_i=0
    while [ $ck_i -lt 100 ] && is_alive "$ck_pid"; do
        sleep 0.05
        ck_i=$((ck_i + 1))
    done
    is_alive "$ck_pid" && die "kill: node $node (pid $ck_pid) did not die"
    rm -f "$DIR/node$node/pid"
    exit 0
}

# How many nodes run, not counting node $1 (sets live, and other to one
# of them).
others_running() {
    live=0
    or_n=1
    while [ $or_n -le $NODES ]; do
        if [ $or_n != "$1" ]; then
            or_pid=$(node_pid_of $or_n)
            [ -n "$or_pid" ] && is_our_server "$or_pid" && {
                live=$((live + 1))
                other=$or_n
            }
        fi
        or_n=$((or_n + 1))
    done
}

cmd_restart() {
    check_node
    DIR=$(cd "$DIR" && pwd -P) || die "restart: cannot enter $DIR"
    find_cluster_tools
    rs_pid=$(node_pid_of "$node")
    if [ -n "$rs_pid" ] && is_our_server "$rs_pid"; then
        kill_server "$rs_pid"
        is_alive "$rs_pid" && die "restart: node $node did not stop"
    fi
    rm -f "$DIR/node$node/pid"
    other=
    others_running "$node"
    [ "$live" -gt 0 ] || die "restart: no other node is running to rejoin"
    # Until the cluster has evicted the old instance, a new one waits.
    rs_end=$(($(date +%s) + 30))
    while [ "$(node_status "$other" wsrep_cluster_size)" != "$live" ]; do
        [ "$(date +%s)" -lt $rs_end ] ||
            die "restart: node $other still counts $(node_status "$other" wsrep_cluster_size) nodes"
        sleep 0.1
    done
    node_pid=
    trap 'start_fail "interrupted"' INT TERM HUP
    rs_log=$DIR/node$node/recover.log
    : > "$rs_log"
    [ "$(id -u)" = 0 ] && chown mysql "$rs_log"
    "$mariadbd" "--defaults-file=$DIR/node$node/my.cnf" --wsrep-recover \
        "--log-error=$rs_log" </dev/null >/dev/null 2>&1 ||
        start_fail "--wsrep-recover failed" "$rs_log"
    rs_pos=$(sed -n 's/.*WSREP: Recovered position: *\([^ ]*\).*/\1/p' \
        "$rs_log" | tail -n 1)
    [ -n "$rs_pos" ] || start_fail "--wsrep-recover found no position" "$rs_log"
    run_node "$node" "--wsrep-start-position=$rs_pos" ||
        start_fail "$fail_reason" "$DIR/node$node/error.log"
    trap - INT TERM HUP
    exit 0
}

cmd_env() {
    [ -f "$DIR/env" ] || die "env: $DIR/env not found (cluster never started?)"
    cat "$DIR/env"
}

action=${1:-}
if [ "$action" = check ] && [ $# = 1 ]; then
    find_cluster_tools
    exit 0
fi
DIR=${2:-}
node=${3:-}
[ -n "$DIR" ] || usage
case $action in
    start|stop|env) [ $# = 2 ] || usage ;;
    kill|restart)   [ $# = 3 ] || usage ;;
    *)              usage ;;
esac
case $action in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    kill)    cmd_kill ;;
    restart) cmd_restart ;;
    env)     cmd_env ;;
esac
