#!/bin/sh
# Where results go when standard output is not what it should be: closed
# standard streams, a pipe whose reader has gone, a full disk.

. "$top_srcdir/tests/lib.sh"
start_server

# tpcmd ARGS...: tidbplay against the server, with the caller's streams.
tpcmd() {
	tpenv timeout 120 "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" \
	    -u "$TP_USER" --ca "$TP_CA" "$@"
}

# tpx REDIRECTIONS ARGS...: tpcmd ARGS 2>err REDIRECTIONS; sets RC, OUT, ERR.
tpx() {
	_r=$1
	shift
	: >"$T/out"
	eval 'tpcmd "$@" 2>"$T/err" '"$_r"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# piped READER ARGS...: tpcmd ARGS | READER; RC is tidbplay's status.
piped() {
	_p=$1
	shift
	{ tpcmd "$@" 2>"$T/err"; echo $? >"$T/rc"; } | eval "$_p"
	RC=$(cat "$T/rc")
	ERR=$(cat "$T/err")
}

aborted() {
	sql "SHOW GLOBAL STATUS WHERE variable_name IN
	    ('Aborted_clients', 'Aborted_connects')" | awk '{ n += $2 } END { print n }'
}

tp -e 'add alice 100 20'

# ---- standard input, output or error closed ----

# Closed, a standard stream's number would go to the TLS socket: output
# written into the connection, commands read from it.
before=$(aborted)
tpx '>&-' -e 'show alice'
is "$RC" 1 "show with standard output closed: exit 1"
like "$ERR" "^-e:1: show: cannot write to standard output: Bad file descriptor$" \
    "show with standard output closed: says so"
is "$(aborted)" "$before" "show with standard output closed: the connection is not harmed"

tpx '>&-' -e 'add closed_out 1 2'
is "$RC" 1 "add (tsv) with standard output closed: exit 1, the id is not shown"
like "$ERR" "add: cannot write to standard output" \
    "add with standard output closed: says so"
is "$(sql "SELECT coins FROM players WHERE name = 'closed_out'")" 1 \
    "add with standard output closed: the player was added, as the man page says"

tpx '>&-' -e 'format table; add closed_table 1 2'
is "$RC" 0 "add in table format with standard output closed: writes nothing there, exit 0"

tpx '>&-' -e 'help'
is "$RC" 1 "help with standard output closed: exit 1"

tpx '>&-' --help
is "$RC" 1 "--help with standard output closed: exit 1"
like "$ERR" "Bad file descriptor" "--help with standard output closed: says so"

tpx '<&- >"$T/out"'
is "$RC" 0 "standard input closed: an empty script, exit 0"
is "$ERR" "" "standard input closed: nothing read from the connection"

before=$(aborted)
tpx '2>&- >"$T/out"' --force -e 'show nobody; count'
is "$RC" 1 "standard error closed: a failed command still fails"
is "$OUT" "$(sql 'SELECT COUNT(*) FROM players')" \
    "standard error closed: the results still come"
is "$(aborted)" "$before" "standard error closed: no message went into the connection"

# ---- a pipe whose reader has gone ----

sql "INSERT INTO players (name, coins, goods)
    SELECT CONCAT('big_', seq), seq, seq FROM seq_1_to_1000000"
sent() {
	sql "SHOW GLOBAL STATUS LIKE 'Rows_sent'" | cut -f2
}

s0=$(sent)
tp -e list
s1=$(sent)
all=$((s1 - s0))

s0=$(sent)
piped 'head -n 1 >"$T/head"' -e list
s1=$(sent)
is "$(cat "$T/head")" "1	alice	100	20" "list | head -1: the first row"
is "$ERR" "" "list | head -1: nothing on standard error"
is "$RC" 0 "list | head -1: exit 0, as psql and mysql"
ok $(($((s1 - s0)) * 2 < all ? 0 : 1)) \
    "list | head -1: the server stops sending ($((s1 - s0)) of $all rows sent)"

piped 'head -n 1 >/dev/null' -e 'list; add after_pipe 1 1'
is "$RC" 0 "list | head -1, then add: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name = 'after_pipe'")" 1 \
    "list | head -1: the session goes on, the connection still works"

piped 'head -n 1 >/dev/null' \
    -e 'begin; add in_txn1 1 1; list; add in_txn2 1 1; commit'
is "$RC" 0 "list | head -1 inside a transaction: exit 0"
is "$(sql "SELECT COUNT(*) FROM players WHERE name IN ('in_txn1', 'in_txn2')")" 2 \
    "list | head -1 inside a transaction: the transaction goes on and commits"

piped 'head -c 1 >/dev/null' --format json -e 'find big_1; top coins 500000'
is "$RC" 0 "find and top into a closed pipe: exit 0"
is "$ERR" "" "find and top into a closed pipe: quiet"

piped 'head -c 1 >/dev/null' -e 'export -'
is "$RC" 0 "export - into a closed pipe: exit 0"
is "$ERR" "" "export - into a closed pipe: quiet"

# ---- a full disk ----

tpx '>/dev/full' -e 'export -'
is "$RC" 1 "export - to /dev/full: exit 1"
like "$ERR" "^-e:1: export: cannot write to standard output: No space left on device$" \
    "export - to /dev/full: names ENOSPC"
tpx '>/dev/full' -e 'list'
is "$RC" 1 "list to /dev/full: exit 1"
like "$ERR" "No space left on device" "list to /dev/full: names ENOSPC"
unlike "$ERR" "Success" "list to /dev/full: errno is read when the write fails"
tpx '>/dev/full' -e 'show alice'
is "$RC" 1 "show to /dev/full (one buffered row): exit 1"
like "$ERR" "standard output: No space left on device" \
    "show to /dev/full: the error at the last flush is named"
tpx '>/dev/full' -e 'show alice; show nobody'
is "$RC" 1 "show, then a failed show, to /dev/full: exit 1"
like "$ERR" "No space left on device" \
    "show, then a failed show, to /dev/full: the first error is not lost"
tp -e "export /dev/full"
is "$RC" 1 "export /dev/full: exit 1"
like "$ERR" "^-e:1: export: /dev/full: No space left on device" \
    "export /dev/full: names ENOSPC"

# ---- display safety: characters that move or reorder text ----

sql "DELETE FROM players WHERE name LIKE 'big!_%' ESCAPE '!'"
# ESC [2J (clear the screen), U+202E (right-to-left override), U+2066
# (left-to-right isolate), U+200B (zero width space), U+FEFF, U+0085 (C1).
sql "INSERT INTO players (name, coins, goods) VALUES
    (UNHEX('6573635F611B5B324A62'), 1, 1),
    (UNHEX('6573635F62E280AE7879'), 2, 2),
    (UNHEX('6573635F63E281A67A'), 3, 3),
    (UNHEX('6573635F64E2808B77'), 4, 4),
    (UNHEX('6573635F65EFBBBF76'), 5, 5),
    (UNHEX('6573635F66C28575'), 6, 6)"
stored=$(sql "SELECT HEX(name) FROM players WHERE name LIKE 'esc!_%' ESCAPE '!' ORDER BY id")
hex_lines() {
	printf '%s\n' "$1" | tr 'A-F' 'a-f' | sed 's/$/0a/' | tr -d '\n'
}
shown='esc_a\x1b[2Jb
esc_b\xe2\x80\xaexy
esc_c\xe2\x81\xa6z
esc_d\xe2\x80\x8bw
esc_e\xef\xbb\xbfv
esc_f\xc2\x85u'

# Table and vertical are for people, wherever they go.
tp --format table -e 'find esc_'
is "$(printf '%s\n' "$OUT" | sed -n 's/^| *[0-9]* | \(esc_[^ ]*\) .*/\1/p')" "$shown" \
    "table: control, bidi and zero-width characters shown as \\xNN"
tp --format vertical -e 'find esc_'
is "$(printf '%s\n' "$OUT" | sed -n 's/^ name: //p')" "$shown" \
    "vertical: the same"

# tsv, csv and export - to a pipe or a file: the exact bytes.
tp --format tsv -e 'find esc_'
is "$(printf '%s\n' "$OUT" | cut -f2 | od -An -tx1 | tr -d ' \n')" \
    "$(hex_lines "$stored")" "tsv to a pipe: the stored bytes, unchanged"
# export refuses a name with a control character (import would refuse
# it); the other invisible characters import reads back.
tp -e 'export -'
is "$RC" 1 "export - with a control character in a name: refused"
like "$ERR" "player id [0-9]+ has a name that import could not read back \\(name holds a control character \\(U\\+001B\\)\\)" \
    "export - with a control character in a name: says which and why"
tp --format csv -e 'find esc_'
printf '%s\n' "$OUT" | sed 1d | cut -d, -f2 >"$T/names"
is "$(od -An -tx1 <"$T/names" | tr -d ' \n')" "$(hex_lines "$stored")" \
    "csv to a pipe: the stored bytes, unchanged"
# Those two rows step aside (ids kept) while export is looked at.
ctl="name IN (UNHEX('6573635F611B5B324A62'), UNHEX('6573635F66C28575'))"
aside() {
	sql "CREATE TABLE aside AS SELECT * FROM players WHERE $ctl;
	    DELETE FROM players WHERE $ctl"
}
back() { sql "INSERT INTO players SELECT * FROM aside; DROP TABLE aside"; }
aside
tp -e 'export -'
grep -a '^esc_' "$T/out" | cut -d, -f1 >"$T/names"
is "$(od -An -tx1 <"$T/names" | tr -d ' \n')" \
    "$(hex_lines "$(printf '%s\n' "$stored" | sed '1d;$d')")" \
    "export - to a pipe: the stored bytes, unchanged"
back

# At a terminal, tsv, csv, json and export - show them escaped too.
cat >"$T/term.sh" <<END
#!/bin/sh
exec env TIDB_PASSWORD='$TP_PASSWORD' HOME='$T' TIDBPLAY_HISTFILE= \\
    '$TIDBPLAY' -H '$TP_HOST' -P '$TP_PORT' -u '$TP_USER' --ca '$TP_CA' \\
    -e "\$TP_E" 2>'$T/err'
END
chmod +x "$T/term.sh"
onterm() {
	TP_E=$1 script -qec "$T/term.sh" /dev/null </dev/null |
	    tr -d '\r' >"$T/out"
	OUT=$(cat "$T/out")
}
onterm 'format tsv; find esc_'
is "$(printf '%s\n' "$OUT" | cut -f2)" "$shown" "tsv at a terminal: shown as \\xNN"
onterm 'format csv; find esc_'
is "$(printf '%s\n' "$OUT" | sed -n 's/^[0-9]*,\(esc_[^,]*\),.*/\1/p')" "$shown" \
    "csv at a terminal: shown as \\xNN"
aside
onterm 'export -'
back
is "$(printf '%s\n' "$OUT" | sed -n 's/^\(esc_[^,]*\),.*/\1/p')" \
    "$(printf '%s\n' "$shown" | sed '1d;$d')" \
    "export - at a terminal: shown as \\xNN"
od -An -tx1 "$T/out" | tr -d ' \n' | grep -q 'e280ae'
ok $(($? == 0)) "export - at a terminal: no U+202E reaches it"
onterm 'format json; find esc_'
is "$(printf '%s\n' "$OUT" | sed -n 's/.*"name":"\(esc_[^"]*\)".*/\1/p')" \
    'esc_a\u001b[2Jb
esc_b\u202exy
esc_c\u2066z
esc_d\u200bw
esc_e\ufeffv
esc_f\u0085u' "json at a terminal: \\uXXXX escapes, still JSON"
is "$(printf '%s\n' "$OUT" | jq -r .name | od -An -tx1 | tr -d ' \n')" \
    "$(hex_lines "$stored")" \
    "json at a terminal: a parser reads back the stored names exactly"
is "$(sql "SELECT HEX(name) FROM players WHERE name LIKE 'esc!_%' ESCAPE '!' ORDER BY id")" \
    "$stored" "the stored names never change"

done_testing
