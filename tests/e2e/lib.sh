# Helpers shared by the tmux-driven e2e scripts (test_*.sh): per-step
# reporting, our own kapsula server and tmux sockets, bounded waits.
#
# Sourced with `. "$here/lib.sh"` once $here (tests/e2e) is set; it sets
# the defaults below. The caller then sets:
#   N      prefix of every test name ("PASS $N step")
#   steps  every step name, '|'-separated (for all/skip_all/fail_all)
#   sock   tmux -L socket of the pane screen/wait_for look at
#   socks  every tmux -L socket of ours, killed by cleanup
#   tmp    scratch dir (removed by cleanup); pid  set by start_server
# Only our own server PID and our own tmux servers are ever stopped.
# Every wait is a bounded polling loop.
# shellcheck shell=sh disable=SC2154,SC2034

: "${KAPSULA:=build/kapsula}"
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
capsule=$(cd "$here/../.." && pwd)/capsule # the capsule served
tmp=""
pid=""
failed=0 # 1 once a step failed: the exit status
blocked="" # the last step that failed

say() { printf '%s\n' "$*"; }
pass() { say "PASS $N $1"; }
# fail STEP WHY: also sets failed and blocked.
fail() {
	say "FAIL $N $1: $2"
	failed=1
	blocked=$1
}
# all VERDICT WHY: one line per step of $steps.
all() {
	echo "$steps" | tr '|' '\n' | while IFS= read -r s; do
		say "$1 $N $s: $2"
	done
}
skip_all() {
	all SKIP "$1"
	exit 0
}
fail_all() {
	all FAIL "$1"
	exit 1
}

# alive PID: running and not a zombie waiting for us to reap it.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ "$state" != Z ]
}

# start_server: kapsula serving $capsule in the background on free ports
# it binds itself (port 0: no pick-then-bind race), output in
# $tmp/server.out and $tmp/server.err; sets pid, and gemport and gopport
# from its start-up lines (at most 10 s), and ascport: Gopher in plain
# ASCII for legacy readers, on 127.0.0.2. Returns 1 if they never came.
start_server() {
	"$KAPSULA" --root "$capsule" --hostname localhost --certs "$tmp/certs" \
		--gemini 127.0.0.1:0 --gopher 127.0.0.1:0 \
		--gopher '127.0.0.2:0 charset=ascii' --timeout 5 \
		>"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
	pid=$!
	_i=0
	while [ $_i -lt 50 ]; do
		gemport=$(sed -n 's/.*gemini listener 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.err" | head -n 1)
		gopport=$(sed -n 's/.*gopher listener 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.err" | head -n 1)
		ascport=$(sed -n 's/.*gopher listener 127\.0\.0\.2:\([0-9]*\)$/\1/p' "$tmp/server.err" | head -n 1)
		[ -n "$gemport" ] && [ -n "$gopport" ] && [ -n "$ascport" ] &&
			return 0
		alive "$pid" || return 1
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

# wait_port PORT: at most 10 s, while $pid lives, for PORT to accept TCP.
# Our server must also have announced itself (it does so only once every
# listener is bound): a stray process on a recycled port accepts too.
wait_port() {
	_i=0
	while [ $_i -lt 50 ]; do
		alive "$pid" || return 1
		if grep -q ': serving ' "$tmp/server.err" 2>/dev/null &&
			"$PYTHON" -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

# stop_server: SIGTERM our PID, wait at most 10 s, then SIGKILL.
# Returns the exit code (or 137 when it had to be killed).
stop_server() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	_i=0
	while alive "$pid" && [ $_i -lt 50 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=""
		return 137
	fi
	wait "$pid"
	_rc=$?
	pid=""
	return $_rc
}

# shellcheck disable=SC2317 # called through trap
cleanup() {
	for _s in $socks; do
		tmux -L "$_s" kill-server >/dev/null 2>&1
	done
	stop_server
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# poll CMD ARGS...: run CMD every 0.2 s, at most 15 s, until it succeeds.
poll() {
	_n=0
	while [ $_n -lt 75 ]; do
		"$@" && return 0
		sleep 0.2
		_n=$((_n + 1))
	done
	return 1
}

# screen: the text of the pane of tmux server $sock.
screen() { tmux -L "$sock" capture-pane -p -t 0 2>/dev/null; }
# shows TEXT...: every TEXT is on the screen now.
shows() {
	_scr=$(screen)
	for _t in "$@"; do
		printf '%s\n' "$_scr" | grep -qF -- "$_t" || return 1
	done
}
# wait_for TEXT...: poll until every TEXT shows at once.
wait_for() { poll shows "$@"; }
