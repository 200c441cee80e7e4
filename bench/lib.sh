# bench/lib.sh: what bench/run.sh and bench/ratio.sh share: the load
# generator built, a scratch folder and the servers to stop, free ports,
# and the memory of a server with its workers. Sourced, not run.
cc -O2 -o build/bench-load bench/load.c $(pkg-config --cflags --libs openssl) -pthread || exit 1
L=build/bench-load
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1
	done
}
# A server and its live children (kapsula's workers).
family() { echo "$1"; cat "/proc/$1/task/$1/children" 2>/dev/null; }
# PSS counts pages the workers share with the parent once, not per worker.
mem() {
	for _q in $(family "$1"); do cat "/proc/$_q/smaps_rollup" 2>/dev/null; done |
		awk '/^Rss:/ { r += $2 } /^Pss:/ { p += $2 }
		END { printf "PSS %d kB (RSS %d kB), parent and workers\n", p, r }'
}
# wait_log FILE PATTERN PORT TRIES PAUSE: until a server's log says
# PATTERN and its PORT answers; its log and failure after TRIES.
wait_log() {
	_i=0
	until grep -q "$2" "$1" && wait_port "$3"; do
		_i=$((_i + 1)); [ $_i -gt "$4" ] && { cat "$1"; return 1; }
		sleep "$5"
	done
}
