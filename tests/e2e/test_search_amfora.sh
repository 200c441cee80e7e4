#!/bin/sh
# The acceptance walk of search in a real client: Amfora, in a detached
# tmux pane, opens /ru/, follows the search link, types "насилие" into
# the 10 prompt, sees the results page, and follows the first hit to the
# Russian interview. Labels and headings are read from capsule/ at run
# time; link numbers from Amfora's screen.
# Only our own tmux server (-L unique socket) and our own server PID are
# ever stopped. Every wait is a bounded polling loop (0.2 s, 15 s a step).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
sock="kapsula-search-amfora-$$"
socks=$sock
N="search amfora"

steps="opens /ru/|follows the search link to the 10 prompt|types a query and sees the results|follows the first hit to the Russian interview"

trap cleanup EXIT
trap 'exit 1' INT TERM

command -v amfora >/dev/null 2>&1 || skip_all "amfora not installed"
command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed"
[ -x "$KAPSULA" ] || fail_all "KAPSULA=$KAPSULA is not an executable"

tmp=$(mktemp -d /tmp/kapsula-search-amfora.XXXXXX)
mkdir -p "$tmp/home" "$tmp/config" "$tmp/cache" "$tmp/data"
start_server || fail_all "no listener announced: $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"
wait_port "$gemport" || fail_all "server not accepting on $gemport"
base="gemini://localhost:$gemport"
interview="2026-11-28-confronting-abuses.gmi"

# The label of the link to "search" in ru/index.gmi, and the heading of
# the Russian interview, as the files say today.
label=$(sed -n 's/^=>[[:space:]]*search[[:space:]][[:space:]]*//p' "$capsule/ru/index.gmi" | head -n 1)
title=$(sed -n 's/^# //p' "$capsule/ru/$interview" | head -n 1)
[ -n "$label" ] || fail_all "capsule/ru/index.gmi has no link to search"
[ -n "$title" ] || fail_all "no heading in capsule/ru/$interview"

unset TMUX
tmux -L "$sock" -f /dev/null new-session -d -x 100 -y 60 \
	env HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" \
	LANG=C.UTF-8 TERM=xterm-256color amfora "$base/ru/" ||
	fail_all "tmux could not start amfora"

# The URL in Amfora's bottom bar: the last non-blank line of the pane.
bar() { screen | grep -v '^[[:space:]]*$' | tail -1 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
shown() { screen | grep -v '^[[:space:]]*$' | head -12 | tr -s ' \n' ' ' | cut -c1-300; }
# number LABEL: Amfora's [N] for the link labelled LABEL on screen.
number() {
	screen | awk -v want="$1" '{
		line = $0; sub(/^[[:space:]]*/, "", line)
		if (match(line, /^\[[0-9]+\][[:space:]]+/)) {
			n = substr(line, 2, index(line, "]") - 2)
			text = substr(line, RLENGTH + 1); sub(/[[:space:]]*$/, "", text)
			if (text == want) { print n; exit }
		}
	}'
}
# follow LABEL: Space, its number, Enter.
follow() {
	num=$(number "$1")
	[ -n "$num" ] || return 1
	tmux -L "$sock" send-keys -t 0 Space
	wait_for 'URL/Num' || return 1
	tmux -L "$sock" send-keys -t 0 "$num" Enter
}
at() { [ "$(bar)" = "$1" ]; }

step="opens /ru/"
if poll at "$base/ru/" && wait_for "$label"; then
	pass "$step"
else
	fail "$step" "bar: $(bar); screen: $(shown)"
fi

step="follows the search link to the 10 prompt"
if [ -n "$blocked" ]; then
	say "SKIP $N $step: blocked by \"$blocked\""
elif follow "$label" && wait_for "Input" "Поиск по капсуле"; then
	pass "$step"
else
	fail "$step" "no input prompt; screen: $(shown)"
fi

# Amfora sometimes takes the first Enter before the typed text settles:
# press it again while the prompt is still up, at most three times.
results() { at "$base/ru/search?%D0%BD%D0%B0%D1%81%D0%B8%D0%BB%D0%B8%D0%B5" && shows "# Поиск: «насилие»" "$title"; }
submit() {
	for _t in 1 2 3; do
		tmux -L "$sock" send-keys -t 0 Enter
		_n=0
		while [ $_n -lt 25 ]; do
			results && return 0
			sleep 0.2
			_n=$((_n + 1))
		done
	done
	return 1
}
step="types a query and sees the results"
if [ -n "$blocked" ]; then
	say "SKIP $N $step: blocked by \"$blocked\""
else
	tmux -L "$sock" send-keys -t 0 -l "насилие"
	if wait_for "насилие" && submit; then
		pass "$step"
	else
		fail "$step" "bar: $(bar); screen: $(shown)"
	fi
fi

step="follows the first hit to the Russian interview"
if [ -n "$blocked" ]; then
	say "SKIP $N $step: blocked by \"$blocked\""
elif [ "$(number "$title")" != 1 ]; then
	fail "$step" "the interview is not hit [1]; screen: $(shown)"
elif follow "$title" && poll at "$base/ru/$interview" && wait_for "# $title"; then
	pass "$step"
else
	fail "$step" "bar: $(bar); screen: $(shown)"
fi
exit $failed
