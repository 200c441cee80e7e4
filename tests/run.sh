#!/bin/sh
# tests/run.sh: runs every suite (unit binaries, then end-to-end scripts).
# Each suite prints one line per test: "PASS name", "FAIL name: why" or
# "SKIP name: why". A suite that dies without saying FAIL counts as a failure.
# The last line is the total: "N passed, N failed, N skipped".
set -u
: "${KAPSULA:=build/kapsula}"
: "${UNITDIR:=build/tests}"
KAPSULA=$(cd "$(dirname "$KAPSULA")" && pwd)/$(basename "$KAPSULA")
export KAPSULA
# Unit tests read their golden files from here, whatever their folder.
: "${GOLDEN_DIR:=$(cd "$(dirname "$0")/unit/golden" && pwd)}"
export GOLDEN_DIR
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

run_suite() {
	name=$1
	shift
	echo "== $name"
	: >"$log.one"
	timeout 300 "$@" 2>&1 | tee "$log.one"
	rc=$(cat "$log.rc" 2>/dev/null || echo 0)
	cat "$log.one" >>"$log"
	if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$log.one"; then
		echo "FAIL $name: suite exited $rc" | tee -a "$log"
	fi
	rm -f "$log.one" "$log.rc"
}

# `cmd | tee` loses cmd's status in POSIX sh; keep it in a file instead.
suite() {
	name=$1
	shift
	run_suite "$name" sh -c '"$@"; echo $? >"'"$log"'.rc"' sh "$@"
}

filter=${1:-}
for t in "$UNITDIR"/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) suite "unit $(basename "$t")" "$t" ;; esac
done
for t in tests/e2e/test_*.py; do
	[ -f "$t" ] || continue
	case "$t" in *"$filter"*) suite "e2e $(basename "$t")" "$PYTHON" "$t" ;; esac
done
for t in tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	case "$t" in *"$filter"*) suite "e2e $(basename "$t")" sh "$t" ;; esac
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
echo
grep '^FAIL ' "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
