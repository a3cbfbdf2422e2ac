#!/bin/sh
# export: NULL columns, the CSV writer shared with list --format csv, and
# how export writes into the path it is given.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- NULL coins and goods are empty fields ----

tp -e count
sql "INSERT INTO players (id, name, coins, goods) VALUES
    (1, 'a', 5, 6), (2, 'b', NULL, 7), (3, 'c', 8, NULL),
    (4, 'd', NULL, NULL), (5, 'e,\"x\"', 9, 10), (6, 'f', 11, 12)"
tp -e 'export -'
is "$RC" 0 "export - with NULL coins and goods: exit 0"
is "$OUT" "$(printf 'name,coins,goods\r\na,5,6\r\nb,,7\r\nc,8,\r\nd,,\r\n"e,""x""",9,10\r\nf,11,12\r')" \
    "export: a NULL is an empty field, never the row before's value"
tp -e "export $T/nulls.csv"
is "$RC" 0 "export FILE with NULLs: exit 0"
tp -e 'export -'
cmp -s "$T/out" "$T/nulls.csv"
ok $? "export FILE and export - write the same bytes"

# The same writer as list --format csv: the same rows without the id.
tp --format csv -e list
printf '%s\n' "$OUT" | sed '1s/^id,//; 2,$s/^[0-9][0-9]*,//' >"$T/list.csv"
tp -e 'export -'
printf '%s\n' "$OUT" >"$T/export.csv"
cmp -s "$T/list.csv" "$T/export.csv"
ok $? "export and list --format csv agree, field for field"

# ---- a NULL name: refused, since import could not read it back ----

sql "INSERT INTO players (id, name, coins, goods) VALUES (7, NULL, 1, 2)"
rm -f "$T/refused.csv"
tp -e "export $T/refused.csv"
is "$RC" 1 "export with a NULL name: exit 1"
like "$ERR" "^-e:1: export: player id 7 has no name \(NULL\)" \
    "export with a NULL name: the message names the row"
like "$ERR" "list --format csv" "export with a NULL name: says what shows it"
[ ! -e "$T/refused.csv" ]
ok $? "export with a NULL name to a new file: no file is left"
ls -a "$T" | grep -q tidbplay
ok $(($? == 0)) "export with a NULL name: no temporary file is left"
tp -e 'export -; count'
is "$RC" 1 "export - with a NULL name: exit 1"
unlike "$OUT" "^7$" "export - with a NULL name: the script stops there"
tp --format csv -e list
like "$OUT" "$(printf '^7,,1,2\r$')" "list --format csv shows the NULL name as an empty field"
sql "DELETE FROM players WHERE id = 7"

# ---- export FILE writes into the path, as a shell redirect does ----

tp -e 'export -'
want=$(cat "$T/out")
printf '%s\n' "$want" >"$T/want.csv"

# exported PATH DESCRIPTION: the last tp succeeded and PATH holds the export.
exported() {
	is "$RC" 0 "$2: exit 0"
	cmp -s "$1" "$T/want.csv"
	ok $? "$2: it holds the export"
}

# An existing file keeps its mode, its owner and its inode; a longer old
# content is cut.
seq 100000 >"$T/old.csv"
chmod 640 "$T/old.csv"
ino=$(stat -c %i "$T/old.csv")
tp -e "export $T/old.csv"
exported "$T/old.csv" "an existing file"
is "$(stat -c %a "$T/old.csv")" 640 "an existing file keeps its mode"
is "$(stat -c %i "$T/old.csv")" "$ino" "an existing file is written, not replaced"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$T/old.csv"
	tp -e "export $T/old.csv"
	exported "$T/old.csv" "a file of another owner"
	is "$(stat -c %U "$T/old.csv")" nobody "an existing file keeps its owner"
else
	diag "not root: the owner of an existing file is not tried"
fi

# A symlink keeps pointing at its target, which gets the rows.
mkdir "$T/real"
printf 'old\n' >"$T/real/target.csv"
ln -s real/target.csv "$T/link.csv"
tp -e "export $T/link.csv"
exported "$T/real/target.csv" "a symlink"
[ -L "$T/link.csv" ] && [ "$(readlink "$T/link.csv")" = real/target.csv ]
ok $? "a symlink stays a symlink to its target"

# A FIFO is written through to whoever reads it.
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/from-fifo" &
reader=$!
tp -e "export $T/fifo"
wait $reader
exported "$T/from-fifo" "a FIFO"
[ -p "$T/fifo" ]
ok $? "a FIFO stays a FIFO"

# Standard output is written, not replaced, whatever its name: a symlink
# to /proc/self/fd/1 here, /dev/stdout below. The real /dev/stdout is only
# ever named inside a /dev of the test's own, so that no export, however
# wrong, can replace it.
ln -s /proc/self/fd/1 "$T/stdout"
tp -e "export $T/stdout"
exported "$T/out" "a symlink to /proc/self/fd/1"
[ -L "$T/stdout" ]
ok $? "a symlink to /proc/self/fd/1 stays a symlink"
tp -e "count; export $T/stdout; count"
is "$OUT" "6
$want
6" "export to standard output by name: in order with the other results"
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	unshare -m sh -c '
		mount -t tmpfs tmpfs /dev &&
		mknod -m 666 /dev/null c 1 3 &&
		mknod -m 666 /dev/urandom c 1 9 &&
		ln -s /proc/self/fd/1 /dev/stdout &&
		"$@" >"'"$T"'/out" 2>"'"$T"'/err" &&
		[ -L /dev/stdout ] && ! ls -a /dev | grep -q tidbplay' sh \
	    env TIDB_PASSWORD="$TP_PASSWORD" HOME="$T" TIDBPLAY_HISTFILE= \
	    "$TIDBPLAY" -H "$TP_HOST" -P "$TP_PORT" -u "$TP_USER" --ca "$TP_CA" \
	    -e 'export /dev/stdout'
	ok $? "as root: /dev/stdout stays a symlink, nothing left in /dev"
	cmp -s "$T/out" "$T/want.csv"
	ok $? "as root: export /dev/stdout writes the rows to standard output"
else
	diag "not root: the real /dev/stdout is not tried"
fi

# A new file gets the mode the umask gives, and appears whole.
for mask in 022 027 002; do
	rm -f "$T/new.csv"
	(umask $mask && tp -e "export $T/new.csv"
	    exit $RC)
	RC=$?
	exported "$T/new.csv" "a new file, umask $mask"
	is "$(stat -c %a "$T/new.csv")" "$(printf '%o' $((0666 & ~0$mask)))" \
	    "a new file gets the umask's mode ($mask)"
done
ls -a "$T" | grep -q tidbplay
ok $(($? == 0)) "a new file: no temporary file is left"

# A directory is refused, and nothing is written anywhere.
mkdir "$T/dir"
tp -e "export $T/dir"
is "$RC" 1 "a directory: exit 1"
like "$ERR" "^-e:1: export: $T/dir: Is a directory$" "a directory: says so"
is "$(ls -A "$T/dir")" "" "a directory: nothing written inside it"

# When the export fails part way, an existing file has the rows before.
sql "INSERT INTO players (id, name, coins, goods) VALUES (7, NULL, 1, 2)"
printf 'old\n' >"$T/partial.csv"
tp -e "export $T/partial.csv"
is "$RC" 1 "an existing file, export refused part way: exit 1"
like "$ERR" "$T/partial.csv has the rows before it" \
    "an existing file, export refused part way: says what it holds"
is "$(cat "$T/partial.csv")" "$want" \
    "an existing file, export refused part way: the rows before it"
rm -f "$T/new.csv"
tp -e "export $T/new.csv"
is "$RC" 1 "a new file, export refused part way: exit 1"
[ ! -e "$T/new.csv" ]
ok $? "a new file, export refused part way: no file"
sql "DELETE FROM players WHERE id = 7"

done_testing
