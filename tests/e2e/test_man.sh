#!/bin/sh
# The manual pages: both lint clean under mandoc at warning level (any
# output fails), and every flag `kapsula --help` names is in kapsula(8),
# so the page cannot silently fall behind the binary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
man=$(cd "$here/../.." && pwd)/man
: "${KAPSULA:=build/kapsula}"
N="man"
failed=0

say() { printf '%s\n' "$*"; }
fail() {
	say "FAIL $N $1: $2"
	failed=1
}

# lint PAGE: mandoc -Tlint -Wwarning prints nothing and exits 0.
lint() {
	name="$1 lints clean"
	if ! command -v mandoc >/dev/null 2>&1; then
		say "SKIP $N $name: mandoc is not installed (apt-get install mandoc)"
		return
	fi
	if [ ! -f "$man/$1" ]; then
		fail "$name" "no $man/$1"
		return
	fi
	out=$(mandoc -Tlint -Wwarning "$man/$1" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ $rc -ne 0 ]; then
		fail "$name" "mandoc exited $rc: $(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"
	else
		say "PASS $N $name"
	fi
}

lint kapsula.8
lint kapsula.conf.5

# Every --flag in the help text has an entry (.Fl -flag) in kapsula.8.
name="kapsula.8 documents every flag of --help"
if [ ! -x "$KAPSULA" ]; then
	say "SKIP $N $name: KAPSULA=$KAPSULA is not an executable"
elif [ ! -f "$man/kapsula.8" ]; then
	fail "$name" "no $man/kapsula.8"
else
	flags=$("$KAPSULA" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
	missing=""
	for f in $flags; do
		# mdoc writes --root as "Fl -root": Fl adds one dash.
		grep -q -- "^\.It Fl ${f#-}\\( \\|\$\\)" "$man/kapsula.8" ||
			missing="$missing $f"
	done
	if [ -z "$flags" ]; then
		fail "$name" "--help names no flags"
	elif [ -n "$missing" ]; then
		fail "$name" "not in the options list:$missing"
	else
		say "PASS $N $name"
	fi
fi

exit $failed
