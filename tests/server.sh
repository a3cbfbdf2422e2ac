#!/bin/sh
# Throwaway MariaDB server with TLS on a free loopback port, for the
# integration tests and for trying the project out by hand.
#
# Usage:
#   tests/server.sh start DIR     create DIR (absent or empty), certificates,
#                                 data directory, start the server, create
#                                 users; prints nothing on success
#   tests/server.sh stop DIR      stop the server whose pid is in DIR/pid
#                                 (SIGTERM, up to 20 s, then SIGKILL)
#   tests/server.sh restart DIR   stop, then start again on the same port with
#                                 the same data, certificates and variant
#   tests/server.sh env DIR       print TP_* shell assignments (also DIR/env)
#
# Environment:
#   TP_SERVER_CERT=normal|wrongname|dnsname|expired|none
#                                         (start only, default normal)
#       normal     certificate for IP:127.0.0.1 and DNS:localhost
#       wrongname  valid certificate from the same CA, SAN only DNS:wrong.example
#       dnsname    valid certificate from the same CA, SAN only the DNS name
#                  gateway01.serverless.test (a cloud endpoint's shape; bind
#                  it to 127.0.0.1 in a private /etc/hosts to reach it)
#       expired    certificate from the same CA that expired in 2020
#       none       no TLS at all
#
# Accounts: root@localhost (empty password, Unix socket only: the server runs
# with --skip-name-resolve, so TCP clients never match 'localhost' accounts),
# app / app-secret (REQUIRE SSL), plain / plain-pw (no TLS requirement); both
# have ALL PRIVILEGES on *.*.  Database: test.
#
# DIR/admin runs the mariadb client as root over the socket, e.g.
#   DIR/admin -N -B -e 'select count(*) from t' test
#
# Everything lives under DIR; removing DIR after "stop" removes all traces.
# Only POSIX sh features are used (runs under dash and bash).

set -u

me=${0##*/}
# shellcheck source=tests/server-lib.sh
. "$(dirname "$0")/server-lib.sh"

usage() {
    printf 'usage: %s start|stop|restart|env DIR\n' "$me" >&2
    exit 2
}

# ------------------------------------------------------------------ server

# Launch mariadbd on port $1 in the background; sets $server_pid.
launch() {
    la_port=$1
    if [ "$variant" = none ]; then
        la_ssl1='' la_ssl2='' la_ssl3=''
    else
        case $variant in
            normal) la_c=server ;;
            *)      la_c=$variant ;;
        esac
        la_ssl1="--ssl-ca=$DIR/ca.pem"
        la_ssl2="--ssl-cert=$DIR/$la_c-cert.pem"
        la_ssl3="--ssl-key=$DIR/$la_c-key.pem"
    fi
    set -- --no-defaults \
        "--datadir=$DIR/data" \
        "--socket=$DIR/mysqld.sock" \
        "--pid-file=$DIR/pid" \
        "--log-error=$DIR/error.log" \
        "--tmpdir=$DIR/tmp" \
        "--port=$la_port" \
        --bind-address=127.0.0.1 \
        --skip-networking=0 \
        --skip-name-resolve \
        --port-open-timeout="$port_wait" \
        --innodb-buffer-pool-size=32M \
        --innodb-log-file-size=16M \
        --innodb-flush-log-at-trx-commit=2 \
        --skip-log-bin \
        --character-set-server=utf8mb4 \
        --max-connections=200
    [ -n "$la_ssl1" ] && set -- "$@" "$la_ssl1" "$la_ssl2" "$la_ssl3"
    [ "$(id -u)" = 0 ] && set -- "$@" --user=root
    background "$DIR/mariadbd.out" "$mariadbd" "$@"
    server_pid=$!
    echo "$server_pid" > "$DIR/pid"
}

# Wait up to 30 s for the server to answer on its socket.
# Returns 0 ready, 1 process died, 2 timeout.
wait_ready() {
    wr_i=0
    while [ $wr_i -lt 300 ]; do
        if ! is_alive "$server_pid"; then
            wait "$server_pid" 2>/dev/null
            return 1
        fi
        if "$client" --no-defaults -uroot "--socket=$DIR/mysqld.sock" \
            --connect-timeout=2 -e 'select 1' >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
        wr_i=$((wr_i + 1))
    done
    return 2
}

# Start on $1 (a fixed port) or on a free random port; up to 10 attempts
# when the port turns out to be taken.
run_server() {
    rs_fixed=${1:-}
    rs_attempt=0
    while :; do
        rs_attempt=$((rs_attempt + 1))
        if [ -n "$rs_fixed" ]; then
            port=$rs_fixed
        else
            rs_try=0
            port=$(random_port)
            while port_in_use "$port" && [ $rs_try -lt 50 ]; do
                port=$(random_port)
                rs_try=$((rs_try + 1))
            done
        fi
        rs_logsize=0
        [ -f "$DIR/error.log" ] &&
            rs_logsize=$(wc -c < "$DIR/error.log" | tr -dc 0-9)
        launch "$port"
        wait_ready
        rs_rc=$?
        [ $rs_rc = 0 ] && return 0
        if [ $rs_rc = 2 ]; then
            kill_server "$server_pid" child
            fail_reason="server did not accept connections within 30 s"
            return 1
        fi
        rm -f "$DIR/pid"
        if tail -c +"$((rs_logsize + 1))" "$DIR/error.log" 2>/dev/null |
            grep -q -e 'Address already in use' -e 'Bind on TCP/IP port'
        then
            if [ -n "$rs_fixed" ]; then
                fail_reason="port $port is in use by another process"
                return 1
            fi
            if [ $rs_attempt -lt 10 ]; then
                continue
            fi
            fail_reason="could not find a free port after $rs_attempt attempts"
            return 1
        fi
        fail_reason="mariadbd exited during startup"
        return 1
    done
}

write_env() {
    {
        common_env
        env_lines \
            "TP_DIR=$DIR" \
            "TP_PORT=$port" \
            "TP_SOCK=$DIR/mysqld.sock" \
            "TP_VARIANT=$variant" \
            "TP_SERVER_CERT_FILE=$DIR/server-cert.pem" \
            "TP_SERVER_KEY_FILE=$DIR/server-key.pem" \
            "TP_ADMIN=$DIR/admin" \
            "TP_ERROR_LOG=$DIR/error.log"
    } > "$DIR/env.tmp" && mv "$DIR/env.tmp" "$DIR/env"
}

write_admin() {
    write_admin_script "$DIR/admin" "$DIR/mysqld.sock" the
}

# Abort a start: stop anything we launched, report, exit 1.
start_fail() {
    if [ -n "${server_pid:-}" ]; then
        kill_server "$server_pid" child
        rm -f "$DIR/pid"
    fi
    fail_report "$@"
}

cmd_start() {
    case ${TP_SERVER_CERT:-normal} in
        normal|wrongname|dnsname|expired|none)
            variant=${TP_SERVER_CERT:-normal} ;;
        *) die "TP_SERVER_CERT must be normal, wrongname, dnsname, expired" \
            "or none" ;;
    esac
    start_dir
    check_sock_len 13
    find_tools
    command -v openssl >/dev/null 2>&1 || die "openssl not found"
    server_pid=
    trap 'start_fail "interrupted"' INT TERM HUP

    make_certs || start_fail "certificate generation failed" \
        "$DIR/tls/openssl.log"

    mkdir -p "$DIR/tmp"
    ss_user=
    [ "$(id -u)" = 0 ] && ss_user=root
    install_data "$DIR/data" "$DIR/tmp" "$DIR/install.log" "$ss_user" ||
        start_fail "mariadb-install-db failed" "$DIR/install.log"

    echo "$variant" > "$DIR/variant"
    port_wait=0
    run_server || start_fail "$fail_reason" "$DIR/error.log"
    echo "$port" > "$DIR/port"

    setup_sql "$DIR/mysqld.sock" >"$DIR/setup.log" 2>&1 ||
        start_fail "creating users failed" "$DIR/setup.log"
    write_admin || start_fail "cannot write $DIR/admin"
    write_env || start_fail "cannot write $DIR/env"
    trap - INT TERM HUP
    exit 0
}

cmd_stop() {
    [ -d "$DIR" ] || exit 0
    if [ -f "$DIR/pid" ]; then
        pid=$(tr -dc 0-9 < "$DIR/pid")
        [ -n "$pid" ] && kill_server "$pid"
        if [ -n "$pid" ] && is_alive "$pid" && is_our_server "$pid"; then
            die "stop: process $pid did not exit"
        fi
        rm -f "$DIR/pid"
    fi
    exit 0
}

cmd_restart() {
    if [ ! -d "$DIR/data" ] || [ ! -f "$DIR/port" ] ||
        [ ! -f "$DIR/variant" ]; then
        die "restart: $DIR does not hold a server made by start"
    fi
    DIR=$(cd "$DIR" && pwd -P) || die "restart: cannot enter $DIR"
    find_tools
    ( cmd_stop ) || exit 1
    port=$(tr -dc 0-9 < "$DIR/port")
    variant=$(cat "$DIR/variant")
    [ -n "$port" ] || die "restart: bad $DIR/port"
    case $variant in
        normal|wrongname|dnsname|expired|none) ;;
        *) die "restart: bad $DIR/variant" ;;
    esac
    server_pid=
    trap 'start_fail "interrupted"' INT TERM HUP
    mkdir -p "$DIR/tmp"
    # Give a lingering socket on the same port a few seconds to go away.
    port_wait=10
    run_server "$port" || start_fail "$fail_reason" "$DIR/error.log"
    write_admin || start_fail "cannot write $DIR/admin"
    write_env || start_fail "cannot write $DIR/env"
    trap - INT TERM HUP
    exit 0
}

cmd_env() {
    [ -f "$DIR/env" ] || die "env: $DIR/env not found (server never started?)"
    cat "$DIR/env"
}

[ $# = 2 ] || usage
action=$1
DIR=$2
[ -n "$DIR" ] || usage
case $1 in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    restart) cmd_restart ;;
    env)     cmd_env ;;
    *)       usage ;;
esac
