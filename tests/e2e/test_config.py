"""The operator's kapsula: a configuration file, virtual hosts by SNI, one
Gopher port per capsule, -n, reloads, workers, the privilege drop and the
sandbox, and the messages that say what is wrong.

Run as `/usr/bin/python3 tests/e2e/test_config.py` with KAPSULA set. One line
per test: PASS / FAIL / SKIP. Every server is started here, on 127.0.0.1
ports it binds itself (port 0), and only those PIDs are signalled.
"""

import concurrent.futures
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import check, test  # noqa: E402
from harness import ConfServer, poll  # noqa: E402

HOST = "127.0.0.1"


class Ctx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kapsula-config-")
        self.srv = None


def setup():
    class M:
        def __enter__(self):
            self.c = Ctx()
            return self.c

        def __exit__(self, *exc):
            shutil.rmtree(self.c.tmp, ignore_errors=True)
    return M()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def capsule(base, title, extra=()):
    """A small capsule whose pages say `title`."""
    write(os.path.join(base, "index.gmi"), "# %s\n\nHome of %s.\n" % (
        title, title))
    write(os.path.join(base, "en", "index.gmi"), "# %s English\n" % title)
    for rel, data in extra:
        write(os.path.join(base, rel), data)
    return base



def two_capsules(c, name, extra_server="", extra_a="", extra_b=""):
    """a.test (alias www.a.test) and b.test on one Gemini address (":0"
    is one free port, shared), one Gopher address each. Returns (conf
    path, certs dir)."""
    base = os.path.join(c.tmp, name)
    capsule(os.path.join(base, "a"), "Alpha")
    capsule(os.path.join(base, "b"), "Beta")
    certs = os.path.join(base, "certs")
    conf = os.path.join(base, "kapsula.conf")
    write(conf, """\
; two capsules, as kapsula.conf(5) describes
[server]
certs = {certs}
workers = 2
timeout = 5
{extra_server}

[capsule a.test]
aliases = www.a.test
root = {base}/a
gemini = 127.0.0.1:0
gopher = 127.0.0.1:0
{extra_a}

[capsule b.test]
root = {base}/b
gemini = 127.0.0.1:0
gopher = 127.0.0.2:0
{extra_b}
""".format(certs=certs, base=base, extra_server=extra_server,
           extra_a=extra_a, extra_b=extra_b))
    return conf, certs


def start(c, conf, name, nlisten):
    wd = os.path.join(c.tmp, name + "-srv")
    os.makedirs(wd, exist_ok=True)
    return ConfServer(conf, wd, nlisten).start()


def cert_of(reply):
    return h.fingerprint(reply.cert_der)



def workers(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def both_workers(srv):
    """The server's two worker PIDs once both are up (5 s at most)."""
    return poll(lambda: len(workers(srv.proc.pid)) == 2 and
                workers(srv.proc.pid), 5)


def status_of(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def check_only(conf):
    return h.run_binary(["-n", "-c", conf], timeout=20)


# ---------------------------------------------------------------- -n


@test("-n on a good file: 'configuration OK', exit 0, nothing written")
def _(c):
    conf, certs = two_capsules(c, "n-good")
    r = check_only(conf)
    out = r.stdout.decode()
    check(r.returncode == 0, "exit %d: %s %s" % (
        r.returncode, out, r.stderr.decode()[-400:]))
    check(re.search(r"^configuration OK: 2 capsules, 3 listeners$", out, re.M),
          "stdout %r" % out)
    check(not os.path.exists(certs), "-n created %s" % certs)


@test("-n on a broken file names every problem as FILE:LINE, exit 1")
def _(c):
    base = os.path.join(c.tmp, "n-bad")
    capsule(os.path.join(base, "a"), "Alpha")
    write(os.path.join(base, "file"), "not a folder\n")
    conf = os.path.join(base, "bad.conf")
    write(conf, """\
[server]
workers = 99
colour = blue

[capsule a.test]
root = {b}/a
gemini = 127.0.0.1
gopher = 127.0.0.1:17071

[capsule ../evil]
root = {b}/a

[capsule b.test]
root = {b}/a
gopher = 127.0.0.1:17071
gemini = 127.0.0.1:17071 advertise=70

[capsule c.test]
root = {b}/file
""".format(b=base))
    r = check_only(conf)
    err = r.stderr.decode()
    check(r.returncode == 1, "exit %d, want 1: %s" % (r.returncode, err))
    want = [
        (2, "workers"),
        (3, "unknown key"),
        (7, "127.0.0.1"),
        (10, "not a valid host name"),
        (15, "Gopher address serves one capsule"),
        (16, "advertise= is for Gopher"),
        (18, "not a folder"),
    ]
    for line, text in want:
        check(re.search(r"^%s:%d: .*%s" % (re.escape(conf), line,
                                           re.escape(text)), err, re.M),
              "no '%s:%d: ...%s' in: %s" % (conf, line, text, err))
    check("configuration OK" not in r.stdout.decode(), "said OK anyway")


@test("-c with another flag is refused; a missing file is named")
def _(c):
    conf, _ = two_capsules(c, "n-flags")
    r = h.run_binary(["-c", conf, "--workers", "2"])
    check(r.returncode != 0 and b"-c" in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr))
    missing = os.path.join(c.tmp, "no-such.conf")
    r = check_only(missing)
    check(r.returncode == 1 and missing.encode() in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr))


@test("messages say what is wrong: no port, both protocols, twice, a file")
def _(c):
    root = capsule(os.path.join(c.tmp, "msg", "root"), "M")
    certs = os.path.join(c.tmp, "msg", "certs")
    cases = [
        (["--gemini", "127.0.0.1"], "ADDR:PORT"),
        (["--gemini", "127.0.0.1:17075", "--gopher", "127.0.0.1:17075"],
         "both a Gemini and a Gopher address"),
        (["--gopher", "127.0.0.1:17076", "--gopher", "127.0.0.1:17076"],
         "listed twice"),
    ]
    for extra, text in cases:
        r = h.run_binary(["--root", root, "--certs", certs] + extra)
        check(r.returncode != 0 and text.encode() in r.stderr,
              "%s: exit %d, want %r in %r" % (extra, r.returncode, text,
                                              r.stderr[-300:]))
    f = os.path.join(c.tmp, "msg", "afile")
    write(f, "x")
    r = h.run_binary(["--root", f, "--certs", certs, "--gemini",
                      "127.0.0.1:0"])
    check(r.returncode != 0 and b"not a folder" in r.stderr,
          "root is a file: %r" % r.stderr[-300:])
    check(not os.path.exists(certs), "a certificate was made for a root "
          "that does not load")


@test("a host name that is not one is refused and writes nothing")
def _(c):
    base = os.path.join(c.tmp, "evil")
    root = capsule(os.path.join(base, "root"), "E")
    certs = os.path.join(base, "certs")
    r = h.run_binary(["--root", root, "--certs", certs, "--hostname",
                      "../evil", "--gemini", "127.0.0.1:0"])
    check(r.returncode != 0 and b"not a valid host name" in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr[-300:]))
    check(not os.path.exists(os.path.join(base, "evil.key")),
          "a key was written outside the certs folder")
    check(not os.path.exists(certs) or not os.listdir(certs),
          "files in the certs folder")


@test("certificate present, key missing: says so and writes nothing")
def _(c):
    base = os.path.join(c.tmp, "nokey")
    root = capsule(os.path.join(base, "root"), "K")
    certs = os.path.join(base, "certs")
    argv = ["--root", root, "--certs", certs, "--gemini", "127.0.0.1:0"]
    srv = h.Server(root, certs, [(HOST, 0)], workdir=os.path.join(
        base, "srv"))
    os.makedirs(srv.workdir)
    srv.start()
    srv.stop()
    key = os.path.join(certs, "localhost.key")
    os.unlink(key)
    r = h.run_binary(argv)
    check(r.returncode != 0 and b"key is missing" in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr[-300:]))
    check(not os.path.exists(key), "a new key was written")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@test("an RSA-1024 certificate: 'too small', not 'do not fit together'")
def _(c):
    base = os.path.join(c.tmp, "rsa")
    root = capsule(os.path.join(base, "root"), "R")
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    key = os.path.join(certs, "localhost.key")
    crt = os.path.join(certs, "localhost.crt")
    openssl("req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key,
            "-out", crt, "-days", "30", "-subj", "/CN=localhost")
    r = h.run_binary(["--root", root, "--certs", certs, "--gemini",
                      "127.0.0.1:0"])
    check(r.returncode != 0 and b"too small" in r.stderr and
          b"do not fit" not in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr[-300:]))


@test("a certificate file with its intermediate: the client gets both")
def _(c):
    # kapsula sends the chain the file holds and builds none itself
    # (SSL_MODE_NO_AUTO_CHAIN): a client that trusts only the root
    # verifies the leaf through the intermediate kapsula sent.
    base = os.path.join(c.tmp, "chain")
    root = capsule(os.path.join(base, "root"), "C")
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    p = lambda n: os.path.join(base, n)
    ext = p("ext.cnf")
    write(ext, "[req]\ndistinguished_name = dn\n[dn]\n"
          "[ca]\nbasicConstraints = critical,CA:TRUE\n"
          "keyUsage = critical,keyCertSign,cRLSign\n"
          "[leaf]\nbasicConstraints = CA:FALSE\n"
          "subjectAltName = DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("root.key"),
            "-out", p("root.crt"), "-days", "30", "-subj", "/CN=Test Root",
            "-extensions", "ca", "-config", ext)
    for name, subj, signer, section in (
            ("mid", "/CN=Test Intermediate", "root", "ca"),
            ("leaf", "/CN=localhost", "mid", "leaf")):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                p(name + ".key"), "-out", p(name + ".csr"), "-subj", subj,
                "-config", ext)
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA",
                p(signer + ".crt"), "-CAkey", p(signer + ".key"),
                "-CAcreateserial", "-days", "30", "-out", p(name + ".crt"),
                "-extfile", ext, "-extensions", section)
    with open(os.path.join(certs, "localhost.crt"), "wb") as f:
        for name in ("leaf", "mid"):
            with open(p(name + ".crt"), "rb") as g:
                f.write(g.read())
    shutil.copy(p("leaf.key"), os.path.join(certs, "localhost.key"))
    srv = h.Server(root, certs, [(HOST, 0)], workdir=p("srv"))
    os.makedirs(srv.workdir)
    srv.start()
    try:
        port = srv.port
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(p("root.crt"))
        with socket.create_connection((HOST, port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(("gemini://localhost:%d/\r\n" % port).encode())
                head = s.recv(64)
        check(head.startswith(b"20 "), "reply %r" % head)
    finally:
        srv.stop()


# ---------------------------------------------------------------- SNI


@test("two capsules on one Gemini address: SNI picks each certificate")
def _(c):
    conf, certs = two_capsules(c, "sni")
    srv = start(c, conf, "sni", 3)
    try:
        gem = srv.ports("gemini")
        check(len(set(gem)) == 1, "want one shared Gemini port: %r" % gem)
        port = gem[0]
        fa = h.fingerprint(h.pem_to_der(os.path.join(certs, "a.test.crt")))
        fb = h.fingerprint(h.pem_to_der(os.path.join(certs, "b.test.crt")))
        check(fa != fb, "both capsules have one certificate")
        ra = h.gemini(port, b"gemini://a.test:%d/\r\n" % port, sni="a.test")
        rb = h.gemini(port, b"gemini://b.test:%d/\r\n" % port, sni="b.test")
        check(ra.status == "20" and b"# Alpha" in ra.body, ra.describe())
        check(rb.status == "20" and b"# Beta" in rb.body, rb.describe())
        check(cert_of(ra) == fa, "a.test got another certificate")
        check(cert_of(rb) == fb, "b.test got another certificate")
        rw = h.gemini(port, b"gemini://www.a.test:%d/\r\n" % port,
                      sni="WWW.A.TEST.")
        check(rw.status == "20" and b"# Alpha" in rw.body and
              cert_of(rw) == fa, "alias: %s" % rw.describe())
        # No SNI: the first capsule in the file.
        r0 = h.gemini(port, b"gemini://a.test:%d/\r\n" % port, sni=None)
        check(r0.status == "20" and cert_of(r0) == fa, r0.describe())
        # The host must be one of the chosen capsule's names.
        rx = h.gemini(port, b"gemini://b.test:%d/\r\n" % port, sni="a.test")
        check(rx.status == "53", "b.test over a.test's TLS: %s" %
              rx.describe())
        ru = h.gemini(port, b"gemini://c.test:%d/\r\n" % port, sni="c.test")
        check(ru.status == "53" and cert_of(ru) == fa, ru.describe())
        # Each capsule has its Gopher port, and its pin is announced.
        ga, gb = srv.ports("gopher")
        check(b"Alpha" in h.gopher(ga, b"/\r\n") and
              b"Beta" in h.gopher(gb, b"/\r\n", host="127.0.0.2"),
              "Gopher ports mixed up")
        err = srv.stderr().decode()
        check(err.count("public key SHA-256") == 2, "pins not announced: " +
              err[-500:])
    finally:
        srv.stop()


@test("IDN capsule: certificate has the A-label, requests in either form")
def _(c):
    base = os.path.join(c.tmp, "idn")
    root = capsule(os.path.join(base, "root"), "Пример")
    certs = os.path.join(base, "certs")
    srv = h.Server(root, certs, [(HOST, 0)], hostname="пример.рф",
                   workdir=os.path.join(base, "srv"))
    os.makedirs(srv.workdir)
    srv.start()
    try:
        port = srv.port
        crt = os.path.join(certs, "xn--e1afmkfd.xn--p1ai.crt")
        check(os.path.exists(crt), "no %s: %r" % (crt, os.listdir(certs)))
        check("DNS:xn--e1afmkfd.xn--p1ai" in h.cert_text(crt),
              "SAN lacks the A-label")
        for host in (b"xn--e1afmkfd.xn--p1ai", "пример.рф".encode()):
            r = h.gemini(port, b"gemini://" + host + b":%d/\r\n" % port,
                         sni="xn--e1afmkfd.xn--p1ai")
            check(r.status == "20", "%r: %s" % (host, r.describe()))
    finally:
        srv.stop()


@test("public-port: gemini://name/ works behind a 1965 redirect")
def _(c):
    conf, _ = two_capsules(c, "pub", extra_a="public-port = 1965")
    srv = start(c, conf, "pub", 3)
    try:
        port = srv.ports("gemini")[0]
        r = h.gemini(port, b"gemini://a.test/\r\n", sni="a.test")
        check(r.status == "20", "no port (1965): %s" % r.describe())
        r = h.gemini(port, b"gemini://a.test:%d/\r\n" % port, sni="a.test")
        check(r.status == "53", "listener port: %s" % r.describe())
        r = h.gemini(port, b"gemini://b.test:%d/\r\n" % port, sni="b.test")
        check(r.status == "20", "b.test keeps its own port: %s" %
              r.describe())
    finally:
        srv.stop()


# ---------------------------------------------------------------- logs


def log_lines(srv):
    return srv.stdout().decode("utf-8", "replace").splitlines()


@test("log-ip off, truncated and full; the capsule is named")
def _(c):
    for mode, want in (("off", None), ("truncated", "127.0.0.0/24"),
                       ("full", "127.0.0.1")):
        conf, _ = two_capsules(c, "ip-" + mode,
                               extra_server="log-ip = " + mode)
        srv = start(c, conf, "ip-" + mode, 3)
        try:
            port = srv.ports("gemini")[0]
            h.gemini(port, b"gemini://b.test:%d/en/\r\n" % port,
                     sni="b.test")
            check(poll(lambda: any("/en/" in ln for ln in log_lines(srv)),
                       5), "no access-log line")
        finally:
            srv.stop()
        line = [ln for ln in log_lines(srv) if "/en/" in ln][0]
        f = line.split()
        if want is None:
            check(f[1] == "b.test" and "127.0.0" not in line,
                  "log-ip off: %r" % line)
        else:
            check(f[1] == want and f[2] == "b.test", "log-ip %s: %r" % (
                mode, line))


@test("access log escapes C1 controls and bidi overrides")
def _(c):
    conf, _ = two_capsules(c, "c1")
    srv = start(c, conf, "c1", 3)
    try:
        port = srv.ports("gemini")[0]
        h.gemini(port, b"gemini://a.test:%d/x%%C2%%9By%%E2%%80%%AEz\r\n" %
                 port, sni="a.test")
        check(poll(lambda: "51" in srv.stdout().decode("utf-8", "replace"),
                   5), "no log line")
    finally:
        srv.stop()
    out = srv.stdout()
    check(b"\xc2\x9b" not in out and b"\xe2\x80\xae" not in out,
          "raw C1/bidi bytes in the log: %r" % out[-200:])
    check(b"\\xc2\\x9b" in out and b"\\xe2\\x80\\xae" in out,
          "not escaped: %r" % out[-200:])


@test("a reply cut short is logged as bytes sent/bytes due")
def _(c):
    big = os.urandom(24 * 1024 * 1024)  # more than the socket buffers
    conf, _ = two_capsules(c, "cut")
    write(os.path.join(c.tmp, "cut", "a", "big.bin"), big)
    srv = start(c, conf, "cut", 3)
    try:
        gport = srv.ports("gopher")[0]
        s = socket.create_connection((HOST, gport), timeout=5)
        s.sendall(b"/big.bin\r\n")
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST: the rest cannot be sent

        def cut():
            return [ln for ln in log_lines(srv) if "/big.bin" in ln]
        check(poll(cut, 10), "no log line for the cut reply")
        m = re.search(r" (\d+)/(\d+) /big.bin$", cut()[0])
        check(m and int(m.group(1)) < int(m.group(2)) == len(big),
              "log line %r" % cut()[0])
    finally:
        srv.stop()


@test("failed handshakes are logged with a reason; silent closes are not")
def _(c):
    conf, _ = two_capsules(c, "edge")
    srv = start(c, conf, "edge", 3)
    try:
        port = srv.ports("gemini")[0]
        for _ in range(3):
            socket.create_connection((HOST, port), timeout=5).close()
        s = socket.create_connection((HOST, port), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            s.recv(100)  # a TLS alert, or a reset
        except OSError:
            pass
        s.close()
        check(poll(lambda: b"TLS handshake failed" in srv.stderr(), 5),
              "no handshake failure logged: %s" % srv.stderr_tail())
    finally:
        srv.stop()
    lines = [ln for ln in srv.stderr().splitlines()
             if b"handshake" in ln or b"timed out" in ln]
    check(len(lines) == 1, "want one line (the HTTP client), got %r" % lines)


# ---------------------------------------------------------------- reload


def fetch_ok(port, host):
    try:
        r = h.gemini(port, b"gemini://%s:%d/\r\n" % (host.encode(), port),
                     sni=host, timeout=10)
        return r.status == "20", r.describe()
    except (OSError, ssl.SSLError) as e:
        return False, repr(e)


@test("SIGHUP adds a capsule while 50 clients fetch: no request fails")
def _(c):
    conf, _ = two_capsules(c, "hup")
    srv = start(c, conf, "hup", 3)
    try:
        port = srv.ports("gemini")[0]
        capsule(os.path.join(c.tmp, "hup", "c"), "Gamma")
        with open(conf, "a") as f:
            f.write("\n[capsule c.test]\nroot = %s\ngemini = %s:%d\n" % (
                os.path.join(c.tmp, "hup", "c"), HOST, port))
        stop = threading.Event()
        fails = []
        count = [0]

        def client(i):
            host = "a.test" if i % 2 else "b.test"
            while not stop.is_set():
                ok, why = fetch_ok(port, host)
                count[0] += 1
                if not ok:
                    fails.append(why)
        with concurrent.futures.ThreadPoolExecutor(50) as ex:
            futs = [ex.submit(client, i) for i in range(50)]
            time.sleep(0.5)
            srv.proc.send_signal(signal.SIGHUP)
            reloaded = poll(lambda: b"reloaded" in srv.stderr(), 15)
            time.sleep(0.5)
            stop.set()
            for f in futs:
                f.result(timeout=30)
        check(reloaded, "no reload: %s" % srv.stderr_tail())
        check(not fails, "%d of %d requests failed: %r" % (
            len(fails), count[0], fails[:3]))
        r = h.gemini(port, b"gemini://c.test:%d/\r\n" % port, sni="c.test")
        check(r.status == "20" and b"Gamma" in r.body, "new capsule: %s" %
              r.describe())
    finally:
        srv.stop()


@test("a reload with a broken file keeps serving and names the line")
def _(c):
    conf, _ = two_capsules(c, "badhup")
    srv = start(c, conf, "badhup", 3)
    try:
        port = srv.ports("gemini")[0]
        with open(conf, "a") as f:
            f.write("\nbogus-key = 1\n")
        before = len(srv.stderr())
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reload failed" in srv.stderr()[before:], 10),
              "no 'reload failed': %s" % srv.stderr_tail())
        err = srv.stderr()[before:].decode()
        check(re.search(r"%s:\d+: .*bogus-key" % re.escape(conf), err),
              "no FILE:LINE: %s" % err)
        ok, why = fetch_ok(port, "a.test")
        check(ok, "not serving after a failed reload: %s" % why)
        check(srv.alive(), "died")
    finally:
        srv.stop()


@test("a request in flight keeps its tree across SIGHUP")
def _(c):
    conf, _ = two_capsules(c, "flight")
    big_old = b"O" * (24 * 1024 * 1024)  # more than the socket buffers
    path = os.path.join(c.tmp, "flight", "a", "big.txt")
    write(path, big_old)
    srv = start(c, conf, "flight", 3)
    try:
        gport = srv.ports("gopher")[0]
        s = socket.create_connection((HOST, gport), timeout=10)
        s.sendall(b"/big.txt\r\n")
        got = s.recv(4096)
        write(path, b"N" * 1000)
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reloaded" in srv.stderr(), 10), "no reload")
        new = h.gopher(gport, b"/big.txt\r\n")
        check(new == b"N" * 1000, "after reload: %r" % bytes(new)[:40])
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        s.close()
        check(got == big_old, "in-flight reply: %d bytes, old tree intact: "
              "%s" % (len(got), got == big_old[:len(got)]))
    finally:
        srv.stop()


@test("a SIGHUP during the first load waits for it, then reloads")
def _(c):
    base = os.path.join(c.tmp, "early")
    root = capsule(os.path.join(base, "root"), "Early")
    # Big enough for a load of well over 0.15 s: 4,000 pages of 900 bytes
    # once were, until the index was built beside the rendering.
    for i in range(4000):
        write(os.path.join(root, "p", "%02d" % (i % 40), "%d.gmi" % i),
              "# Page %d\n\n%s\n" % (i, "Some words to render. " * 320))
    srv = h.Server(root, os.path.join(base, "certs"), [(HOST, 0)],
                   workdir=os.path.join(base, "srv"))
    os.makedirs(srv.workdir)
    out = open(srv.stdout_path, "wb")
    err = open(srv.stderr_path, "wb")
    srv.proc = subprocess.Popen(srv.argv, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
    h._started.append(srv)
    out.close()
    err.close()
    try:
        time.sleep(0.15)
        early = b"listener" not in srv.stderr()
        srv.proc.send_signal(signal.SIGHUP)
        check(early, "the tree loaded before the signal: test too small")
        check(poll(lambda: b"reloaded" in srv.stderr(), 30),
              "no reload after the first load: alive %s, %s" % (
                  srv.alive(), srv.stderr_tail()))
        check(srv.alive(), "died: %s" % srv.returncode)
        port = srv.bound_ports()[0][2]
        r = h.gemini(port, h.req(port, "/p/07/7.gmi"))
        check(r.status == "20", r.describe())
    finally:
        srv.stop()


# ---------------------------------------------------------------- workers


@test("workers = 2: both serve, a killed one is replaced, lines whole")
def _(c):
    conf, _ = two_capsules(c, "wk")
    srv = start(c, conf, "wk", 3)
    try:
        port = srv.ports("gemini")[0]
        gport = srv.ports("gopher")[0]
        pids = both_workers(srv)
        check(pids, "workers: %r" % workers(srv.proc.pid))

        def syscw(pid):
            with open("/proc/%d/io" % pid) as f:
                return int(re.search(r"syscw: (\d+)", f.read()).group(1))
        w0 = {p: syscw(p) for p in pids}
        long_path = b"/" + b"x" * 200
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            list(ex.map(lambda i: h.gopher(gport, long_path + b"%d\r\n" % i),
                        range(400)))
        busy = [p for p in pids if syscw(p) > w0[p] + 20]
        check(len(busy) == 2, "only %d of 2 workers served" % len(busy))
        # A line is written when the server closes its end, after a short
        # drain: the last ones may follow the client's last read.
        poll(lambda: sum("xxxx" in ln for ln in log_lines(srv)) >= 400, 5)
        lines = [ln for ln in log_lines(srv) if "xxxx" in ln]
        pat = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ a\.test gopher "
                         r"51 \d+ /x{200}\d+$")
        bad = [ln[:80] for ln in lines if not pat.match(ln)]
        check(len(lines) == 400 and not bad, "%d lines, broken: %r" % (
            len(lines), bad[:2]))
        os.kill(pids[0], signal.SIGKILL)
        new = poll(lambda: len(workers(srv.proc.pid)) == 2 and
                   pids[0] not in workers(srv.proc.pid), 5)
        check(new, "worker not replaced: %r" % workers(srv.proc.pid))
        for _ in range(10):
            ok, why = fetch_ok(port, "a.test")
            check(ok, why)
    finally:
        srv.stop()


# ---------------------------------------------------------------- sandbox


@test("as root: workers drop to nobody, chroot, no_new_privs, seccomp")
def _(c):
    if os.geteuid() != 0:
        h.skip("needs root (the drop starts from root)")
    conf, _ = two_capsules(c, "sbx")
    srv = start(c, conf, "sbx", 3)
    try:
        def check_workers():
            pids = both_workers(srv)
            check(pids, "workers: %r" % workers(srv.proc.pid))
            parent = status_of(srv.proc.pid)

            # Just forked, a worker is root until it drops, and sets
            # no_new_privs a few steps before its seccomp filter: wait
            # for the last step, not the first (a CI run read between).
            def sealed(q):
                st = status_of(q)
                return (st["NoNewPrivs"] == "1" and
                        int(st["Seccomp_filters"]) >
                        int(parent["Seccomp_filters"]))
            poll(lambda: all(sealed(q) for q in pids), 5)
            for pid in pids:
                st = status_of(pid)
                check(st["Uid"].split() == ["65534"] * 4,
                      "worker uid %s" % st["Uid"])
                check(st["Gid"].split()[0] != "0", "gid %s" % st["Gid"])
                check(st["NoNewPrivs"] == "1", "NoNewPrivs %s" %
                      st["NoNewPrivs"])
                check(int(st["Seccomp_filters"]) >
                      int(parent["Seccomp_filters"]),
                      "Seccomp_filters %s, parent %s" % (
                          st["Seccomp_filters"], parent["Seccomp_filters"]))
                check(os.readlink("/proc/%d/root" % pid) != "/",
                      "worker is not in a chroot")
            return pids
        old = check_workers()
        port = srv.ports("gemini")[0]
        ok, why = fetch_ok(port, "b.test")
        check(ok, why)
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reloaded" in srv.stderr(), 10), "no reload")
        check(poll(lambda: not set(old) & set(workers(srv.proc.pid)), 10),
              "old workers still there")
        check_workers()
        ok, why = fetch_ok(port, "a.test")
        check(ok, why)
        check(b"killed by signal" not in srv.stderr(),
              "a worker died: %s" % srv.stderr_tail())
    finally:
        srv.stop()


# ---------------------------------------------------------------- review


@test("a failed reload leaves the served user and sandbox in force")
def _(c):
    if os.geteuid() != 0:
        h.skip("needs root (the drop starts from root)")
    conf, _ = two_capsules(c, "keepra")
    srv = start(c, conf, "keepra", 3)
    try:
        text = open(conf).read().replace("[server]\n",
                                         "[server]\nsandbox = off\n")
        write(conf, text.replace("root = " + os.path.join(c.tmp, "keepra",
                                                           "b"),
                                 "root = /nonexistent-kapsula-root"))
        before = len(srv.stderr())
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reload failed" in srv.stderr()[before:], 10),
              "the reload did not fail: %s" % srv.stderr_tail())
        pids = both_workers(srv)
        os.kill(pids[0], signal.SIGKILL)
        new = poll(lambda: [p for p in workers(srv.proc.pid)
                            if p not in pids], 5)
        check(new, "no replacement worker")

        # A worker just forked is still root until it drops: wait for it
        # to be ready (it serves), then read what it became.
        def ready():
            st = status_of(new[0])
            return st["NoNewPrivs"] == "1" and st
        st = poll(ready, 3) or status_of(new[0])
        check(st["Uid"].split()[0] == "65534" and st["NoNewPrivs"] == "1",
              "the replacement runs as %s, NoNewPrivs %s" % (
                  st["Uid"], st["NoNewPrivs"]))
    finally:
        srv.stop()


@test("a reload to fewer workers and another Gopher port drops no one")
def _(c):
    conf, _ = two_capsules(c, "shrink")
    srv = start(c, conf, "shrink", 3)
    try:
        old = srv.ports("gopher")[0]
        text = open(conf).read().replace("workers = 2", "workers = 1")
        write(conf, text.replace("gopher = 127.0.0.1:0",
                                 "gopher = 127.0.0.3:0"))
        before = len(srv.stderr())
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reloaded" in srv.stderr()[before:], 10),
              "no reload: %s" % srv.stderr_tail())
        port = srv.ports("gemini")[0]
        check(poll(lambda: len(workers(srv.proc.pid)) == 1, 10),
              "workers: %r" % workers(srv.proc.pid))
        for _ in range(30):
            ok, why = fetch_ok(port, "a.test")
            check(ok, "after the reload: %s" % why)
        try:
            socket.create_connection((HOST, old), timeout=2).close()
            gone = False
        except OSError:
            gone = True
        check(gone, "the Gopher address removed by the reload still "
              "accepts connections")
    finally:
        srv.stop()


@test("SIGTERM during a reload's drain: exits 0 within the stop grace")
def _(c):
    conf, _ = two_capsules(c, "termdrain")
    write(os.path.join(c.tmp, "termdrain", "a", "big.bin"),
          b"B" * (24 * 1024 * 1024))
    srv = start(c, conf, "termdrain", 3)
    try:
        gport = srv.ports("gopher")[0]
        s = socket.create_connection((HOST, gport), timeout=30)
        s.sendall(b"/big.bin\r\n")
        s.recv(1000)  # then stall: the reply stays in flight
        srv.proc.send_signal(signal.SIGHUP)
        check(poll(lambda: b"reloaded" in srv.stderr(), 10), "no reload")
        # The stalled reply gets the 10 s stop grace, not the 60 s drain,
        # and the parent then exits 0: it kills no one but its workers.
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        s.close()
        check(rc == 0 and took < 15, "exit %r after %.1f s" % (rc, took))
    finally:
        srv.stop()


@test("a second server on a port we hold is refused, not shared")
def _(c):
    conf, _ = two_capsules(c, "second")
    srv = start(c, conf, "second", 3)
    try:
        port = srv.ports("gemini")[0]
        root = capsule(os.path.join(c.tmp, "second", "x"), "X")
        r = h.run_binary(["--root", root, "--certs", os.path.join(
            c.tmp, "second", "xcerts"), "--gemini", "127.0.0.1:%d" % port])
        check(r.returncode != 0 and b"another server holds it" in r.stderr,
              "exit %d: %r" % (r.returncode, r.stderr[-300:]))
    finally:
        srv.stop()


@test("-n checks that each address can be bound here")
def _(c):
    conf, _ = two_capsules(c, "naddr")
    # TEST-NET-1: no machine has it; only a bind is tried, nothing is sent.
    write(conf, open(conf).read().replace("gopher = 127.0.0.2:0",
                                          "gopher = 192.0.2.1:7070"))
    r = check_only(conf)
    check(r.returncode == 1 and b"192.0.2.1:7070" in r.stderr and
          b"no such address" in r.stderr,
          "exit %d: %r" % (r.returncode, r.stderr[-300:]))


@test("systemd readiness: READY=1 after the load, RELOADING=1 around a reload")
def _(c):
    conf, _ = two_capsules(c, "notify")
    path = os.path.join(c.tmp, "notify", "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        srv = start(c, conf, "notify", 3)
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        msg = sock.recv(256)
        check(msg == b"READY=1", "first message %r" % msg)
        check(b"listener" in srv.stderr(), "READY=1 before the load ended")
        srv.proc.send_signal(signal.SIGHUP)
        got = [sock.recv(256), sock.recv(256)]
        check(got == [b"RELOADING=1", b"READY=1"], "around a reload: %r" %
              got)
        check(b"reloaded" in srv.stderr(), "READY=1 before the reload ended")
    finally:
        srv.stop()
        sock.close()


@test("-n warns when a given certificate does not cover the capsule's names")
def _(c):
    conf, _ = two_capsules(c, "nwarn")
    d = os.path.join(c.tmp, "nwarn", "own")
    os.makedirs(d)
    key, crt = os.path.join(d, "a.key"), os.path.join(d, "a.crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
            "-days", "30", "-subj", "/CN=other.test",
            "-addext", "subjectAltName=DNS:other.test,DNS:a.test")
    text = open(conf).read().replace(
        "aliases = www.a.test\n",
        "aliases = www.a.test\ncert = %s\nkey = %s\n" % (crt, key))
    write(conf, text)
    r = check_only(conf)
    err = r.stderr.decode()
    check(r.returncode == 0 and "configuration OK" in r.stdout.decode(),
          "exit %d: %s" % (r.returncode, err))
    check(re.search(r"^%s:\d+: warning: %s does not cover the name "
                    r"www\.a\.test$" % (re.escape(conf), re.escape(crt)),
                    err, re.M), "no warning for www.a.test: %s" % err)
    check("name a.test" not in err, "a.test is covered: %s" % err)


if __name__ == "__main__":
    h.run(setup)
