"""Gopher helpers for kapsula's end-to-end tests (menus, widths, wrapping).

Pure functions plus one bounded TCP client; the server itself is started
with harness.Server. Python stdlib only.
"""

import re
import socket
import time
import unicodedata

import harness

WIDTH = 67  # display columns a menu's display text may take

# A type-3 error reply: error lines (one per language, each wrapped to the
# menu width), then the final dot line.
ERROR_RE = re.compile(
    rb"^(?:3[^\t\r\n]*\t[^\t\r\n]*\t[^\t\r\n]*\t[0-9]+\r\n)+\.\r\n$")


def display_width(text):
    """Columns `text` takes: East Asian W/F = 2, combining = 0, else 1."""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def has_control(text):
    """True when `text` holds a C0/C1 control character or DEL."""
    return any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in text)


class Item:
    """One menu line: type, display, selector, host, port (str/int)."""

    def __init__(self, type_, display, selector, host, port, raw):
        self.type = type_
        self.display = display
        self.selector = selector
        self.host = host
        self.port = port
        self.raw = raw

    def __repr__(self):
        return "<%s %r %r %s:%s>" % (self.type, self.display[:30],
                                     self.selector[:60], self.host, self.port)


def parse_menu(raw, width=WIDTH, check_width=True):
    """Parse a menu strictly; returns (items, problems).

    problems: list of strings, one per rule a line breaks (CRLF ends,
    exactly three TABs, final ".\r\n", UTF-8 display, no controls,
    printable-ASCII selector, numeric port, display width).
    """
    problems = []
    items = []
    if not raw:
        return items, ["empty reply"]
    if not raw.endswith(b"\r\n.\r\n") and raw != b".\r\n":
        problems.append("menu does not end with CRLF '.' CRLF: ...%r" %
                        raw[-30:])
    body = raw[:-3] if raw.endswith(b".\r\n") else raw
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        problems.append("last line before '.' has no line end: %r" %
                        (lines[-1][:60] if lines else b""))
    for n, line in enumerate(lines, 1):
        if not line.endswith(b"\r"):
            problems.append("line %d does not end in CRLF: %r" % (n, line[:80]))
        else:
            line = line[:-1]
        if b"\r" in line:
            problems.append("line %d has a bare CR: %r" % (n, line[:80]))
        if line == b".":
            problems.append("line %d is a '.' before the end" % n)
            continue
        if line.count(b"\t") != 3:
            problems.append("line %d has %d TABs, not 3: %r" % (
                n, line.count(b"\t"), line[:100]))
            continue
        head, sel, host, port = line.split(b"\t")
        if not head:
            problems.append("line %d has no type" % n)
            continue
        type_ = chr(head[0])
        try:
            display = head[1:].decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("line %d display is not UTF-8 (%s): %r" % (
                n, e, head[:80]))
            display = head[1:].decode("utf-8", "replace")
        if has_control(display):
            problems.append("line %d display has a control character: %r" % (
                n, display[:80]))
        if check_width and display_width(display) > width:
            problems.append("line %d display is %d columns (> %d): %r" % (
                n, display_width(display), width, display))
        if any(b < 0x20 or b > 0x7e for b in sel):
            problems.append("line %d selector is not printable ASCII: %r" % (
                n, sel[:100]))
        if not re.match(rb"^[0-9]{1,5}$", port):
            problems.append("line %d port is not a number: %r" % (n, port))
            port_n = -1
        else:
            port_n = int(port)
        items.append(Item(type_, display, sel.decode("latin-1"),
                          host.decode("latin-1"), port_n, line))
    return items, problems


def is_error(raw):
    """True when raw is type-3 lines only, and the final dot."""
    return bool(ERROR_RE.match(raw))


def fetch(port, selector, timeout=5, end=b"\r\n", host="127.0.0.1"):
    """Send selector (str or bytes) + end, read to close: PlainReply."""
    if isinstance(selector, str):
        selector = selector.encode("utf-8")
    return harness.tcp_exchange(port, selector + end, host=host,
                                timeout=timeout)


def fetch_menu(port, selector, timeout=5):
    """(items, problems, raw) of the menu at selector."""
    raw = fetch(port, selector, timeout=timeout)
    items, problems = parse_menu(raw)
    if raw.timed_out:
        problems.append("timed out after %.1f s" % raw.elapsed)
    return items, problems, raw


def describe(raw, n=160):
    """Short text of a reply for failure messages."""
    s = "%r" % bytes(raw[:n])
    if len(raw) > n:
        s += "... (%d bytes)" % len(raw)
    if getattr(raw, "timed_out", False):
        s += " (timed out)"
    if getattr(raw, "reset", False):
        s += " (reset)"
    return s


def info_blocks(items):
    """Paragraphs of a menu: runs of non-empty `i` display lines."""
    blocks, cur = [], []
    for it in items:
        if it.type == "i" and it.display.strip():
            cur.append(it.display)
        else:
            if cur:
                blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


_BREAK_AFTER = ("-", "\u2010", "\u2013", "\u2014", "/")


def rejoin(lines, source):
    """Join wrapped lines back into one string following `source`.

    Lines join with one space, or with nothing when a line ends in a hyphen
    or dash (a legal break) and the source has no space there. Returns
    (joined, None) or (None, why) when a break fell inside a word.
    """
    want = " ".join(source.split())
    got = ""
    for n, line in enumerate(lines):
        line = " ".join(line.split())
        if n == 0:
            cand = [line]
        else:
            cand = [got + " " + line]
            if got.endswith(_BREAK_AFTER):
                cand.append(got + line)
        ok = [c for c in cand if want.startswith(c)]
        if not ok:
            return None, ("line %d %r does not continue the source text "
                          "(split inside a word, or text changed) after %r"
                          % (n + 1, line, got[-40:]))
        got = ok[0]
    if got != want:
        return None, "wrapped text ends early: got %r... want %r..." % (
            got[-40:], want[len(got) - 10:len(got) + 40])
    return got, None


def wait_closed(sock, timeout):
    """Seconds until the peer closes (EOF or reset) or None on timeout.

    Bytes the peer sends meanwhile are returned as the second value.
    """
    t0 = time.monotonic()
    got = b""
    while True:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            return None, got
        sock.settimeout(left)
        try:
            d = sock.recv(4096)
        except socket.timeout:
            return None, got
        except (ConnectionResetError, ConnectionAbortedError):
            return time.monotonic() - t0, got
        if not d:
            return time.monotonic() - t0, got
        got += d


# ------------------------------------------------------------ shell helpers
# `python3 gopherlib.py CMD ARGS`: small tools for test_gopher_clients.sh.


def gmi_heading(path):
    """Text of the first `# ` heading of a gemtext file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def gmi_first_paragraph(path):
    """First plain text line (no heading, link, quote, list, pre)."""
    pre = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                pre = not pre
                continue
            s = line.strip()
            if pre or not s or s[0] in "#=>*`":
                continue
            return s
    return ""


def first_sentence(text):
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text


def normalize(text):
    """Whitespace collapsed, hyphen line breaks joined."""
    return " ".join(text.split()).replace("- ", "-")


def _main(argv):
    import sys
    cmd, args = argv[0], argv[1:]
    out = sys.stdout
    if cmd == "fetch":  # PORT SELECTOR [HOST] -> raw reply bytes
        sys.stdout.buffer.write(bytes(fetch(
            int(args[0]), args[1], host=args[2] if len(args) > 2 else
            "127.0.0.1")))
    elif cmd == "heading":  # FILE
        out.write(gmi_heading(args[0]) + "\n")
    elif cmd == "sentence":  # FILE: first sentence of the first paragraph
        out.write(first_sentence(gmi_first_paragraph(args[0])) + "\n")
    elif cmd == "words":  # FILE N: first N words of the first paragraph
        out.write(" ".join(gmi_first_paragraph(args[0]).split()[
            :int(args[1])]) + "\n")
    elif cmd == "linknum":  # PORT MENU TARGET: 1-based number among items
        items, _ = parse_menu(fetch(int(args[0]), args[1]))
        links = [it for it in items if it.type != "i"]
        for n, it in enumerate(links, 1):
            if it.selector == args[2]:
                out.write("%d\n" % n)
                return 0
        return 1
    elif cmd == "labels":  # PORT SEL: ASCII labels of the non-info items
        items, _ = parse_menu(fetch(int(args[0]), args[1]))
        for it in items:
            if it.type not in "i3" and it.display.isascii() and \
                    it.display.strip():
                out.write(it.display.strip() + "\n")
    elif cmd == "widest":  # FILE: widest line in columns; exit 2 if not UTF-8
        with open(args[0], "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            out.write("not UTF-8: %s\n" % e)
            return 2
        lines = text.replace("\r\n", "\n").split("\n")
        w = max((display_width(ln), ln) for ln in lines)
        out.write("%d %s\n" % (w[0], w[1][:60]))
    elif cmd == "contains":  # FILE TEXT: normalized containment
        with open(args[0], "rb") as f:
            hay = normalize(f.read().decode("utf-8", "replace"))
        return 0 if normalize(args[1]) in hay else 1
    else:
        sys.stderr.write("unknown command %r\n" % cmd)
        return 64
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv[1:]))
