#!/bin/sh
# The bash completion (completion/tidbplay) as bash-completion runs it at a
# prompt: it completes every option that `tidbplay --help` lists and no
# other, the output formats and --tls values that --help names, file names
# where an option takes a file, host names for --host, and nothing where
# the value is the user's own.

. "$top_srcdir/tests/lib.sh"

COMP=$top_srcdir/completion/tidbplay

if ! [ -f /usr/share/bash-completion/bash_completion ] ||
    ! command -v bash >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		fail "bash-completion is not installed (apt-get install bash-completion)"
		done_testing
	fi
	echo "1..0 # SKIP bash-completion is not installed"
	exit 0
fi

# candidates 'LINE': the candidates for LINE<Tab>, sorted, on one line.
candidates() {
	OUT=$(bash "$top_srcdir/tests/complete.sh" "$COMP" "$1" 2>"$T/err")
	RC=$?
	OUT=$(printf '%s\n' "$OUT" | sort | tr '\n' ' ' | sed 's/ *$//')
	ERR=$(cat "$T/err")
}

# is_completion 'LINE' 'WANT' DESCRIPTION (WANT sorted, one blank apart)
is_completion() {
	candidates "$1"
	if [ "$RC" -ne 0 ] || [ -n "$ERR" ]; then
		fail "$3"
		diag "complete.sh exited $RC: $ERR"
		return
	fi
	is "$OUT" "$2" "$3"
}

sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ *$//'; }

tpraw --help
is "$RC" 0 "--help exits 0"
HELP=$OUT

# Every option of --help, and only those.
longs=$(printf '%s\n' "$HELP" | grep -E '^ +(-[A-Za-z], )?--[a-z]' |
    sed -E 's/^ +(-[A-Za-z], )?(--[a-z][a-z-]*).*/\2/')
shorts=$(printf '%s\n' "$HELP" | sed -n -E 's/^ +(-[A-Za-z]), --.*/\1/p')
n=$(printf '%s\n' "$longs" | wc -l)
if [ "$n" -ge 15 ]; then
	pass "--help lists $n long options"
else
	fail "--help lists $n long options; expected at least 15"
fi
# shellcheck disable=SC2086
is_completion '--' "$(sorted $longs)" "'--<Tab>' offers exactly the long options of --help"
# shellcheck disable=SC2086
is_completion '-' "$(sorted $longs $shorts)" \
    "'-<Tab>' offers exactly the options of --help, long and short"
# shellcheck disable=SC2086
is_completion '' "$(sorted $longs)" "'<Tab>' offers the long options (tidbplay takes no operands)"

is_completion '--for' '--force --format' "'--for<Tab>' offers --force and --format"
is_completion '--form' '--format' "'--form<Tab>' completes to --format"
is_completion '--no' '--no-pager' "'--no<Tab>' completes to --no-pager"

# The formats and the --tls values, as --help names them.
formats=$(printf '%s\n' "$HELP" | sed -n 's/^ *--format FMT *//p' |
    sed 's/,//g; s/ or / /')
# shellcheck disable=SC2086
is "$(sorted $formats)" "$(sorted table vertical tsv csv json)" \
    "--help names the five formats"
# shellcheck disable=SC2086
is_completion '--format ' "$(sorted $formats)" "'--format <Tab>' offers the five formats"
is_completion '--format=' "$(sorted $formats)" "'--format=<Tab>' offers the five formats"
is_completion '--format j' 'json' "'--format j<Tab>' completes to json"
is_completion '-q --format v' 'vertical' "after another option too"
tls=$(printf '%s\n' "$HELP" | sed -n 's/^ *--tls \([a-z|]*\) .*/\1/p' | tr '|' ' ')
# shellcheck disable=SC2086
is "$(sorted $tls)" "off verify" "--help names the --tls values"
# shellcheck disable=SC2086
is_completion '--tls ' "$(sorted $tls)" "'--tls <Tab>' offers verify and off"
is_completion '--tls=v' 'verify' "'--tls=v<Tab>' completes to verify"

# File names where an option takes a file; directories to go into.
mkdir -p "$T/files/certs" "$T/files/scripts"
: >"$T/files/ca.pem"
: >"$T/files/tidbplay.ini"
: >"$T/files/.env"
: >"$T/files/scripts/setup.tidbplay"
cd "$T/files" || bail "cd $T/files"
for opt in -c --config --env --ca -f --file; do
	is_completion "$opt " ".env ca.pem certs scripts tidbplay.ini" \
	    "'$opt <Tab>' offers the files and directories here"
done
is_completion '--ca c' 'ca.pem certs' "'--ca c<Tab>' offers ca.pem and certs"
is_completion '--env .e' '.env' "'--env .e<Tab>' completes to .env"
is_completion '-f scripts/' 'scripts/setup.tidbplay' "'-f scripts/<Tab>' goes into the directory"
is_completion '--config=tid' 'tidbplay.ini' "'--config=tid<Tab>' completes to tidbplay.ini"

# Host names for --host, from the known hosts as ssh and mysql complete them.
mkdir -p "$T/home/.ssh"
echo 'db1.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDbQ' \
    >"$T/home/.ssh/known_hosts"
HOME=$T/home is_completion '-H db' 'db1.example.org' "'-H db<Tab>' offers a known host"

# Values of the user's own: nothing, neither options nor files.
for opt in -P --port -u --user -D --database --table --read-timeout -e \
    --execute; do
	is_completion "$opt " '' "'$opt <Tab>' offers nothing"
done
# -p takes no value on the command line: what follows is an option.
is_completion '-p --fo' '--force --format' "'-p --fo<Tab>' goes on with options"
is_completion '--force=' '' "'--force=<Tab>' offers nothing"

done_testing
