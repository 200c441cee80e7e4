#!/bin/sh
# bench/run.sh: throughput, latency and memory of kapsula on loopback.
# Usage: sh bench/run.sh build/kapsula. Numbers vary with the machine; the
# point is to compare builds on the same one.
set -u
bin=${1:?usage: run.sh KAPSULA}
cc -O2 -o build/bench-load bench/load.c $(pkg-config --cflags --libs openssl) -pthread || exit 1
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gem=$(port)
gop=$(port)
"$bin" --root capsule --certs "$tmp/certs" --gemini "127.0.0.1:$gem" \
	--gopher "127.0.0.1:$gop" >/dev/null 2>"$tmp/err" &
pid=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1',$gop),1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 50 ] && { cat "$tmp/err"; exit 1; }; sleep 0.1
done
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %s kB  ", $1, $2}' /proc/$pid/status; echo; }
echo "kapsula $("$bin" --version | cut -d' ' -f2), $(nproc) cores"
printf 'memory at start:  '; rss
page=/en/2026-11-28-confronting-abuses.gmi
L=build/bench-load
$L gemini "$gem" "gemini://localhost:$gem/" "20 " 1 500
$L gemini "$gem" "gemini://localhost:$gem/" "20 " 50 5000
$L gemini "$gem" "gemini://localhost:$gem$page" "20 " 50 5000
$L gopher "$gop" "/" "0" 1 5000
$L gopher "$gop" "/" "0" 50 50000
$L gopher "$gop" "$page" "0" 50 50000
printf 'memory after:     '; rss
