"""Server-made text in the reader's language and charset, end to end: labels,
listings, errors and feed pages in English and Russian over Gemini and
Gopher; the root index in both languages; text versions with full URLs; and
Gopher listeners for legacy readers (ASCII, KOI8-R, CP1251) checked byte by
byte.

Run from the repository root as `/usr/bin/python3 tests/e2e/test_l10n.py`.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gopherlib as gl  # noqa: E402
import harness  # noqa: E402
from harness import Ctx, check, test  # noqa: E402

RU_PAGE = "/ru/2026-11-28-confronting-abuses.gmi"
CHARSETS = {"ascii": "127.0.0.2", "koi8-r": "127.0.0.3", "cp1251": "127.0.0.4"}


@contextlib.contextmanager
def setup():
    """The repository's capsule, plus a Russian folder without an index,
    on one Gemini and four Gopher listeners (UTF-8 and each charset)."""
    tmp = tempfile.mkdtemp(prefix="kapsula-e2e-l10n-")
    c = Ctx()
    root = os.path.join(tmp, "capsule")
    shutil.copytree(harness.CAPSULE, root)
    os.makedirs(os.path.join(root, "ru", "notes"))
    with open(os.path.join(root, "ru", "notes", "a.txt"), "w",
              encoding="utf-8") as f:
        f.write("Заметка «в кавычках» — с тире…\n")
    gopher = [("127.0.0.1", 0)] + [(h, 0, "charset=" + cs)
                                   for cs, h in CHARSETS.items()]
    c.srv = harness.Server(root, os.path.join(tmp, "certs"),
                           listen=[("127.0.0.1", 0)], gopher=gopher,
                           timeout=5, workdir=tmp)
    try:
        c.srv.start()
        c.port = c.srv.listen[0][1]
        c.gport = c.srv.gopher_listen[0][1]
        c.cs = {cs: (h, p) for cs, (h, p) in
                zip(CHARSETS, c.srv.gopher_listen[1:])}
        yield c
        check(c.srv.alive(), "server died: %s" % c.srv.stderr_tail())
    finally:
        c.srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def gem(c, path):
    return harness.gemini(c.port, harness.req(c.port, path))


def gop(c, sel, cs=None):
    host, port = c.cs[cs] if cs else ("127.0.0.1", c.gport)
    return bytes(harness.gopher(port, (sel + "\r\n").encode(), host=host))


def items_of(raw, encoding="utf-8"):
    """[(type, display, selector, host, port)] of a menu in any charset."""
    out = []
    for line in raw.split(b"\r\n"):
        if line in (b"", b"."):
            continue
        f = line.decode(encoding).split("\t")
        check(len(f) == 4, "not a menu line: %r" % line)
        out.append((f[0][:1], f[0][1:], f[1], f[2], int(f[3])))
    return out


# ------------------------------------------------------------ languages


@test("l10n: the plain-text item speaks each page's language, after the heading")
def _(c):
    for sel, label in (("/en/", "Plain text version of this page"),
                       ("/ru/", "Текстовая версия страницы"),
                       (RU_PAGE, "Текстовая версия страницы"),
                       ("/", "Plain text version of this page / "
                             "Текстовая версия страницы")):
        items = items_of(gop(c, sel))
        check(items[0][0] == "i" and items[0][1].strip(),
              "%s: first line %r is not the heading" % (sel, items[0]))
        first = next(it for it in items if it[0] != "i")
        check(first[0] == "0" and first[1] == label,
              "%s: first item %r, want %r" % (sel, first, label))


@test("l10n: the root index of a capsule with en/ and ru/ is lang=en,ru")
def _(c):
    r = gem(c, "/")
    check(r.status == "20" and r.meta.endswith("; lang=en,ru"),
          "/: %s" % r.describe())
    r = gem(c, "/index.gmi.txt")
    check(r.meta.endswith("; lang=en,ru"), "/index.gmi.txt: %s" % r.describe())


@test("l10n: not found, in each language, over Gemini and Gopher")
def _(c):
    for path, word in (("/ru/нет", "Не найдено"), ("/en/none", "Not found")):
        r = gem(c, path)
        check(r.status == "51" and r.meta.startswith(word + ": "),
              "%s: %s" % (path, r.describe()))
        raw = gop(c, path)
        check(raw.startswith(("3" + word + ": ").encode()),
              "%s over Gopher: %r" % (path, raw[:80]))
    # A request that does not parse, under /ru/: the 59 is Russian.
    r = harness.gemini(c.port, ("gemini://localhost:%d/ru/x#frag\r\n" %
                                c.port).encode())
    check(r.status == "59" and r.meta == "Неверный запрос",
          "59: %s" % r.describe())
    r = harness.gemini(c.port, ("gemini://elsewhere.example/ru/\r\n").encode())
    check(r.status == "53" and r.meta.startswith("Запрос отклонён"),
          "53: %s" % r.describe())


@test("l10n: Gopher refusals before the selector parses speak its folder's "
      "language")
def _(c):
    for sel, want in ((b"/ru/" + b"a" * 1300, "3Слишком длинная строка"),
                      (b"/en/" + b"a" * 1300, "3Request line too long"),
                      (b"/ru/\0x", "3Нулевой байт в селекторе"),
                      (b"/en/\0x", "3NUL byte in the selector")):
        raw = bytes(harness.gopher(c.gport, sel + b"\r\n"))
        check(raw.decode("utf-8", "replace").startswith(want),
              "%r: %r" % (sel[:12], raw[:80]))


@test("l10n: a folder listing under /ru/ is Russian in both protocols")
def _(c):
    r = gem(c, "/ru/notes/")
    body = r.body.decode("utf-8")
    check(r.status == "20" and "lang=ru" in r.meta, r.describe())
    check(body.startswith("# Содержимое папки /ru/notes/\n"),
          "heading %r" % body[:60])
    check("=> ../ Папка уровнем выше\n" in body, "no parent link: %r" % body)
    items = items_of(gop(c, "/ru/notes/"))
    check(("1", "Папка уровнем выше", "/ru/") in [i[:3] for i in items],
          "Gopher listing %r" % items)


@test("l10n: the Russian subscription page is Russian in both protocols")
def _(c):
    body = gem(c, "/ru/feed.gmi").body.decode("utf-8")
    for want in ("# Виктория: интервью из Казахстана — новые страницы\n",
                 "=> atom.xml Лента Atom (для программ чтения лент)\n",
                 "=> ./ Назад к оглавлению\n", "=> /en/feed.gmi English\n"):
        check(want in body, "%r not in %r" % (want, body[:400]))
    labels = [i[1] for i in items_of(gop(c, "/ru/feed.gmi"))]
    check("Лента Atom (для программ чтения лент)" in labels,
          "Gopher labels %r" % labels)


@test("l10n: text versions list full URLs, one variant per protocol")
def _(c):
    txt = RU_PAGE + ".txt"
    g = gop(c, txt).decode("utf-8")
    m = gem(c, txt).body.decode("utf-8")
    want_g = "gopher://localhost:%d/1/en/2026-11-28-confronting-abuses.gmi" % (
        c.gport)
    want_m = "gemini://localhost:%d/en/2026-11-28-confronting-abuses.gmi" % (
        c.port)
    check(want_g in g and "gemini://localhost" not in g,
          "Gopher text version: %r" % g[-300:])
    check(want_m in m and "gopher://" not in m,
          "Gemini text version: %r" % m[-300:])
    check("] https://swannet.org/" in g and "] https://swannet.org/" in m,
          "a link elsewhere keeps its own URL")


# ------------------------------------------------------------ charsets


@test("charset: the UTF-8 root menu links to each legacy listener")
def _(c):
    items = items_of(gop(c, "/"))
    for cs, label in (("ascii", "Old terminal? Plain ASCII version"),
                      ("koi8-r", "Old terminal? KOI8-R version"),
                      ("cp1251", "Old terminal? CP1251 version")):
        found = [i for i in items if i[1].startswith(label)]
        check(found and found[0][0] == "1" and found[0][4] == c.cs[cs][1],
              "%s: %r" % (cs, found or [i[1] for i in items]))


@test("charset=ascii: every reply is ASCII, Russian transliterated (GOST B)")
def _(c):
    for sel in ("/", "/ru/", RU_PAGE, RU_PAGE + ".txt", "/ru/feed.gmi",
                "/ru/notes/a.txt", "/ru/нет", "/caps.txt"):
        raw = gop(c, sel, "ascii")
        bad = [i for i, b in enumerate(raw) if b >= 0x80]
        check(raw and not bad, "%s: non-ASCII byte at %s: %r" % (
            sel, bad[:3], raw[bad[0] - 20:bad[0] + 10] if bad else raw[:60]))
    menu = gop(c, "/ru/", "ascii")
    items, problems = gl.parse_menu(menu)
    check(not problems, "menu: %s" % problems[:3])
    text = menu.decode("ascii")
    for want in ("Viktoriya: interv`yu iz Kazaxstana",
                 "Tekstovaya versiya stranicy`",
                 "Chast` 1. Protivostoyanie nasiliyu i proizvolu na rabote",
                 '"100 granej seks-raboty` v Kazaxstane"'):
        check(want in text, "%r not in the ASCII menu" % want)
    # Its menus keep the reader on this listener.
    port = c.cs["ascii"][1]
    ours = [i for i in items if i.type not in "ih"]
    check(ours and all(i.port == port for i in ours),
          "items leading elsewhere: %r" % [i for i in ours if i.port != port])
    check(gop(c, "/ru/нет", "ascii").startswith(b"3Ne najdeno: /ru/"),
          "error %r" % gop(c, "/ru/нет", "ascii")[:60])
    check(b"ServerDefaultEncoding=US-ASCII" in gop(c, "/caps.txt", "ascii"),
          "caps.txt does not say US-ASCII")
    note = gop(c, "/ru/notes/a.txt", "ascii")
    check(note == b'Zametka "v kavy`chkax" -- s tire...\n', "text %r" % note)


@test("charset=koi8-r and cp1251: Russian in the charset's own bytes")
def _(c):
    page = gop(c, "/ru/", "koi8-r").decode("koi8-r")
    check("Виктория: интервью из Казахстана" in page, page[:200])
    # KOI8-R has no guillemets: folded to ASCII quotes.
    check('"100 граней секс-работы в Казахстане"' in page, "no folded quotes")
    page = gop(c, "/ru/", "cp1251").decode("cp1251")
    check("«100 граней секс-работы в Казахстане»" in page,
          "CP1251 keeps guillemets: %r" % page[:300])
    for cs in ("koi8-r", "cp1251"):
        raw = gop(c, "/ru/notes/a.txt", cs)
        text = raw.decode(cs)
        check(text.startswith("Заметка "), "%s: %r" % (cs, raw))
        items, problems = gl.parse_menu(
            gop(c, RU_PAGE, cs).decode(cs).encode("utf-8"))
        check(not problems, "%s menu: %s" % (cs, problems[:3]))


def search(c, sel, words, cs=None):
    """A type-7 request: the words typed in the listener's charset."""
    host, port = c.cs[cs] if cs else ("127.0.0.1", c.gport)
    line = sel.encode() + b"\t" + words.encode(cs or "utf-8") + b"\r\n"
    return bytes(harness.gopher(port, line, host=host))


@test("charset: search results are menus in the listener's charset")
def _(c):
    raw = search(c, "/ru/search", "насилие", "koi8-r")
    text = raw.decode("koi8-r")
    check(text.startswith('iПоиск: "насилие"'), "KOI8-R: %r" % text[:80])
    check("\t%s\tlocalhost\t%d\r\n" % (RU_PAGE, c.cs["koi8-r"][1]) in text,
          "KOI8-R: no hit on this listener: %r" % text[:400])
    raw = search(c, "/ru/search", "насилие", "cp1251")
    text = raw.decode("cp1251")
    check(text.startswith("iПоиск: «насилие»") and RU_PAGE in text,
          "CP1251: %r" % text[:200])
    for cs in ("koi8-r", "cp1251"):
        items, problems = gl.parse_menu(
            search(c, "/ru/search", "полиция", cs).decode(cs).encode())
        check(not problems, "%s results menu: %s" % (cs, problems[:3]))
    # Asked for nothing: the type-3 line is in the charset too.
    raw = search(c, "/ru/search", "", "koi8-r")
    check(raw.decode("koi8-r").startswith("3Введите слова для поиска"),
          "KOI8-R empty query: %r" % raw[:60])


@test("charset=ascii: search results are ASCII, and 'nasilie' finds насилие")
def _(c):
    port = c.cs["ascii"][1]
    for words in ("nasilie", "Policejskie"):
        raw = search(c, "/ru/search", words, "ascii")
        bad = [i for i, b in enumerate(raw) if b >= 0x80]
        check(raw and not bad, "%s: non-ASCII byte in %r" % (words, raw[:80]))
        text = raw.decode("ascii")
        check(text.startswith('iPoisk: "%s"' % words), "%r" % text[:80])
        check("\t%s\tlocalhost\t%d\r\n" % (RU_PAGE, port) in text,
              "%s: no hit on this listener: %r" % (words, text))
        items, problems = gl.parse_menu(raw)
        check(not problems, "%s: %s" % (words, problems[:3]))
    text = search(c, "/ru/search", "nasilie", "ascii").decode("ascii")
    check(re.search(r"\*nasili[a-z`]*\*", text),
          "snippet marks the Russian word, transliterated: %r" % text)
    # On the UTF-8 listener a Latin word is only itself.
    raw = gop(c, "/ru/search\tnasilie").decode("utf-8")
    check("ничего не нашлось" in raw, "UTF-8 listener: %r" % raw[:200])


@test("charset: Atom over a legacy listener is ASCII XML with references")
def _(c):
    try:
        import feedparser
    except ImportError:
        harness.skip("python3-feedparser is not installed")
    utf8 = feedparser.parse(gop(c, "/ru/atom.xml"))
    for cs in CHARSETS:
        raw = gop(c, "/ru/atom.xml", cs)
        check(all(b < 0x80 for b in raw), "%s: not ASCII" % cs)
        p = subprocess.run(["xmllint", "--noout", "-"], input=raw,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10)
        check(p.returncode == 0, "%s: xmllint: %s" % (cs, p.stderr[:200]))
        d = feedparser.parse(raw)
        check(not d.bozo and d.feed.title == utf8.feed.title,
              "%s: title %r" % (cs, d.feed.get("title")))
        check([e.title for e in d.entries] == [e.title for e in utf8.entries],
              "%s: entries differ" % cs)
        port = c.cs[cs][1]
        check(all(re.match(r"gopher://localhost:%d/1/" % port, e.link)
                  for e in d.entries), "%s: links %r" % (
                      cs, [e.link for e in d.entries]))


if __name__ == "__main__":
    harness.run(setup)
