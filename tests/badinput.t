#!/bin/sh
# Bad input of every kind (DESIGN.md, "Commands", last paragraph): each
# gets a one-line message saying what was wrong, exit 1, the table is
# unchanged, and nothing is sent to the server (the server's general query
# log shows the connection and nothing else from tidbplay).

. "$top_srcdir/tests/lib.sh"
start_server

sql "SET GLOBAL log_output = 'TABLE'"
sql "SET GLOBAL general_log = 1"

sql "$PLAYERS_DDL"
sql "INSERT INTO players (name, coins, goods) VALUES ('alice', 100, 10),
    ('bob', 50, 5)"
before=$(snapshot)

# What tidbplay's connection sent, one command type per line, Quit left
# out (it may be logged after we look), and the check of the table's
# shape that every connection makes (see the man page).
sent() {
	sql "SELECT command_type FROM mysql.general_log
	    WHERE user_host LIKE '%[$TP_USER] @%' AND command_type <> 'Quit'
	    AND argument NOT LIKE '%information_schema.statistics%'
	    ORDER BY event_time" | tr '\n' ' ' | sed 's/ $//'
}

# check DESC REGEX SOURCE: run tidbplay on $T/in (or with the arguments
# after SOURCE) and check what a refused argument must do.
check() {
	_desc=$1
	_re=$2
	_src=$3
	shift 3
	sql "TRUNCATE mysql.general_log"
	if [ $# -gt 0 ]; then
		tp "$@" </dev/null
	else
		tp <"$T/in"
	fi
	is "$RC" 1 "$_desc: exit 1"
	like "$ERR" "^$_src:1: .*$_re" "$_desc: ${_src##*/}:1: says what was wrong"
	is "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1 "$_desc: one line"
	is "$OUT" "" "$_desc: nothing on stdout"
	is "$(snapshot)" "$before" "$_desc: table unchanged"
	is "$(sent)" "Connect" "$_desc: nothing sent to the server"
}

# bad DESC INPUT REGEX: INPUT (one line) on stdin.
bad() {
	printf '%s\n' "$2" >"$T/in"
	check "$1" "$3" stdin
}

# The harness can see a statement being sent.
sql "TRUNCATE mysql.general_log"
tp -e 'show alice' </dev/null
is "$RC" 0 "control: show alice works"
like "$(sent)" "^Connect .*Execute" "control: a valid command is seen in the log"

# ---- unknown commands and sub-words ----

bad "unknown command" 'frobnicate alice' "frobnicate"
bad "unknown command, capitalised" 'ADD carol 1 1' "ADD"
bad "set without a sub-word" 'set' "coins.*goods"
bad "set with an unknown sub-word" 'set gold alice 1' "gold"
bad "top with an unknown column" 'top gold' "gold"
bad "format with an unknown name" 'format yaml' "yaml"
bad "timing with a bad value" 'timing maybe' "maybe"

# ---- missing and extra arguments ----

bad "add missing GOODS" 'add carol 1' "missing.*add NAME COINS GOODS"
bad "add missing everything" 'add' "missing"
bad "show missing NAME" 'show' "missing"
bad "set coins missing VALUE" 'set coins alice' "missing"
bad "del missing NAME" 'del' "missing"
bad "trade missing PRICE" 'trade alice bob 1' "missing"
bad "rename missing NEWNAME" 'rename alice' "missing"
bad "add extra argument" 'add carol 1 2 3' "too many"
bad "show extra argument" 'show alice bob' "too many"
bad "del extra argument" 'del alice bob' "too many"
bad "count extra argument" 'count 1' "too many"
bad "list extra argument" 'list 1 2 3' "too many"
bad "set coins extra argument" 'set coins alice 1 2' "too many"

# ---- not numbers ----

bad "COINS a word" 'add carol many 1' "COINS.*many"
bad "GOODS a decimal" 'add carol 1 1.5' "GOODS.*1\.5"
bad "COINS in hex" 'add carol 0x10 1' "COINS.*0x10"
bad "COINS with an exponent" 'add carol 1e3 1' "COINS.*1e3"
bad "COINS with a plus sign" 'add carol +1 1' "COINS"
bad "COINS empty" "add carol '' 1" "COINS"
bad "COINS with a blank" "add carol ' 1' 1" "COINS"
bad "COINS with trailing text" 'add carol 12abc 1' "COINS.*12abc"
bad "set coins a word" 'set coins alice lots' "lots"
bad "set goods a lone sign" 'set goods alice +' "\+"
bad "set coins two signs" 'set coins alice ++1' "\+\+1"
bad "set coins mixed signs" 'set coins alice +-1' "\+-1"
bad "list LIMIT a word" 'list ten' "LIMIT.*ten"
bad "list OFFSET a word" 'list 1 two' "OFFSET.*two"
bad "trade AMOUNT a word" 'trade alice bob some 1' "AMOUNT.*some"
bad "top N a word" 'top coins few' "few"

# ---- negatives ----

bad "COINS negative" 'add carol -1 1' "COINS.*-1"
bad "GOODS negative" 'add carol 1 -5' "GOODS.*-5"
bad "list LIMIT negative" 'list -1' "LIMIT.*-1"
bad "list OFFSET negative" 'list 1 -1' "OFFSET.*-1"
bad "trade PRICE negative" 'trade alice bob 1 -1' "PRICE.*-1"
bad "set coins absolute negative zero" 'set coins alice --0' "--0"

# ---- overflow ----

bad "COINS 2147483648" 'add carol 2147483648 1' "COINS.*2147483648"
bad "GOODS 20 digits" 'add carol 1 99999999999999999999' "GOODS"
bad "COINS far beyond 64 bits" \
    'add carol 123456789012345678901234567890 1' "COINS"
bad "set coins 2147483648" 'set coins alice 2147483648' "2147483648"
bad "set coins +2147483648" 'set coins alice +2147483648' "2147483648"
bad "set goods -2147483648" 'set goods alice -2147483648' "2147483648"
bad "list LIMIT 2147483648" 'list 2147483648' "LIMIT"
bad "trade AMOUNT 2147483648" 'trade alice bob 2147483648 1' "AMOUNT"

# ---- names ----

a33=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
bad "name of 33 characters" "add $a33 1 1" "33 characters"
cjk33=$(i=0; while [ $i -lt 33 ]; do printf '\344\270\255'; \
    i=$((i + 1)); done)
bad "name of 33 CJK characters" "add $cjk33 1 1" "33 characters"
bad "show a name of 33 characters" "show $a33" "33 characters"
bad "rename to 33 characters" "rename alice $a33" "33 characters"
bad "empty name" "add '' 1 1" "empty"
bad "empty name in double quotes" 'show ""' "empty"
bad "rename to an empty name" "rename alice ''" "empty"
bad "name with byte 0xff" "$(printf 'add a\377b 1 1')" "UTF-8"
bad "name with a lone continuation byte" "$(printf 'add \200 1 1')" "UTF-8"
bad "name with a truncated sequence" "$(printf 'add a\344\270 1 1')" "UTF-8"
bad "name with an overlong encoding" "$(printf 'add \300\257 1 1')" "UTF-8"
bad "name with a surrogate" "$(printf 'add \355\240\200 1 1')" "UTF-8"
bad "name above U+10FFFF" "$(printf 'add \364\220\200\200 1 1')" "UTF-8"
bad "name with a tab" "$(printf "add 'a\tb' 1 1")" "control"
bad "name with U+0001" "$(printf 'add a\001b 1 1')" "control"
bad "name with ESC" "$(printf 'add \033[31mred 1 1')" "control"
bad "name with DEL" "$(printf 'add a\177 1 1')" "control"
bad "name with C1 U+0085" "$(printf 'add a\302\205 1 1')" "control"
bad "name with a carriage return" "$(printf "add 'a\rb' 1 1")" "control"
bad "trade with the same player twice" 'trade alice alice 1 1' "same"

# ---- quoting and the line itself ----

bad "unterminated single quote" "add 'carol 1 1" "unterminated"
bad "unterminated double quote" 'show "alice' "unterminated"
bad "unterminated quote after good words" "add carol 1 '1" "unterminated"
printf 'add car\000ol 1 1\n' >"$T/in"
check "NUL byte in a line" "NUL" stdin
printf 'show alice\000\n' >"$T/in"
check "NUL byte at the end of a line" "NUL" stdin

# ---- the same through -e and -f ----

check "-e: non-number" "COINS.*ten" -e -e 'add carol ten 1'
check "-e: too long a name" "33 characters" -e -e "add $a33 1 1"
printf 'add carol 1 \000\n' >"$T/nul.tp"
check "-f: NUL byte" "NUL" "$T/nul.tp" -f "$T/nul.tp"
printf "del 'alice\n" >"$T/quote.tp"
check "-f: unterminated quote" "unterminated" "$T/quote.tp" -f "$T/quote.tp"

# A refused command stops the script: nothing after it is sent either.
printf '%s\n' 'add carol -1 1' 'add dave 1 1' >"$T/in"
check "a refused command stops the script" "COINS" stdin

done_testing
