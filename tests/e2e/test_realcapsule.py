"""What real capsules hold, served over both protocols (issue 12): absolute
links to the capsule's own host, long Cyrillic names, wide preformatted
text, extensionless files typed in [types], CP1251 and KOI8-R text files,
CGI programs, language folders without dated pages, and memory after
reloads.

Run as `/usr/bin/python3 tests/e2e/test_realcapsule.py` with KAPSULA set.
Every tree is small and made here; every server is started here on
127.0.0.1 ports it binds itself (port 0), and only those PIDs are signalled.
"""

import collections
import os
import re
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gopherlib as gl  # noqa: E402
import harness as h  # noqa: E402
from harness import check, test  # noqa: E402
from harness import ConfServer  # noqa: E402

NAME = "real.test"
GOPHER_PORT = 7070  # what menus advertise; the listener binds port 0
RU = "Около двух лет назад девушек можно было увидеть на улице.\n" * 3
LONG = "Воспоминания_о_давно_минувших_днях_и_людях_" * 2  # 86 letters
WIDE = "| " + " | ".join("column %02d" % i for i in range(12)) + " |"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def real_tree(root):
    """A gemlog that links to itself by absolute URL, as real ones do."""
    write(os.path.join(root, "index.gmi"), """\
# Real
=> gemini://{n}/gemlog/ Gemlog
=> gemini://WWW.{n}:1965/books/ Books
=> gemini://{n}/code.gmi Code
=> gopher://{n}:{gp}/1/ru/ Russian, by a gopher:// link
=> gemini://elsewhere.test/ Someone else
""".format(n=NAME, gp=GOPHER_PORT))
    write(os.path.join(root, "gemlog", "index.gmi"), """\
# Gemlog
=> gemini://{n}/gemlog/2021-05-07 A post without extension
=> gemini://{n}/resume About me
=> gemini://{n}/ Home
""".format(n=NAME))
    write(os.path.join(root, "gemlog", "2021-05-07"),
          "# A post\n\nTyped text/gemini in [types].\n")
    write(os.path.join(root, "resume"), "# Résumé\n\nWritten in English.\n")
    write(os.path.join(root, "books", "index.gmi"), """\
# Books
=> {long}.txt The long one
=> cp1251.txt Old Windows text
=> koi8.txt Old Unix text
""".format(long=LONG))
    write(os.path.join(root, "books", LONG + ".txt"), "A long name.\n")
    write(os.path.join(root, "books", "cp1251.txt"), RU.encode("cp1251"))
    write(os.path.join(root, "books", "koi8.txt"), RU.encode("koi8_r"))
    write(os.path.join(root, "code.gmi"), """\
# Code
```a wide table
{wide}
narrow
```
After the table.
""".format(wide=WIDE))
    write(os.path.join(root, "ru", "index.gmi"), "# Русский\n\nБез дат.\n")
    # programs: never served
    write(os.path.join(root, "cgi-bin", "hello.sh"), "#!/bin/sh\necho hi\n")
    write(os.path.join(root, "cgi-bin", "app.conf"), "secret=/srv/x\n")
    write(os.path.join(root, "tools", "tool"), b"\x7fELF\x02\x01\x01\x00")
    write(os.path.join(root, "tools", "run.txt"), "#!/usr/bin/env python3\n")
    write(os.path.join(root, "tools", "notes"), "no extension, no type\n")
    plain = os.path.join(root, "tools", "exec.txt")
    write(plain, "copied from FAT: +x on everything\n")
    os.chmod(plain, 0o755)


def real_conf(base, root, extra=""):
    conf = os.path.join(base, "kapsula.conf")
    write(conf, """\
[server]
certs = {base}/certs
workers = 1
timeout = 5
{extra}

[capsule {n}]
aliases = www.{n}
root = {root}
gemini = 127.0.0.1:0
gopher = 127.0.0.1:0
public-port = 1965
gopher-port = {gp}

[types {n}]
/gemlog/* = text/gemini
/resume = text/gemini; lang=en
""".format(base=base, root=root, n=NAME, gp=GOPHER_PORT, extra=extra))
    return conf



class Ctx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kapsula-real-")
        self.root = os.path.join(self.tmp, "root")
        real_tree(self.root)
        self.conf = real_conf(self.tmp, self.root)
        wd = os.path.join(self.tmp, "srv")
        os.makedirs(wd)
        self.srv = ConfServer(self.conf, wd, 2).start()
        self.gem = self.srv.ports("gemini")[0]
        self.gop = self.srv.ports("gopher")[0]


def setup():
    class M:
        def __enter__(self):
            self.c = Ctx()
            return self.c

        def __exit__(self, *exc):
            self.c.srv.stop()
            shutil.rmtree(self.c.tmp, ignore_errors=True)
    return M()


def gem(c, path):
    """gemini://real.test/PATH as a reader behind the public port asks."""
    return h.gemini(c.gem, ("gemini://%s%s\r\n" % (NAME, path)).encode(),
                    sni=NAME)


def menu(c, sel):
    raw = gl.fetch(c.gop, sel.encode() if isinstance(sel, str) else sel)
    items, problems = gl.parse_menu(raw, check_width=False)
    check(not problems, "menu %r: %s" % (sel, problems[:3]))
    return items


def crawl(c):
    """Every selector reachable from the root menu, by item type."""
    seen = {"": "1"}
    queue = collections.deque([""])
    while queue and len(seen) < 200:
        for it in menu(c, queue.popleft()):
            if it.type in "i3" or it.selector in seen:
                continue
            if it.host != NAME or int(it.port) != GOPHER_PORT:
                continue
            seen[it.selector] = it.type
            if it.type == "1":
                queue.append(it.selector)
    return seen


@test("own-host gemini:// and gopher:// links are local: all of it reachable")
def _(c):
    seen = crawl(c)
    want = {"/gemlog/": "1", "/gemlog/2021-05-07": "1", "/resume": "1",
            "/books/": "1", "/code.gmi": "1", "/ru/": "1",
            "/books/cp1251.txt": "0", "/books/koi8.txt": "0"}
    for sel, t in want.items():
        check(seen.get(sel) == t, "%s: want type %s, crawl found %r (all: %s)"
              % (sel, t, seen.get(sel), sorted(seen)))
    items = menu(c, "/")
    ext = [i for i in items if i.display == "Someone else"]
    check(ext and ext[0].type == "h" and
          ext[0].selector == "URL:gemini://elsewhere.test/",
          "another host stays a URL: item: %r" % ext)
    # the plain-text view lists the same links, as this listener's URLs
    raw = gl.fetch(c.gop, b"/index.gmi.txt")
    base = ("gopher://%s:%d/1" % (NAME, GOPHER_PORT)).encode()
    check(b"] " + base + b"/gemlog/\n" in raw and
          b"] " + base + b"/ru/\n" in raw,
          "text view footnotes: %r" % raw[-300:])


@test("a long Cyrillic name has a selector past 255 bytes that works")
def _(c):
    seen = crawl(c)
    sel = [s for s in seen if s.startswith("/books/%D0%92")]
    check(sel, "no item for the long name: %s" % sorted(seen))
    check(len(sel[0]) > 255, "selector only %d bytes" % len(sel[0]))
    raw = gl.fetch(c.gop, sel[0].encode())
    check(raw == b"A long name.\n", "got %s" % gl.describe(raw))


@test("CP1251 and KOI8-R: charset in the META, UTF-8 over Gopher")
def _(c):
    for name, cs, codec in (("cp1251", "windows-1251", "cp1251"),
                            ("koi8", "koi8-r", "koi8_r")):
        r = gem(c, "/books/%s.txt" % name)
        check(r.status == "20", r.describe())
        mime, params = r.mime_params()
        check(mime == "text/plain" and params.get("charset") == cs,
              "%s: META %r" % (name, r.meta))
        check(r.body == RU.encode(codec), "%s: Gemini body changed" % name)
        raw = gl.fetch(c.gop, ("/books/%s.txt" % name).encode())
        check(raw == RU.encode(), "%s over Gopher: %r" % (name, raw[:60]))


@test("wide preformatted: whole to 80 columns, cut with a marker, full width")
def _(c):
    items = menu(c, "/code.gmi")
    cut = [i for i in items if i.type == "i" and i.display.startswith("| ")]
    check(cut, "no table line in %r" % items)
    check(cut[0].display == WIDE[:79] + "\u2026",
          "cut line %r (want 79 columns and a marker)" % cut[0].display)
    check(any(i.display == "narrow" for i in items), "narrow line lost")
    full = [i for i in items if i.display.startswith("Full width")]
    check(full and full[0].type == "0" and
          full[0].display == "Full width: a wide table",
          "no full-width item: %r" % items)
    raw = gl.fetch(c.gop, full[0].selector.encode())
    check(WIDE.encode() + b"\n" in raw, "text view cuts: %r" % raw[:200])


@test("[types]: extensionless gemtext is served typed, with its lang")
def _(c):
    r = gem(c, "/gemlog/2021-05-07")
    check(r.status == "20" and r.meta == "text/gemini; charset=utf-8",
          r.describe())
    r = gem(c, "/resume")
    check(r.meta == "text/gemini; charset=utf-8; lang=en", r.describe())
    r = gem(c, "/tools/notes")
    check(r.meta == "application/octet-stream", r.describe())
    items = menu(c, "/gemlog/2021-05-07")
    check(any(i.display == "Typed text/gemini in [types]." for i in items),
          "not rendered as a menu: %r" % items)


@test("programs are not served; one warning line; -n lists each")
def _(c):
    for p in ("/cgi-bin/hello.sh", "/cgi-bin/app.conf", "/cgi-bin/",
              "/tools/tool", "/tools/run.txt"):
        r = gem(c, p)
        check(r.status == "51", "%s: %s" % (p, r.describe()))
        raw = gl.fetch(c.gop, p.encode())
        check(gl.is_error(raw), "%s over Gopher: %s" % (p, gl.describe(raw)))
    r = gem(c, "/tools/exec.txt")
    check(r.status == "20", "the execute bit hid a text file: %s" %
          r.describe())
    err = c.srv.stderr().decode()
    lines = [ln for ln in err.splitlines() if "program" in ln]
    check(len(lines) == 1 and "3 programs not served" in lines[0],
          "want one line: %r" % lines)
    r = h.run_binary(["-n", "-c", c.conf], timeout=20)
    out = r.stderr.decode()
    check(r.returncode == 0, "-n: %d %s" % (r.returncode, out[-300:]))
    for p, why in (("cgi-bin", "a cgi-bin folder"), ("tools/tool", "a binary"),
                   ("tools/run.txt", "a script")):
        check("%s/%s: skipped: %s" % (c.root, p, why) in out,
              "-n does not list %s: %s" % (p, out))
    check("%s/tools/notes: no extension: served as application/octet-stream"
          % c.root in out, "-n does not name the untyped file: %s" % out)
    check("2021-05-07: no extension" not in out, "typed file named: " + out)


@test("a language folder without dated pages gets no empty feed")
def _(c):
    for p in ("/ru/atom.xml", "/ru/feed.gmi"):
        r = gem(c, p)
        check(r.status == "51", "%s: %s" % (p, r.describe()))


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def settled_pss(srv, nworkers):
    """Parent + workers' PSS once exactly nworkers workers run."""
    deadline = time.monotonic() + 30
    while len(children(srv.proc.pid)) != nworkers:
        check(time.monotonic() < deadline, "workers never settled: %r" %
              children(srv.proc.pid))
        time.sleep(0.05)
    time.sleep(0.3)
    pids = [srv.proc.pid] + children(srv.proc.pid)
    return sum(pss_kb(p) for p in pids)


@test("after 3 reloads of a 12 MB tree, memory is within 1.2x of a fresh start")
def _(c):
    base = os.path.join(c.tmp, "big")
    root = os.path.join(base, "root")
    para = ("Some words of a long page, rendered for Gopher at load time. "
            * 16 + "\n\n")
    body = "# Page\n\n" + para * 100  # about 100 KB
    for i in range(120):
        write(os.path.join(root, "p%02d" % (i % 12), "%d.gmi" % i), body)
    conf = os.path.join(base, "kapsula.conf")
    write(conf, """\
[server]
certs = {b}/certs
workers = 2

[capsule big.test]
root = {r}
gemini = 127.0.0.1:0
gopher = 127.0.0.1:0
""".format(b=base, r=root))
    wd = os.path.join(base, "srv")
    os.makedirs(wd)
    srv = ConfServer(conf, wd, 2).start()
    try:
        fresh = settled_pss(srv, 2)
        check(fresh > 12 * 1024, "fresh PSS %d kB: tree not loaded?" % fresh)
        for n in range(1, 4):
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while srv.stderr().count(b"reloaded") < n:
                check(srv.alive() and time.monotonic() < deadline,
                      "reload %d never finished: %s" % (n, srv.stderr_tail()))
                time.sleep(0.05)
        after = settled_pss(srv, 2)
        if os.environ.get("KAPSULA_TEST_VERBOSE"):
            print("   PSS fresh %d kB, after reloads %d kB" % (fresh, after),
                  file=sys.stderr)
        check(after <= 1.2 * fresh, "PSS %d kB after 3 reloads, %d kB fresh "
              "(%.2fx)" % (after, fresh, after / fresh))
    finally:
        srv.stop()


if __name__ == "__main__":
    h.run(setup)
