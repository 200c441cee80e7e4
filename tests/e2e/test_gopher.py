"""Gopher protocol tests: a raw TCP client against kapsula on a small tree.

Run as `/usr/bin/python3 tests/e2e/test_gopher.py` with KAPSULA set.
One line per test: PASS / FAIL / SKIP.
"""

import contextlib
import html.parser
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402  (read-only use)
import gopherlib as gl  # noqa: E402
from harness import check, test  # noqa: E402

ADV_HOST = "gopher.example.net"
ADV_PORT = 7070
IDLE_TIMEOUT = 2  # --timeout given to the servers

RU_PARA = (
    "Интервью с Викторией, секс-работницей из Казахстана, записанное в "
    "июне 2008 года, даёт уникальный взгляд на ситуацию с секс-работой в "
    "стране. Она говорит об отношениях секс-работников с полицией, о том, "
    "как меняется сама профессия, и о редко обсуждаемом явлении — "
    "гетеросексуальных секс-работниках-мужчинах, которые продают секс "
    "женщинам.")
EN_PARA = (
    "This English paragraph is long enough to need several lines when it "
    "is wrapped at sixty-seven display columns, so the renderer must break "
    "it between words and never inside one of them.")
CJK_PARA = "日本語の文章は空白なしで続きます。" * 5
COMBINING_PARA = ("e\u0301" * 60) + " " + ("a\u0308" * 30)
LONG_LABEL = "A link label that is much longer than sixty-seven columns " * 3
RU_PAGE_TEXT = "Страница с кириллическим именем файла открылась правильно."
DOTS_TXT = (b"first line\r\n.\r\n..starts with two dots\n.\nmiddle\r\n"
            b"...\n.\r\nlast line without newline")
BLOB = bytes(range(256)) * 4 + b"\r\n.\r\n\x00\x1b.\n"
# Renderer input that must never leak into a display string raw.
NASTY_LABEL = "Bad\x1b[31m red\x07 label\tafter tab"

ROOT_GMI = "\n".join([
    "# Kapsula gopher test tree",
    "",
    EN_PARA,
    "",
    "Text with a\ttab inside and an escape \x1b[1m here.",
    "",
    CJK_PARA,
    "",
    COMBINING_PARA,
    "",
    "* A list item that is also rather long, long enough that it has to "
    "wrap onto a second line with a hanging indent under it.",
    "> A quoted line that is long enough to wrap onto more than one line "
    "of the menu, each with the quote mark in front.",
    "```",
    "pre\tformatted\tline",
    "```",
    "",
    "## Links of every kind",
    "=> en/ English folder",
    "=> ru/ Русская папка",
    "=> plain/ Folder without index",
    "=> page.gmi A page",
    "=> dots.txt Dots text file",
    "=> blob.bin Binary file",
    "=> pic.png Picture",
    "=> anim.gif Animation",
    "=> doc.html Local HTML file",
    "=> ru/страница.gmi Страница с кириллическим именем",
    "=> gopher://example.org/1/menu Native gopher menu",
    "=> gopher://example.org:7071/0/file.txt Native gopher text",
    "=> https://example.org/a?b=1&c=2 Web link",
    "=> gemini://example.org/ Gemini elsewhere",
    "=> mailto:someone@example.org Mail",
    "=> https://пример.рф/путь Cyrillic URL",
    "=> page.gmi " + LONG_LABEL,
    "=> page.gmi " + NASTY_LABEL,
    "",
]) + "\n"

FILES = {
    "index.gmi": ROOT_GMI.encode(),
    "page.gmi": b"# A page\n\nPlain page body.\n=> ./ Back\n",
    "en/index.gmi": ("# English\n\n" + EN_PARA + "\n\n=> ../ Home\n"
                     "=> page.gmi English page\n").encode(),
    "en/page.gmi": b"# English page\n\nThe quick brown fox.\n",
    "ru/index.gmi": ("# Русский раздел\n\n" + RU_PARA + "\n\n"
                     "=> страница.gmi Страница\n=> ../ Главная\n").encode(),
    "ru/страница.gmi": ("# Страница\n\n" + RU_PAGE_TEXT + "\n").encode(),
    "plain/a.txt": b"file a\n",
    "plain/b.gmi": b"# B\n\nbee\n",
    "plain/sub/c.txt": b"file c\n",
    "dots.txt": DOTS_TXT,
    "blob.bin": BLOB,
    "pic.png": harness.PNG_1X1,
    "anim.gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "doc.html": b"<!DOCTYPE html><title>doc</title><p>local html</p>\n",
}

# Expected (type, selector, host-or-None for ours, port-or-None) per label.
EXPECTED_LINKS = {
    "English folder": ("1", "/en/", None, None),
    "Русская папка": ("1", "/ru/", None, None),
    "Folder without index": ("1", "/plain/", None, None),
    "A page": ("1", "/page.gmi", None, None),
    "Dots text file": ("0", "/dots.txt", None, None),
    "Binary file": ("9", "/blob.bin", None, None),
    "Picture": ("I", "/pic.png", None, None),
    "Animation": ("g", "/anim.gif", None, None),
    "Local HTML file": ("h", "/doc.html", None, None),
    "Страница с кириллическим именем": (
        "1", "/ru/" + urllib.parse.quote("страница") + ".gmi", None, None),
    "Native gopher menu": ("1", "/menu", "example.org", 70),
    "Native gopher text": ("0", "/file.txt", "example.org", 7071),
    "Web link": ("h", "URL:https://example.org/a?b=1&c=2", None, None),
    "Gemini elsewhere": ("h", "URL:gemini://example.org/", None, None),
    "Mail": ("h", "URL:mailto:someone@example.org", None, None),
}

MENUS = ["/", "/en/", "/ru/", "/plain/", "/plain/sub/", "/page.gmi",
         "/en/page.gmi", "/plain/b.gmi",
         "/ru/" + urllib.parse.quote("страница") + ".gmi"]


class Ctx:
    pass


@contextlib.contextmanager
def setup():
    tmp = tempfile.mkdtemp(prefix="kapsula-e2e-gopher-")
    servers = []
    try:
        c = Ctx()
        c.tmp = tmp
        c.root = os.path.join(tmp, "root")
        c.secret = ("KAPSULA-GOPHER-SECRET-%d-%s" % (
            os.getpid(), os.urandom(6).hex())).encode()
        with open(os.path.join(tmp, "secret.txt"), "wb") as f:
            f.write(c.secret + b"\n")
        os.makedirs(os.path.join(tmp, "outside"))
        with open(os.path.join(tmp, "outside", "index.gmi"), "wb") as f:
            f.write(b"# outside\n" + c.secret + b"\n")
        with open(os.path.join(tmp, "outside", "hidden.txt"), "wb") as f:
            f.write(c.secret + b"\n")
        for rel, data in FILES.items():
            p = os.path.join(c.root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        os.symlink("../secret.txt", os.path.join(c.root, "leak.txt"))
        os.symlink("../outside", os.path.join(c.root, "outdir"))
        c.srv = harness.Server(
            c.root, os.path.join(tmp, "certs"),
            listen=[("127.0.0.1", 0)],
            gopher=[("127.0.0.1", 0)], timeout=IDLE_TIMEOUT,
            workdir=os.path.join(tmp, "srv1"))
        os.makedirs(c.srv.workdir)
        servers.append(c.srv)
        c.srv.start()
        c.port = c.srv.gopher_listen[0][1]
        c.adv = harness.Server(
            c.root, os.path.join(tmp, "certs"),
            listen=[("127.0.0.1", 0)],
            gopher=[("127.0.0.1", 0)], timeout=IDLE_TIMEOUT,
            extra=["--gopher-host", ADV_HOST, "--gopher-port", str(ADV_PORT)],
            workdir=os.path.join(tmp, "srv2"))
        os.makedirs(c.adv.workdir)
        servers.append(c.adv)
        c.adv.start()
        c.adv_listen = c.adv.gopher_listen[0][1]
        yield c
        for s in servers:
            check(s.alive(), "server %s died during the tests: %s" % (
                s.argv[-1], s.stderr_tail()))
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def menu(c, sel, port=None):
    items, problems, raw = gl.fetch_menu(port or c.port, sel)
    check(not gl.is_error(raw), "%r answered with an error: %s" % (
        sel, gl.describe(raw)))
    return items, problems, raw


def expect_error(c, request, what, port=None, contains=None):
    """request (raw bytes incl. line end) must get one type-3 line + '.'."""
    raw = harness.tcp_exchange(port or c.port, request, timeout=5)
    check(raw, "%s: silent close, no reply%s" % (
        what, " (reset)" if raw.reset else ""))
    check(c.secret not in raw, "%s: reply holds the secret bytes!" % what)
    check(gl.is_error(raw), "%s: want a type-3 line and '.', got %s" % (
        what, gl.describe(raw)))
    if contains:
        check(contains.lower() in raw.lower(), "%s: error does not say %r: %s"
              % (what, contains, gl.describe(raw)))
    return raw


# ------------------------------------------------------------ menus


@test("gopher root: empty selector and / are identical menus")
def t_root(c):
    a = gl.fetch(c.port, b"")
    b = gl.fetch(c.port, b"/")
    items, problems = gl.parse_menu(a)
    check(not problems, "root menu: %s" % problems[:3])
    check(len(items) > 10, "root menu has only %d lines" % len(items))
    check(a == b, "'' and '/' differ: %s vs %s" % (gl.describe(a, 80),
                                                   gl.describe(b, 80)))


@test("gopher menus: CRLF, 3 TABs, final '.', <=67 columns, clean text")
def t_well_formed(c):
    bad = []
    for sel in MENUS:
        items, problems, raw = menu(c, sel)
        bad += ["%s: %s" % (sel, p) for p in problems]
        if not items:
            bad.append("%s: no items" % sel)
    check(not bad, "%d problems: %s" % (len(bad), "; ".join(bad[:4])))


@test("gopher menus: selectors are printable ASCII, host/port ours")
def t_selectors(c):
    bad = []
    for sel in MENUS:
        items, _, _ = menu(c, sel)
        for it in items:
            if any(ord(ch) < 0x20 or ord(ch) > 0x7e for ch in it.selector):
                bad.append("%s: %r" % (sel, it))
            if it.host == "example.org":
                continue
            if (it.host, it.port) != ("localhost", c.port):
                bad.append("%s: host/port %s:%s, want localhost:%d" % (
                    sel, it.host, it.port, c.port))
    check(not bad, "; ".join(bad[:4]))


@test("gopher menus: renderer input TAB/ESC/BEL never reach display text")
def t_nasty_label(c):
    items, problems, raw = menu(c, "/")
    check(b"\x1b" not in raw and b"\x07" not in raw,
          "ESC or BEL byte in the root menu")
    check(not problems, "root menu: %s" % problems[:3])
    labels = [it.display for it in items if it.selector == "/page.gmi"]
    check(any("label" in d and "after tab" in d for d in labels),
          "link with a TAB/ESC in its label lost its text: %r" % labels)
    texts = [it.display for it in items if it.type == "i"]
    check(any("tab inside" in t for t in texts),
          "paragraph with a TAB vanished: %r" % texts[:12])


@test("gopher menus: every kind of link gets its type, selector, host")
def t_link_kinds(c):
    items, _, _ = menu(c, "/")
    by_label = {}
    for it in items:
        by_label.setdefault(it.display, it)
    bad = []
    for label, (t, sel, host, port) in EXPECTED_LINKS.items():
        it = by_label.get(label)
        if it is None:
            bad.append("no item labelled %r" % label)
            continue
        host = host or "localhost"
        port = port or c.port
        got = (it.type, it.selector, it.host, it.port)
        if got != (t, sel, host, port):
            bad.append("%r: got %r, want %r" % (label, got,
                                                (t, sel, host, port)))
    idn = [it for it in items if it.display == "Cyrillic URL"]
    if not idn or idn[0].type != "h" or not idn[0].selector.startswith(
            "URL:https://"):
        bad.append("Cyrillic URL: %r" % idn)
    long_ = [it for it in items if it.display.startswith("A link label")]
    if not long_:
        bad.append("long label item missing")
    elif gl.display_width(long_[0].display) > gl.WIDTH:
        bad.append("long label is %d columns" %
                   gl.display_width(long_[0].display))
    check(not bad, "; ".join(bad[:5]))


@test("gopher menus: the heading leads, the plain-text version follows it")
def t_text_item(c):
    for sel, txt, head, label in (
            ("/", "/index.gmi.txt", "Kapsula gopher test tree",
             "Plain text version of this page / Текстовая версия страницы"),
            ("/ru/", "/ru/index.gmi.txt", "Русский раздел",
             "Текстовая версия страницы"),
            ("/page.gmi", "/page.gmi.txt", "A page",
             "Plain text version of this page")):
        items, _, _ = menu(c, sel)
        check(items, "%s: empty menu" % sel)
        # Lagrange names a Gopher tab by the first line.
        check(items[0].type == "i" and items[0].display == head,
              "%s: first line %r, want the heading %r" % (sel, items[0], head))
        first = next(it for it in items if it.type != "i")
        check(first.type == "0" and first.selector == txt,
              "%s: first item %r, want type 0 %s" % (sel, first, txt))
        check(first.display == label, "%s: label %r, want %r" % (
            sel, first.display, label))
    raw = gl.fetch(c.port, "/ru/index.gmi.txt")
    check(not gl.is_error(raw), "text version: %s" % gl.describe(raw))
    text = raw.decode("utf-8")
    check("Русский раздел" in text, "heading missing from text version")
    flat = " ".join(text.split())
    want = " ".join(RU_PARA.split())
    # The text version may wrap too; compare with hyphen breaks undone.
    check(want in flat or want.replace("- ", "-") in flat.replace("- ", "-"),
          "Russian paragraph not intact in the text version: %r" % flat[:200])
    lines = raw.split(b"\n")
    while lines and lines[-1] in (b"", b"\r"):
        lines.pop()
    check(lines and lines[-1].rstrip(b"\r") != b".",
          "text version ends with a '.' line: ...%r" % raw[-20:])


@test("gopher menus: folder without index.gmi gets a generated listing")
def t_listing(c):
    items, problems, raw = menu(c, "/plain/")
    check(not problems, "listing: %s" % problems[:3])
    got = {(it.type, it.selector) for it in items if it.type != "i"}
    for want in (("0", "/plain/a.txt"), ("1", "/plain/b.gmi"),
                 ("1", "/plain/sub/")):
        check(want in got, "listing lacks %r; has %r" % (want, sorted(got)))
    for it in items:
        if it.type not in "i3":
            r = gl.fetch(c.port, it.selector)
            check(r and not gl.is_error(r), "listing item %r: %s" % (
                it, gl.describe(r)))


@test("gopher menus: every published local item answers (no type 3)")
def t_follow_items(c):
    seen, queue, bad = set(), list(MENUS), []
    while queue and len(seen) < 200:
        sel = queue.pop(0)
        if sel in seen:
            continue
        seen.add(sel)
        items, problems, raw = gl.fetch_menu(c.port, sel)
        if gl.is_error(raw) or not raw:
            bad.append("%s: %s" % (sel, gl.describe(raw)))
            continue
        for it in items:
            if it.type in "i3" or it.host != "localhost":
                continue
            if it.type == "1":
                queue.append(it.selector)
            elif it.selector not in seen:
                seen.add(it.selector)
                # A search item (type 7) answers words with a menu.
                r = gl.fetch(c.port, it.selector +
                             ("\tword" if it.type == "7" else ""))
                if not r or gl.is_error(r):
                    bad.append("%s (from %s): %s" % (
                        it.selector, sel, gl.describe(r)))
    check(not bad, "%d broken: %s" % (len(bad), "; ".join(bad[:4])))


# ------------------------------------------------------------ text


@test("gopher wrapping: Russian paragraph intact, not split inside words")
def t_russian(c):
    items, problems, raw = menu(c, "/ru/")
    check(not problems, "/ru/: %s" % problems[:3])
    raw.decode("utf-8")  # raises on broken UTF-8
    blocks = gl.info_blocks(items)
    mine = [b for b in blocks if b[0].startswith("Интервью с Викторией")]
    check(mine, "Russian paragraph not found; blocks start %r" % [
        b[0][:20] for b in blocks])
    lines = mine[0]
    check(len(lines) >= 3, "paragraph of %d columns in %d lines" % (
        gl.display_width(RU_PARA), len(lines)))
    words = set(RU_PARA.split())
    for ln in lines[:-1]:
        # A line (not the last) should be reasonably full: greedy wrapping.
        check(gl.display_width(ln) > gl.WIDTH - 20,
              "short wrapped line %r (%d cols)" % (ln, gl.display_width(ln)))
    for ln in lines:
        for w in ln.split()[1:-1]:
            check(w in words, "word %r of line %r is not in the source" % (
                w, ln))
    _, why = gl.rejoin(lines, RU_PARA)
    check(why is None, why or "")


@test("gopher wrapping: English, CJK and combining text within 67 columns")
def t_widths(c):
    items, problems, _ = menu(c, "/")
    check(not problems, "root: %s" % problems[:3])
    blocks = gl.info_blocks(items)
    en = [b for b in blocks if b[0].startswith("This English paragraph")]
    check(en, "English paragraph not found")
    _, why = gl.rejoin(en[0], EN_PARA)
    check(why is None, "English: %s" % why)
    cjk = [b for b in blocks if b[0].startswith("日本語")]
    check(cjk, "CJK paragraph not found")
    check("".join(cjk[0]) == CJK_PARA,
          "CJK text changed: %r" % "".join(cjk[0]))
    check(len(cjk[0]) >= 3, "CJK paragraph (%d cols) in %d lines" % (
        gl.display_width(CJK_PARA), len(cjk[0])))
    comb = [b for b in blocks if b[0].startswith("e\u0301")]
    check(comb, "combining paragraph not found")
    check(" ".join(comb[0]) == COMBINING_PARA,
          "combining text changed or split (%d lines)" % len(comb[0]))


@test("gopher text: .txt file sent raw, dot lines intact, no final dot")
def t_raw_txt(c):
    r = gl.fetch(c.port, "/dots.txt")
    check(bytes(r) == DOTS_TXT, "dots.txt differs from disk: %s" %
          gl.describe(r, 200))


@test("gopher binary: binary file sent byte for byte")
def t_binary(c):
    r = gl.fetch(c.port, "/blob.bin")
    check(bytes(r) == BLOB, "blob.bin: %d bytes, want %d; starts %r" % (
        len(r), len(BLOB), bytes(r[:16])))
    r = gl.fetch(c.port, "/pic.png")
    check(bytes(r) == harness.PNG_1X1, "pic.png differs")


@test("gopher request: bare LF line end works like CRLF")
def t_bare_lf(c):
    a = gl.fetch(c.port, "/ru/", end=b"\n")
    b = gl.fetch(c.port, "/ru/")
    check(a and not gl.is_error(a), "bare LF: %s" % gl.describe(a))
    check(a == b, "LF and CRLF replies differ")


@test("gopher request: a selector without line end, then a half-close")
def t_half_close(c):
    s = socket.create_connection(("127.0.0.1", c.port), timeout=5)
    try:
        s.sendall(b"/ru/")
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    raw = b"".join(chunks)
    check(raw == bytes(gl.fetch(c.port, "/ru/")),
          "half-closed request: %s" % gl.describe(raw))


@test("gopher request: percent-encoded Cyrillic selector resolves")
def t_percent(c):
    sel = "/ru/" + urllib.parse.quote("страница") + ".gmi"
    items, problems, raw = menu(c, sel)
    check(not problems, "%s" % problems[:3])
    check(any(RU_PAGE_TEXT.split()[0] in it.display for it in items),
          "Russian page text missing: %s" % gl.describe(raw))


# ------------------------------------------------------------ errors


@test("gopher errors: unknown selector is a type-3 line")
def t_not_found(c):
    expect_error(c, b"/no/such/thing.gmi\r\n", "not found")
    expect_error(c, b"nosuch\r\n", "not found (no slash)")


@test("gopher errors: error lines are within 67 columns")
def t_error_width(c):
    for req in (b"/" + b"a" * 254 + b"\r\n", b"/" + b"x" * 300 + b"\r\n",
                b"/%2e%2e/" + b"b" * 200 + b"\r\n"):
        raw = harness.tcp_exchange(c.port, req)
        items, _ = gl.parse_menu(raw, check_width=False)
        check(items, "no reply to %r" % req[:20])
        w = gl.display_width(items[0].display)
        check(w <= gl.WIDTH, "error display is %d columns (> %d) for a "
              "%d-byte selector: %r" % (w, gl.WIDTH, len(req) - 2,
                                        items[0].display[:90]))


@test("gopher errors: traversal above root (.. and %2e%2e) refused")
def t_traversal(c):
    for req in (b"/../secret.txt", b"../secret.txt", b"/en/../../secret.txt",
                b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt",
                b"/ru/%2e%2e/%2e%2e/secret.txt", b"/.%2e/secret.txt",
                b"/../outside/index.gmi", b"/../outside/"):
        expect_error(c, req + b"\r\n", "traversal %r" % req)


@test("gopher errors: symlinks out of the root never serve the target")
def t_symlinks(c):
    for req in (b"/leak.txt", b"/outdir/", b"/outdir/index.gmi",
                b"/outdir/hidden.txt", b"/outdir"):
        expect_error(c, req + b"\r\n", "symlink %r" % req)
    items, _, raw = menu(c, "/")
    check(c.secret not in raw, "secret in the root menu")


@test("gopher errors: NUL and control bytes in the selector")
def t_controls(c):
    for req in (b"/en/\x00x", b"/\x00", b"/en/\x1b[2J", b"/\x01",
                b"/en/%00", b"/en/%1b", b"/a\rb", b"/\x7f"):
        raw = expect_error(c, req + b"\r\n", "control %r" % req)
        items, _ = gl.parse_menu(raw, check_width=False)
        check(items and not gl.has_control(items[0].display),
              "error text echoes a control byte: %r" % bytes(raw[:80]))


@test("gopher errors: 1024-byte selector is fine (not found), 1025 is 'longer'")
def t_selector_limit(c):
    s1024 = b"/" + b"a" * 1023
    raw = expect_error(c, s1024 + b"\r\n", "1024-byte selector")
    check(b"longer" not in raw.lower() and b"long" not in raw.lower(),
          "1024-byte selector refused as too long: %s" % gl.describe(raw))
    check(b"not found" in raw.lower(), "1024 bytes: want 'Not found': %s"
          % gl.describe(raw))
    # with a tab, a 256-byte search and a Gopher+ suffix after it
    raw = expect_error(c, s1024 + b"\t" + b"q" * 256 + b"\t$\r\n",
                       "1024-byte selector with search and Gopher+")
    check(b"not found" in raw.lower(), "the longest request line: want "
          "'Not found': %s" % gl.describe(raw))
    expect_error(c, b"/" + b"a" * 1024 + b"\r\n", "1025-byte selector",
                 contains=b"longer")


@test("gopher errors: a 2 KiB request gets a type-3 reply, not a close")
def t_big_request(c):
    expect_error(c, b"/" + b"b" * 2047 + b"\r\n", "2 KiB request")
    # the same without any line end at all
    expect_error(c, b"/" + b"c" * 2048, "2 KiB without a line end")
    # a short selector followed by a huge search string
    expect_error(c, b"/\t" + b"q" * 2046 + b"\r\n", "2 KiB search field")


# ------------------------------------------------------------ URL: and extras


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.attrs = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))


@test("gopher URL: selector: HTML page with meta refresh, URL escaped")
def t_url_page(c):
    u = "https://example.org/a?x=\"1\"&y=<b>'z'</b>"
    raw = gl.fetch(c.port, "URL:" + u)
    check(raw and not gl.is_error(raw), "URL: page: %s" % gl.describe(raw))
    text = raw.decode("utf-8")
    check("<b>" not in text and "'z'" not in text and '"1"' not in text,
          "raw \" < > ' in the page: %r" % text[:300])
    for ent in ("&amp;", "&lt;", "&gt;", "&quot;"):
        check(ent in text, "%s missing: %r" % (ent, text[:300]))
    p = _Tags()
    p.feed(text)
    check("b" not in p.tags, "a <b> element was injected: %r" % p.tags)
    metas = [a for t, a in p.attrs if t == "meta" and
             a.get("http-equiv", "").lower() == "refresh"]
    check(metas, "no meta refresh: %r" % text[:300])
    content = metas[0].get("content", "")
    target = content.split("=", 1)[1] if "=" in content else ""
    check(target.strip() == u, "refresh target %r, want %r" % (target, u))
    raw = gl.fetch(c.port, "URL:https://example.org/")
    check(b"https://example.org/" in raw, "plain URL missing from page")


@test("gopher URL: javascript: and data: URLs refused with type 3")
def t_url_refused(c):
    bad = []
    for u in (b"javascript:alert(1)", b"JavaScript:alert(1)",
              b"data:text/html,<script>alert(1)</script>",
              b" javascript:alert(1)", b"\x01javascript:alert(1)",
              b"DATA:text/html;base64,PHNjcmlwdD4="):
        try:
            raw = expect_error(c, b"URL:" + u + b"\r\n", "URL:%r" % u)
            check(b"<script" not in raw, "script echoed: %r" % bytes(raw))
        except AssertionError as e:
            bad.append(str(e))
    check(not bad, "%d accepted: %s" % (len(bad), "; ".join(bad)))


@test("gopher caps.txt: CAPS header and UTF-8 default encoding")
def t_caps(c):
    raw = gl.fetch(c.port, "/caps.txt")
    text = raw.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.splitlines()]
    check(lines and lines[0] == "CAPS", "first line %r" % lines[:1])
    for want in ("CapsVersion=1", "ServerDefaultEncoding=UTF-8",
                 "PathDelimeter=/"):
        check(want in lines, "%s missing from caps.txt: %r" % (want, text))
    check(not text.rstrip().endswith("\n."), "caps.txt ends with a dot line")


# Gopher+ (UMN gopher probes with these; see gopher_plus() in gopher.c).
# A "+-1" reply ends with "." on a line of its own, "+-2" at close. UMN's
# GDplusfromNet reads "+INFO: " (one space), then a menu line with a fifth
# field "+"; a block's other lines start with a space.
RU_PAGE = "/ru/" + urllib.parse.quote("страница") + ".gmi"


def plus_lines(raw, what):
    """The lines of a "+-1" reply between the status line and the '.'."""
    check(raw.startswith(b"+-1\r\n"), "%s: status line is not +-1: %s" % (
        what, gl.describe(raw, 60)))
    check(raw.endswith(b"\r\n.\r\n"), "%s: does not end with CRLF '.' CRLF:"
          " ...%r" % (what, bytes(raw[-40:])))
    lines = bytes(raw[5:-3]).split(b"\r\n")
    check(lines.pop() == b"", "%s: last line has no CRLF" % what)
    for ln in lines:
        check(b"\r" not in ln and b"\n" not in ln and ln != b".",
              "%s: bare CR/LF or early '.' in %r" % (what, ln[:80]))
    return lines


def plus_info(line, what):
    """(type, display, selector, host, port) of one "+INFO: " line."""
    check(line.startswith(b"+INFO: "), "%s: want a +INFO: line, got %r" % (
        what, line[:80]))
    fields = line[7:].split(b"\t")
    check(len(fields) == 5 and fields[4] == b"+" and fields[0],
          "%s: +INFO is not TYPE+DISPLAY, SELECTOR, HOST, PORT, '+': %r" % (
              what, line[:120]))
    check(re.match(rb"^[0-9]{1,5}$", fields[3]),
          "%s: port %r is not a number" % (what, fields[3]))
    try:
        display = fields[0][1:].decode("utf-8")
    except UnicodeDecodeError:
        raise AssertionError("%s: display is not UTF-8: %r" % (what, line))
    check(not gl.has_control(display), "%s: control character in %r" % (
        what, display))
    check(all(0x20 < b < 0x7f for b in fields[1]),
          "%s: selector is not printable ASCII: %r" % (what, fields[1]))
    return (chr(fields[0][0]), display, fields[1].decode("ascii"),
            fields[2].decode("latin-1"), int(fields[3]))


def menu_items(port, sel):
    """(type, display, selector, host, port) of a plain menu's non-i lines."""
    items, problems, raw = gl.fetch_menu(port, sel)
    check(not problems and not gl.is_error(raw), "plain menu %r: %s %s" % (
        sel, problems[:2], gl.describe(raw, 60)))
    return [(it.type, it.display, it.selector, it.host, it.port)
            for it in items if it.type != "i"]


@test("gopher plus: \\t$ on a menu is +-1, one +INFO per item of it, '.'")
def t_gopher_plus_dir(c):
    for sel in [b""] + [m.encode() for m in MENUS]:
        what = "%r\\t$" % sel
        got = [plus_info(ln, what)
               for ln in plus_lines(gl.fetch(c.port, sel + b"\t$"), what)]
        want = menu_items(c.port, sel)
        check(got == want, "%s: +INFO lines are not the menu's items:\n"
              "got  %r\nwant %r" % (what, got[:4], want[:4]))
    # The root's links, with the types, selectors, hosts and ports known
    # from the source, not from the plain menu.
    got = [plus_info(ln, "root")
           for ln in plus_lines(gl.fetch(c.port, b"\t$"), "root")]
    check(len(got) > len(EXPECTED_LINKS),
          "root: only %d +INFO lines" % len(got))
    check(got[0] == ("0", got[0][1], "/index.gmi.txt", "localhost", c.port),
          "root: first +INFO is not the text version: %r" % (got[0],))
    by_label = {g[1]: g for g in got}
    for label, (t, sel, host, port) in EXPECTED_LINKS.items():
        want = (t, label, sel, host or "localhost", port or c.port)
        check(by_label.get(label) == want, "root +INFO %r: got %r, want %r" % (
            label, by_label.get(label), want))
    # Behind --gopher-host/--gopher-port the +INFO lines advertise those.
    for it in [plus_info(ln, "adv") for ln in plus_lines(
            gl.fetch(c.adv_listen, b"/ru/\t$"), "adv /ru/")]:
        check(it[3:] == (ADV_HOST, ADV_PORT), "adv /ru/: +INFO %r" % (it,))
    # bombadillo and others end lines with a bare LF: still Gopher+.
    raw = gl.fetch(c.port, b"/ru/\t$", end=b"\n")
    check(raw == gl.fetch(c.port, b"/ru/\t$"),
          "bare-LF \\t$ differs from CRLF: %s" % gl.describe(raw, 80))


def plus_item(c, sel, port=None):
    """(type, display, selector, host, port) from \\t!; + checks +ADMIN."""
    what = "%r\\t!" % sel
    lines = plus_lines(gl.fetch(port or c.port, sel + b"\t!"), what)
    check(len(lines) >= 3, "%s: want +INFO and +ADMIN blocks, got %r" % (
        what, lines))
    info = plus_info(lines[0], what)
    check(lines[1] == b"+ADMIN:", "%s: second block is %r, not +ADMIN:" % (
        what, lines[1]))
    admin = lines[2:]
    check(all(ln.startswith(b" ") and b":" in ln for ln in admin),
          "%s: +ADMIN lines are not ' Name: value': %r" % (what, admin))
    check(any(ln.startswith(b" Admin: ") and len(ln) > 8 for ln in admin),
          "%s: +ADMIN has no Admin: line: %r" % (what, admin))
    return info


@test("gopher plus: \\t! is +-1, one +INFO of the item, an +ADMIN block")
def t_gopher_plus_item(c):
    for sel, t, path in ((b"", "1", "/"), (b"/", "1", "/"),
                         (b"/ru/", "1", "/ru/"), (b"/en", "1", "/en/"),
                         (b"/page.gmi", "1", "/page.gmi"),
                         (RU_PAGE.encode(), "1", RU_PAGE),
                         (b"/dots.txt", "0", "/dots.txt"),
                         (b"/ru/index.gmi.txt", "0", "/ru/index.gmi.txt")):
        got = plus_item(c, sel)
        want = (t, got[1], path, "localhost", c.port)
        check(got == want and got[1], "%r\\t!: +INFO %r, want %r" % (
            sel, got, want))
        if t == "0":
            # $ asks for a folder's items; a file answers with itself.
            raw = gl.fetch(c.port, sel + b"\t$")
            check(raw == gl.fetch(c.port, sel + b"\t!"),
                  "%r\\t$ on a file: %s" % (sel, gl.describe(raw, 80)))
    got = plus_item(c, b"/ru/", port=c.adv_listen)
    check(got[2:] == ("/ru/", ADV_HOST, ADV_PORT), "adv /ru/\\t!: %r" % (
        got,))
    raw = gl.fetch(c.port, b"/nosuch\t!")
    check(raw and c.secret not in raw and gl.is_error(raw),
          "Gopher+ on a missing selector: %s" % gl.describe(raw))


@test("gopher plus: \\t+ is +-1 and the menu, or +-2 and the file's bytes")
def t_gopher_plus_data(c):
    for sel in [b""] + [m.encode() for m in MENUS]:
        raw = gl.fetch(c.port, sel + b"\t+")
        want = b"+-1\r\n" + bytes(gl.fetch(c.port, sel))
        check(raw == want, "%r\\t+: %s, want %s" % (
            sel, gl.describe(raw, 80), gl.describe(want, 80)))
    # "+-2": to the close, so the ".\r\n" inside dots.txt ends nothing.
    for sel in (b"/dots.txt", b"/blob.bin", b"/pic.png", b"/index.gmi.txt"):
        raw = gl.fetch(c.port, sel + b"\t+")
        body = bytes(gl.fetch(c.port, sel))
        check(raw == b"+-2\r\n" + body, "%r\\t+: %s, want +-2 and %s" % (
            sel, gl.describe(raw, 60), gl.describe(body, 60)))
        if sel == b"/dots.txt":
            check(body == DOTS_TXT, "dots.txt changed: %r" % body)
    raw = gl.fetch(c.port, b"/nosuch\t+")
    check(raw and c.secret not in raw and gl.is_error(raw),
          "Gopher+ on a missing selector: %s" % gl.describe(raw))


@test("gopher advertised host/port: --gopher-host/--gopher-port in menus")
def t_advertised(c):
    bad = []
    for sel in ("/", "/ru/", "/plain/", "/page.gmi"):
        items, problems, raw = menu(c, sel, port=c.adv_listen)
        bad += ["%s: %s" % (sel, p) for p in problems]
        for it in items:
            if it.host == "example.org":
                continue
            if (it.host, it.port) != (ADV_HOST, ADV_PORT):
                bad.append("%s: %r advertises %s:%s" % (sel, it, it.host,
                                                         it.port))
    raw = harness.tcp_exchange(c.adv_listen, b"/nosuch\r\n")
    items, _ = gl.parse_menu(raw, check_width=False)
    if not items or (items[0].host, items[0].port) != (ADV_HOST, ADV_PORT):
        bad.append("error line: %s" % gl.describe(raw))
    check(not bad, "; ".join(bad[:4]))


# ------------------------------------------------------------ connections


@test("gopher timeout: idle client cut after --timeout, others still served")
def t_idle(c):
    idle = socket.create_connection(("127.0.0.1", c.port), timeout=5)
    partial = socket.create_connection(("127.0.0.1", c.port), timeout=5)
    try:
        partial.sendall(b"/en/")  # a request that never ends
        t0 = time.monotonic()
        ref = gl.fetch(c.port, "/")
        took = time.monotonic() - t0
        items, problems = gl.parse_menu(ref)
        check(not problems and items, "root while a client idles: %s" %
              gl.describe(ref))
        check(took < 1.5, "root took %.1f s while a client idled" % took)
        gone, got = gl.wait_closed(idle, IDLE_TIMEOUT + 3)
        check(gone is not None, "idle client still open after %d s" % (
            IDLE_TIMEOUT + 3))
        check(gone > IDLE_TIMEOUT * 0.5, "idle client cut after only %.1f s"
              % gone)
        check(got == b"" or gl.is_error(got),
              "idle client got something other than nothing or a type-3 "
              "line: %r" % got[:80])
        gone2, _ = gl.wait_closed(partial, 3)
        check(gone2 is not None, "client with an unfinished request still "
              "open %d s after the deadline" % 3)
    finally:
        idle.close()
        partial.close()


@test("gopher load: 100 concurrent clients all get the full root menu")
def t_concurrent(c):
    ref = gl.fetch(c.port, "/")
    items, problems = gl.parse_menu(ref)
    check(items and not problems, "reference root menu: %s" % problems[:2])
    n = 100
    results = [None] * n
    barrier = threading.Barrier(n, timeout=20)

    def one(i):
        try:
            s = socket.create_connection(("127.0.0.1", c.port), timeout=10)
        except OSError as e:
            results[i] = "connect: %s" % e
            try:
                barrier.abort()
            except Exception:
                pass
            return
        with s:
            try:
                barrier.wait()
                s.sendall(b"/\r\n")
                buf = b""
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
                results[i] = buf
            except Exception as e:
                results[i] = "%s: %s" % (type(e).__name__, e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    bad = [(i, r) for i, r in enumerate(results) if r != ref]
    check(not bad, "%d of %d clients did not get the menu; first: #%d %r" % (
        len(bad), n, bad[0][0] if bad else -1,
        (bad[0][1][:60] if bad and bad[0][1] else None)))


if __name__ == "__main__":
    harness.run(setup)
