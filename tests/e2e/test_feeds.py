"""The capsule's feeds, fetched from the running server: Atom documents that
xmllint and a real feed reader (python3-feedparser) accept and that list the
interview (over Gemini with gemini:// links, over Gopher with gopher://
ones), and subscription pages that follow the companion spec.

Run from the repository root as `/usr/bin/python3 tests/e2e/test_feeds.py`.
"""

import contextlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import check, skip, test  # noqa: E402

CAPSULE = harness.CAPSULE
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})-.*\.gmi$")


def heading(path):
    """The first heading of a gemtext file on disk."""
    with open(path, encoding="utf-8") as f:
        return next(l.lstrip("#").strip() for l in f if l.startswith("#"))


def first_paragraph(path):
    with open(path, encoding="utf-8") as f:
        return next(l.strip() for l in f
                    if l.strip() and l[0] not in "#=>*`")


def index_label(lang, name):
    """The label the language index gives its link to the page `name`."""
    with open(os.path.join(CAPSULE, lang, "index.gmi"),
              encoding="utf-8") as f:
        for l in f:
            m = re.match(r"^=>\s*(\S+)\s+(.*)$", l.rstrip("\n"))
            if m and m.group(1) == name:
                return m.group(2).strip()
    return None


def dated_pages(lang):
    """(date, path, title, summary) of every dated page on disk, newest
    first; the title stands alone: the index's heading, an em dash, the
    index's label for the page (else its heading)."""
    out = []
    feed_title = heading(os.path.join(CAPSULE, lang, "index.gmi"))
    for name in os.listdir(os.path.join(CAPSULE, lang)):
        m = DATED.match(name)
        if not m:
            continue
        page = os.path.join(CAPSULE, lang, name)
        part = index_label(lang, name) or heading(page)
        title = part if feed_title in part else "%s \u2014 %s" % (
            feed_title, part)
        out.append((m.group(1), "/%s/%s" % (lang, name), title,
                    first_paragraph(page)))
    return sorted(out, reverse=True)


@contextlib.contextmanager
def setup():
    with harness.capsule_server("feeds") as c:
        yield c


def fetch(c, path):
    r = harness.gemini(c.port, harness.req(c.port, path))
    check(r.status == "20", "%s: %s" % (path, r.describe()))
    return r


def gopher_atom(c, lang):
    return bytes(harness.gopher(c.gport, ("/%s/atom.xml\r\n" % lang).encode()))


def atom_checks(c, lang, body=None, base=None):
    """The Atom document of lang (Gemini's unless body is given), its
    links starting with base."""
    if body is None:
        r = fetch(c, "/%s/atom.xml" % lang)
        check(r.meta == "application/atom+xml", "meta %r" % r.meta)
        body = r.body
    p = subprocess.run(["xmllint", "--noout", "-"], input=body,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    check(p.returncode == 0, "xmllint: %s" % p.stderr.decode()[:300])
    root = ET.fromstring(body)
    check(root.tag == ATOM + "feed", "root element %s" % root.tag)
    check(root.get(XML_LANG) == lang, "xml:lang %r" % root.get(XML_LANG))
    for need in ("title", "id", "updated", "author"):
        check(root.find(ATOM + need) is not None, "no <%s>" % need)
    # No --author: the root index's first heading, never "localhost".
    author = root.find(ATOM + "author").findtext(ATOM + "name")
    want_author = heading(os.path.join(CAPSULE, "index.gmi"))
    check(author == want_author, "author %r, want %r" % (author, want_author))
    want = dated_pages(lang)
    check(want, "no dated pages under capsule/%s/" % lang)
    entries = root.findall(ATOM + "entry")
    check(len(entries) == len(want), "%d entries, %d dated pages" % (
        len(entries), len(want)))
    base = base or "gemini://localhost:%d" % c.port
    for e, (date, path, title, summary) in zip(entries, want):
        check(e.findtext(ATOM + "title") == title, "title %r, want %r" % (
            e.findtext(ATOM + "title"), title))
        check(e.findtext(ATOM + "summary") == summary,
              "summary %r, want %r" % (e.findtext(ATOM + "summary"), summary))
        check(e.find(ATOM + "link").get("href") == base + path,
              "link %r, want %r" % (e.find(ATOM + "link").get("href"),
                                    base + path))
        check(e.findtext(ATOM + "updated") == date + "T00:00:00Z",
              "updated %r" % e.findtext(ATOM + "updated"))
    for link in re.findall(rb'href="([^"]*)"', body):
        check(link.decode().startswith(base.split("/1", 1)[0]),
              "a link leads elsewhere: %r" % link)
    return body


@test("feeds: /en/atom.xml is valid Atom listing the interview")
def _(c):
    atom_checks(c, "en")


@test("feeds: /ru/atom.xml is valid Atom listing the interview")
def _(c):
    atom_checks(c, "ru")


@test("feeds: a feed reader (feedparser) lists the interview in both feeds")
def _(c):
    try:
        import feedparser
    except ImportError:
        skip("python3-feedparser is not installed")
    for lang in ("en", "ru"):
        for proto, body in (("gemini", fetch(c, "/%s/atom.xml" % lang).body),
                            ("gopher", gopher_atom(c, lang))):
            d = feedparser.parse(body)
            what = "%s over %s" % (lang, proto)
            check(not d.bozo, "%s: feedparser: %r" % (
                what, d.get("bozo_exception")))
            check(d.version == "atom10", "%s: version %r" % (what, d.version))
            check(d.feed.get("language") == lang or
                  d.feed.get("title_detail", {}).get("language") == lang,
                  "%s: language not seen" % what)
            titles = [e.title for e in d.entries]
            want = dated_pages(lang)
            check(titles == [w[2] for w in want], "%s: entries %r, want %r" %
                  (what, titles, [w[2] for w in want]))
            check([e.summary for e in d.entries] == [w[3] for w in want],
                  "%s: summaries" % what)
            check(all(e.link.startswith(proto + "://") and e.link.endswith(
                w[1]) for e, w in zip(d.entries, want)), "%s: links %r" % (
                    what, [e.link for e in d.entries]))
            check(d.feed.get("author") == heading(
                os.path.join(CAPSULE, "index.gmi")), "%s: author %r" % (
                    what, d.feed.get("author")))


@test("feeds: Gopher serves an Atom feed whose links are gopher:// ones")
def _(c):
    for lang in ("en", "ru"):
        body = atom_checks(c, lang, gopher_atom(c, lang),
                           "gopher://localhost:%d/1" % c.gport)
        check(b"gemini://" not in body, "%s: a gemini:// link" % lang)
        # Each entry's link is a menu this listener serves.
        for sel in re.findall(rb'href="gopher://[^/]*/1([^"]*)"', body):
            g = bytes(harness.gopher(c.gport, sel + b"\r\n"))
            check(g.endswith(b".\r\n") and not g.startswith(b"3"),
                  "%r: %r" % (sel, g[:80]))


@test("feeds: subscription pages follow the companion spec")
def _(c):
    for lang in ("en", "ru"):
        r = fetch(c, "/%s/feed.gmi" % lang)
        check(r.meta.startswith("text/gemini") and "lang=%s" % lang in r.meta,
              "meta %r" % r.meta)
        lines = r.body.decode("utf-8").splitlines()
        check(lines and lines[0].startswith("# ") and len(lines[0]) > 2,
              "first line is not a title heading: %r" % lines[:1])
        index = heading(os.path.join(CAPSULE, lang, "index.gmi"))
        check(lines[0][2:] != index and lines[0][2:].startswith(index),
              "title %r is not told apart from the index's %r" % (
                  lines[0], index))
        # A word on what the page is, in its language, before the entries.
        text = [l for l in lines[1:] if l and l[0] not in "#=*>`"]
        check(text, "no explanation")
        if lang == "ru":
            check(re.search("[а-я]", text[0]), "not Russian: %r" % text[0])
        links = [l for l in lines if re.match(r"^=>\s*\S+\s+\d{4}-", l)]
        want = dated_pages(lang)
        check(len(links) == len(want), "%d links, %d dated pages" % (
            len(links), len(want)))
        targets = re.findall(r"^=>\s*(\S+)", r.body.decode(), re.M)
        other = "ru" if lang == "en" else "en"
        for t in ("atom.xml", "./", "/%s/feed.gmi" % other):
            check(t in targets, "%s: no link to %s in %r" % (lang, t, targets))
        for l, (date, path, title, _) in zip(links, want):
            m = re.match(r"^=>\s*(\S+)\s+(\d{4}-\d{2}-\d{2})\s+(.*)$", l)
            check(m, "entry link %r has no date-first label" % l)
            check(m.group(2) == date and m.group(3) == title,
                  "label %r, want %s %s" % (l, date, title))
            fetch(c, m.group(1))


@test("feeds: each language home links to its feeds")
def _(c):
    for lang in ("en", "ru"):
        body = fetch(c, "/%s/" % lang).body.decode("utf-8")
        targets = re.findall(r"^=>\s*(\S+)", body, re.M)
        check("atom.xml" in targets and "feed.gmi" in targets,
              "%s home links %r" % (lang, targets))
        # Readers that cannot show Atom meet the subscription page first.
        check(targets.index("feed.gmi") < targets.index("atom.xml"),
              "%s: atom.xml before feed.gmi" % lang)


@test("feeds: over Gopher the subscription page is a menu, no 'Gemini' label")
def _(c):
    import gopherlib as gl
    for lang in ("en", "ru"):
        items, problems, raw = gl.fetch_menu(c.gport, "/%s/" % lang)
        check(not problems, "%s: %s" % (lang, problems[:2]))
        feed = [it for it in items if it.selector == "/%s/feed.gmi" % lang]
        atom = [it for it in items if it.selector == "/%s/atom.xml" % lang]
        check(feed and feed[0].type == "1", "%s: feed.gmi item %r" % (
            lang, feed))
        check(atom and atom[0].type == "0", "%s: atom.xml item %r" % (
            lang, atom))
        check("gemini" not in feed[0].display.lower(),
              "%s: label %r" % (lang, feed[0].display))
        items, problems, raw = gl.fetch_menu(c.gport, "/%s/feed.gmi" % lang)
        check(not problems and not gl.is_error(raw), "%s feed menu: %s %s" % (
            lang, problems[:2], gl.describe(raw)))
        check(any(it.selector.startswith("/%s/2" % lang) for it in items),
              "%s: no entry in the feed menu" % lang)


if __name__ == "__main__":
    harness.run(setup)
