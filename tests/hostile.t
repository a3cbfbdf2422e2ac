#!/bin/sh
# Hostile input: every case of tests/hostile.cases is run against the real
# server; each asserts the exit status, that the message says what was
# wrong, and (for a refused input) that the table is unchanged.
#
# A case is one line of four tab-separated fields:
#	KIND	STATUS	REGEX	INPUT
# INPUT may use \xNN (a byte), \n, \t and \{N*TEXT} (TEXT N times, e.g. a
# 1 MiB line); %PORT% and %CA% stand for the test server's port and CA.
# KIND is
#	line	INPUT is a script piped into tidbplay
#	ini	INPUT is an INI file given with -c (@missing: a file that is
#		not there; @dir: a directory)
#	env	INPUT is a .env file given with --env (@missing, @dir too)
#	csv	INPUT is a CSV file given to import
#	name	INPUT is a player name that must be stored byte for byte
# REGEX (extended) must match standard error; for status 0 it must match
# standard output and error together. Refused inputs (status != 0) must
# leave the table exactly as it was; what accepted cases add is undone.
. "$top_srcdir/tests/lib.sh"

start_server
cd "$T" || bail "cd $T"
sql "$PLAYERS_DDL; INSERT INTO players (name, coins, goods) VALUES
    ('alice', 100, 10), ('bob', 50, 5),
    ('1000', 1, 1), ('Xunder_Y', 1, 1), ('aZZbXc', 1, 1), ('bang', 1, 1),
    ('Z%', 1, 1)"
before=$(snapshot)
maxid=$(sql "SELECT MAX(id) FROM players")

# decode TEXT: the case file's escapes, to standard output.
decode() {
	printf '%s' "$1" | perl -0777 -pe '
		s/\\\{(\d+)\*([^}]*)\}/$2 x $1/ge;
		s/%PORT%/$ENV{TP_PORT}/g;
		s/%CA%/$ENV{TP_CA}/g;
		s/\\n/\n/g;
		s/\\t/\t/g;
		s/\\x([0-9a-fA-F]{2})/chr hex $1/ge;'
}

# setting_file KIND INPUT: the path to give tidbplay.
setting_file() {
	case $2 in
	@missing) echo "$T/no-such-file.$1" ;;
	@dir) mkdir -p "$T/dir.$1" && echo "$T/dir.$1" ;;
	*) decode "$2" >"$T/case.$1" && chmod 600 "$T/case.$1" &&
	   echo "$T/case.$1" ;;
	esac
}

# name_cmd NAME-FILE: a double-quoted word for the name in the file.
quoted_name() {
	perl -0777 -pe 's/([\\"])/\\$1/g; $_ = "\"$_\""' "$1"
}

n=0
while IFS='	' read -r kind status regex input; do
	case $kind in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# (echo in some shells reads backslashes: none in a test's name)
	what="$n $kind $(printf '%.50s' "$input" | tr '\\' /)"
	case $kind in
	line)
		decode "$input" >"$T/case.in"
		tp <"$T/case.in"
		;;
	ini)
		tp -c "$(setting_file ini "$input")" -e 'add intruder 1 1'
		;;
	env)
		tp --env "$(setting_file env "$input")" -e 'add intruder 1 1'
		;;
	csv)
		decode "$input" >"$T/case.csv"
		tp -e "import $T/case.csv"
		;;
	name)
		decode "$input" >"$T/name"
		q=$(quoted_name "$T/name")
		want=$(od -An -v -tx1 "$T/name" | tr -d ' \n' |
		    tr abcdef ABCDEF)
		tpin "add $q 7 8" --format tsv
		is "$RC" "$status" "$what: add: exit $status"
		[ "$RC" = 0 ] || diag "$ERR"
		got=$(sql "SELECT HEX(name) FROM players WHERE coins = 7 AND
		    goods = 8")
		is "$got" "$want" "$what: stored byte for byte"
		tpin "show $q" --format tsv
		is "$(printf '%s\n' "$OUT" | cut -f3-4)" "7	8" \
		    "$what: show finds it"
		tpin "find $q" --format tsv
		is "$(printf '%s\n' "$OUT" | grep -c .)" 1 \
		    "$what: find (LIKE escaped) finds it alone"
		tpin "del $q"
		is "$RC" 0 "$what: del"
		is "$(snapshot)" "$before" "$what: the table is back as it was"
		continue
		;;
	*)
		bail "hostile.cases: unknown kind '$kind'"
		;;
	esac
	is "$RC" "$status" "$what: exit $status"
	if [ "$status" = 0 ]; then
		like "$OUT$ERR" "$regex" "$what: output"
		sql "DELETE FROM players WHERE id > $maxid" >/dev/null
	else
		like "$ERR" "$regex" "$what: the message says what was wrong"
	fi
	is "$(snapshot)" "$before" "$what: the table is unchanged"
	# Messages never carry raw control characters to the terminal.
	if printf '%s' "$ERR" | LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')"; then
		fail "$what: no control characters in the message"
	else
		pass "$what: no control characters in the message"
	fi
done <"$top_srcdir/tests/hostile.cases"

[ $n -ge 60 ] || fail "at least 60 cases (found $n)"
done_testing
