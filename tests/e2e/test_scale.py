"""Scale: big files streamed from disk, symlinked folders loaded once,
max-paths, descriptors shared out, and the memory of 5,000 connections.

Run as `/usr/bin/python3 tests/e2e/test_scale.py` with KAPSULA set.
One line per test: PASS / FAIL / SKIP. Each test starts its own servers
on 127.0.0.1 and signals only their PIDs. Every wait is bounded. The
bounds are generous: a test fails on a defect (a file read into memory,
a tree multiplied, kilobytes per connection gone), not on a slow machine.
"""

import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402  (read-only use)
from harness import check, test  # noqa: E402

HOST = "127.0.0.1"
BIG = 4 * 1024 ** 3  # the sparse file: 4 GiB, every 32-bit offset
# Bytes written into the sparse file, where a wrong offset would show.
MARKS = ((0, b"HEAD"), (2 ** 31 - 2, b"MID-"), (2 ** 32 - 4100, b"XY"),
         (BIG - 4, b"TAIL"))
RSS_GROWTH_MAX = 16 * 1024 * 1024  # the bound, parent + workers
CONNS = 5000  # idle connections of the memory check, per protocol
GOPHER_CONN_MAX = 8 * 1024  # bytes per idle Gopher connection (goal: 4 KiB)
TLS_CONN_MAX = 32 * 1024  # bytes per idle TLS connection (goal: 16 KiB)
TLS_CONNS = 1000  # TLS handshakes cost the client too: fewer of them


class _Ctx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kapsula-scale-")
        self.certs = os.path.join(self.tmp, "certs")
        self.srv = None


def setup():
    class M:
        def __enter__(self):
            self.ctx = _Ctx()
            return self.ctx

        def __exit__(self, *exc):
            shutil.rmtree(self.ctx.tmp, ignore_errors=True)
    return M()


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _root(ctx, name):
    root = os.path.join(ctx.tmp, name)
    _write(os.path.join(root, "index.gmi"), b"# Scale\n")
    return root


def _server(ctx, root, extra=(), gemini=True, gopher=True):
    wd = tempfile.mkdtemp(prefix="srv-", dir=ctx.tmp)
    srv = h.Server(root, ctx.certs, [(HOST, 0)] if gemini else [],
                   [(HOST, 0)] if gopher else [], timeout=30,
                   extra=list(extra), workdir=wd)
    return srv.start()


def _family(pid):
    """The server and its live workers."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    return [pid] + kids


def _rollup(pid, key):
    """Bytes of one smaps_rollup line (Rss, Pss, Pss_Anon), summed over
    the server and its workers."""
    total = 0
    for p in _family(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _sparse(path):
    with open(path, "wb") as f:
        f.truncate(BIG)
        for off, data in MARKS:
            f.seek(off)
            f.write(data)


def _layout_crc(prefix=b""):
    """The CRC-32 of prefix and the sparse file, from its layout (Python's
    zlib has no crc32_combine)."""
    crc, pos = zlib.crc32(prefix), 0
    zeros = bytes(1 << 20)
    for off, data in MARKS:
        while pos < off:
            n = min(len(zeros), off - pos)
            crc = zlib.crc32(zeros[:n], crc)
            pos += n
        crc = zlib.crc32(data, crc)
        pos += len(data)
    return crc


def _drain(sock, pid, samples):
    """Size, CRC-32 and first bytes of everything the server sends,
    hashed as it streams; the server's RSS sampled along the way."""
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    n, crc, head, next_sample = 0, 0, b"", 0
    while True:
        try:
            r = sock.recv_into(buf)
        except ssl.SSLZeroReturnError:
            break
        if not r:
            break
        if len(head) < 64:
            head += bytes(view[:min(r, 64)])
        crc = zlib.crc32(view[:r], crc)
        n += r
        if n >= next_sample:
            samples.append(_rollup(pid, "Rss"))
            next_sample += 256 * 1024 * 1024
    return n, crc, head


@test("a sparse 4 GiB file, over Gopher and Gemini, intact, from disk")
def _(ctx):
    root = _root(ctx, "big")
    path = os.path.join(root, "big.bin")
    _sparse(path)
    want = _layout_crc()
    srv = _server(ctx, root, ["--workers", "2"])
    try:
        (gem,), (gop,) = ([p for _, p in srv.listen],
                          [p for _, p in srv.gopher_listen])
        check(b"1 files of 4194304 KiB from disk" in srv.stderr(),
              "start-up line: %s" % srv.stderr_tail())
        before = _rollup(srv.proc.pid, "Rss")
        samples = []
        s = socket.create_connection((HOST, gop), timeout=30)
        s.sendall(b"/big.bin\r\n")
        n, crc, head = _drain(s, srv.proc.pid, samples)
        s.close()
        check(n == BIG and crc == want and head.startswith(b"HEAD"),
              "gopher: %d bytes, crc %08x (want %08x)" % (n, crc, want))
        ctx_tls = h.client_context()
        s = ctx_tls.wrap_socket(socket.create_connection((HOST, gem),
                                                         timeout=30),
                                server_hostname="localhost")
        s.sendall(b"gemini://localhost:%d/big.bin\r\n" % gem)
        hdr = b"20 application/octet-stream\r\n"
        n, crc, head = _drain(s, srv.proc.pid, samples)
        s.close()
        check(head.startswith(hdr), "gemini header: %r" % head[:40])
        check(n == BIG + len(hdr) and crc == _layout_crc(hdr),
              "gemini: %d bytes, crc %08x" % (n, crc))
        grew = max(samples) - before
        check(grew < RSS_GROWTH_MAX,
              "the server's RSS grew by %d MB while streaming" %
              (grew >> 20))
        # Written once the server has the client's close, a few ms later.
        def logged():
            log = srv.stdout()
            return (log.count(b" 20 4294967296 /big.bin") == 1 and
                    log.count(b" 20 4294967325 /big.bin") == 1)
        check(h_poll(logged, 5), "access log: %r" % srv.stdout()[-300:])
    finally:
        srv.stop()
        os.unlink(path)


@test("a big file changed in place while sent: cut short, and logged")
def _(ctx):
    root = _root(ctx, "change")
    path = os.path.join(root, "f.bin")
    _write(path, os.urandom(1024) * (48 * 1024))  # 48 MiB
    srv = _server(ctx, root, ["--workers", "1"])
    try:
        for proto in ("gopher", "gemini"):
            with open(path, "r+b") as f:
                f.truncate(48 * 1024 * 1024)
            if proto == "gopher":
                s = socket.create_connection(
                    (HOST, srv.gopher_listen[0][1]), timeout=10)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.sendall(b"/f.bin\r\n")
            else:
                s = h.client_context().wrap_socket(
                    socket.create_connection((HOST, srv.port), timeout=10),
                    server_hostname="localhost")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.sendall(b"gemini://localhost:%d/f.bin\r\n" % srv.port)
            got = len(s.recv(65536))
            with open(path, "r+b") as f:
                f.truncate(1024 * 1024)  # in place, not by rename
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    d = s.recv(1 << 20)
                except (ssl.SSLError, OSError):
                    break
                if not d:
                    break
                got += len(d)
            s.close()
            check(got < 48 * 1024 * 1024,
                  "%s: all %d bytes arrived" % (proto, got))
        check(h_poll(lambda: srv.stderr().count(
            b"/f.bin: changed while being sent") >= 2),
            "no log line: %s" % srv.stderr_tail())
    finally:
        srv.stop()


@test("a big file read slowly across a reload outlives the drain, intact")
def _(ctx):
    root = _root(ctx, "drain")
    size = 16 * 1024 * 1024
    data = os.urandom(1 << 20) * 16
    _write(os.path.join(root, "big.bin"), data)
    want = zlib.crc32(data)
    # The drain of one second instead of a minute, for this server only.
    os.environ["KAPSULA_RELOAD_DRAIN"] = "1"
    try:
        srv = _server(ctx, root, ["--workers", "1"], gemini=False)
    finally:
        del os.environ["KAPSULA_RELOAD_DRAIN"]
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(10)
        s.connect((HOST, srv.gopher_listen[0][1]))
        s.sendall(b"/big.bin\r\n")
        got = bytearray()
        got += s.recv(16384)
        srv.proc.send_signal(signal.SIGHUP)
        # 16 KiB every 20 ms (far from all of it) until the old worker
        # has passed its drain limit and said it goes on.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            d = s.recv(16384)
            if not d:
                break
            got += d
            if b"still streaming after the drain limit" in srv.stderr():
                break
            time.sleep(0.02)
        passed = b"still streaming after the drain limit" in srv.stderr()
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            got += d
        s.close()
        check(passed, "the drain did not end while the file streamed: %s"
              % srv.stderr_tail())
        check(len(got) == size and zlib.crc32(got) == want,
              "%d of %d bytes arrived, crc %s" % (
                  len(got), size,
                  "right" if zlib.crc32(got) == want else "wrong"))
    finally:
        srv.stop()


def h_poll(fn, secs=10):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


@test("symlinked folders load once: 15 levels of two links each")
def _(ctx):
    root = _root(ctx, "links")
    # d0/ holds l0a and l0b, both links to d1/, and so on: walked
    # through the links this was 2^15 copies of the tree.
    for i in range(16):
        _write(os.path.join(root, "d%d" % i, "page.gmi"),
               b"# Level %d\n" % i)
    for i in range(15):
        for s in "ab":
            os.symlink("../d%d" % (i + 1),
                       os.path.join(root, "d%d" % i, "l%d%s" % (i, s)))
    t0 = time.monotonic()
    srv = _server(ctx, root, ["--workers", "1"])
    took = time.monotonic() - t0
    try:
        err = srv.stderr()
        check(b"(51 paths" in err, "paths: %r" % [l for l in err.splitlines() if b"serving" in l])
        check(took < 10, "start took %.1f s" % took)
        r = h.gemini(srv.port, h.req(srv.port, "/d0/l0a/l1b/page.gmi"))
        check(r.status == "31" and r.meta ==
              "gemini://localhost:%d/d2/page.gmi" % srv.port,
              "gemini: %s" % r.describe())
        r = h.gemini(srv.port, h.req(srv.port, "/d0/l0b"))
        check(r.status == "31" and r.meta.endswith(":%d/d1/" % srv.port),
              "gemini folder: %s" % r.describe())
        gop = srv.gopher_listen[0][1]
        r = h.gopher(gop, b"/d0/l0a/l1b/page.gmi\r\n")
        check(b"Level 2" in r, "gopher via a link: %r" % r[:200])
        # The listing of d0/ leads to the real folder, in both.
        r = h.gemini(srv.port, h.req(srv.port, "/d0/"))
        check(r.status == "20" and b"=> /d1/ l0a/" in r.body,
              "listing: %s" % r.describe())
        r = h.gopher(gop, b"/d0/\r\n")
        check(b"1l0a/\t/d1/\t" in r, "gopher listing: %r" % r[:400])
    finally:
        srv.stop()


@test("max-paths: a larger tree is a load error that says so")
def _(ctx):
    root = _root(ctx, "many")
    for i in range(30):
        _write(os.path.join(root, "p%d.gmi" % i), b"# p\n")
    r = subprocess.run([h.KAPSULA, "-n", "--root", root, "--certs",
                        ctx.certs, "--max-paths", "20", "--gemini",
                        "127.0.0.1:0"], capture_output=True, timeout=20)
    check(r.returncode == 1 and b"more than 20 paths (max-paths)" in
          r.stderr, "exit %d: %r" % (r.returncode, r.stderr[-300:]))
    r = subprocess.run([h.KAPSULA, "-n", "--root", root, "--certs",
                        ctx.certs, "--max-paths", "40", "--gemini",
                        "127.0.0.1:0"], capture_output=True, timeout=20)
    check(r.returncode == 0, "40 paths: %r" % r.stderr[-300:])


def _under_nofile(ctx, root, extra, soft, hard):
    """A Gopher server started with RLIMIT_NOFILE (soft, hard)."""
    wd = tempfile.mkdtemp(prefix="srv-", dir=ctx.tmp)
    srv = h.Server(root, ctx.certs, [], [(HOST, 0)], timeout=5,
                   extra=extra, workdir=wd)

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    out = open(srv.stdout_path, "wb")
    err = open(srv.stderr_path, "wb")
    srv.proc = subprocess.Popen(srv.argv, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, preexec_fn=low)
    out.close()
    err.close()
    h._started.append(srv)
    return srv


def _big_files(root, n, name):
    """n sparse 2 MiB files: over memory-file-max, so each is kept open."""
    for i in range(n):
        with open(os.path.join(root, name % i), "wb") as f:
            f.truncate(2 * 1024 * 1024)


@test("descriptors shared out: big files and connections within NOFILE")
def _(ctx):
    root = _root(ctx, "fds")
    _big_files(root, 40, "f%02d.bin")
    srv = _under_nofile(ctx, root, ["--workers", "2", "--max-conns", "1000"],
                        300, 300)
    try:
        srv._wait_ready()
        # 300 - 64 spare - 2 x 40 files (twice during a reload) = 156,
        # shared out: 78 a worker.
        check(b"open-file limit 300 with 40 big files kept open: at most "
              b"156 connections" in
              srv.stderr(), "no warning: %s" % srv.stderr_tail())
        check(b"at most 78 connections each" in srv.stderr(),
              "start-up line: %s" % srv.stderr_tail())
        r = h.gopher(srv.gopher_listen[0][1], b"/f39.bin\r\n")
        check(len(r) == 2 * 1024 * 1024, "%d bytes" % len(r))
    finally:
        srv.stop()


@test("more big files than the soft open-file limit: the hard one is used")
def _(ctx):
    root = _root(ctx, "manyfiles")
    _big_files(root, 300, "f%03d.bin")
    # Debian's and systemd's way: a low soft, a high hard limit.
    srv = _under_nofile(ctx, root, ["--workers", "1", "--max-conns", "100"],
                        150, 20000)
    try:
        srv._wait_ready()
        r = h.gopher(srv.gopher_listen[0][1], b"/f299.bin\r\n")
        check(len(r) == 2 * 1024 * 1024, "%d bytes" % len(r))
    finally:
        srv.stop()


def _conns_memory(ctx, tls, count, per_max, back):
    """Opens count idle connections (TLS: handshaken), then closes them;
    returns a failure message or None. back: the share of their memory
    that may stay after they close."""
    root = _root(ctx, "mem-%s" % ("tls" if tls else "gopher"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count + 100:
        h.skip("the open-file limit (%d) is below %d" % (hard, count + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (max(soft, count + 100), hard))
    srv = _server(ctx, root, ["--workers", "1", "--max-conns",
                              str(count + 500)], gemini=tls, gopher=not tls)
    socks = []
    try:
        port = srv.port if tls else srv.gopher_listen[0][1]
        cctx = h.client_context()
        # Warm: the first connections grow pools that stay.
        for _ in range(20):
            s = socket.create_connection((HOST, port), timeout=10)
            if tls:
                s = cctx.wrap_socket(s, server_hostname="localhost")
            s.close()
        time.sleep(0.3)
        idle = _rollup(srv.proc.pid, "Pss")
        for _ in range(count):
            s = socket.create_connection((HOST, port), timeout=10)
            if tls:
                s = cctx.wrap_socket(s, server_hostname="localhost")
            socks.append(s)
        time.sleep(0.5)
        full = _rollup(srv.proc.pid, "Pss")
        per = (full - idle) / count
        for s in socks:
            s.close()
        socks = []
        after = idle
        for _ in range(50):  # the worker sees every close, then trims
            time.sleep(0.1)
            after = _rollup(srv.proc.pid, "Pss")
            if after < idle + (full - idle) * back:
                break
        if per > per_max:
            return "%.0f bytes per connection (PSS %d kB idle, %d kB with " \
                   "%d)" % (per, idle >> 10, full >> 10, count)
        if after > idle + max((full - idle) * back, 1 << 20):
            return "after they closed: PSS %d kB (idle %d kB, full %d kB)" \
                % (after >> 10, idle >> 10, full >> 10)
        return None
    finally:
        for s in socks:
            s.close()
        srv.stop()


@test("5,000 idle Gopher connections: a few KiB each, given back")
def _(ctx):
    why = _conns_memory(ctx, False, CONNS, GOPHER_CONN_MAX, 0.25)
    check(why is None, why)


@test("1,000 idle TLS connections: under 32 KiB each, given back")
def _(ctx):
    # libevent's per-descriptor entries stay for good: made one by one
    # between OpenSSL's allocations, they kept a quarter of it all.
    why = _conns_memory(ctx, True, TLS_CONNS, TLS_CONN_MAX, 0.1)
    check(why is None, why)


@test("text versions and Gopher+ replies stream: stalled readers hold no copy of a big page")
def _(ctx):
    root = _root(ctx, "textver")
    para = (b"A line of text that the Gopher menu wraps at sixty-seven "
            b"columns, long enough to fill two lines of it.\n\n")
    page = b"# Big\n\n" + para * (6 * 1024 * 1024 // len(para))
    _write(os.path.join(root, "big.gmi"), page)
    srv = _server(ctx, root, ["--workers", "1"])
    socks = []
    try:
        (gem,), (gop,) = ([p for _, p in srv.listen],
                          [p for _, p in srv.gopher_listen])
        # What a reader gets whole, to compare with what stalls.
        s = socket.create_connection((HOST, gop), timeout=30)
        s.sendall(b"/big.gmi.txt\r\n")
        whole = h.recv_all(s)
        s.close()
        check(len(whole) > 5 * 1024 * 1024 and whole.startswith(b"Big\n"),
              "gopher text version: %d bytes" % len(whole))
        before = _rollup(srv.proc.pid, "Rss")
        # Readers that ask and never read: each once held a copy.
        for i in range(12):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect((HOST, gop))
            s.sendall(b"/big.gmi.txt\r\n")
            socks.append(s)
        for i in range(4):  # Gopher+: "+-1" and the menu, not a copy
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect((HOST, gop))
            s.sendall(b"/big.gmi\t+\r\n")
            socks.append(s)
        for i in range(4):
            s = h.client_context().wrap_socket(
                socket.create_connection((HOST, gem), timeout=30),
                server_hostname="localhost")
            s.sendall(b"gemini://localhost:%d/big.gmi.txt\r\n" % gem)
            socks.append(s)
        time.sleep(1.5)
        grew = _rollup(srv.proc.pid, "Rss") - before
        check(grew < RSS_GROWTH_MAX,
              "20 stalled readers of a %d MB text grew RSS by %d MB" %
              (len(whole) >> 20, grew >> 20))
        s = h.client_context().wrap_socket(
            socket.create_connection((HOST, gem), timeout=30),
            server_hostname="localhost")
        s.sendall(b"gemini://localhost:%d/big.gmi.txt\r\n" % gem)
        got = h.recv_all(s)
        s.close()
        hdr, _, body = got.partition(b"\r\n")
        check(hdr.startswith(b"20 text/plain") and
              body.startswith(b"Big\n") and
              body == whole,
              "gemini text version: %r, %d bytes" % (hdr, len(body)))
    finally:
        for s in socks:
            s.close()
        srv.stop()


if __name__ == "__main__":
    h.run(setup)
