#!/bin/sh
# The libFuzzer targets (make fuzz-build), each for FUZZ_SECONDS (15 in
# make check). Reproducible: a fixed seed, tests/fuzz/NAME used read-only
# as seeds with a temporary corpus (FUZZ_KEEP=1, as make fuzz sets it,
# keeps a growing one in build/fuzz/corpus), crash artifacts in build/.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${FUZZDIR:=$top/build/fuzz}"
: "${FUZZ_SECONDS:=15}"
: "${FUZZ_KEEP:=0}"
case "$FUZZDIR" in /*) ;; *) FUZZDIR=$top/$FUZZDIR ;; esac
failed=0

for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	seeds=$top/tests/fuzz/${name#fuzz_}
	bin=$FUZZDIR/$name
	what="fuzz $name for ${FUZZ_SECONDS} s"
	if [ ! -x "$bin" ]; then
		echo "FAIL $what: $bin not built (make fuzz-build needs clang-14 and libclang-rt-14-dev)"
		failed=1
		continue
	fi
	mkdir -p "$FUZZDIR/artifacts"
	if [ "$FUZZ_KEEP" = 1 ]; then
		corpus=$FUZZDIR/corpus/$name
		mkdir -p "$corpus"
	else
		corpus=$(mktemp -d)
	fi
	log=$FUZZDIR/$name.log
	# -close_fd_mask=2: the targets' own error lines stay out of the way;
	# libFuzzer still reports what it finds.
	"$bin" -seed=1 -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -rss_limit_mb=2048 -close_fd_mask=2 \
	    -artifact_prefix="$FUZZDIR/artifacts/$name-" \
	    "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	[ "$FUZZ_KEEP" = 1 ] || rm -rf "$corpus"
	runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "PASS $what (${runs:-no count})"
	else
		echo "FAIL $what: exit $rc, see $log: $(grep -m 1 -E 'ERROR|SUMMARY|runtime error' "$log")"
		failed=1
	fi
done
exit $failed
