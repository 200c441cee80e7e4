"""The fleet: two kapsula instances behind Debian's HAProxy (TCP mode,
send-proxy-v2 to one, send-proxy to the other, with health checks), and
TLS sessions that resume on either instance through a shared ticket-keys
file, across a key rotation.

Run as `/usr/bin/python3 tests/e2e/test_fleet.py` with KAPSULA set. One
line per test: PASS / FAIL / SKIP. HAProxy runs contrib/haproxy.cfg (the
README's example) with loopback addresses put in; its listening sockets
are bound here (port 0) and handed to it as fd@N, so no port is guessed.
Clients use the loopback source addresses 127.0.0.2 to 127.0.0.5. Only
the PIDs started here are signalled.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
from harness import check, test  # noqa: E402
from harness import connect_from as conn  # noqa: E402
from harness import poll, recv_all  # noqa: E402

HOST = "127.0.0.1"
EXAMPLE = os.path.join(HERE, "..", "..", "contrib", "haproxy.cfg")
ERROR_WORDS = re.compile(r"refused|timed out|failed|closed inside|stalled|"
                         r"error", re.I)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)



def new_key():
    p = subprocess.run([h.KAPSULA, "ticket-key"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    check(p.returncode == 0, "kapsula ticket-key: exit %d %r" % (
        p.returncode, p.stderr))
    return p.stdout.decode().strip()


class Fleet:
    """Two instances (a, b) with one root, certificate and key file."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kapsula-fleet-")
        self.srv = None
        self.root = os.path.join(self.tmp, "root")
        write(os.path.join(self.root, "index.gmi"),
              "# Fleet\n\nServed by one of two.\n")
        write(os.path.join(self.root, "page.gmi"), "# Page\n\nA page.\n")
        self.certs = os.path.join(self.tmp, "certs")
        self.keys = os.path.join(self.tmp, "ticket.keys")
        self.k1 = new_key()
        write(self.keys, "# the fleet's keys\n%s\n" % self.k1, 0o600)
        # HAProxy's listening sockets, bound now: their ports are known.
        self.front = {}
        for name in ("gemini", "gopher"):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, 0))
            s.listen(128)
            s.set_inheritable(True)
            self.front[name] = s
        self.gem_port = self.front["gemini"].getsockname()[1]
        self.gph_port = self.front["gopher"].getsockname()[1]
        self.a = self.instance("a")
        self.b = self.instance("b")
        self.haproxy = None
        self.ha_err = os.path.join(self.tmp, "haproxy.err")
        self.start_haproxy()

    def instance(self, name):
        wd = os.path.join(self.tmp, name)
        os.makedirs(wd, exist_ok=True)
        # Behind HAProxy, clients name HAProxy's port; one direct Gemini
        # listener too, to resume sessions without the balancer.
        srv = h.Server(self.root, self.certs, [(HOST, 0)], [], timeout=3,
                       extra=["--gemini", "127.0.0.9:0 proxy",
                              "--gopher", "127.0.0.9:0 proxy",
                              "--public-port", str(self.gem_port),
                              "--ticket-keys", self.keys,
                              "--rate", "2/60s", "--rate-exempt", "none",
                              "--log-ip=full", "--workers", "2"],
                       workdir=wd)
        srv.start()
        check(poll(lambda: len(srv.bound_ports()) == 3, 5),
              "instance %s: listener lines: %s" % (name, srv.stderr_tail()))
        ports = srv.bound_ports()
        gem = [p for pr, _, p in ports if pr == "gemini"]
        srv.direct = srv.port
        srv.proxy_gem = [p for p in gem if p != srv.direct][0]
        srv.proxy_gph = [p for pr, _, p in ports if pr == "gopher"][0]
        srv.startup_err = len(srv.stderr())
        return srv

    def config(self):
        """contrib/haproxy.cfg with this fleet's addresses put in."""
        with open(EXAMPLE) as f:
            cfg = f.read()
        subs = [
            ("bind :1965", "bind fd@%d" % self.front["gemini"].fileno()),
            ("bind :70", "bind fd@%d" % self.front["gopher"].fileno()),
            ("10.0.0.1:11965", "127.0.0.9:%d" % self.a.proxy_gem),
            ("10.0.0.2:11965", "127.0.0.9:%d" % self.b.proxy_gem),
            ("10.0.0.1:17070", "127.0.0.9:%d" % self.a.proxy_gph),
            ("10.0.0.2:17070", "127.0.0.9:%d" % self.b.proxy_gph),
            ("inter 2s", "inter 200ms"),
            ("global\n", "global\n\tstats socket %s/stats.sock\n" %
             self.tmp),
        ]
        for old, new in subs:
            check(old in cfg, "contrib/haproxy.cfg has no %r any more" % old)
            cfg = cfg.replace(old, new)
        return cfg

    def start_haproxy(self):
        path = os.path.join(self.tmp, "haproxy.cfg")
        write(path, self.config())
        fds = [s.fileno() for s in self.front.values()]
        with open(self.ha_err, "wb") as err:
            self.haproxy = subprocess.Popen(
                ["haproxy", "-db", "-f", path], stdin=subprocess.DEVNULL,
                stdout=err, stderr=err, pass_fds=fds)

    def servers_up(self):
        """HAProxy's own view: every server of both backends UP."""
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(os.path.join(self.tmp, "stats.sock"))
            s.sendall(b"show servers state\n")
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            s.close()
        except OSError:
            return None
        # The first line is the format's version; then one per server.
        rows = [ln.split() for ln in out.decode().splitlines()[1:]
                if ln and ln[0].isdigit()]
        # Field 6 is srv_op_state: 2 is running.
        return len(rows) == 4 and all(r[5] == "2" for r in rows)

    def stop(self):
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.send_signal(signal.SIGTERM)
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait(timeout=10)
        for srv in (self.a, self.b):
            srv.stop()
        for s in self.front.values():
            s.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def setup():
    class M:
        def __enter__(self):
            if shutil.which("haproxy") is None:
                self.f = None
                return None
            self.f = Fleet()
            return self.f

        def __exit__(self, *exc):
            if self.f is not None:
                self.f.stop()
    return M()


def need(f):
    if f is None:
        h.skip("haproxy is not installed (apt-get install haproxy)")




def gem(f, path, src):
    s = conn(f.gem_port, src)
    try:
        ss = h.client_context().wrap_socket(s, server_hostname="localhost")
        ss.sendall(h.req(f.gem_port, path))
        head = recv_all(ss).partition(b"\r\n")[0]
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()
    return head.decode("utf-8", "replace")


def gph(f, sel, src):
    s = conn(f.gph_port, src)
    try:
        s.sendall(sel + b"\r\n")
        return recv_all(s)
    finally:
        s.close()


def access(f):
    return (f.a.stdout() + f.b.stdout()).decode("utf-8", "replace")


def s_client(port, sess, mode):
    """One openssl s_client exchange: "Reused" or "New" (or the output)."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port),
         "-servername", "localhost", mode, sess, "-ign_eof"],
        input=b"gemini://localhost/\r\n", stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=15)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"^(Reused|New), TLS", out, re.M)
    return m.group(1) if m else out[-300:]


def reload(srv):
    before = srv.stderr().count(b"reloaded")
    srv.proc.send_signal(signal.SIGHUP)
    check(poll(lambda: srv.stderr().count(b"reloaded") > before, 10),
          "no reload: %s" % srv.stderr_tail())


# ---------------------------------------------------------------- HAProxy


@test("HAProxy: health checks pass and leave no error line")
def _(f):
    need(f)
    check(poll(lambda: f.servers_up(), 8),
          "HAProxy does not see all four servers UP: %r; %s" % (
              f.servers_up(), open(f.ha_err).read()[-300:]))
    time.sleep(1)  # several more checks, every 200 ms
    for name, srv in (("a", f.a), ("b", f.b)):
        new = srv.stderr()[srv.startup_err:].decode("utf-8", "replace")
        bad = [ln for ln in new.splitlines() if ERROR_WORDS.search(ln)]
        check(not bad, "instance %s logged %r" % (name, bad[:3]))
    check(access(f) == "", "health checks in the access log: %r" %
          access(f)[:200])


@test("HAProxy: pages over both protocols; the log names the client")
def _(f):
    need(f)
    check(poll(lambda: f.servers_up(), 8), "servers not UP")
    for src in ("127.0.0.2", "127.0.0.3"):
        st = gem(f, "/page.gmi", src)
        check(st.startswith("20 text/gemini"), "%s Gemini: %r" % (src, st))
        r = gph(f, b"/page.gmi", src)
        check(r.endswith(b".\r\n") and b"Page" in r, "%s Gopher: %r" % (
            src, r[:80]))
    for src in ("127.0.0.2", "127.0.0.3"):
        for proto in ("gemini", "gopher"):
            check(poll(lambda: re.search(r" %s localhost %s 20 \d+ "
                                         r"/page.gmi" % (
                                             re.escape(src), proto),
                                         access(f)), 3),
                  "no %s line for %s: %r" % (proto, src, access(f)))
    check(" 127.0.0.1 " not in access(f),
          "HAProxy's own address in the access log: %r" % access(f))


@test("HAProxy: the rate counts the real client, not HAProxy")
def _(f):
    need(f)
    check(poll(lambda: f.servers_up(), 8), "servers not UP")
    # 2/60s on each instance: 6 requests of one client, spread over the
    # two, cannot all be served.
    got = [gem(f, "/", "127.0.0.4")[:2] for _ in range(6)]
    check(got.count("44") >= 2 and got.count("20") >= 2,
          "127.0.0.4's six requests: %r" % got)
    got = [gem(f, "/", "127.0.0.5")[:2] for _ in range(2)]
    check(got == ["20", "20"], "127.0.0.5 throttled with 127.0.0.4: %r" %
          got)


# ---------------------------------------------------------------- tickets


@test("kapsula ticket-key prints a new 160-hex-digit key; a key file "
      "others can read is refused")
def _(f):
    need(f)
    k1, k2 = new_key(), new_key()
    check(re.match(r"^[0-9a-f]{160}$", k1) and k1 != k2,
          "keys %r %r" % (k1, k2))
    bad = os.path.join(f.tmp, "open.keys")
    write(bad, k1 + "\n", 0o644)
    p = h.run_binary(["-n", "--root", f.root, "--certs", f.certs,
                      "--gemini", "127.0.0.1:0", "--ticket-keys", bad],
                     timeout=10)
    err = p.stderr.decode()
    check(p.returncode != 0 and "chmod 600" in err, "0644 file: exit %d "
          "%r" % (p.returncode, err[-200:]))
    write(bad, "# two good, one short\n%s\n%s\nabc\n" % (k1, k2), 0o600)
    p = h.run_binary(["-n", "--root", f.root, "--certs", f.certs,
                      "--gemini", "127.0.0.1:0", "--ticket-keys", bad],
                     timeout=10)
    err = p.stderr.decode()
    check(p.returncode != 0 and "open.keys:4:" in err,
          "short key: exit %d %r" % (p.returncode, err[-200:]))


@test("a session from instance A resumes on B, directly and through "
      "HAProxy; after rotation too; a dropped key means a full handshake")
def _(f):
    need(f)
    s1 = os.path.join(f.tmp, "s1.pem")
    check(s_client(f.a.direct, s1, "-sess_out") == "New", "first handshake")
    got = [s_client(f.b.direct, s1, "-sess_in") for _ in range(3)]
    check(got == ["Reused"] * 3, "A's session on B: %r" % got)
    got = [s_client(f.a.direct, s1, "-sess_in") for _ in range(3)]
    check(got == ["Reused"] * 3, "A's session on A's workers: %r" % got)
    check(poll(lambda: f.servers_up(), 8), "servers not UP")
    sh = os.path.join(f.tmp, "sh.pem")
    check(s_client(f.gem_port, sh, "-sess_out") == "New",
          "first handshake through HAProxy")
    got = [s_client(f.gem_port, sh, "-sess_in") for _ in range(4)]
    check(got == ["Reused"] * 4, "through HAProxy (both instances): %r" %
          got)
    # Rotation: a new key first, the old one kept to decrypt.
    k2 = new_key()
    write(f.keys, "%s\n%s  # the old one\n" % (k2, f.k1), 0o600)
    reload(f.a)
    reload(f.b)
    got = [s_client(p, s1, "-sess_in") for p in (f.a.direct, f.b.direct)]
    check(got == ["Reused"] * 2, "old ticket after rotation: %r" % got)
    s2 = os.path.join(f.tmp, "s2.pem")
    check(s_client(f.b.direct, s2, "-sess_out") == "New", "new session")
    # The old key dropped: its tickets get a full handshake, new ones not.
    write(f.keys, "%s\n" % k2, 0o600)
    reload(f.a)
    reload(f.b)
    got = [s_client(p, s1, "-sess_in") for p in (f.a.direct, f.b.direct)]
    check(got == ["New"] * 2, "ticket of a dropped key: %r" % got)
    got = [s_client(p, s2, "-sess_in") for p in (f.a.direct, f.b.direct)]
    check(got == ["Reused"] * 2, "ticket of the kept key: %r" % got)


@test("without ticket-keys, the workers of one instance share the "
      "parent's keys")
def _(f):
    need(f)
    wd = os.path.join(f.tmp, "solo")
    os.makedirs(wd, exist_ok=True)
    srv = h.Server(f.root, f.certs, [(HOST, 0)], [], timeout=3,
                   extra=["--workers", "2"], workdir=wd)
    srv.start()
    try:
        s = os.path.join(f.tmp, "solo.pem")
        check(s_client(srv.port, s, "-sess_out") == "New", "handshake")
        # The kernel spreads these over both workers (by the client's
        # port): any worker must open any worker's ticket.
        got = [s_client(srv.port, s, "-sess_in") for _ in range(6)]
        check(got == ["Reused"] * 6, "resumptions: %r" % got)
        # The parent keeps its keys across a reload.
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reloaded" in srv.stderr(), 10), "no reload")
        got = [s_client(srv.port, s, "-sess_in") for _ in range(2)]
        check(got == ["Reused"] * 2, "after a reload: %r" % got)
    finally:
        srv.stop()


if __name__ == "__main__":
    h.run(setup)
