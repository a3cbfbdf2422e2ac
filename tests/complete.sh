#!/bin/bash
# What bash completes for a tidbplay command line, one candidate a line,
# as bash-completion would at a prompt.
#
#   tests/complete.sh FILE 'LINE'       the completion script FILE
#   tests/complete.sh --load DIR 'LINE' the one bash-completion finds for
#                                       tidbplay in DIR/bash-completion/completions
#
# LINE is what was typed before <Tab>: its last word (empty after a blank)
# is the one completed. Words are split as bash splits them (on blanks,
# and around '='). Exit status 1 when the completion cannot be loaded.
set -u
bc=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}
[ -f "$bc" ] || { echo "complete.sh: no $bc (bash-completion)" >&2; exit 1; }
. "$bc" || exit 1

if [ "$1" = --load ]; then
	BASH_COMPLETION_USER_DIR=/nonexistent XDG_DATA_DIRS=$2 \
	    __load_completion tidbplay ||
	    { echo "complete.sh: bash-completion finds no completion for tidbplay in $2" >&2; exit 1; }
	shift 2
else
	. "$1" || { echo "complete.sh: $1 does not load" >&2; exit 1; }
	shift
fi
spec=$(complete -p tidbplay 2>/dev/null) ||
    { echo "complete.sh: the script defines no completion for tidbplay" >&2; exit 1; }
case $spec in
*' -F '*) func=${spec#* -F }; func=${func%% *} ;;
*) echo "complete.sh: unexpected completion: $spec" >&2; exit 1 ;;
esac

line="tidbplay $1"
COMP_WORDS=()
word=
for ((i = 0; i < ${#line}; i++)); do
	c=${line:i:1}
	case $c in
	' ') [ -n "$word" ] && COMP_WORDS+=("$word"); word= ;;
	'=') [ -n "$word" ] && COMP_WORDS+=("$word"); COMP_WORDS+=('='); word= ;;
	*) word+=$c ;;
	esac
done
COMP_WORDS+=("$word")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
# compopt, which the helpers call, speaks only inside a real completion.
"$func" tidbplay "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" \
    2> >(grep -v 'compopt: not currently executing completion function' >&2)
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
