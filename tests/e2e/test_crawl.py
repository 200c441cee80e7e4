"""Crawl the real capsule/ over Gopher and Gemini: no broken items or links,
well-formed menus, per-language meta and en/ru twins that link each other.

Run from the repository root as `/usr/bin/python3 tests/e2e/test_crawl.py`.
"""

import contextlib
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (read-only use)
import gopherlib as gl  # noqa: E402
from harness import check, test  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CAPSULE = os.path.join(REPO, "capsule")
MAX_FETCHES = 500
TEXT_COLUMNS = 80  # type-0 text versions: readable in an 80-column terminal

# urljoin resolves relative references only for schemes it knows.
for _lst in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
    if "gemini" not in _lst:
        _lst.append("gemini")


@contextlib.contextmanager
def setup():
    with harness.capsule_server("crawl") as c:
        c.crawl = None
        yield c


# ------------------------------------------------------------ helpers


def gmi_files():
    """Capsule-relative paths of every .gmi file, sorted."""
    out = []
    for d, _, files in os.walk(CAPSULE):
        for f in files:
            if f.endswith(".gmi"):
                out.append(os.path.relpath(os.path.join(d, f), CAPSULE))
    return sorted(out)


def links_of(rel):
    """URLs of the => lines of capsule/rel (outside preformatted blocks)."""
    urls, pre = [], False
    with open(os.path.join(CAPSULE, rel), encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                pre = not pre
                continue
            if pre or not line.startswith("=>"):
                continue
            parts = line[2:].strip().split(None, 1)
            if parts:
                urls.append(parts[0])
    return urls


def page_path(rel):
    return "/" + rel.replace(os.sep, "/")


def resolve(rel, link, port):
    """Absolute URL of `link` on page capsule/rel, as the server sees it."""
    base = "gemini://localhost:%d%s" % (port, urllib.parse.quote(
        page_path(rel)))
    return urllib.parse.urljoin(base, link)


def is_local(url, port):
    u = urllib.parse.urlsplit(url)
    return (u.scheme == "gemini" and u.hostname == "localhost" and
            (u.port or 1965) == port)


# A word of every index page: what the crawl types into search prompts.
SEARCH_WORD = "2008"


def is_search(url):
    """The capsule's search pages: a prompt (10), then results."""
    path = urllib.parse.urlsplit(url).path
    return path in ("/search", "/en/search", "/ru/search")


def gemini_get(port, url):
    """Fetch url over Gemini, following at most one 31 on our own host;
    a search prompt (10) is answered with SEARCH_WORD."""
    r = harness.gemini(port, (url + "\r\n").encode())
    if r.status == "10" and is_search(url):
        url = url + "?" + SEARCH_WORD
        return harness.gemini(port, (url + "\r\n").encode()), url
    if r.status == "31":
        nxt = urllib.parse.urljoin(url, r.meta.strip())
        if not is_local(nxt, port):
            return r, nxt
        r2 = harness.gemini(port, (nxt + "\r\n").encode())
        return r2, nxt
    return r, url


def crawl(c):
    """BFS over every Gopher item on our host; cached in c.crawl."""
    if c.crawl is not None:
        return c.crawl
    res = {"fetched": {}, "menus": {}, "broken": [], "bad_lines": [],
           "published_3": [], "truncated": False}
    queue = [("1", "", "(start)")]
    seen = {("1", "")}
    while queue:
        if len(res["fetched"]) >= MAX_FETCHES:
            res["truncated"] = True
            break
        type_, sel, parent = queue.pop(0)
        # A search item (type 7) is asked a word every page has.
        raw = gl.fetch(c.gport, sel + ("\t" + SEARCH_WORD
                                       if type_ == "7" else ""))
        res["fetched"][(type_, sel)] = raw
        if not raw or gl.is_error(raw) or raw.timed_out:
            res["broken"].append("%s%s (from %s): %s" % (
                type_, sel, parent, gl.describe(raw, 100)))
            continue
        if type_ not in ("1", "7"):
            continue
        items, problems = gl.parse_menu(raw)
        res["menus"][sel] = items
        res["bad_lines"] += ["%r: %s" % (sel, p) for p in problems]
        for it in items:
            if it.type == "i":
                continue
            if it.type == "3":
                res["published_3"].append("%r in %r" % (it.display, sel))
                continue
            if it.host != "localhost" or it.port != c.gport:
                continue  # another server's item: not ours to fetch
            key = (it.type, it.selector)
            if key not in seen:
                seen.add(key)
                queue.append((it.type, it.selector, sel or "/"))
    c.crawl = res
    return res


# ------------------------------------------------------------ gopher crawl


@test("crawl gopher: every item the server publishes answers (no type 3)")
def t_no_broken(c):
    res = crawl(c)
    check(not res["truncated"], "more than %d items: crawl did not finish"
          % MAX_FETCHES)
    check(len(res["menus"]) >= 5, "only %d menus reached: %r" % (
        len(res["menus"]), sorted(res["menus"])))
    bad = res["broken"] + ["published type-3 item " + p
                           for p in res["published_3"]]
    check(not bad, "%d broken of %d fetched: %s" % (
        len(bad), len(res["fetched"]), "; ".join(bad[:4])))


@test("crawl gopher: every menu line well formed, display <= 67 columns")
def t_menus(c):
    res = crawl(c)
    check(res["menus"], "no menus crawled")
    bad = res["bad_lines"]
    check(not bad, "%d problems in %d menus: %s" % (
        len(bad), len(res["menus"]), "; ".join(bad[:4])))


@test("crawl gopher: interview pages and text versions reached")
def t_reached(c):
    res = crawl(c)
    sels = {s for _, s in res["fetched"]}
    for want in ("/en/", "/ru/", "/en/2026-11-28-confronting-abuses.gmi",
                 "/ru/2026-11-28-confronting-abuses.gmi",
                 "/en/2026-11-28-confronting-abuses.gmi.txt",
                 "/ru/2026-11-28-confronting-abuses.gmi.txt",
                 "/en/atom.xml", "/en/feed.gmi", "/ru/atom.xml",
                 "/ru/feed.gmi"):
        check(want in sels, "%s never published in a menu (crawled %d)" % (
            want, len(sels)))


@test("crawl gopher: text versions are UTF-8 within 80 columns, no dot line")
def t_text_versions(c):
    res = crawl(c)
    n, bad = 0, []
    for (type_, sel), raw in res["fetched"].items():
        if type_ != "0" or not sel.endswith(".gmi.txt"):
            continue
        n += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad.append("%s: not UTF-8: %s" % (sel, e))
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        for ln in lines:
            if gl.display_width(ln) > TEXT_COLUMNS:
                bad.append("%s: %d-column line %r" % (
                    sel, gl.display_width(ln), ln[:60]))
                break
        while lines and lines[-1] == "":
            lines.pop()
        if lines and lines[-1] == ".":
            bad.append("%s ends with a '.' line" % sel)
    check(n >= 4, "only %d text versions crawled" % n)
    check(not bad, "; ".join(bad[:4]))


# ------------------------------------------------------------ gemtext links


@test("crawl links: every gemtext link in capsule/ resolves over Gemini")
def t_gemini_links(c):
    files = gmi_files()
    check(files, "no .gmi files in capsule/")
    bad, n = [], 0
    for rel in files:
        for link in links_of(rel):
            url = resolve(rel, link, c.port)
            if not is_local(url, c.port):
                continue
            n += 1
            r, final = gemini_get(c.port, url)
            if r.status != "20":
                bad.append("%s -> %s: %s" % (rel, link, r.describe()))
    check(n >= 10, "only %d local links found" % n)
    check(not bad, "%d of %d links broken: %s" % (len(bad), n,
                                                  "; ".join(bad[:4])))


@test("crawl links: every gemtext link path is a working Gopher selector")
def t_gopher_links(c):
    bad, n = [], 0
    for rel in gmi_files():
        for link in links_of(rel):
            url = resolve(rel, link, c.port)
            if not is_local(url, c.port):
                continue
            n += 1
            sel = urllib.parse.urlsplit(url).path or "/"
            if is_search(url):
                sel += "\t" + SEARCH_WORD
            raw = gl.fetch(c.gport, sel)
            if not raw or gl.is_error(raw):
                bad.append("%s -> %s (selector %s): %s" % (
                    rel, link, sel, gl.describe(raw, 100)))
    check(n >= 10, "only %d local links found" % n)
    check(not bad, "%d of %d broken: %s" % (len(bad), n, "; ".join(bad[:4])))


# ------------------------------------------------------------ languages


def lang_pages(lang):
    """Gemini paths under /lang/: its .gmi files, the folder, the feed."""
    paths = {"/%s/" % lang, "/%s/feed.gmi" % lang}
    for rel in gmi_files():
        if rel.split(os.sep)[0] == lang:
            paths.add(page_path(rel))
    return sorted(paths)


def _check_lang(c, lang):
    bad = []
    pages = lang_pages(lang)
    for p in pages:
        r = harness.gemini(c.port, harness.req(c.port, urllib.parse.quote(p)))
        if r.status != "20":
            bad.append("%s: %s" % (p, r.describe()))
            continue
        mime, params = r.mime_params()
        if mime == "text/gemini" and params.get("lang") != lang:
            bad.append("%s: meta %r, want lang=%s" % (p, r.meta, lang))
    check(len(pages) >= 3, "only %d pages under /%s/" % (len(pages), lang))
    check(not bad, "; ".join(bad[:4]))


@test("crawl lang: every page under /en/ says lang=en")
def t_lang_en(c):
    _check_lang(c, "en")


@test("crawl lang: every page under /ru/ says lang=ru")
def t_lang_ru(c):
    _check_lang(c, "ru")


def _files(lang):
    base = os.path.join(CAPSULE, lang)
    out = set()
    for d, _, files in os.walk(base):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), base))
    return out


@test("crawl lang: every en/ file has a ru/ twin and back")
def t_twins(c):
    en, ru = _files("en"), _files("ru")
    check(en, "capsule/en/ is empty")
    check(en - ru == set(), "no ru/ twin for %s" % sorted(en - ru))
    check(ru - en == set(), "no en/ twin for %s" % sorted(ru - en))


@test("crawl lang: each en/ page links to its ru/ twin and back")
def t_twin_links(c):
    bad = []
    for a, b in (("en", "ru"), ("ru", "en")):
        for rel in sorted(_files(a)):
            if not rel.endswith(".gmi"):
                continue
            twin = "/%s/%s" % (b, rel.replace(os.sep, "/"))
            accept = {urllib.parse.quote(twin)}
            if os.path.basename(rel) == "index.gmi":
                accept.add(urllib.parse.quote(twin[:-len("index.gmi")]))
            targets = {urllib.parse.urlsplit(
                resolve(os.path.join(a, rel), link, c.port)).path
                for link in links_of(os.path.join(a, rel))}
            if not accept & targets:
                bad.append("%s/%s does not link to %s (links: %s)" % (
                    a, rel, twin, sorted(targets)))
    check(not bad, "; ".join(bad[:4]))


if __name__ == "__main__":
    os.chdir(REPO)
    harness.run(setup)
