#!/bin/sh
# What tidbplay says about a write is what the server did, at every fault
# point: every writing command runs through tests/faultproxy.py, which
# cuts the connection before the K-th turn reaches the server, cuts the
# answer to it, or holds the answer past read_timeout, for every K of the
# command's exchange, with one host and with a host list; the table, read
# with the mariadb client, is held against each report (tests/faults.py).
. "$top_srcdir/tests/lib.sh"
start_server

TIDBPLAY=$TIDBPLAY T=$T TP_USER=$TP_USER TP_PASSWORD=$TP_PASSWORD \
    TP_ADMIN=$TP_ADMIN /usr/bin/python3 "$top_srcdir/tests/faults.py"
