#!/bin/sh
# Real-client test: Amfora in a detached tmux pane browses a kapsula server
# serving the harness's small test tree (not the repository's capsule/).
# Only our own tmux server (-L unique socket) and our own server PID are
# ever stopped. Every wait is a bounded polling loop on the screen.
set -u

: "${KAPSULA:=build/kapsula}"
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
here=$(cd "$(dirname "$0")" && pwd)
sock="kapsula-amfora-$$"
tmp=""
pid=""
failed=0

steps="opens the capsule index|follows link 1 to en/|follows a link to en/page.gmi|goes back to en/|goes back to the root|opens the Russian index (UTF-8)|server exits 0 on SIGTERM"

say() { printf '%s\n' "$*"; }
skip_all() {
	echo "$steps" | tr '|' '\n' | while IFS= read -r s; do
		say "SKIP amfora $s: $1"
	done
	exit 0
}
fail_all() {
	echo "$steps" | tr '|' '\n' | while IFS= read -r s; do
		say "FAIL amfora $s: $1"
	done
	exit 1
}

# alive PID: running and not a zombie waiting for us to reap it.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ "$state" != Z ]
}

# shellcheck disable=SC2317 # called through trap
cleanup() {
	tmux -L "$sock" kill-server >/dev/null 2>&1
	if [ -n "$pid" ] && alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 50 ]; do
			sleep 0.2
			i=$((i + 1))
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

command -v amfora >/dev/null 2>&1 || skip_all "amfora not installed"
command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed"
[ -x "$KAPSULA" ] || fail_all "KAPSULA=$KAPSULA is not an executable"

tmp=$(mktemp -d /tmp/kapsula-amfora.XXXXXX)
mkdir -p "$tmp/home" "$tmp/config" "$tmp/cache" "$tmp/data"

# Tree and a free port from the shared harness.
port=$("$PYTHON" -c '
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import harness
harness.make_tree(sys.argv[2])
print(harness.free_port())
' "$here" "$tmp/tree") || fail_all "could not build the test tree"

"$KAPSULA" --root "$tmp/tree/root" --hostname localhost --certs "$tmp/certs" \
	--gemini "127.0.0.1:$port" --timeout 5 \
	>"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
pid=$!

# Wait (at most 10 s) for the port to accept TCP.
ready=0
i=0
while [ $i -lt 50 ]; do
	alive "$pid" || break
	if "$PYTHON" -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
' "$port" 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.2
	i=$((i + 1))
done
[ $ready = 1 ] || fail_all "server not accepting on $port$(alive "$pid" || echo " (server exited)"): $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"

unset TMUX
tmux -L "$sock" -f /dev/null new-session -d -x 100 -y 30 \
	env HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" \
	XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" \
	LANG=C.UTF-8 TERM=xterm-256color \
	amfora "gemini://localhost:$port/" ||
	fail_all "tmux could not start amfora"

screen() { tmux -L "$sock" capture-pane -p -t 0 2>/dev/null; }

# wait_for TEXT: poll the screen every 0.2 s for at most 15 s.
wait_for() {
	n=0
	while [ $n -lt 75 ]; do
		if screen | grep -qF -- "$1"; then
			return 0
		fi
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}

shown() { screen | grep -v '^[[:space:]]*$' | head -8 | tr -s ' \n' ' ' | cut -c1-300; }

blocked=""
step() { # step NAME KEYS TEXT
	name=$1
	keys=$2
	text=$3
	if [ -n "$blocked" ]; then
		say "SKIP amfora $name: blocked by \"$blocked\""
		return
	fi
	if [ -n "$keys" ]; then
		for k in $keys; do
			tmux -L "$sock" send-keys -t 0 "$k"
		done
	fi
	if wait_for "$text"; then
		say "PASS amfora $name"
	else
		say "FAIL amfora $name: \"$text\" not on screen within 15 s; screen: $(shown)"
		failed=1
		blocked=$name
	fi
}

step "opens the capsule index" "" "Kapsula test capsule"
step "follows link 1 to en/" "1" "English index"
step "follows a link to en/page.gmi" "1" "The quick brown fox reached the English page."
# b = back (twice to the root), then link 2 (ru/).
step "goes back to en/" "b" "First English page"
step "goes back to the root" "b" "Russian pages"
step "opens the Russian index (UTF-8)" "2" "Русский указатель"

tmux -L "$sock" kill-server >/dev/null 2>&1

# Our server must stop cleanly on SIGTERM.
kill -TERM "$pid" 2>/dev/null
i=0
while alive "$pid" && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
if alive "$pid"; then
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	say "FAIL amfora server exits 0 on SIGTERM: still running after 10 s (killed)"
	failed=1
else
	wait "$pid"
	rc=$?
	if [ "$rc" = 0 ]; then
		say "PASS amfora server exits 0 on SIGTERM"
	else
		say "FAIL amfora server exits 0 on SIGTERM: exit $rc"
		failed=1
	fi
fi
pid=""
exit $failed
