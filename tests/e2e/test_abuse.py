"""The abuse policy and slow clients: the rate and the per-address cap
across workers, deny, PROXY listeners, a request line past its limit, idle
floods, stalled readers, and no descriptor left behind.

Run as `/usr/bin/python3 tests/e2e/test_abuse.py` with KAPSULA set. One
line per test: PASS / FAIL / SKIP. Every server is started here on ports
it binds itself; clients use distinct loopback source addresses
(127.0.0.2, 127.0.0.3) to be distinct clients. Only the PIDs started here
are signalled. Timeouts are short so that the whole file runs in well
under a minute.
"""

import os
import re
import resource
import selectors
import shutil
import signal
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import check, test  # noqa: E402
from harness import connect_from as conn  # noqa: E402
from harness import poll, recv_all  # noqa: E402

HOST = "127.0.0.1"


class Ctx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kapsula-abuse-")
        self.srv = None
        self.n = 0


def setup():
    class M:
        def __enter__(self):
            # The idle floods below need a few thousand descriptors here.
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            want = 5000 if hard == resource.RLIM_INFINITY else min(hard,
                                                                   5000)
            if soft < want:
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            self.c = Ctx()
            return self.c

        def __exit__(self, *exc):
            shutil.rmtree(self.c.tmp, ignore_errors=True)
    return M()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def tree(c):
    c.n += 1
    base = os.path.join(c.tmp, "t%d" % c.n)
    root = os.path.join(base, "root")
    write(os.path.join(root, "index.gmi"), b"# Abuse tree\n\nHello.\n")
    write(os.path.join(root, "page.gmi"), b"# Page\n\nA page.\n")
    return base, root


def serve(c, extra, gemini=True, gopher=True, timeout=5, root=None):
    base, r = tree(c)
    os.makedirs(os.path.join(base, "srv"), exist_ok=True)
    srv = h.Server(root or r, os.path.join(base, "certs"),
                   [(HOST, 0)] if gemini else [],
                   [(HOST, 0)] if gopher else [], timeout=timeout,
                   extra=["--log-ip=full"] + list(extra),
                   workdir=os.path.join(base, "srv"))
    return srv.start()





def gem(port, path="/", src=HOST, header=b"", timeout=5):
    """One Gemini request from src (after an optional PROXY header):
    (status line, body), or (None, why) when the server refused."""
    s = conn(port, src, timeout)
    try:
        if header:
            s.sendall(header)
        ss = h.client_context().wrap_socket(s, server_hostname="localhost")
        ss.sendall(h.req(port, path))
        data = recv_all(ss, timeout)
    except (OSError, ssl.SSLError) as e:
        return None, str(e)
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n")
    return head.decode("utf-8", "replace"), body


def gph(port, sel, src=HOST, header=b"", timeout=5):
    s = conn(port, src, timeout)
    try:
        s.sendall(header + sel + b"\r\n")
        return recv_all(s, timeout)
    except OSError:
        return None
    finally:
        s.close()


def log(srv):
    return srv.stdout().decode("utf-8", "replace").splitlines()


def workers(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def fds(pids):
    """What the workers hold open: "socket:[...]", paths, pipes."""
    out = []
    for p in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % p):
                try:
                    out.append(os.readlink("/proc/%d/fd/%s" % (p, fd)))
                except OSError:
                    pass
        except OSError:
            pass
    return sorted(out)


def nfds(pids):
    return len(fds(pids))


def settled_fds(srv):
    """The workers' descriptors once they are serving: the server takes
    connections in the kernel before its workers have made their event
    loops (an epoll descriptor, a signal socket pair)."""
    pids = poll(lambda: workers(srv.proc.pid), 5)
    for _ in range(4):
        gph(srv.gopher_listen[0][1], b"/")
    last = None
    for _ in range(50):
        now = fds(pids)
        if now == last:
            return now
        last = now
        time.sleep(0.1)
    return last


def leaked(srv, before):
    """None when the workers hold no more than before, else what."""
    now = fds(workers(srv.proc.pid))
    if len(now) <= len(before):
        return None
    extra = list(now)
    for f in before:
        if f in extra:
            extra.remove(f)
    return "%d descriptors before, %d after: %r" % (len(before), len(now),
                                                   extra[:6])


def v1(src, dst, sport, dport):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (src, dst, sport, dport)).encode()


def v2(src, dst, sport, dport, local=False):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if local:
        return sig + b"\x20\x00\x00\x00"
    addrs = (socket.inet_aton(src) + socket.inet_aton(dst) +
             struct.pack("!HH", sport, dport))
    return sig + b"\x21\x11" + struct.pack("!H", len(addrs)) + addrs


def v2_mapped(src, sport, dport):
    """v2 TCP over IPv6 from ::ffff:src to ::1."""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    addrs = (b"\0" * 10 + b"\xff\xff" + socket.inet_aton(src) +
             socket.inet_pton(socket.AF_INET6, "::1") +
             struct.pack("!HH", sport, dport))
    return sig + b"\x21\x21" + struct.pack("!H", len(addrs)) + addrs


# ---------------------------------------------------------------- rate


@test("rate 3/60s across 2 workers: the 4th request gets 44, both protocols")
def _(c):
    srv = serve(c, ["--rate", "3/60s", "--rate-exempt", "none",
                    "--workers", "2"])
    try:
        port, gport = srv.port, srv.gopher_listen[0][1]
        # The kernel spreads these over both workers: one budget still.
        got = [gem(port, "/page.gmi", src="127.0.0.2")[0] for _ in range(3)]
        check(got == ["20 text/gemini; charset=utf-8"] * 3 or
              all(g and g.startswith("20 ") for g in got),
              "first three: %r" % got)
        st, _ = gem(port, "/page.gmi", src="127.0.0.2")
        m = re.match(r"^44 (\d+)$", st or "")
        check(m and 1 <= int(m.group(1)) <= 20,
              "4th request: %r, want '44 <seconds>' (at most 20)" % st)
        # Gopher spends the same budget: a type-3 line with the wait.
        r = gph(gport, b"/page.gmi", src="127.0.0.2")
        check(r is not None and re.match(
            rb"^3Too many requests: retry in \d+ seconds?\t", r),
            "Gopher over the rate: %r" % (r[:80] if r else r))
        # Another address has its own budget.
        st, _ = gem(port, "/", src="127.0.0.3")
        check(st and st.startswith("20 "), "127.0.0.3: %r" % st)
        check(poll(lambda: sum(" 127.0.0.2 localhost gemini 44 " in ln
                               for ln in log(srv)) == 1, 3),
              "no access-log line with 44: %r" % log(srv)[-3:])
        # Throttled lines name what they asked for, not "-".
        check(poll(lambda: any(" 127.0.0.2 localhost gemini 44 " in ln and
                               ln.endswith(" /page.gmi") for ln in log(srv))
                   and any(" 127.0.0.2 localhost gopher 44 " in ln and
                           ln.endswith(" /page.gmi") for ln in log(srv)), 3),
              "44 lines without the path: %r" % [
                  ln for ln in log(srv) if " 44 " in ln])
    finally:
        srv.stop()


# ---------------------------------------------------------------- the cap


@test("max-conns-per-ip 4: the 5th closed at accept, logged once; "
      "a killed worker's counts are given back")
def _(c):
    srv = serve(c, ["--max-conns-per-ip", "4", "--rate-exempt", "none",
                    "--workers", "2"], timeout=30)
    idle = []
    try:
        gport = srv.gopher_listen[0][1]
        for _ in range(4):
            idle.append(conn(gport, "127.0.0.2"))
        time.sleep(0.3)
        for _ in range(6):
            s = conn(gport, "127.0.0.2")
            s.sendall(b"/page.gmi\r\n")
            t0 = time.monotonic()
            r = recv_all(s, 3)
            took = time.monotonic() - t0
            s.close()
            check(r == b"" and took < 1, "over the cap: got %r after "
                  "%.2f s, want a close at accept" % (r[:60], took))
        r = gph(gport, b"/page.gmi", src="127.0.0.3")
        check(r and r.endswith(b".\r\n"), "127.0.0.3 refused: %r" % r)
        lines = [ln for ln in srv.stderr().decode().splitlines()
                 if "max-conns-per-ip" in ln]
        check(len(lines) == 1 and "127.0.0.2" in lines[0],
              "cap lines on stderr: %r" % lines)
        idle.pop().close()
        check(poll(lambda: (gph(gport, b"/page.gmi", src="127.0.0.2") or
                            b"").endswith(b".\r\n"), 3),
              "not served again after one idle connection closed")
        # Kill both workers with the 3 idle connections open: the parent
        # must take their counts off, or 127.0.0.2 stays locked out.
        pids = workers(srv.proc.pid)
        for p in pids:
            os.kill(p, signal.SIGKILL)
        check(poll(lambda: len(workers(srv.proc.pid)) == 2 and
                   not set(workers(srv.proc.pid)) & set(pids), 5),
              "workers not replaced: %r" % workers(srv.proc.pid))
        for s in idle:
            s.close()
        idle = []
        more = [conn(gport, "127.0.0.2") for _ in range(3)]
        idle = more
        time.sleep(0.2)
        r = gph(gport, b"/page.gmi", src="127.0.0.2")
        check(r and r.endswith(b".\r\n"), "after the killed workers, a "
              "4th connection of 127.0.0.2 was refused: %r" % r)
    finally:
        for s in idle:
            s.close()
        srv.stop()


@test("deny: a denied network is closed at accept, others served")
def _(c):
    srv = serve(c, ["--deny", "127.0.0.2/32, 10.0.0.0/8"])
    try:
        port, gport = srv.port, srv.gopher_listen[0][1]
        check(gph(gport, b"/", src="127.0.0.2") in (b"", None),
              "denied Gopher client got a reply")
        st, _ = gem(port, "/", src="127.0.0.2")
        check(st is None or st == "", "denied Gemini client got %r" % st)
        st, _ = gem(port, "/", src="127.0.0.3")
        check(st and st.startswith("20 "), "127.0.0.3: %r" % st)
    finally:
        srv.stop()


# ---------------------------------------------------------------- lines


@test("a request line past its limit gets 59 / type 3 at once, no CR")
def _(c):
    srv = serve(c, [], timeout=10)
    try:
        port, gport = srv.port, srv.gopher_listen[0][1]
        s = conn(port)
        ss = h.client_context().wrap_socket(s, server_hostname="localhost")
        t0 = time.monotonic()
        ss.sendall(b"gemini://localhost/" + b"x" * 1006)  # 1025, no CR
        r = recv_all(ss, 5)
        took = time.monotonic() - t0
        ss.close()
        check(r.startswith(b"59 ") and took < 2,
              "Gemini: %r after %.2f s" % (r[:60], took))
        s = conn(gport)
        t0 = time.monotonic()
        s.sendall(b"/" + b"x" * 1400)  # past 1,024 + a search + 2
        r = recv_all(s, 5)
        took = time.monotonic() - t0
        s.close()
        check(r.startswith(b"3Request line too long") and took < 2,
              "Gopher: %r after %.2f s" % (r[:60], took))
        # Exactly 1024 bytes then CRLF is still a request (51, not 59).
        st, _ = gem(port, "/" + "y" * (1024 - len(h.req(port, "/")) + 2))
        check(st and st.startswith("51 "), "1024-byte request: %r" % st)
    finally:
        srv.stop()


# ---------------------------------------------------------------- PROXY


@test("proxy listeners: v1 and v2 addresses logged and counted, "
      "LOCAL silent, no header refused")
def _(c):
    base, root = tree(c)
    os.makedirs(os.path.join(base, "srv"), exist_ok=True)
    srv = h.Server(root, os.path.join(base, "certs"), [], [], timeout=2,
                   extra=["--log-ip=full", "--rate", "2/60s",
                          "--rate-exempt", "none",
                          "--gemini", "127.0.0.1:0 proxy",
                          "--gopher", "127.0.0.1:0 proxy"],
                   workdir=os.path.join(base, "srv"))
    srv.start()
    try:
        check(poll(lambda: len(srv.bound_ports()) == 2, 5),
              "no listener lines: %s" % srv.stderr_tail())
        ports = srv.bound_ports()
        port = [p for pr, _, p in ports if pr == "gemini"][0]
        gport = [p for pr, _, p in ports if pr == "gopher"][0]
        st, body = gem(port, "/", header=v1("192.0.2.7", "127.0.0.1",
                                            40000, port))
        check(st and st.startswith("20 "), "v1 Gemini: %r %r" % (st, body))
        r = gph(gport, b"/", header=v2("198.51.100.9", "127.0.0.1", 40001,
                                       gport))
        check(r and r.endswith(b".\r\n"), "v2 Gopher: %r" % r)
        lines = log(srv)
        check(poll(lambda: any(" 192.0.2.7 localhost gemini 20 " in ln
                               for ln in log(srv)) and
                   any(" 198.51.100.9 localhost gopher 20 " in ln
                       for ln in log(srv)), 3),
              "header addresses not in the access log: %r" % log(srv))
        # The rate counts the header's address, not the socket's.
        for want in ("20", "44"):
            st, _ = gem(port, "/", header=v1("192.0.2.7", "127.0.0.1",
                                             40000, port))
            check(st and st.startswith(want + " "),
                  "192.0.2.7 request: %r, want %s" % (st, want))
        st, _ = gem(port, "/", header=v2("192.0.2.8", "127.0.0.1", 1, port))
        check(st and st.startswith("20 "), "192.0.2.8: %r" % st)
        # An IPv4 client a balancer names in IPv6 (::ffff:a.b.c.d) is
        # the IPv4 one in the log, not an IPv6 address.
        st, _ = gem(port, "/page.gmi",
                    header=b"PROXY TCP6 ::ffff:203.0.113.9 ::1 40002 1965\r\n")
        check(st and st.startswith("20 "), "mapped v1: %r" % st)
        r = gph(gport, b"/", header=v2_mapped("203.0.113.10", 40003, gport))
        check(r and r.endswith(b".\r\n"), "mapped v2: %r" % r)
        check(poll(lambda: any(" 203.0.113.9 localhost gemini 20 " in ln
                               for ln in log(srv)) and
                   any(" 203.0.113.10 localhost gopher 20 " in ln
                       for ln in log(srv)), 3),
              "mapped addresses logged as: %r" % log(srv)[-3:])
        # A health check: LOCAL (v2) or TCP4 (v1), then close.
        err0 = srv.stderr()
        # Only lines in the socket's own address: those of the requests
        # above (other addresses) may still be on their way (LOG_FLUSH_MS).
        def local():
            return [ln for ln in log(srv) if " 127.0.0.1 " in ln]
        n0 = len(local())
        for hdr in (v2("", "", 0, 0, local=True),
                    v1("127.0.0.1", "127.0.0.1", 1, port)):
            for p in (port, gport):
                s = conn(p)
                s.sendall(hdr)
                s.close()
        # LOCAL then a request: served with the socket's own address.
        r = gph(gport, b"/", header=v2("", "", 0, 0, local=True))
        check(r and r.endswith(b".\r\n"), "LOCAL then a request: %r" % r)
        time.sleep(0.3)
        new_err = srv.stderr()[len(err0):].decode()
        check(new_err == "", "health checks logged: %r" % new_err)
        new = local()[n0:]
        check(len(new) == 1 and " 127.0.0.1 localhost gopher 20 " in
              new[0], "access lines after the checks: %r" % new)
        # No header: refused and said; a bad header too.
        r = gph(gport, b"/")
        check(r in (b"", None), "no header, yet a reply: %r" % r)
        s = conn(port)
        check(recv_all(s, 4) == b"", "silent client got bytes")
        s.close()
        check(poll(lambda: "refused: no PROXY protocol header" in
                   srv.stderr().decode() and
                   "timed out before a PROXY header" in
                   srv.stderr().decode(), 3),
              "missing header not logged: %s" % srv.stderr_tail(400))
    finally:
        srv.stop()


# ---------------------------------------------------------------- slow


def flood(port, n, stop, src=HOST, stats=None):
    """Keep n idle connections open from src, reopening each one the
    server cuts, until stop is set."""
    sel = selectors.DefaultSelector()
    live = 0

    def opener():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        try:
            s.connect((HOST, port))
        except BlockingIOError:
            pass
        sel.register(s, selectors.EVENT_READ)
        return s

    try:
        while not stop.is_set():
            while live < n and not stop.is_set():
                try:
                    opener()
                    live += 1
                except OSError:
                    time.sleep(0.01)
                    break
            for key, _ in sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    d = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(s)
                    s.close()
                    live -= 1
                    if stats is not None:
                        stats["cut"] += 1
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


@test("1,100 idle connections from one address: another fetches both "
      "protocols, every fetch succeeds, p99 < 250 ms")
def _(c):
    srv = serve(c, ["--rate", "100000/1s", "--rate-exempt", "none",
                    "--workers", "2"], timeout=2)
    stop = threading.Event()
    stats = {"cut": 0}
    try:
        port, gport = srv.port, srv.gopher_listen[0][1]
        base_fds = settled_fds(srv)
        t = threading.Thread(target=flood, args=(gport, 1100, stop, HOST,
                                                 stats), daemon=True)
        t.start()
        t2 = threading.Thread(target=flood, args=(port, 200, stop, HOST),
                              daemon=True)
        t2.start()
        time.sleep(0.5)
        times, bad = [], []
        deadline = time.monotonic() + 3
        i = 0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            if i % 2:
                st, _ = gem(port, "/page.gmi", src="127.0.0.2", timeout=3)
                ok = bool(st) and st.startswith("20 ")
            else:
                r = gph(gport, b"/page.gmi", src="127.0.0.2", timeout=3)
                ok = bool(r) and r.endswith(b".\r\n")
            times.append(time.monotonic() - t0)
            if not ok:
                bad.append(i)
            i += 1
        stop.set()
        t.join(5)
        t2.join(5)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        check(len(times) >= 20, "only %d fetches in 3 s" % len(times))
        check(not bad, "%d of %d fetches failed" % (len(bad), len(times)))
        check(p99 < 0.25, "p99 %.0f ms over %d fetches (max %.0f ms)" % (
            p99 * 1000, len(times), times[-1] * 1000))
        check(stats["cut"] > 100, "the flood was not cut (%d)" % stats["cut"])
        check("max-conns-per-ip" in srv.stderr().decode(),
              "reaching the cap was not logged")
        check(poll(lambda: leaked(srv, base_fds) is None, 5),
              "leaked: %s" % leaked(srv, base_fds))
    finally:
        stop.set()
        srv.stop()


@test("1,000 idle TLS and 1,000 idle Gopher connections are all cut at "
      "the deadline; no descriptor leaked")
def _(c):
    srv = serve(c, ["--max-conns", "4000", "--workers", "2"], timeout=2)
    socks = []
    try:
        port, gport = srv.port, srv.gopher_listen[0][1]
        base_fds = settled_fds(srv)
        t0 = time.monotonic()
        for i in range(2000):
            socks.append(conn(port if i % 2 else gport))
        opened = time.monotonic() - t0
        sel = selectors.DefaultSelector()
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        open_ = len(socks)
        deadline = time.monotonic() + 2 + opened + 2
        while open_ and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.1):
                try:
                    d = key.fileobj.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(key.fileobj)
                    open_ -= 1
        took = time.monotonic() - t0
        sel.close()
        check(open_ == 0, "%d of 2000 idle connections still open %.1f s "
              "after they were opened (timeout 2 s)" % (open_, took))
        check(took > 1.5, "cut after %.1f s, before the deadline" % took)
        check(poll(lambda: leaked(srv, base_fds) is None, 5),
              "leaked: %s" % leaked(srv, base_fds))
    finally:
        for s in socks:
            s.close()
        srv.stop()


@test("send-timeout 1: a client that never reads a big file is cut; a "
      "steady reader keeps its download")
def _(c):
    base, root = tree(c)
    big = bytes(range(256)) * (24 * 4096)  # 24 MiB
    write(os.path.join(root, "big.bin"), big)
    srv = serve(c, ["--send-timeout", "1", "--workers", "1"], root=root,
                timeout=5)
    try:
        gport = srv.gopher_listen[0][1]
        base_fds = settled_fds(srv)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(5)
        s.connect((HOST, gport))
        s.sendall(b"/big.bin\r\n")
        t0 = time.monotonic()
        cut = poll(lambda: any("/big.bin" in ln for ln in log(srv)), 8)
        took = time.monotonic() - t0
        # Cut with a reset: after a plain close the kernel would go on
        # sending the megabytes it held for this reader, then a FIN.
        reset = False
        try:
            while s.recv(1 << 20):
                pass
        except ConnectionResetError:
            reset = True
        except OSError:
            pass
        s.close()
        line = [ln for ln in log(srv) if "/big.bin" in ln]
        check(cut, "a non-reading client still held its slot after 8 s")
        check(reset, "a stalled reader's connection ended without a reset")
        check(line and re.search(r" gopher 20 \d+/%d /big.bin$" % len(big),
                                 line[0]),
              "access line %r, want a reply cut short" % line)
        check(took < 5, "cut after %.1f s (send-timeout 1)" % took)
        check("stalled" in srv.stderr().decode(),
              "the cut is not logged: %s" % srv.stderr_tail())
        # A reader that takes 64 KiB every 0.1 s: 3 s, never stalled 1 s.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(5)
        s.connect((HOST, gport))
        s.sendall(b"/big.bin\r\n")
        got = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
            time.sleep(0.1)
        alive = got > 0 and s.recv(1) != b""
        s.close()
        check(alive, "a steady reader was cut after %d bytes" % got)
        # A slow one, 16 KiB every 0.1 s: the server's send buffer grows
        # to megabytes, so its writes wait long past send-timeout while
        # the reader takes bytes all along. The client cannot see a cut
        # for seconds (the kernel still holds megabytes for it): the
        # server's log says whether it gave up.
        stalled = srv.stderr().count(b"stalled")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((HOST, gport))
        s.sendall(b"/big.bin\r\n")
        got = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6:
            d = s.recv(16384)
            if not d:
                break
            got += len(d)
            time.sleep(0.1)
        s.close()
        check(srv.stderr().count(b"stalled") == stalled,
              "a slow steady reader was cut as stalled after %d bytes: %s"
              % (got, srv.stderr_tail()))
        check(poll(lambda: leaked(srv, base_fds) is None, 5),
              "leaked: %s" % leaked(srv, base_fds))
    finally:
        srv.stop()


if __name__ == "__main__":
    h.run(setup)
