#!/bin/sh
# deps.sh: installs the Debian packages kapsula needs and that are missing.
# "build": compiler and libraries; "check": also the real clients the tests
# drive; "bench": the servers the benchmark compares kapsula with. Does
# nothing when all are present; names what is missing otherwise.
set -u
build="gcc make pkg-config openssl libevent-dev libssl-dev libunistring-dev libidn2-dev libseccomp-dev libinih-dev libuchardet-dev libstemmer-dev"
check="$build python3 python3-feedparser curl tmux lynx amfora bombadillo sacc gopher libxml2-utils procps mandoc haproxy clang-14 libclang-rt-14-dev"
# "bench": the servers kapsula is compared with.
bench="$build molly-brown gophernicus systemd procps"
case "${1:-build}" in
build) want=$build ;;
check) want=$check ;;
bench) want=$bench ;;
*) echo "usage: deps.sh build|check|bench" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0 # not Debian: trust the user
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

echo "kapsula: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "kapsula: not root; please run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update >/dev/null 2>&1
	if ! apt-get install -y --no-install-recommends $missing; then
		echo "kapsula: could not install:$missing" >&2
		echo "kapsula: install them by hand: apt-get install$missing" >&2
		exit 1
	fi
fi
