#!/bin/sh
# Real Gopher clients against kapsula serving the repository's capsule/:
# curl, lynx, bombadillo (tmux), sacc (script), UMN gopher (tmux).
# Only our own server PID and our own tmux servers (-L unique socket) are
# ever stopped. Every wait is a bounded polling loop; no fixed sleeps.
# clienv prints VAR=value words meant to be split: SC2046 is intended.
# shellcheck disable=SC2046
set -u

export PYTHONDONTWRITEBYTECODE=1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
glib="$here/gopherlib.py"
bsock="kapsula-gc-bomb-$$"
usock="kapsula-gc-umn-$$"
asock="kapsula-gc-umn-ascii-$$"
socks="$bsock $usock $asock"
N="gopher-clients"

RU_INDEX="/ru/"
RU_PAGE="/ru/2026-11-28-confronting-abuses.gmi"

steps="curl fetches the Russian menu bytes|lynx dumps the Russian interview|lynx follows a URL: link to the redirect page|bombadillo opens the Russian menu|bombadillo follows a link to the interview|sacc shows the Russian menu|UMN gopher shows the root menu|UMN gopher reads the Russian menu in ASCII|server survived every client"

skip() { say "SKIP $N $1: $2"; }

trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$KAPSULA" ] || fail_all "KAPSULA=$KAPSULA is not an executable"
[ -f "$capsule/ru/2026-11-28-confronting-abuses.gmi" ] ||
	fail_all "no $capsule/ru/2026-11-28-confronting-abuses.gmi"

tmp=$(mktemp -d /tmp/kapsula-gopher-clients.XXXXXX)

start_server || fail_all "no listener announced: $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"
gport=$gopport
mport=$gemport
wait_port "$gport" ||
	fail_all "server not accepting on $gport: $(tail -c 300 "$tmp/server.err" | tr '\n' ' ')"

gl() { "$PYTHON" "$glib" "$@"; }
oneline() { tr -s " \n\r\t" " " | cut -c1-"${1:-200}" | iconv -c -f UTF-8 -t UTF-8; }

# Texts the pages must show, read from the capsule itself.
ru_index_heading=$(gl heading "$capsule/ru/index.gmi")
ru_page_heading=$(gl heading "$capsule$RU_PAGE")
ru_sentence=$(gl sentence "$capsule$RU_PAGE")
ru_words=$(gl words "$capsule$RU_PAGE" 3)
if [ -z "$ru_index_heading" ] || [ -z "$ru_sentence" ] || [ -z "$ru_words" ]; then
	fail_all "could not read headings/sentences from capsule/ru/"
fi

# ------------------------------------------------------------ curl
name="curl fetches the Russian menu bytes"
if ! command -v curl >/dev/null 2>&1; then
	skip "$name" "curl not installed"
else
	curl -s --max-time 10 "gopher://127.0.0.1:$gport/1$RU_INDEX" >"$tmp/curl.out"
	rc=$?
	gl fetch "$gport" "$RU_INDEX" >"$tmp/raw.out"
	if [ $rc != 0 ]; then
		fail "$name" "curl exited $rc"
	elif ! cmp -s "$tmp/curl.out" "$tmp/raw.out"; then
		fail "$name" "curl got $(wc -c <"$tmp/curl.out") bytes, raw client $(wc -c <"$tmp/raw.out"): $(head -c 120 "$tmp/curl.out" | oneline)"
	elif ! grep -qF -- "$ru_index_heading" "$tmp/curl.out"; then
		fail "$name" "heading \"$ru_index_heading\" not in the bytes: $(head -c 200 "$tmp/curl.out" | oneline)"
	elif [ "$(tail -c 3 "$tmp/curl.out" | od -An -c | tr -d ' ')" != '.\r\n' ]; then
		fail "$name" "menu does not end with .CRLF"
	else
		pass "$name"
	fi
fi

# ------------------------------------------------------------ lynx
lynx_dump() { # URL OUT
	LANG=C.UTF-8 timeout 15 lynx -dump -display_charset=utf-8 \
		-assume_charset=utf-8 -width=80 -cfg=/dev/null "$1" \
		>"$2" 2>"$2.err" </dev/null
}

name="lynx dumps the Russian interview"
name2="lynx follows a URL: link to the redirect page"
if ! command -v lynx >/dev/null 2>&1; then
	skip "$name" "lynx not installed"
	skip "$name2" "lynx not installed"
else
	HOME=$tmp lynx_dump "gopher://127.0.0.1:$gport/1$RU_PAGE" "$tmp/lynx.out"
	rc=$?
	widest=$(gl widest "$tmp/lynx.out")
	wrc=$?
	cols=${widest%% *}
	if [ $rc != 0 ]; then
		fail "$name" "lynx exited $rc: $(oneline <"$tmp/lynx.out.err")"
	elif [ $wrc != 0 ]; then
		fail "$name" "dump is $widest (Cyrillic broken)"
	elif ! grep -qF -- "$ru_page_heading" "$tmp/lynx.out"; then
		fail "$name" "heading \"$ru_page_heading\" missing: $(head -c 300 "$tmp/lynx.out" | oneline)"
	elif ! gl contains "$tmp/lynx.out" "$ru_sentence"; then
		fail "$name" "sentence \"$ru_sentence\" missing: $(head -c 400 "$tmp/lynx.out" | oneline 300)"
	elif [ "$cols" -gt 80 ]; then
		fail "$name" "a line is $widest columns (> 80)"
	else
		pass "$name"
	fi

	HOME=$tmp lynx_dump "gopher://127.0.0.1:$gport/hURL:https://example.org/" "$tmp/lynx2.out"
	rc=$?
	if [ $rc != 0 ]; then
		fail "$name2" "lynx exited $rc: $(oneline <"$tmp/lynx2.out.err")"
	elif ! grep -q 'REFRESH' "$tmp/lynx2.out"; then
		fail "$name2" "no meta refresh seen: $(oneline <"$tmp/lynx2.out")"
	elif ! grep -qF 'https://example.org/' "$tmp/lynx2.out"; then
		fail "$name2" "target URL not shown: $(oneline <"$tmp/lynx2.out")"
	else
		pass "$name2"
	fi
fi

# ------------------------------------------------------------ tmux helpers
unset TMUX
# shown: the first non-blank lines of the pane of $sock, on one line.
shown() { screen | grep -v '^[[:space:]]*$' | head -8 | oneline 300; }

clienv() { # fresh HOME and XDG dirs per client
	mkdir -p "$tmp/$1/home" "$tmp/$1/config" "$tmp/$1/data" "$tmp/$1/cache"
	echo "HOME=$tmp/$1/home XDG_CONFIG_HOME=$tmp/$1/config XDG_DATA_HOME=$tmp/$1/data XDG_CACHE_HOME=$tmp/$1/cache LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color"
}

# ------------------------------------------------------------ bombadillo
name="bombadillo opens the Russian menu"
name2="bombadillo follows a link to the interview"
sock=$bsock
if ! command -v bombadillo >/dev/null 2>&1; then
	skip "$name" "bombadillo not installed"
	skip "$name2" "bombadillo not installed"
elif ! command -v tmux >/dev/null 2>&1; then
	skip "$name" "tmux not installed"
	skip "$name2" "tmux not installed"
else
	num=$(gl linknum "$gport" "$RU_INDEX" "$RU_PAGE")
	if ! tmux -L "$bsock" -f /dev/null new-session -d -x 100 -y 30 \
		env $(clienv bomb) bombadillo "gopher://127.0.0.1:$gport/1$RU_INDEX"; then
		fail "$name" "tmux could not start bombadillo"
		fail "$name2" "tmux could not start bombadillo"
	elif ! wait_for "$ru_index_heading"; then
		fail "$name" "\"$ru_index_heading\" not on screen within 15 s; screen: $(shown)"
		skip "$name2" "blocked by \"$name\""
	else
		pass "$name"
		if [ -z "$num" ]; then
			fail "$name2" "$RU_PAGE is not an item of $RU_INDEX"
		else
			for k in $(echo "$num" | sed 's/./& /g'); do
				tmux -L "$bsock" send-keys -t 0 "$k"
			done
			tmux -L "$bsock" send-keys -t 0 Enter
			if wait_for "$ru_words" "${RU_PAGE#/}"; then
				pass "$name2"
			else
				fail "$name2" "after typing $num + Enter, \"$ru_words\" not on screen within 15 s; screen: $(shown)"
			fi
		fi
	fi
	tmux -L "$bsock" kill-server >/dev/null 2>&1
fi

# ------------------------------------------------------------ sacc
name="sacc shows the Russian menu"
if ! command -v sacc >/dev/null 2>&1; then
	skip "$name" "sacc not installed"
elif ! command -v script >/dev/null 2>&1; then
	skip "$name" "script (util-linux) not installed"
else
	# With stdout redirected sacc prints the menu and exits; script gives
	# it the terminal it insists on.
	mkdir -p "$tmp/sacc"
	env $(clienv sacc) timeout 15 script -qec \
		"sacc gopher://127.0.0.1:$gport/1$RU_INDEX >'$tmp/sacc.out'" \
		/dev/null </dev/null >/dev/null 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		fail "$name" "sacc (under script) exited $rc: $(head -c 200 "$tmp/sacc.out" 2>/dev/null | oneline)"
	elif ! grep -qF -- "$ru_index_heading" "$tmp/sacc.out"; then
		fail "$name" "\"$ru_index_heading\" not in sacc's output: $(head -c 300 "$tmp/sacc.out" | oneline)"
	elif ! gl widest "$tmp/sacc.out" >/dev/null; then
		fail "$name" "sacc's output is not UTF-8 (Cyrillic mangled)"
	else
		pass "$name"
	fi
fi

# ------------------------------------------------------------ UMN gopher
name="UMN gopher shows the root menu"
sock=$usock
if ! command -v gopher >/dev/null 2>&1; then
	skip "$name" "UMN gopher not installed"
elif ! command -v tmux >/dev/null 2>&1; then
	skip "$name" "tmux not installed"
else
	labels=$(gl labels "$gport" /)
	if [ -z "$labels" ]; then
		fail "$name" "root menu has no ASCII-labelled items to look for"
	elif ! tmux -L "$usock" -f /dev/null new-session -d -x 100 -y 30 \
		env $(clienv umn) gopher 127.0.0.1 "$gport"; then
		fail "$name" "tmux could not start gopher"
	else
		# The first screen may be the copyright notice: RETURN goes on.
		first=$(printf '%s\n' "$labels" | head -1)
		n=0
		seen=0
		while [ $n -lt 75 ]; do
			scr=$(screen)
			if printf '%s\n' "$scr" | grep -qF -- "$first"; then
				seen=1
				break
			fi
			if printf '%s\n' "$scr" | grep -q 'Press RETURN'; then
				tmux -L "$usock" send-keys -t 0 Enter
			fi
			sleep 0.2
			n=$((n + 1))
		done
		missing=""
		if [ $seen = 1 ]; then
			scr=$(screen)
			missing=$(printf '%s\n' "$labels" | while IFS= read -r l; do
				printf '%s\n' "$scr" | grep -qF -- "$l" || printf '"%s" ' "$l"
			done)
		fi
		if [ $seen != 1 ]; then
			fail "$name" "\"$first\" not on screen within 15 s; screen: $(shown)"
		elif [ -n "$missing" ]; then
			fail "$name" "items missing: $missing; screen: $(shown)"
		else
			pass "$name"
		fi
	fi
	tmux -L "$usock" kill-server >/dev/null 2>&1
fi

# ------------------------------------------------------------ UMN, ASCII
# UMN gopher is not UTF-8 aware: Cyrillic and curly quotes become "~X"
# garbage. On the ASCII listener the Russian menu must read as Latin.
name="UMN gopher reads the Russian menu in ASCII"
sock=$asock
if ! command -v gopher >/dev/null 2>&1; then
	skip "$name" "UMN gopher not installed"
elif ! command -v tmux >/dev/null 2>&1; then
	skip "$name" "tmux not installed"
else
	# What the ASCII listener itself says the heading and first item are.
	gl fetch "$ascport" "$RU_INDEX" 127.0.0.2 >"$tmp/ascii.menu"
	want_head=$(sed -n '1s/^i\([^	]*\)	.*/\1/p' "$tmp/ascii.menu")
	want_item=$(grep -m1 "^0" "$tmp/ascii.menu" | sed 's/^0\([^	]*\)	.*/\1/')
	if LC_ALL=C grep -q '[^[:print:][:space:]]' "$tmp/ascii.menu"; then
		fail "$name" "the ASCII listener sent non-ASCII bytes"
	elif [ -z "$want_head" ] || [ -z "$want_item" ] ||
		! printf '%s' "$want_head" | grep -q 'interv`yu'; then
		fail "$name" "no transliterated heading in the menu: $(head -c 200 "$tmp/ascii.menu" | oneline)"
	elif ! tmux -L "$asock" -f /dev/null new-session -d -x 100 -y 30 \
		env $(clienv umnascii) gopher -p "$RU_INDEX" 127.0.0.2 "$ascport"; then
		fail "$name" "tmux could not start gopher"
	else
		n=0
		seen=0
		while [ $n -lt 75 ]; do
			scr=$(screen)
			if printf '%s\n' "$scr" | grep -qF -- "$want_head"; then
				seen=1
				break
			fi
			if printf '%s\n' "$scr" | grep -q 'Press RETURN'; then
				tmux -L "$asock" send-keys -t 0 Enter
			fi
			sleep 0.2
			n=$((n + 1))
		done
		scr=$(screen)
		if [ $seen != 1 ]; then
			fail "$name" "\"$want_head\" not on screen within 15 s; screen: $(shown)"
		elif ! printf '%s\n' "$scr" | grep -qF -- "$want_item"; then
			fail "$name" "item \"$want_item\" not on screen: $(shown)"
		elif printf '%s\n' "$scr" | grep -q '~'; then
			fail "$name" "'~' garbage on screen: $(printf '%s\n' "$scr" | grep '~' | head -3 | oneline)"
		else
			pass "$name"
		fi
	fi
	tmux -L "$asock" kill-server >/dev/null 2>&1
fi

# ------------------------------------------------------------ server
name="server survived every client"
if alive "$pid"; then
	pass "$name"
else
	wait "$pid" 2>/dev/null
	fail "$name" "server exited ($?): $(tail -c 300 "$tmp/server.err" | oneline)"
fi

exit $failed
