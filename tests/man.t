#!/bin/sh
# The manual documents what the program does: it is clean mdoc, it has an
# item for every row of the command table (as the running program's help
# lists them), every long option of --help, and every key of
# tidbplay.ini.example.

. "$top_srcdir/tests/lib.sh"

MAN=$top_srcdir/man/tidbplay.1
INI=$top_srcdir/tidbplay.ini.example

start_server

# The man page has a line that starts with $1 (a fixed string).
man_has_line() {
	awk -v want="$1" '
	    index($0, want) == 1 &&
	    (length($0) == length(want) || substr($0, length(want) + 1, 1) == " ") {
		found = 1
	    }
	    END { exit !found }' "$MAN"
}

# (a) mandoc finds nothing to say.
if command -v mandoc >/dev/null 2>&1; then
	lint=$(mandoc -Tlint -Wwarning "$MAN" 2>&1)
	is "$lint" "" "mandoc -Tlint -Wwarning is silent"
else
	skip "mandoc -Tlint -Wwarning is silent" \
	    "mandoc is not installed (apt-get install mandoc)"
fi

# (b) every row of the command table, as help prints it.
tp -e help
is "$RC" 0 "help runs"
printf '%s\n' "$OUT" | sed -n 's/^  \([a-z][a-z]*\)\( [^ ][^ ]*\)\{0,1\}.*/\1\2/p' \
    >"$T/rows"
nrows=$(wc -l <"$T/rows")
if [ "$nrows" -ge 20 ]; then
	pass "help lists $nrows command rows"
else
	fail "help lists $nrows command rows; expected at least 20"
	diag "$OUT"
fi
# A command word on more than one row (set) has a sub-word on each.
cut -d' ' -f1 "$T/rows" | sort | uniq -d >"$T/multi"
while read -r word second; do
	if grep -qx "$word" "$T/multi"; then
		want=".It Ic $word Cm $second"
	else
		want=".It Ic $word"
	fi
	if man_has_line "$want"; then
		pass "the man page has '$want'"
	else
		fail "the man page has '$want'"
	fi
done <"$T/rows"

# (c) every long option of --help, long or short form.
tpraw --help
is "$RC" 0 "--help exits 0"
printf '%s\n' "$OUT" | grep -E '^ +(-[A-Za-z], )?--[a-z]' |
    sed -E 's/^ +(-([A-Za-z]), )?--([a-z][a-z-]*).*/\3 \2/' >"$T/opts"
nopts=$(wc -l <"$T/opts")
if [ "$nopts" -ge 15 ]; then
	pass "--help lists $nopts long options"
else
	fail "--help lists $nopts long options; expected at least 15"
	diag "$OUT"
fi
while read -r long short; do
	if grep -Eq "Fl Fl $long( |$)" "$MAN" ||
	    { [ -n "$short" ] && grep -Eq "Fl $short( |$)" "$MAN"; }; then
		pass "the man page documents --$long"
	else
		fail "the man page documents --$long"
	fi
done <"$T/opts"

# (d) every key of the example settings file.
sed -n 's/^#\{0,1\}\([a-z_][a-z_]*\) *=.*/\1/p' "$INI" >"$T/keys"
nkeys=$(wc -l <"$T/keys")
if [ "$nkeys" -ge 14 ]; then
	pass "tidbplay.ini.example has $nkeys keys"
else
	fail "tidbplay.ini.example has $nkeys keys; expected at least 14"
fi
while read -r key; do
	if man_has_line ".It Cm $key"; then
		pass "the man page documents the setting '$key'"
	else
		fail "the man page documents the setting '$key'"
	fi
done <"$T/keys"

done_testing
