#!/usr/bin/env python3
"""Search over Gemini and Gopher: prompts (10), results, no hits, refused
queries (59 / type 3), percent-encoded Cyrillic, type-7 items and result
menus within 67 columns, pages of results, a real file at a search path,
search = off, and a reload that rebuilds the index.

The bundled capsule is served as it is; a generated tree (25 Russian
pages) shows paging. Only servers these tests start are stopped.
"""

import os
import re
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gopherlib as gl  # noqa: E402
import harness as h  # noqa: E402
from harness import check, test  # noqa: E402

INTERVIEW = "2026-11-28-confronting-abuses.gmi"


def q(text):
    """A query as clients send it: percent-encoded UTF-8."""
    return urllib.parse.quote(text, safe="")


class Ctx:
    pass


def make_tree(root):
    """25 Russian pages sharing a word, an English page, and a real file
    at /en/search (it must win over the search page)."""
    os.makedirs(os.path.join(root, "ru"))
    os.makedirs(os.path.join(root, "en"))
    with open(os.path.join(root, "index.gmi"), "w") as f:
        f.write("# Root\n\n=> ru/ Russian\n=> en/ English\n")
    with open(os.path.join(root, "ru", "index.gmi"), "w") as f:
        f.write("# Русский\n\nСтраницы.\n")
    for i in range(25):
        with open(os.path.join(root, "ru", "p%02d.gmi" % i), "w") as f:
            f.write("# Страница %d\n\nПротив насилия, номер %d.\n" % (i, i))
    with open(os.path.join(root, "en", "index.gmi"), "w") as f:
        f.write("# English\n\nPages.\n")
    with open(os.path.join(root, "en", "search"), "w") as f:
        f.write("REAL SEARCH FILE\n")


def setup():
    class Setup:
        def __enter__(self):
            self.cap = h.capsule_server("search")
            c = self.cap.__enter__()
            c.tmp = tempfile.mkdtemp(prefix="kapsula-e2e-search-")
            c.gen_root = os.path.join(c.tmp, "gen")
            make_tree(c.gen_root)
            c.gen = h.Server(c.gen_root, os.path.join(c.tmp, "certs"),
                             listen=[("127.0.0.1", 0)],
                             gopher=[("127.0.0.1", 0)], timeout=5,
                             workdir=os.path.join(c.tmp, "gen-srv"))
            os.makedirs(c.gen.workdir)
            c.gen.start()
            c.gport2 = c.gen.gopher_listen[0][1]
            c.port2 = c.gen.listen[0][1]
            self.c = c
            return c

        def __exit__(self, *exc):
            self.c.gen.stop()
            shutil.rmtree(self.c.tmp, ignore_errors=True)
            return self.cap.__exit__(*exc)

    return Setup()


def get(port, path):
    return h.gemini(port, h.req(port, path))


def expect(r, status, why):
    check(r.status == status, "%s: want %s, got %s" % (why, status,
                                                       r.describe()))


def body(r):
    return r.body.decode("utf-8")


def links(text):
    """[(url, label)] of the gemtext's link lines."""
    out = []
    for ln in text.split("\n"):
        m = re.match(r"^=>\s*(\S+)(?:\s+(.*))?$", ln)
        if m:
            out.append((m.group(1), m.group(2) or ""))
    return out


def heading(path):
    with open(path, encoding="utf-8") as f:
        for ln in f:
            if ln.startswith("# "):
                return ln[2:].strip()
    return ""


# ------------------------------------------------------------ Gemini


@test("gemini search: 10 prompts in the folder's language")
def _(c):
    for path, meta in (("/search", "Search this capsule / Поиск по капсуле"),
                       ("/en/search", "Search this capsule"),
                       ("/ru/search", "Поиск по капсуле"),
                       ("/ru/search/2", "Поиск по капсуле"),
                       ("/ru/search?", "Поиск по капсуле")):
        r = get(c.port, path)
        expect(r, "10", path)
        check(r.meta == meta, "%s: meta %r" % (path, r.meta))
        check(r.close_notify, "%s: no close_notify" % path)


@test("gemini search: a percent-encoded Cyrillic query finds the Russian "
      "interview")
def _(c):
    r = get(c.port, "/ru/search?" + q("насилие"))
    expect(r, "20", "насилие")
    check(r.meta == "text/gemini; charset=utf-8; lang=ru", r.meta)
    text = body(r)
    check(text.startswith("# Поиск: «насилие»\n"), text[:80])
    ls = links(text)
    title = heading(os.path.join(h.CAPSULE, "ru", INTERVIEW))
    check(ls and ls[0] == ("/ru/" + INTERVIEW, title),
          "first hit %r, want the interview %r" % (ls[:1], title))
    lines = text.split("\n")
    i = lines.index("=> /ru/%s %s" % (INTERVIEW, title))
    check(lines[i + 1].startswith("> ") and "*насили" in lines[i + 1],
          "no snippet with the starred word: %r" % lines[i + 1])
    check(all(u.startswith("/ru/") for u, _ in ls), "a hit outside /ru/: %r"
          % ls)
    check(re.search(r"^Найден[ао] ", text, re.M), "no count line: %r" % text)


@test("gemini search: stems and hyphens (полицейских, clients, "
      "работница)")
def _(c):
    for path, want in (("/ru/search?" + q("полицейских"), "/ru/" + INTERVIEW),
                       ("/en/search?client", "/en/" + INTERVIEW),
                       ("/en/search?Clients", "/en/" + INTERVIEW),
                       ("/ru/search?" + q("работница"), "/ru/" + INTERVIEW),
                       ("/ru/search?" + q("секс-работница"),
                        "/ru/" + INTERVIEW)):
        r = get(c.port, path)
        expect(r, "20", path)
        urls = [u for u, _ in links(body(r))]
        check(want in urls, "%s: %s not among %r" % (path, want, urls))


@test("gemini search: /search finds every language, /en/search English "
      "only")
def _(c):
    r = get(c.port, "/search?" + q("насилие"))
    expect(r, "20", "/search")
    check(r.meta == "text/gemini; charset=utf-8; lang=en,ru", r.meta)
    urls = [u for u, _ in links(body(r))]
    check("/ru/" + INTERVIEW in urls and "/ru/" in urls, urls)
    # The landing page has no language: its words are not stemmed.
    check("/" not in urls, "the landing page matched a stem: %r" % urls)
    r = get(c.port, "/search?" + q("насилию"))
    check("/" in [u for u, _ in links(body(r))], body(r))
    r = get(c.port, "/en/search?" + q("насилие"))
    expect(r, "20", "/en/search")
    check("Nothing in this capsule matches “насилие”" in body(r), body(r))


@test("gemini search: no hit is a friendly page with a link to the index")
def _(c):
    for path, line, back in (
            ("/en/search?zqxjk", "Nothing in this capsule matches",
             "/en/"),
            ("/ru/search?zqxjk", "В капсуле ничего не нашлось", "/ru/"),
            ("/search?zqxjk", "Nothing in this capsule matches", "/")):
        r = get(c.port, path)
        expect(r, "20", path)
        text = body(r)
        check(line in text, "%s: %r" % (path, text))
        check(back in [u for u, _ in links(text)], "%s: no link to %s: %r"
              % (path, back, text))


@test("gemini search: 59 for queries over 256 bytes or 16 words, bad "
      "UTF-8 and bad percent-encoding")
def _(c):
    ok = get(c.port, "/en/search?" + "a" * 256)
    expect(ok, "20", "256 bytes")
    ok = get(c.port, "/en/search?" + "%20".join(["police"] * 16))
    expect(ok, "20", "16 words")
    for path, word in (("/en/search?" + "a" * 257, "256"),
                       # 129 Cyrillic letters: 258 bytes once decoded
                       ("/ru/search?" + q("а" * 129), "256"),
                       ("/en/search?" + "%20".join(["police"] * 17), "16"),
                       ("/ru/search?" + "+".join(["x"] * 17), "16"),
                       ("/en/search?%FF%FE", "UTF-8")):
        r = get(c.port, path)
        expect(r, "59", path[:60])
        check(word in r.meta, "%s: reason %r" % (path[:40], r.meta))
    r = get(c.port, "/ru/search?" + "a" * 300)
    check("256 байт" in r.meta, r.meta)
    # A '%' without two hex digits: refused with the reason, not searched.
    for path, word in (("/en/search?%zz", "percent-encoding"),
                       ("/en/search?a%4", "percent-encoding"),
                       ("/ru/search?%", "процентное кодирование")):
        r = get(c.port, path)
        expect(r, "59", path)
        check(word in r.meta, "%s: reason %r" % (path, r.meta))
    raw = gl.fetch(c.gport, b"/en/search?%zz")
    check(gl.is_error(raw) and b"percent-encoding" in raw, gl.describe(raw))


# ------------------------------------------------------------ Gopher


def sevens(port, sel):
    items, problems, raw = gl.fetch_menu(port, sel)
    check(not problems, "%s: %s" % (sel, problems[:3]))
    return [it for it in items if it.type == "7"]


@test("gopher search: one type-7 item in the root and each language menu")
def _(c):
    for sel, want in (("/", "/search"), ("/en/", "/en/search"),
                      ("/ru/", "/ru/search")):
        got = sevens(c.gport, sel)
        check(len(got) == 1, "%s: %d type-7 items: %r" % (sel, len(got),
                                                         got))
        check(got[0].selector == want and got[0].host == "localhost" and
              got[0].port == c.gport, "%s: %r" % (sel, got[0]))
    check(sevens(c.gport, "/ru/")[0].display == "Поиск по капсуле",
          "the label is the gemtext link's")
    # A menu whose text does not link to search still offers it.
    got = sevens(c.gport2, "/ru/")
    check(len(got) == 1 and got[0].display == "Поиск" and
          got[0].selector == "/ru/search", "generated tree: %r" % got)
    check(not sevens(c.gport, "/ru/" + INTERVIEW), "an item on a page")


@test("gopher search: words after a tab get a menu of hits within 67 "
      "columns")
def _(c):
    raw = gl.fetch(c.gport, "/ru/search\t" + "насилие")
    items, problems = gl.parse_menu(raw)
    check(not problems, "%s" % problems[:3])
    hits = [it for it in items if it.type == "1"]
    check(hits and hits[0].selector == "/ru/" + INTERVIEW,
          "first item %r" % hits[:1])
    infos = [it.display for it in items if it.type == "i"]
    check(any("*насили" in d for d in infos), "no starred snippet: %r"
          % infos[:8])
    check(any(d.startswith("> ") for d in infos), "no quoted snippet")
    check(infos[0] == "Поиск: «насилие»", infos[:2])
    width = max(gl.display_width(d) for d in infos)
    check(width <= 67, "a %d-column line" % width)
    check(raw.endswith(b".\r\n"), "no final dot")


@test("gopher search: no words get type 3 asking for them; long ones "
      "a reason")
def _(c):
    for req, want in ((b"/ru/search\t", "Введите слова"),
                      (b"/en/search", "Type the words"),
                      (b"/search\t , ", "Type the words")):
        raw = gl.fetch(c.gport, req)
        check(raw.startswith(b"3") and want in raw.decode(),
              "%r: %s" % (req, gl.describe(raw)))
    raw = gl.fetch(c.gport, b"/en/search\t" + b"a" * 257)
    check(raw.startswith(b"3") and b"256" in raw, gl.describe(raw))
    raw = gl.fetch(c.gport, b"/en/search\t" + b" ".join([b"w"] * 17))
    check(raw.startswith(b"3") and b"16" in raw, gl.describe(raw))
    raw = gl.fetch(c.gport, b"/en/search\tbad \xff")
    check(raw.startswith(b"3") and b"UTF-8" in raw, gl.describe(raw))


@test("gopher search: a refusal in two languages keeps both, each line "
      "within 67 columns")
def _(c):
    raw = gl.fetch(c.gport, b"/search\t" + b"a" * 257)
    items, problems = gl.parse_menu(raw)
    check(not problems, "%s: %s" % (problems[:3], gl.describe(raw)))
    texts = [it.display for it in items]
    check(all(it.type == "3" for it in items) and len(items) >= 2,
          "want type-3 lines only: %r" % texts)
    check(any("256 bytes" in t for t in texts) and
          any("256 байт" in t for t in texts),
          "a language was lost: %r" % texts)
    width = max(gl.display_width(t) for t in texts)
    check(width <= 67, "a %d-column line: %r" % (width, texts))


# ------------------------------------------------------------ pages


@test("search pages: 20 hits, a link to the next page, then the rest")
def _(c):
    word = q("насилие")
    r = get(c.port2, "/ru/search?" + word)
    expect(r, "20", "page 1")
    ls = links(body(r))
    hits = [u for u, _ in ls if u.startswith("/ru/p")]
    check(len(hits) == 20, "%d hits on page 1" % len(hits))
    check("Найдено страниц: 25. Здесь 1–20." in body(r), body(r)[-200:])
    nxt = [u for u, _ in ls if "/search/" in u]
    check(nxt == ["/ru/search/2?" + word], "next link %r" % nxt)
    r = get(c.port2, nxt[0])
    expect(r, "20", "page 2")
    hits2 = [u for u, _ in links(body(r)) if u.startswith("/ru/p")]
    check(len(hits2) == 5 and not set(hits) & set(hits2),
          "page 2: %r" % hits2)
    check("/search/" not in body(r), "a next link on the last page")
    # Gopher: the next page is a type-1 item carrying the query.
    items, problems = gl.parse_menu(gl.fetch(c.gport2, "/ru/search\t"
                                             "насилие"))
    check(not problems, problems[:3])
    nxt = [it for it in items if it.type == "1" and "/search/" in
           it.selector]
    check(len(nxt) == 1 and nxt[0].selector == "/ru/search/2?" + word,
          "gopher next item %r" % nxt)
    items, problems = gl.parse_menu(gl.fetch(c.gport2, nxt[0].selector))
    check(not problems, problems[:3])
    check(len([it for it in items if it.type == "1"]) == 5,
          "gopher page 2: %r" % items)


@test("search: a real file at a search path wins, in both protocols")
def _(c):
    r = get(c.port2, "/en/search")
    expect(r, "20", "/en/search")
    check(r.body == b"REAL SEARCH FILE\n", r.body[:60])
    raw = gl.fetch(c.gport2, "/en/search")
    check(raw == b"REAL SEARCH FILE\n", gl.describe(raw))
    check(not sevens(c.gport2, "/en/"), "a type-7 item for a real file")


@test("search: the start-up lines give the index's size")
def _(c):
    err = c.gen.stderr().decode("utf-8", "replace")
    m = re.search(r"search index: (\d+) pages, (\d+) terms, (\d+) KiB for "
                  r"(\d+) KiB of text", err)
    check(m and int(m.group(1)) == 28, "no index line: %s" %
          c.gen.stderr_tail())


@test("search: a reload rebuilds the index")
def _(c):
    with open(os.path.join(c.gen_root, "ru", "new.gmi"), "w") as f:
        f.write("# Новая\n\nЗанзибар далеко.\n")
    before = len(c.gen.stderr())
    r = get(c.port2, "/ru/search?" + q("занзибар"))
    check("ничего не нашлось" in body(r), "found before the reload")
    c.gen.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while b"reloaded" not in c.gen.stderr()[before:]:
        check(time.monotonic() < deadline, "no reload: %s" %
              c.gen.stderr_tail())
        time.sleep(0.05)
    deadline = time.monotonic() + 10
    while True:  # old workers drain; ask until a new one answers
        r = get(c.port2, "/ru/search?" + q("занзибар"))
        if "/ru/new.gmi" in [u for u, _ in links(body(r))]:
            break
        check(time.monotonic() < deadline, "not found after the reload: "
              "%s" % body(r)[:200])
        time.sleep(0.1)


@test("search = off: no search pages, no type-7 items, -n refuses a bad "
      "value")
def _(c):
    conf = os.path.join(c.tmp, "off.conf")
    with open(conf, "w") as f:
        f.write("[server]\ncerts = %s\n\n[capsule localhost]\nroot = %s\n"
                "gemini = 127.0.0.1:0\ngopher = 127.0.0.1:0\nsearch = off\n"
                % (os.path.join(c.tmp, "certs"), c.gen_root))
    srv = h.Server("-", "-", [("127.0.0.1", 0)], gopher=[("127.0.0.1", 0)],
                   workdir=os.path.join(c.tmp, "off-srv"))
    srv.argv = [h.KAPSULA, "-c", conf]
    os.makedirs(srv.workdir)
    srv.start()
    try:
        port, gport = srv.listen[0][1], srv.gopher_listen[0][1]
        expect(get(port, "/search"), "51", "/search")
        expect(get(port, "/ru/search?x"), "51", "/ru/search")
        check(not sevens(gport, "/") and not sevens(gport, "/ru/"),
              "a type-7 item with search off")
        check(b"search off" in srv.stderr(), srv.stderr_tail())
    finally:
        srv.stop()
    with open(conf, "a") as f:
        f.write("search = maybe\n")
    p = h.run_binary(["-n", "-c", conf])
    err = p.stderr.decode()
    check(p.returncode == 1 and re.search(r"off\.conf:9: search is set "
                                          r"twice", err), err)
    with open(conf, "w") as f:
        f.write("[capsule localhost]\nroot = %s\nsearch = maybe\n"
                % c.gen_root)
    p = h.run_binary(["-n", "-c", conf])
    err = p.stderr.decode()
    check(p.returncode == 1 and re.search(r"off\.conf:3: search: maybe is "
                                          r"not on or off", err), err)


if __name__ == "__main__":
    h.run(setup)
