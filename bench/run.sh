#!/bin/sh
# bench/run.sh: throughput, latency and memory of kapsula on loopback, and
# of Molly Brown (Gemini) and Gophernicus (Gopher, run the inetd way it is
# deployed) on the same pages when they are installed. Numbers depend on
# the machine; compare builds and servers on the same one.
# Then search over a generated tree of 20,000 pages (bench/gentree.py):
# the index against the text it indexes, the time of queries in-process
# (BENCH_SEARCH), and the server's CPU per search request.
# Usage: sh bench/run.sh build/kapsula [build/bench-search]
set -u
bin=${1:?usage: run.sh KAPSULA [BENCH_SEARCH]}
bsearch=${2:-}
pages=${SEARCH_PAGES:-20000}
. bench/lib.sh
# CPU seconds*100 of a server, its workers and reaped children (14-17).
cpu() {
	for _q in $(family "$1"); do cat "/proc/$_q/stat" 2>/dev/null; done |
		awk '{ t += $14 + $15 + $16 + $17 } END { print t }'
}
# load PID PROTO PORT LINE EXPECT CLIENTS REQUESTS: the load generator's
# line, then the server's own CPU per request. The generator shares the
# machine, so req/s can be bound by it; CPU per request is the server's.
load() {
	_p=$1
	shift
	_a=$(cpu $_p)
	$L "$@"
	_b=$(cpu $_p)
	awk -v a="$_a" -v b="$_b" -v n="$6" \
		'BEGIN { printf "        server CPU %.3f ms/request\n", (b - a) * 10 / n }'
}
page=/en/2026-11-28-confronting-abuses.gmi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "each line: server, protocol, clients, requests"

gem=$(port)
gop=$(port)
"$bin" --root capsule --certs "$tmp/certs" --gemini "127.0.0.1:$gem" \
	--gopher "127.0.0.1:$gop" >/dev/null 2>"$tmp/err" &
pid=$!
pids="$pids $pid"
wait_port "$gop" || { cat "$tmp/err"; exit 1; }
echo "== kapsula $("$bin" --version | cut -d' ' -f2)"
printf 'memory at start:  '; mem $pid
load $pid gemini "$gem" "gemini://localhost:$gem/" "20 " 1 500
load $pid gemini "$gem" "gemini://localhost:$gem/" "20 " 50 5000
load $pid gemini "$gem" "gemini://localhost:$gem$page" "20 " 50 5000
load $pid gopher "$gop" "/" "i" 1 5000
load $pid gopher "$gop" "/" "i" 50 50000
load $pid gopher "$gop" "$page" "i" 50 50000
printf 'memory after:     '; mem $pid

# Every core: the same page with one worker and with two. The load
# generator shares the machine's cores, so req/s with 2 workers is bound
# by it on a small machine; CPU per request is the server's alone.
for nw in 1 2; do
	wg=$(port)
	wp=$(port)
	"$bin" --root capsule --certs "$tmp/certs" --gemini "127.0.0.1:$wg" \
		--gopher "127.0.0.1:$wp" --workers $nw >/dev/null 2>"$tmp/werr" &
	wpid=$!
	pids="$pids $wpid"
	wait_port "$wp" || { cat "$tmp/werr"; exit 1; }
	echo "== kapsula, $nw worker(s)"
	load $wpid gemini "$wg" "gemini://localhost:$wg$page" "20 " 50 5000
	load $wpid gemini-resume "$wg" "gemini://localhost:$wg$page" "20 " 50 5000
	load $wpid gopher "$wp" "$page" "i" 50 50000
	kill $wpid
done

if command -v molly-brown >/dev/null 2>&1; then
	mb=$(port)
	cat >"$tmp/molly.conf" <<CONF
Port = $mb
Hostname = "localhost"
CertPath = "$tmp/certs/localhost.crt"
KeyPath = "$tmp/certs/localhost.key"
DocBase = "$PWD/capsule"
AccessLog = "/dev/null"
ErrorLog = "$tmp/molly.err"
CONF
	molly-brown -c "$tmp/molly.conf" >/dev/null 2>&1 &
	mpid=$!
	pids="$pids $mpid"
	if wait_port "$mb"; then
		echo "== Molly Brown (Debian package)"
		printf 'memory at start:  '; mem $mpid
		load $mpid gemini "$mb" "gemini://localhost:$mb/" "20 " 1 500
		load $mpid gemini "$mb" "gemini://localhost:$mb/" "20 " 50 5000
		load $mpid gemini "$mb" "gemini://localhost:$mb$page" "20 " 50 5000
		printf 'memory after:     '; mem $mpid
	fi
fi

if command -v gophernicus >/dev/null 2>&1 &&
	command -v systemd-socket-activate >/dev/null 2>&1; then
	gn=$(port)
	systemd-socket-activate -l "127.0.0.1:$gn" --inetd -a \
		gophernicus -r "$PWD/capsule" -h localhost -p "$gn" -nf \
		>/dev/null 2>&1 &
	gpid=$!
	pids="$pids $gpid"
	if wait_port "$gn"; then
		echo "== Gophernicus (Debian package, one process per request)"
		load $gpid gopher "$gn" "/" "" 1 5000
		load $gpid gopher "$gn" "/" "" 50 50000
		load $gpid gopher "$gn" "/en/index.gmi" "" 50 50000
	fi
fi

# Ratios to bare responders, side by side (bench/ratio.sh).
sh bench/ratio.sh "$bin" || exit 1

if [ -n "$bsearch" ]; then
	echo "== a generated tree of $pages pages"
	t0=$(date +%s)
	python3 bench/gentree.py "$tmp/tree" "$pages" capsule || exit 1
	echo "generated in $(($(date +%s) - t0)) s"
	"$bsearch" "$tmp/tree" 50
	sg=$(port)
	"$bin" --root "$tmp/tree" --certs "$tmp/certs" --gemini "127.0.0.1:$sg" \
		--workers 1 >/dev/null 2>"$tmp/serr" &
	spid=$!
	pids="$pids $spid"
	wait_log "$tmp/serr" 'search index' "$sg" 120 1 || exit 1
	grep 'search index' "$tmp/serr" | sed 's/^.*]: */server: /'
	printf 'memory at start:  '; mem $spid
	load $spid gemini "$sg" \
		"gemini://localhost:$sg/ru/search?%D0%BD%D0%B0%D1%81%D0%B8%D0%BB%D0%B8%D0%B5" \
		"20 " 4 1000
	load $spid gemini "$sg" "gemini://localhost:$sg/en/search?police%20money" \
		"20 " 4 1000
fi

# The big tree served: load time, anonymous memory against the size of
# the files, and latency while it is reloaded under load.
if [ -d "$tmp/tree" ]; then
	files=$(find "$tmp/tree" -type f -printf '%s\n' | awk '{ t += $1 } END { print t }')
	tg=$(port)
	tp=$(port)
	t0=$(date +%s.%N)
	"$bin" --root "$tmp/tree" --certs "$tmp/certs" --gemini "127.0.0.1:$tg" \
		--gopher "127.0.0.1:$tp" --workers 2 >/dev/null 2>"$tmp/terr" &
	tpid=$!
	pids="$pids $tpid"
	# The parent binds before it loads: ready is its "serving" line.
	wait_log "$tmp/terr" 'serving' "$tp" 1200 0.05 || exit 1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v n="$pages" \
		'BEGIN { printf "loaded %d pages and started in %.2f s (goal: under 2 s)\n", n, b - a }'
	sleep 1
	for _q in $(family "$tpid"); do cat "/proc/$_q/smaps_rollup"; done |
		awk -v f="$files" '/^Pss_Anon:/ { a += $2 }
		END { printf "anonymous memory (PSS, parent and workers) %d kB for %d kB of files: %.2fx (goal: under 3x + 16 MB)\n",
			a, f / 1024, (a - 16384) * 1024 / f }'
	# Gopher requests of one page while the tree is reloaded 3 times
	# (each reload waits for the previous one's "reloaded"), as one run:
	# its percentiles cover the three reloads whole, and nothing else.
	echo "gopher without a reload, then during 3 reloads of the tree (goal: p99 under 50 ms):"
	$L gopher "$tp" /en/ "i" 4 20000
	(for _i in 1 2 3; do
		_n=$(grep -c 'reloaded' "$tmp/terr")
		kill -HUP $tpid
		until [ "$(grep -c 'reloaded' "$tmp/terr")" -gt "$_n" ]; do sleep 0.1; done
	done; touch "$tmp/hup.done") &
	hup=$!
	t0=$(date +%s)
	$L gopher "$tp" /en/ "i" 4 5000000 "$tmp/hup.done"
	wait $hup
	echo "reloads done: $(grep -c 'reloaded' "$tmp/terr"), in $(($(date +%s) - t0)) s"
fi
