"""The capsule's feeds, fetched from the running server: Atom documents that
xmllint and a real feed reader (python3-feedparser) accept and that list the
interview, and Gemini subscription pages that follow the companion spec.

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


def dated_pages(lang):
    """(date, path, first heading) of every dated page on disk, newest first."""
    out = []
    for name in os.listdir(os.path.join(CAPSULE, lang)):
        m = DATED.match(name)
        if not m:
            continue
        with open(os.path.join(CAPSULE, lang, name), encoding="utf-8") as f:
            title = next(l[1:].strip().lstrip("#").strip() for l in f
                         if l.startswith("#"))
        out.append((m.group(1), "/%s/%s" % (lang, name), title))
    return sorted(out, reverse=True)


@contextlib.contextmanager
def setup():
    with harness.capsule_server("feeds") as c:
        yield c


def fetch(c, path):
    r = harness.gemini(c.port, harness.req(c.port, path))
    check(r.status == "20", "%s: %s" % (path, r.describe()))
    return r


def atom_checks(c, lang):
    r = fetch(c, "/%s/atom.xml" % lang)
    check(r.meta == "application/atom+xml", "meta %r" % r.meta)
    p = subprocess.run(["xmllint", "--noout", "-"], input=r.body,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    check(p.returncode == 0, "xmllint: %s" % p.stderr.decode()[:300])
    root = ET.fromstring(r.body)
    check(root.tag == ATOM + "feed", "root element %s" % root.tag)
    check(root.get(XML_LANG) == lang, "xml:lang %r" % root.get(XML_LANG))
    for need in ("title", "id", "updated", "author"):
        check(root.find(ATOM + need) is not None, "no <%s>" % need)
    want = dated_pages(lang)
    check(want, "no dated pages under capsule/%s/" % lang)
    entries = root.findall(ATOM + "entry")
    check(len(entries) == len(want), "%d entries, %d dated pages" % (
        len(entries), len(want)))
    base = "gemini://localhost:%d" % c.port
    for e, (date, path, title) in zip(entries, want):
        check(e.findtext(ATOM + "title") == title, "title %r, want %r" % (
            e.findtext(ATOM + "title"), title))
        check(e.find(ATOM + "link").get("href") == base + path,
              "link %r" % e.find(ATOM + "link").get("href"))
        check(e.findtext(ATOM + "updated") == date + "T00:00:00Z",
              "updated %r" % e.findtext(ATOM + "updated"))
        fetch(c, path)  # the entry's page is there
    return r.body


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
        body = fetch(c, "/%s/atom.xml" % lang).body
        d = feedparser.parse(body)
        check(not d.bozo, "%s: feedparser: %r" % (lang, d.get("bozo_exception")))
        check(d.version == "atom10", "%s: version %r" % (lang, d.version))
        check(d.feed.get("language") == lang or d.feed.get("title_detail", {})
              .get("language") == lang, "%s: language not seen" % lang)
        titles = [e.title for e in d.entries]
        want = [t for _, _, t in dated_pages(lang)]
        check(titles == want, "%s: entries %r, want %r" % (lang, titles, want))
        check(all(e.link.endswith(p) for e, (_, p, _) in
                  zip(d.entries, dated_pages(lang))), "%s: links" % lang)


@test("feeds: Gopher serves the same feed bytes as Gemini")
def _(c):
    for path in ("/en/atom.xml", "/ru/atom.xml"):
        g = harness.gopher(c.gport, (path + "\r\n").encode())
        check(bytes(g) == fetch(c, path).body, "%s differs" % path)


@test("feeds: subscription pages follow the companion spec")
def _(c):
    for lang in ("en", "ru"):
        r = fetch(c, "/%s/feed.gmi" % lang)
        check(r.meta.startswith("text/gemini") and "lang=%s" % lang in r.meta,
              "meta %r" % r.meta)
        lines = r.body.decode("utf-8").splitlines()
        check(lines and lines[0].startswith("# ") and len(lines[0]) > 2,
              "first line is not a title heading: %r" % lines[:1])
        links = [l for l in lines if l.startswith("=>")]
        want = dated_pages(lang)
        check(len(links) == len(want), "%d links, %d dated pages" % (
            len(links), len(want)))
        for l, (date, path, title) in zip(links, want):
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


if __name__ == "__main__":
    harness.run(setup)
