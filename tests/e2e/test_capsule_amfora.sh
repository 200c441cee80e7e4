#!/bin/sh
# The reviewer's walk through the REAL capsule (capsule/ at the repository
# root) in Amfora, in a detached tmux pane: landing page -> English index ->
# interview part 1 -> its Russian twin -> home. Headings, link labels and
# link targets are read from capsule/ at run time (others edit the text);
# link numbers are read from Amfora's screen. Afterwards the server's
# access log must show only 20/31 statuses.
# Only our own tmux server (-L unique socket) and our own server PID are
# ever stopped. Every wait is a bounded polling loop (0.2 s, 15 s a step).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
sock="kapsula-capsule-amfora-$$"
socks=$sock
N="capsule amfora"

steps="opens the landing page|follows the English link|follows the interview link|follows the Russian twin link|shows the Russian interview heading|follows the link back home|access log shows no dead link"

trap cleanup EXIT
trap 'exit 1' INT TERM

command -v amfora >/dev/null 2>&1 || skip_all "amfora not installed"
command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed"
[ -x "$KAPSULA" ] || fail_all "KAPSULA=$KAPSULA is not an executable"
[ -f "$capsule/index.gmi" ] || fail_all "no $capsule/index.gmi"

tmp=$(mktemp -d /tmp/kapsula-capsule-amfora.XXXXXX)
mkdir -p "$tmp/home" "$tmp/config" "$tmp/cache" "$tmp/data"

# Helpers on gemtext and on the screen, in Python for URL resolution.
cat >"$tmp/walk.py" <<'EOF'
import re
import sys
import urllib.parse as up

for scheme in ("gemini",):
    if scheme not in up.uses_relative:
        up.uses_relative.append(scheme)
    if scheme not in up.uses_netloc:
        up.uses_netloc.append(scheme)


def norm(s):
    return " ".join(s.split())


def heading(path):
    """Text of the first level-1 heading of a gemtext file ("" if none)."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^#(?!#)\s*(.*\S)", line)
                if m:
                    return norm(m.group(1))
    except (OSError, UnicodeDecodeError):
        pass
    return ""


def label(path, page_url, dest_url):
    """Label of the first link in `path` (served at page_url) to dest_url."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^=>\s*(\S+)(?:\s+(.*\S))?", line)
            if not m:
                continue
            if up.urljoin(page_url, m.group(1)) == dest_url:
                return norm(m.group(2) or m.group(1))
    return ""


def number(want):
    """Amfora's number [N] of the link labelled `want` on the screen."""
    want = norm(want)
    links = []
    for line in sys.stdin.read().splitlines():
        m = re.match(r"^\s*\[([0-9]+)\]\s+(.*\S)\s*$", line)
        if m:
            links.append((m.group(1), norm(m.group(2))))
    for n, text in links:
        if text == want:
            return n
    for n, text in links:  # a label wrapped onto more lines
        if len(text) >= 8 and want.startswith(text):
            return n
    return ""


def main():
    cmd = sys.argv[1]
    if cmd == "heading":
        print(heading(sys.argv[2]))
    elif cmd == "label":
        print(label(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "number":
        print(number(sys.argv[2]))
    elif cmd == "norm":
        print(norm(sys.stdin.read()))


main()
EOF
walk() { "$PYTHON" "$tmp/walk.py" "$@"; }

start_server || fail_all "no listener announced: $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"
port=$gemport
gport=$gopport

# Wait (at most 10 s) for the Gemini port to accept TCP.
wait_port "$port" || fail_all "server not accepting on $port$(alive "$pid" || echo " (server exited)"): $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"

base="gemini://localhost:$port"
unset TMUX
# A tall pane keeps a whole page (links at the bottom too) on screen.
start_amfora() {
	tmux -L "$sock" -f /dev/null new-session -d -x 100 -y 200 \
		env HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" \
		XDG_CACHE_HOME="$tmp/cache" XDG_DATA_HOME="$tmp/data" \
		LANG=C.UTF-8 TERM=xterm-256color \
		amfora "$base/" ||
		fail_all "tmux could not start amfora"
}
start_amfora

# The URL in Amfora's bottom bar: the last non-blank line of the pane.
bar() { screen | grep -v '^[[:space:]]*$' | tail -1 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
shown() { screen | grep -v '^[[:space:]]*$' | head -6 | tr -s ' \n' ' ' | cut -c1-240; }

# on_page URL TEXT: the bar shows URL and the screen (lines joined,
# spaces collapsed, so a wrapped heading still matches) contains TEXT.
on_page() {
	[ "$(bar)" = "$1" ] || return 1
	[ -z "$2" ] && return 0
	screen | walk norm | grep -qF -- "$2"
}

# wait_page URL TEXT: poll every 0.2 s for at most 15 s.
wait_page() { poll on_page "$1" "$2"; }

cur_url=""
cur_file=""

skipped() {
	[ -n "$blocked" ] || return 1
	say "SKIP $N $1: blocked by \"$blocked\""
	return 0
}

# follow NAME DEST_PATH DEST_FILE: find, in the current page's gemtext, the
# link that leads to DEST_PATH, find its number on screen, type it (Space,
# number, Enter) and wait for DEST_PATH's heading.
follow() {
	name=$1
	dest="$base$2"
	file=$3
	skipped "$name" && return
	lab=$(walk label "$cur_file" "$cur_url" "$dest")
	if [ -z "$lab" ]; then
		fail "$name" "no link to $dest in $cur_file"
		return
	fi
	num=$(screen | walk number "$lab")
	if [ -z "$num" ]; then
		tmux -L "$sock" send-keys -t 0 End # a longer page: its end
		sleep 0.2
		num=$(screen | walk number "$lab")
	fi
	if [ -z "$num" ]; then
		fail "$name" "link \"$lab\" not numbered on screen; screen: $(shown)"
		return
	fi
	head=$(walk heading "$file")
	if [ -z "$head" ]; then
		fail "$name" "no '# ' heading in $file to recognise the page by"
		return
	fi
	tmux -L "$sock" send-keys -t 0 Space
	if ! wait_for 'URL/Num'; then # the bar asks for a URL or number
		fail "$name" "no URL/number prompt after Space; screen: $(shown)"
		return
	fi
	tmux -L "$sock" send-keys -t 0 "$num" Enter
	if wait_page "$dest" "$head"; then
		pass "$name"
		cur_url=$dest
		cur_file=$file
	else
		fail "$name" "typed [$num] \"$lab\": want $dest with \"$head\" within 15 s; bar: $(bar); screen: $(shown)"
	fi
}

interview="2026-11-28-confronting-abuses.gmi"
land_head=$(walk heading "$capsule/index.gmi")
if [ -z "$land_head" ]; then
	fail "opens the landing page" "no '# ' heading in $capsule/index.gmi"
elif wait_page "$base/" "$land_head" || {
	# Seen once in many runs: Amfora stuck on "Loading" although the
	# server had answered. Only then, start Amfora once more.
	grep -q ' gemini 20 [0-9]* /$' "$tmp/server.out" &&
		tmux -L "$sock" kill-server >/dev/null 2>&1 && start_amfora &&
		wait_page "$base/" "$land_head"
}; then
	pass "opens the landing page"
	cur_url="$base/"
	cur_file="$capsule/index.gmi"
else
	fail "opens the landing page" "want $base/ with \"$land_head\" within 15 s; bar: $(bar); screen: $(shown); server $(alive "$pid" && echo alive || echo gone), access log: $(tail -n 3 "$tmp/server.out" | tr '\n' ' ')"
fi

follow "follows the English link" "/en/" "$capsule/en/index.gmi"
follow "follows the interview link" "/en/$interview" "$capsule/en/$interview"
follow "follows the Russian twin link" "/ru/$interview" "$capsule/ru/$interview"

# The heading is read from the file at run time; check it on its own too,
# with Cyrillic text the screen must show as UTF-8.
name="shows the Russian interview heading"
if ! skipped "$name"; then
	ru_head=$(walk heading "$capsule/ru/$interview")
	if [ -z "$ru_head" ]; then
		fail "$name" "no '# ' heading in capsule/ru/$interview"
	elif on_page "$base/ru/$interview" "# $ru_head"; then
		pass "$name"
	else
		fail "$name" "\"# $ru_head\" not on screen; screen: $(shown)"
	fi
fi

follow "follows the link back home" "/" "$capsule/index.gmi"

tmux -L "$sock" kill-server >/dev/null 2>&1

# Stopping the server flushes every access-log line of the walk.
name="access log shows no dead link"
stop_server
rc=$?
log=$(cat "$tmp/server.out")
# Fields: time, capsule, protocol, status, bytes, path.
bad=$(printf '%s\n' "$log" | awk 'NF >= 5 && $3 == "gemini" && $4 != "20" && $4 != "31"')
missing=""
for p in / /en/ "/en/$interview" "/ru/$interview"; do
	printf '%s\n' "$log" | awk -v p="$p" '$3 == "gemini" && $NF == p { f = 1 } END { exit !f }' ||
		missing="$missing $p"
done
if [ "$rc" != 0 ]; then
	say "FAIL $N $name: server exit $rc on SIGTERM: $(tail -c 200 "$tmp/server.err" | tr '\n' ' ')"
	failed=1
elif [ -n "$bad" ]; then
	say "FAIL $N $name: $(printf '%s' "$bad" | tr '\n' ';' | cut -c1-300)"
	failed=1
elif [ -n "$blocked" ]; then
	say "SKIP $N $name: blocked by \"$blocked\""
elif [ -n "$missing" ]; then
	say "FAIL $N $name: walk requests missing from the log:$missing; log: $(printf '%s' "$log" | tr '\n' ';' | cut -c1-300)"
	failed=1
else
	say "PASS $N $name"
fi
exit $failed
