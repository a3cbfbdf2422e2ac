# What tests/server.sh and tests/galera.sh share: process checks, ports,
# the certificates, the accounts, the data directory. Sourced, not run; the
# caller sets DIR (where the certificates go) and me (its name, for
# messages). Only POSIX sh features are used (runs under dash and bash).

die() {
    printf '%s: %s\n' "$me" "$*" >&2
    exit 1
}

# Quote a value for the shell: 'it'\''s'
shquote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# True if process $1 exists and is not a zombie.
is_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        ia_state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ "$ia_state" = Z ] && return 1
    fi
    return 0
}

# True if process $1 is alive and is a MariaDB server (guards against a
# stale pid file whose pid has been reused by something else).
is_our_server() {
    is_alive "$1" || return 1
    if [ -r "/proc/$1/comm" ]; then
        ios_comm=$(cat "/proc/$1/comm" 2>/dev/null)
    else
        ios_comm=$(ps -p "$1" -o comm= 2>/dev/null)
    fi
    case $ios_comm in
        mariadbd*|mysqld*) return 0 ;;
    esac
    return 1
}

# Terminate process $1: SIGTERM, wait up to 20 s, then SIGKILL.  With a
# second argument "child" the process is known to be ours (it may not have
# exec'd mariadbd yet), otherwise it must look like a MariaDB server.
kill_server() {
    ks_pid=$1
    if [ "${2:-}" = child ]; then
        is_alive "$ks_pid" || return 0
    else
        is_our_server "$ks_pid" || return 0
    fi
    kill -TERM "$ks_pid" 2>/dev/null
    ks_i=0
    while [ $ks_i -lt 200 ]; do
        is_alive "$ks_pid" || return 0
        sleep 0.1
        ks_i=$((ks_i + 1))
    done
    kill -KILL "$ks_pid" 2>/dev/null
    ks_i=0
    while [ $ks_i -lt 50 ] && is_alive "$ks_pid"; do
        sleep 0.1
        ks_i=$((ks_i + 1))
    done
    return 0
}

# Print the last lines of a log file to stderr (if it has any content).
show_tail() {
    if [ -s "$1" ]; then
        printf -- '--- last lines of %s ---\n' "$1" >&2
        tail -n "${2:-20}" "$1" >&2
    fi
}

# A random port in 20000-32767: below the default Linux ephemeral range
# (32768-60999) so that outgoing connections never grab the port, which
# matters for "restart" reusing it.
random_port() {
    rp_r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -dc 0-9)
    [ -n "$rp_r" ] || rp_r=$(( ($$ * 7919 + $(date +%s)) % 65536 ))
    echo $((20000 + rp_r % 12768))
}

# True if something already listens on 127.0.0.1:$1 (or on the wildcard).
port_in_use() {
    command -v ss >/dev/null 2>&1 || return 1
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# ---------------------------------------------------------------- certificates

make_certs() {
    tls=$DIR/tls
    mkdir -p "$tls/issued" || return 1
    : > "$tls/index.txt"
    echo 1000 > "$tls/serial"
    cat > "$tls/openssl.cnf" <<EOF || return 1
[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ wrongname_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ dnsname_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:gateway01.serverless.test
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ca ]
default_ca = test_ca

[ test_ca ]
database        = $tls/index.txt
new_certs_dir   = $tls/issued
serial          = $tls/serial
certificate     = $DIR/ca.pem
private_key     = $tls/ca-key.pem
default_md      = sha256
policy          = policy_any
unique_subject  = no
email_in_dn     = no
copy_extensions = none

[ policy_any ]
commonName = supplied
EOF
    cnf=$tls/openssl.cnf
    log=$tls/openssl.log
    : > "$log"
    newkey='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'

    # Real CA.
    # shellcheck disable=SC2086
    openssl req -config "$cnf" -x509 $newkey -sha256 -days 10 \
        -subj '/CN=tests throwaway CA' -extensions ca_ext \
        -keyout "$tls/ca-key.pem" -out "$DIR/ca.pem" >>"$log" 2>&1 ||
        return 1

    # Unrelated CA.
    # shellcheck disable=SC2086
    openssl req -config "$cnf" -x509 $newkey -sha256 -days 10 \
        -subj '/CN=tests unrelated CA' -extensions ca_ext \
        -keyout "$tls/other-ca-key.pem" -out "$DIR/other-ca.pem" \
        >>"$log" 2>&1 || return 1

    # Server certificates signed by the real CA: name ext-section
    for v in server:localhost:server_ext wrongname:wrong.example:wrongname_ext \
        dnsname:gateway01.serverless.test:dnsname_ext
    do
        name=${v%%:*}; rest=${v#*:}; cn=${rest%%:*}; ext=${rest#*:}
        # shellcheck disable=SC2086
        openssl req -config "$cnf" -new $newkey -subj "/CN=$cn" \
            -keyout "$DIR/$name-key.pem" -out "$tls/$name.csr" \
            >>"$log" 2>&1 || return 1
        openssl x509 -req -in "$tls/$name.csr" -sha256 -days 10 \
            -CA "$DIR/ca.pem" -CAkey "$tls/ca-key.pem" \
            -CAserial "$tls/ca.srl" -CAcreateserial \
            -extfile "$cnf" -extensions "$ext" \
            -out "$DIR/$name-cert.pem" >>"$log" 2>&1 || return 1
    done

    # Expired server certificate (valid 2020-01-01 .. 2020-01-11).
    # shellcheck disable=SC2086
    openssl req -config "$cnf" -new $newkey -subj '/CN=localhost' \
        -keyout "$DIR/expired-key.pem" -out "$tls/expired.csr" \
        >>"$log" 2>&1 || return 1
    openssl ca -config "$cnf" -batch -notext -extensions server_ext \
        -startdate 20200101000000Z -enddate 20200111000000Z \
        -in "$tls/expired.csr" -out "$DIR/expired-cert.pem" \
        >>"$log" 2>&1 || return 1
    if openssl x509 -in "$DIR/expired-cert.pem" -noout -checkend 0 \
        >>"$log" 2>&1; then
        echo "expired-cert.pem is not expired" >>"$log"
        return 1
    fi

    printf 'This file is not PEM.\nIt is plain text used to test error handling.\n' \
        > "$DIR/notpem.pem" || return 1

    chmod 600 "$tls"/*-key.pem "$DIR"/*-key.pem 2>/dev/null
    return 0
}

# Create the test database and the accounts through the socket $1.
setup_sql() {
    "$client" --no-defaults -uroot "--socket=$1" <<'EOF'
CREATE DATABASE IF NOT EXISTS test;
-- Root only on the socket; no anonymous accounts.
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '';
CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-secret' REQUIRE SSL;
CREATE USER 'app'@'localhost' IDENTIFIED BY 'app-secret' REQUIRE SSL;
CREATE USER 'app'@'%'         IDENTIFIED BY 'app-secret' REQUIRE SSL;
GRANT ALL PRIVILEGES ON *.* TO 'app'@'127.0.0.1', 'app'@'localhost', 'app'@'%';
CREATE USER 'plain'@'127.0.0.1' IDENTIFIED BY 'plain-pw';
CREATE USER 'plain'@'localhost' IDENTIFIED BY 'plain-pw';
CREATE USER 'plain'@'%'         IDENTIFIED BY 'plain-pw';
GRANT ALL PRIVILEGES ON *.* TO 'plain'@'127.0.0.1', 'plain'@'localhost', 'plain'@'%';
EOF
}

find_tools() {
    mariadbd=$(command -v mariadbd 2>/dev/null) ||
        mariadbd=$(command -v mysqld 2>/dev/null)
    [ -n "$mariadbd" ] || for d in /usr/sbin /usr/local/sbin /usr/libexec; do
        [ -x "$d/mariadbd" ] && { mariadbd=$d/mariadbd; break; }
    done
    [ -n "$mariadbd" ] || die "mariadbd not found"
    client=$(command -v mariadb 2>/dev/null) || die "mariadb client not found"
    install_db=$(command -v mariadb-install-db 2>/dev/null) ||
        install_db=$(command -v mysql_install_db 2>/dev/null) ||
        die "mariadb-install-db not found"
}

# DIR is short enough for a socket path $1 bytes longer than DIR itself
# (sun_path is 108 bytes including the terminating NUL).
check_sock_len() {
    [ $((${#DIR} + $1)) -le 107 ] ||
        die "directory path too long for a Unix socket: $DIR"
}

# install_data DATADIR TMPDIR LOG USER: a fresh data directory for a server
# that runs as USER (empty: the caller's user).
install_data() {
    id_tmp=$2
    id_log=$3
    set -- --no-defaults --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve "--datadir=$1" \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
        ${4:+"--user=$4"}
    # install-db may write to /tmp; keep it under the caller's directory.
    TMPDIR=$id_tmp "$install_db" "$@" "--tmpdir=$id_tmp" \
        </dev/null >"$id_log" 2>&1
}

# background LOG COMMAND...: run COMMAND in the background, its output
# appended to LOG, with every descriptor the caller might be waiting on
# (pipes from $(...) or a test harness) closed, so the caller does not hang
# on EOF; $! is its pid.
background() {
    bg_log=$1
    shift
    "$@" </dev/null >>"$bg_log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
}

# write_admin_script FILE SOCKET WHOSE: FILE runs the mariadb client as root
# over SOCKET (the Unix socket of WHOSE: "the", "node 2's").
write_admin_script() {
    {
        echo '#!/bin/sh'
        echo "# Run the mariadb client as root over $3 Unix socket."
        printf 'exec %s --no-defaults -uroot --socket=%s "$@"\n' \
            "$(shquote "$client")" "$(shquote "$2")"
    } > "$1" && chmod +x "$1"
}

# env_lines NAME=VALUE...: each as a line of the env file, the value quoted.
env_lines() {
    for el_kv in "$@"; do
        printf '%s=%s\n' "${el_kv%%=*}" "$(shquote "${el_kv#*=}")"
    done
}

# The lines of the env file every server and cluster has alike: the
# certificates in $DIR and the accounts setup_sql makes.
common_env() {
    env_lines \
        "TP_HOST=127.0.0.1" \
        "TP_CA=$DIR/ca.pem" \
        "TP_OTHER_CA=$DIR/other-ca.pem" \
        "TP_NOTPEM=$DIR/notpem.pem" \
        "TP_USER=app" \
        "TP_PASSWORD=app-secret" \
        "TP_PLAIN_USER=plain" \
        "TP_PLAIN_PASSWORD=plain-pw" \
        "TP_DB=test"
}

# fail_report MESSAGE [LOG [LINES]]: the end of a failed start or
# restart ($action of $DIR), with the tail of LOG; exits 1.
fail_report() {
    printf '%s: %s %s: %s\n' "$me" "$action" "$DIR" "$1" >&2
    [ -n "${2:-}" ] && show_tail "$2" "${3:-20}"
    exit 1
}

# start_dir: make $DIR for a start, refusing one that holds anything, and
# make its name absolute.
start_dir() {
    if [ -e "$DIR" ]; then
        [ -d "$DIR" ] || die "start: $DIR exists and is not a directory"
        [ -z "$(ls -A "$DIR" 2>/dev/null)" ] ||
            die "start: $DIR is not empty (use restart to reuse it)"
    fi
    mkdir -p "$DIR" || die "start: cannot create $DIR"
    DIR=$(cd "$DIR" && pwd -P) || die "start: cannot enter $DIR"
}
