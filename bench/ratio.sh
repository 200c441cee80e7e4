#!/bin/sh
# bench/ratio.sh: kapsula's server CPU per request as a ratio to the bare
# responders of bench/bare.c (an epoll loop that sends the same bytes with
# the same TLS settings and certificate, and no server logic). The machine
# is shared and absolute figures drift, even from one second to the next:
# so the load generator alternates between the two servers request by
# request, and each one's CPU time (in nanoseconds, from schedstat) is
# measured over the same moments. Two identical bare responders measured
# so differ by a few per cent a round; measured one after the other, by
# up to 15 %. One kapsula worker, since the bare responder is one process.
# bench/run.sh ends with it.
# Usage: sh bench/ratio.sh build/kapsula [ONLY]: ONLY is gopher, gemini
# or resume to run one of the three; ROUNDS (default 5) rounds each.
set -u
bin=${1:?usage: ratio.sh KAPSULA [gopher|gemini|resume]}
only=${2:-}
rounds=${ROUNDS:-5}
mkdir -p build
. bench/lib.sh
cc -O2 -o build/bench-bare bench/bare.c $(pkg-config --cflags --libs openssl) || exit 1
# CPU nanoseconds of a server and its workers, every thread.
cpu() {
	for _q in $(family "$1"); do cat /proc/"$_q"/task/*/schedstat 2>/dev/null; done |
		awk '{ t += $1 } END { printf "%.0f\n", t }'
}
page=/en/2026-11-28-confronting-abuses.gmi
echo "== ratios to bare responders (server CPU per request; median of $rounds rounds)"
k1g=$(port)
k1p=$(port)
"$bin" --root capsule --certs "$tmp/certs" --gemini "127.0.0.1:$k1g" \
	--gopher "127.0.0.1:$k1p" --workers 1 >/dev/null 2>"$tmp/err1" &
k1=$!
pids="$pids $k1"
wait_port "$k1p" || { cat "$tmp/err1"; exit 1; }
python3 - "$k1g" "$k1p" "$page" "$tmp" <<'PY'
import socket, ssl, sys
g, p, page, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def drain(s):
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d
s = socket.create_connection(("127.0.0.1", p))
s.sendall(page.encode() + b"\r\n")
open(tmp + "/gopher.reply", "wb").write(drain(s))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", g)),
                    server_hostname="localhost")
s.sendall(("gemini://localhost:%d%s\r\n" % (g, page)).encode())
try:
    open(tmp + "/gemini.reply", "wb").write(drain(s))
except ssl.SSLError:
    pass
PY
bt=$(port)
bs=$(port)
build/bench-bare tcp "$bt" "$tmp/gopher.reply" &
btp=$!
pids="$pids $btp"
build/bench-bare tls "$bs" "$tmp/gemini.reply" "$tmp/certs/localhost.crt" \
	"$tmp/certs/localhost.key" &
bsp=$!
pids="$pids $bsp"
wait_port "$bt" && wait_port "$bs" || exit 1
# ratio NAME KPID KPORT BPID BPORT PROTO LINE-FOR-K LINE-FOR-B EXPECT C N:
# each round sends N requests to each server, alternating; the median
# round's ratio is the result.
ratio() {
	_r=""
	_i=1
	while [ $_i -le "$rounds" ]; do
		_ka=$(cpu "$2")
		_ba=$(cpu "$4")
		$L "$6" "$3" "$7" "$9" "${10}" $((2 * ${11})) "$5" "$8" >/dev/null ||
			echo "ratio.sh: the load run above failed" >&2
		_kb=$(cpu "$2")
		_bb=$(cpu "$4")
		_k=$(awk -v a="$_ka" -v b="$_kb" -v n="${11}" 'BEGIN { printf "%.4f", (b - a) / 1e6 / n }')
		_b=$(awk -v a="$_ba" -v b="$_bb" -v n="${11}" 'BEGIN { printf "%.4f", (b - a) / 1e6 / n }')
		_r="$_r $(awk -v k="$_k" -v b="$_b" 'BEGIN { printf "%.3f", (b > 0 ? k / b : 0) }')"
		printf '        round %d: kapsula %.4f ms, bare %.4f ms\n' "$_i" "$_k" "$_b"
		_i=$((_i + 1))
	done
	echo "$_r" | tr ' ' '\n' | sed '/^$/d' | sort -n |
		sed -n "$(((rounds + 1) / 2))p" |
		awk -v n="$1" '{ printf "%-34s %.2fx the bare responder\n", n, $1 }'
}
if [ -z "$only" ] || [ "$only" = gopher ]; then
	ratio "gopher, 50 clients" $k1 "$k1p" $btp "$bt" gopher "$page" "$page" "i" 50 30000
fi
if [ -z "$only" ] || [ "$only" = gemini ]; then
	ratio "gemini full handshake, 50 clients" $k1 "$k1g" $bsp "$bs" gemini \
		"gemini://localhost:$k1g$page" "gemini://localhost:$bs$page" "20 " 50 3000
fi
if [ -z "$only" ] || [ "$only" = resume ]; then
	ratio "gemini resumed session, 50 clients" $k1 "$k1g" $bsp "$bs" gemini-resume \
		"gemini://localhost:$k1g$page" "gemini://localhost:$bs$page" "20 " 50 3000
fi
printf 'memory, one worker, after:  '; mem $k1
