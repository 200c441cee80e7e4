#!/bin/sh
# test_valgrind.sh: a run under valgrind with requests of every kind over
# both protocols, then SIGTERM: a clean exit, no invalid access, no leak.
set -u
: "${KAPSULA:?}"
name="valgrind clean run"
case "$KAPSULA" in */san/*)
	echo "SKIP $name: the binary is built with ASan"; exit 0 ;;
esac
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP $name: valgrind is not installed"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The sandbox is off: valgrind makes system calls seccomp would refuse.
# Workers are children: each writes its own log, and each must be empty.
valgrind --quiet --trace-children=yes --child-silent-after-fork=no \
	--leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	--log-file="$tmp/vg.%p.log" "$KAPSULA" --root capsule --certs "$tmp/certs" \
	--gemini 127.0.0.1:0 --gopher 127.0.0.1:0 \
	--sandbox off --workers 1 \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
# Port 0: the server binds free ports and names them on its start-up lines.
gem=
gop=
i=0
until [ -n "$gem" ] && [ -n "$gop" ] &&
	/usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$gop),1)" 2>/dev/null; do
	gem=$(sed -n 's/.*gemini listener 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/err" 2>/dev/null | head -n 1)
	gop=$(sed -n 's/.*gopher listener 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/err" 2>/dev/null | head -n 1)
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "FAIL $name: server did not start"; kill $pid 2>/dev/null; exit 1
	fi
	sleep 0.2
done
# /search?swan finds the landing page: its snippet reads the root index.
for r in / /en /en/ /ru/2026-11-28-confronting-abuses.gmi /en/atom.xml /nope /../x \
	"/search?swan" "/search?%D0%BD%D0%B0%D1%81%D0%B8%D0%BB%D0%B8%D0%B5"; do
	printf 'gemini://localhost:%s%s\r\n' "$gem" "$r" |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$gem" \
			-servername localhost >>"$tmp/replies" 2>/dev/null
done
printf 'http://x/\r\n' | timeout 10 openssl s_client -quiet \
	-connect "127.0.0.1:$gem" >>"$tmp/replies" 2>/dev/null
for s in 1/ 1/ru/ 0/en/index.gmi.txt 1/nope hURL:https://example.org/ 0/caps.txt; do
	timeout 10 curl -s "gopher://127.0.0.1:$gop/$s" >>"$tmp/replies"
done
printf '/\t$\r\n' | timeout 5 /usr/bin/python3 -c "
import socket,sys; s=socket.create_connection(('127.0.0.1',$gop),5); s.sendall(sys.stdin.buffer.read()); s.recv(65536)" 2>/dev/null
kill -HUP $pid
i=0
until grep -q 'reloaded' "$tmp/err"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "FAIL $name: SIGHUP did not reload within 20 s: $(tail -c 500 "$tmp/err")"
		kill -KILL $pid; exit 1
	fi
	sleep 0.2
done
# The new worker serves the reloaded tree.
timeout 10 curl -s "gopher://127.0.0.1:$gop/1/" >>"$tmp/replies"
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 150 ] && { kill -KILL $pid; echo "FAIL $name: no exit 30 s after SIGTERM"; exit 1; }
	sleep 0.2
done
wait $pid
rc=$?
lines=$(grep -c '' "$tmp/out")
if [ "$rc" -ne 0 ]; then
	echo "FAIL $name: exit $rc; $(cat "$tmp"/vg.*.log | head -c 1500 | tr '\n' ' ')"
	exit 1
fi
# The parent and the workers before and after the reload: three logs.
nlogs=$(ls "$tmp"/vg.*.log | wc -l)
if [ "$nlogs" -lt 3 ] || [ -n "$(cat "$tmp"/vg.*.log)" ]; then
	echo "FAIL $name: $nlogs valgrind logs (want 3 or more, all empty): $(cat "$tmp"/vg.*.log | head -c 1500 | tr '\n' ' ')"
	exit 1
fi
if [ "$lines" -lt 16 ] || ! grep -q '^20 text/gemini' "$tmp/replies"; then
	echo "FAIL $name: only $lines access-log lines; replies incomplete"
	exit 1
fi
echo "PASS $name"
