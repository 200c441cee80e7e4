"""End-to-end Gemini tests: the real kapsula binary on loopback.

One shared server on 127.0.0.1 (and ::1 when present) serves a tree built by
harness.make_tree(); tests that need restarts or their own log start their
own servers. Run: KAPSULA=$PWD/build/kapsula python3 tests/e2e/test_gemini.py
"""

import contextlib
import warnings
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, test  # noqa: E402

DEADLINE = 2  # --timeout given to every server here
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Ctx:
    pass


@contextlib.contextmanager
def setup():
    tmp = tempfile.mkdtemp(prefix="kapsula-e2e-gemini-")
    try:
        c = Ctx()
        c.tmp = tmp
        c.tree = h.make_tree(os.path.join(tmp, "tree"))
        c.certs = os.path.join(tmp, "certs")  # does not exist yet
        # Port 0: the server binds free ports and announces them.
        listen = [("127.0.0.1", 0)]
        c.port6 = None
        if h.has_ipv6():
            listen.append(("::1", 0))
        c.srv = h.Server(c.tree.root, c.certs, listen, timeout=DEADLINE,
                         workdir=os.path.join(tmp, "srv"))
        os.makedirs(c.srv.workdir)
        c.srv.start()
        c.port = c.srv.listen[0][1]
        if h.has_ipv6():
            c.port6 = c.srv.listen[1][1]
        yield c
    finally:
        with contextlib.suppress(Exception):
            c.srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def get(c, path, **kw):
    return h.gemini(c.port, h.req(c.port, path), **kw)


def raw(c, line, **kw):
    """Send exactly `line` (bytes, CRLF included by the caller)."""
    return h.gemini(c.port, line, **kw)


def expect(r, status, what=""):
    check(r.status == status, "%sexpected %s, got %s" % (
        what + ": " if what else "", status, r.describe()))
    return r


def expect_20(c, path, meta, body_key=None):
    r = expect(get(c, path), "20", path)
    check(r.meta == meta, "%s: META %r, expected %r" % (path, r.meta, meta))
    want = c.tree.files[body_key or path]
    check(r.body == want, "%s: body differs from the file (%d bytes vs %d)"
          % (path, len(r.body), len(want)))
    return r


def new_server(c, name, certs=None, extra=(), listen=None):
    """A second server of our own (own workdir, own port)."""
    work = os.path.join(c.tmp, name)
    os.makedirs(work, exist_ok=True)
    srv = h.Server(c.tree.root, certs or os.path.join(work, "certs"),
                   listen or [("127.0.0.1", 0)], timeout=DEADLINE,
                   extra=extra, workdir=work)
    return srv


# ---------------------------------------------------------------- CLI


@test("cli --help prints usage on stdout and exits 0")
def _(c):
    p = h.run_binary(["--help"])
    check(p.returncode == 0, "exit %d" % p.returncode)
    out = p.stdout.decode(errors="replace")
    check("--root" in out and "--gemini" in out,
          "stdout lacks the options: %r" % out[:200])


@test("cli --version prints to stdout and exits 0")
def _(c):
    p = h.run_binary(["--version"])
    check(p.returncode == 0, "exit %d" % p.returncode)
    out = p.stdout.decode(errors="replace")
    check(re.search(r"kapsula", out, re.I) and re.search(r"\d", out),
          "stdout %r names no program and version" % out[:200])


@test("cli unknown flag exits 2 with usage on stderr")
def _(c):
    p = h.run_binary(["--no-such-flag"])
    check(p.returncode == 2, "exit %d, expected 2" % p.returncode)
    err = p.stderr.decode(errors="replace")
    check(re.search(r"usage", err, re.I), "stderr has no usage: %r" % err[:200])


# ---------------------------------------------------------------- certificates


@test("cert created on first start: localhost.crt + localhost.key mode 0600")
def _(c):
    crt = os.path.join(c.certs, "localhost.crt")
    key = os.path.join(c.certs, "localhost.key")
    check(os.path.isfile(crt), "%s missing" % crt)
    check(os.path.isfile(key), "%s missing" % key)
    mode = stat.S_IMODE(os.stat(key).st_mode)
    check(mode == 0o600, "key mode %o, expected 600" % mode)


@test("cert is ECDSA P-256 with SAN DNS:localhost, IP:127.0.0.1, IP:::1")
def _(c):
    text = h.cert_text(os.path.join(c.certs, "localhost.crt"))
    check("id-ecPublicKey" in text, "public key is not EC")
    check(re.search(r"prime256v1|P-256", text), "curve is not P-256")
    san = re.search(r"Subject Alternative Name:.*?\n\s*(.*)\n", text)
    check(san, "no subjectAltName")
    names = [n.strip() for n in san.group(1).split(",")]
    check("DNS:localhost" in names, "SAN %r lacks DNS:localhost" % names)
    check("IP Address:127.0.0.1" in names, "SAN %r lacks IP 127.0.0.1" % names)
    check(any(re.fullmatch(r"IP Address:(0:0:0:0:0:0:0:1|::1)", n)
              for n in names), "SAN %r lacks IP ::1" % names)


def _suite(c, offer):
    """The TLS 1.3 suite openssl s_client ends up with, offering these."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % c.port,
         "-servername", "localhost", "-tls1_3", "-ciphersuites", offer,
         "-ign_eof"],
        input=b"gemini://localhost/\r\n", stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=15)
    m = re.search(rb"Cipher is (\S+)", p.stdout)
    return m.group(1).decode() if m else p.stdout[-200:]


@test("tls 1.3 suites: AES-128-GCM first, ChaCha20 to who lists it first")
def _(c):
    every = ("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
             "TLS_AES_128_GCM_SHA256")
    got = _suite(c, every)
    check(got == "TLS_AES_128_GCM_SHA256", "offered all: %s" % got)
    got = _suite(c, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256")
    check(got == "TLS_CHACHA20_POLY1305_SHA256", "ChaCha20 first: %s" % got)
    got = _suite(c, "TLS_AES_256_GCM_SHA384")
    check(got == "TLS_AES_256_GCM_SHA384", "AES-256 only: %s" % got)


@test("cert presented by the server is the one in --certs")
def _(c):
    r = get(c, "/")
    want = h.pem_to_der(os.path.join(c.certs, "localhost.crt"))
    check(r.cert_der == want, "peer certificate differs from localhost.crt")


@test("cert reused after restart: same fingerprint, key bytes unchanged")
def _(c):
    srv = new_server(c, "restart")
    srv.start()
    try:
        fp1 = h.fingerprint(h.gemini(srv.port, h.req(srv.port)).cert_der)
        key_path = os.path.join(srv.certs, "localhost.key")
        crt_path = os.path.join(srv.certs, "localhost.crt")
        with open(key_path, "rb") as f:
            key1 = f.read()
        with open(crt_path, "rb") as f:
            crt1 = f.read()
    finally:
        rc = srv.stop()
    check(rc == 0 and not srv.killed, "first server exit %s%s" % (
        rc, " (needed SIGKILL)" if srv.killed else ""))
    srv2 = new_server(c, "restart", certs=srv.certs)
    srv2.start()
    try:
        fp2 = h.fingerprint(h.gemini(srv2.port, h.req(srv2.port)).cert_der)
    finally:
        srv2.stop()
    with open(key_path, "rb") as f:
        check(f.read() == key1, "key file rewritten on restart")
    with open(crt_path, "rb") as f:
        check(f.read() == crt1, "certificate file rewritten on restart")
    check(fp1 == fp2, "fingerprint changed across restart")


# ---------------------------------------------------------------- 20 replies


@test("dual-stack server (127.0.0.1 + ::1 listeners) answers 20 on both")
def _(c):
    if not c.port6:
        h.skip("no ::1 here (or KAPSULA_TEST_NO_IPV6 set)")
    r4 = get(c, "/")
    r6 = h.gemini(c.port6, h.req(c.port6), host="::1")
    expect(r4, "20", "127.0.0.1")
    expect(r6, "20", "::1")


@test("20 root / of a capsule with en/ and ru/ is lang=en,ru, exact body")
def _(c):
    expect_20(c, "/", "text/gemini; charset=utf-8; lang=en,ru")


@test("20 a page outside a language folder has no lang (none set)")
def _(c):
    expect_20(c, "/other/page.gmi", "text/gemini; charset=utf-8")


@test("20 reply header: two digits, one space, META, CRLF")
def _(c):
    r = get(c, "/")
    check(re.fullmatch(rb"20 [^ \r\n][^\r\n]*", r.header),
          "header %r" % r.header)
    check(r.has_crlf, "header not ended by CRLF")
    check(not r.meta.rstrip().endswith(";"), "META ends with ';'")


@test("20 /en/page.gmi is text/gemini; charset=utf-8; lang=en")
def _(c):
    expect_20(c, "/en/page.gmi", "text/gemini; charset=utf-8; lang=en")


@test("20 /en/ serves en/index.gmi with lang=en")
def _(c):
    expect_20(c, "/en/", "text/gemini; charset=utf-8; lang=en")


@test("20 /ru/page.gmi is text/gemini; charset=utf-8; lang=ru")
def _(c):
    expect_20(c, "/ru/page.gmi", "text/gemini; charset=utf-8; lang=ru")


@test("20 /ru/ serves ru/index.gmi with lang=ru")
def _(c):
    expect_20(c, "/ru/", "text/gemini; charset=utf-8; lang=ru")


@test("20 /other/page.gmi has no lang")
def _(c):
    expect_20(c, "/other/page.gmi", "text/gemini; charset=utf-8")


@test("20 .txt at the root is text/plain; charset=utf-8")
def _(c):
    expect_20(c, "/robots.txt", "text/plain; charset=utf-8")


@test("20 .txt under other/ is text/plain; charset=utf-8 without lang")
def _(c):
    expect_20(c, "/other/notes.txt", "text/plain; charset=utf-8")


@test("20 .txt under en/ is text/plain; charset=utf-8; lang=en")
def _(c):
    expect_20(c, "/en/notes.txt", "text/plain; charset=utf-8; lang=en")


@test("20 .txt under ru/ is text/plain; charset=utf-8; lang=ru")
def _(c):
    expect_20(c, "/ru/notes.txt", "text/plain; charset=utf-8; lang=ru")


@test("20 .png is image/png with the exact bytes")
def _(c):
    expect_20(c, "/image.png", "image/png")


@test("20 unknown extension is application/octet-stream")
def _(c):
    expect_20(c, "/data.zzqx", "application/octet-stream")


@test("20 GEMINI://LOCALHOST:PORT/ (scheme and host case-insensitive)")
def _(c):
    r = raw(c, b"GEMINI://LOCALHOST:%d/\r\n" % c.port)
    expect(r, "20")
    check(r.body == c.tree.files["/"], "body is not the root index")


@test("20 empty path gemini://localhost:PORT served as / without redirect")
def _(c):
    r = raw(c, b"gemini://localhost:%d\r\n" % c.port)
    expect(r, "20")
    check(r.body == c.tree.files["/"], "body is not the root index")


@test("20 IP literal gemini://127.0.0.1:PORT/ without SNI")
def _(c):
    r = h.gemini(c.port, h.req(c.port, "/", host="127.0.0.1"), sni=None)
    expect(r, "20")
    check(r.body == c.tree.files["/"], "body is not the root index")


@test("20 on the ::1 listener with SNI localhost")
def _(c):
    if not c.port6:
        h.skip("no ::1 here (or KAPSULA_TEST_NO_IPV6 set)")
    r = h.gemini(c.port6, h.req(c.port6), host="::1")
    expect(r, "20")
    check(r.body == c.tree.files["/"], "body is not the root index")


@test("20 IP literal gemini://[::1]:PORT2/ without SNI on the ::1 listener")
def _(c):
    if not c.port6:
        h.skip("no ::1 here (or KAPSULA_TEST_NO_IPV6 set)")
    r = h.gemini(c.port6, h.req(c.port6, "/", host="::1"), host="::1",
                 sni=None)
    expect(r, "20")


@test("20 request split over 3 TLS records (0.1 s apart)")
def _(c):
    line = h.req(c.port, "/en/page.gmi")
    parts = [line[:7], line[7:20], line[20:]]
    r = h.gemini(c.port, None, chunks=parts, chunk_delay=0.1)
    expect(r, "20")
    check(r.body == c.tree.files["/en/page.gmi"], "body differs")


# ---------------------------------------------------------------- 3x / 5x


@test("31 /en redirects to /en/")
def _(c):
    r = expect(get(c, "/en"), "31")
    meta = r.meta.strip()
    ok = meta == "/en/" or meta in (h.url(c.port, "/en/"),
                                    "gemini://localhost/en/")
    from urllib.parse import urljoin, urlsplit
    target = urlsplit(urljoin(h.url(c.port, "/en"), meta))
    ok = ok or (target.scheme == "gemini" and target.path == "/en/"
                and target.hostname == "localhost"
                and (target.port or 1965) == c.port)
    check(ok, "META %r does not resolve to /en/ on this server" % meta)
    check(r.body == b"", "31 reply has a body")


@test("51 missing file, META names the path")
def _(c):
    r = expect(get(c, "/no-such-page-51.gmi"), "51")
    check("no-such-page-51.gmi" in r.meta, "META %r lacks the path" % r.meta)
    check(r.body == b"", "51 reply has a body")


@test("51 exactly 1024 bytes before CRLF is accepted")
def _(c):
    base = h.url(c.port, "/")
    line = (base + "a" * (1024 - len(base))).encode()
    check(len(line) == 1024, "test bug: %d bytes" % len(line))
    expect(raw(c, line + b"\r\n"), "51", "1024-byte request")


def bad(c, line, what):
    r = expect(raw(c, line), "59", what)
    check(r.meta.strip(), "%s: 59 with empty META" % what)
    check(r.body == b"", "%s: 59 reply has a body" % what)


def bad_path(c, path, what):
    bad(c, h.req(c.port, path), what)


@test("59 1025 bytes before CRLF")
def _(c):
    base = h.url(c.port, "/")
    line = (base + "a" * (1025 - len(base))).encode()
    bad(c, line + b"\r\n", "1025-byte request")


@test("59 no scheme //localhost/")
def _(c):
    bad(c, b"//localhost:%d/\r\n" % c.port, "no scheme")


@test("59 relative /")
def _(c):
    bad(c, b"/\r\n", "relative")


@test("59 empty line")
def _(c):
    bad(c, b"\r\n", "empty line")


@test("59 random text 'Hello Gemini!'")
def _(c):
    bad(c, b"Hello Gemini!\r\n", "garbage")


@test("59 userinfo gemini://user@localhost/")
def _(c):
    bad(c, b"gemini://user@localhost:%d/\r\n" % c.port, "userinfo")


@test("59 fragment gemini://localhost/#x")
def _(c):
    bad(c, b"gemini://localhost:%d/#x\r\n" % c.port, "fragment")


@test("59 invalid UTF-8 byte \\xff")
def _(c):
    bad(c, b"gemini://localhost:%d/\xff\r\n" % c.port, "invalid UTF-8")


@test("59 overlong UTF-8 \\xc0\\xaf")
def _(c):
    bad(c, b"gemini://localhost:%d/\xc0\xaf\r\n" % c.port, "overlong UTF-8")


@test("59 leading BOM")
def _(c):
    bad(c, b"\xef\xbb\xbfgemini://localhost:%d/\r\n" % c.port, "BOM")


@test("59 NUL byte in the request")
def _(c):
    bad(c, b"gemini://localhost:%d/a\x00b\r\n" % c.port, "NUL")


@test("59 control byte \\x01 in the request")
def _(c):
    bad(c, b"gemini://localhost:%d/a\x01b\r\n" % c.port, "control byte")


@test("59 escape byte \\x1b in the request")
def _(c):
    bad(c, b"gemini://localhost:%d/\x1b[2J\r\n" % c.port, "ESC byte")


@test("59 percent-decoded / in a segment /a%2fb")
def _(c):
    bad_path(c, "/a%2fb", "%2f")


@test("59 percent-decoded NUL in a segment /a%00b")
def _(c):
    bad_path(c, "/a%00b", "%00")


@test("59 /../ climbs above the root")
def _(c):
    bad_path(c, "/../", "/../")


@test("59 /%2e%2e/ climbs above the root")
def _(c):
    bad_path(c, "/%2e%2e/", "/%2e%2e/")


@test("59 /en/../../x climbs above the root")
def _(c):
    bad_path(c, "/en/../../x", "/en/../../x")


def refused(c, line, what):
    r = expect(raw(c, line), "53", what)
    check(r.body == b"", "%s: 53 reply has a body" % what)


@test("53 http scheme")
def _(c):
    refused(c, b"http://localhost:%d/\r\n" % c.port, "http")


@test("53 https scheme")
def _(c):
    refused(c, b"https://localhost:%d/\r\n" % c.port, "https")


@test("53 gopher scheme")
def _(c):
    refused(c, b"gopher://localhost:%d/\r\n" % c.port, "gopher")


@test("53 another host gemini://example.com/")
def _(c):
    refused(c, b"gemini://example.com:%d/\r\n" % c.port, "example.com:PORT")
    refused(c, b"gemini://example.com/\r\n", "example.com")


@test("53 IP literal of another address gemini://127.0.0.2:PORT/")
def _(c):
    refused(c, b"gemini://127.0.0.2:%d/\r\n" % c.port, "127.0.0.2")


@test("53 another port gemini://localhost:1/")
def _(c):
    refused(c, b"gemini://localhost:1/\r\n", "port 1")


@test("53 no port in the URL means 1965, not this port")
def _(c):
    if c.port == 1965:
        h.skip("server happens to listen on 1965")
    refused(c, b"gemini://localhost/\r\n", "no port")


# ---------------------------------------------------------------- framing


@test("no reply to a line ending in LF only; closed at the deadline")
def _(c):
    r = raw(c, b"gemini://localhost:%d/\n" % c.port, timeout=DEADLINE + 4)
    check(r.status is None and not re.match(rb"^\d\d ", r.raw),
          "got a reply %r" % r.raw[:60])
    check(not r.timed_out, "server did not close within %d s" % (DEADLINE + 4))
    check(r.elapsed >= DEADLINE * 0.5,
          "closed after %.2f s, before the %d s deadline" % (r.elapsed,
                                                             DEADLINE))


for _status, _path in (("20", "/"), ("51", "/missing-cn.gmi")):
    def _mk(status, path):
        @test("close_notify after a %s" % status)
        def _(c):
            r = expect(get(c, path), status)
            check(r.close_notify, "no close_notify (%s)" % (r.eof_error or
                                                           "timeout"))
    _mk(_status, _path)


@test("close_notify after a 59")
def _(c):
    r = expect(raw(c, b"/\r\n"), "59")
    check(r.close_notify, "no close_notify (%s)" % (r.eof_error or "timeout"))


@test("close_notify after a 53")
def _(c):
    r = expect(raw(c, b"gemini://example.com/\r\n"), "53")
    check(r.close_notify, "no close_notify (%s)" % (r.eof_error or "timeout"))


# ---------------------------------------------------------------- load


@test("200 concurrent clients all get 20 with the full body")
def _(c):
    n = 200
    want = c.tree.files["/"]
    results = [None] * n
    barrier = threading.Barrier(n, timeout=30)

    def worker(i):
        try:
            barrier.wait()
            results[i] = get(c, "/", timeout=30)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    end = time.monotonic() + 45
    for t in threads:
        t.join(max(0.1, end - time.monotonic()))
    alive = sum(t.is_alive() for t in threads)
    check(alive == 0, "%d clients still running after 45 s" % alive)
    bad_ = [r for r in results
            if isinstance(r, Exception) or r.status != "20" or r.body != want]
    check(not bad_, "%d/%d failed, first: %r" % (len(bad_), n,
                                                 bad_[0] if bad_ else None))


def idle_blocks_nobody(c, handshake):
    sock = socket.create_connection(("127.0.0.1", c.port), timeout=10)
    t0 = time.monotonic()
    ss = None
    try:
        if handshake:
            ss = h.client_context().wrap_socket(
                sock, server_hostname="localhost", suppress_ragged_eofs=False)
        t1 = time.monotonic()
        r = get(c, "/")
        took = time.monotonic() - t1
        expect(r, "20", "client beside the idle one")
        check(took < 1.0, "other client waited %.2f s" % took)
        # Now the idle one must be cut at the deadline.
        s = ss or sock
        s.settimeout(DEADLINE + 4)
        data = b""
        closed = False
        try:
            for _ in range(64):  # bounded: a few alerts at most
                d = s.recv(4096)
                if not d:
                    closed = True
                    break
                data += d
        except socket.timeout:
            pass
        except (ssl.SSLError, ConnectionResetError, ConnectionAbortedError):
            closed = True
        elapsed = time.monotonic() - t0
        check(closed, "idle client not closed within %.1f s" % elapsed)
        check(elapsed <= DEADLINE + 2.5, "idle client closed after %.2f s "
              "(deadline %d s)" % (elapsed, DEADLINE))
        check(elapsed >= DEADLINE * 0.5, "idle client closed after %.2f s, "
              "before the %d s deadline" % (elapsed, DEADLINE))
        if handshake:
            check(not re.match(rb"^(1|2|3)\d ", data),
                  "idle client got a reply %r" % data[:40])
    finally:
        (ss or sock).close()


@test("idle TCP client (no handshake) blocks nobody and is cut at the deadline")
def _(c):
    idle_blocks_nobody(c, handshake=False)


@test("idle TLS client (no request) blocks nobody and is cut at the deadline")
def _(c):
    idle_blocks_nobody(c, handshake=True)


# ---------------------------------------------------------------- TLS


@test("TLS 1.1 refused")
def _(c):
    ctx = h.client_context()
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ssl.SSLError, ValueError) as e:
        h.skip("local OpenSSL cannot be set to TLS 1.1: %s" % e)
    # Prove the client can speak 1.1 at all: against a local 1.1-only
    # listener of our own (Python's ssl), or skip.
    if not _client_can_speak_tls11(ctx):
        h.skip("local OpenSSL refuses to negotiate TLS 1.1")
    try:
        r = h.gemini(c.port, h.req(c.port), context=ctx)
    except (ssl.SSLError, ConnectionResetError, OSError):
        return
    raise AssertionError("TLS 1.1 handshake succeeded (%s, %s)" % (
        r.tls_version, r.describe()))


def _client_can_speak_tls11(client_ctx):
    crt = os.path.join(_CTX.certs, "localhost.crt")
    key = os.path.join(_CTX.certs, "localhost.key")
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        sctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        sctx.minimum_version = ssl.TLSVersion.TLSv1_1
        sctx.maximum_version = ssl.TLSVersion.TLSv1_1
        sctx.load_cert_chain(crt, key)
    except (ssl.SSLError, ValueError, OSError):
        return False
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(5)
    port = ls.getsockname()[1]
    result = {}

    def serve():
        try:
            conn, _ = ls.accept()
            conn.settimeout(5)
            with sctx.wrap_socket(conn, server_side=True) as s:
                result["v"] = s.version()
        except Exception as e:
            result["e"] = e

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ok = False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with client_ctx.wrap_socket(s, server_hostname="localhost") as ss:
                ok = ss.version() == "TLSv1.1"
    except Exception:
        ok = False
    t.join(6)
    ls.close()
    return ok


@test("TLS 1.2 works")
def _(c):
    r = get(c, "/", min_version=ssl.TLSVersion.TLSv1_2,
            max_version=ssl.TLSVersion.TLSv1_2)
    check(r.tls_version == "TLSv1.2", "negotiated %s" % r.tls_version)
    expect(r, "20")
    check(r.close_notify, "no close_notify over TLS 1.2")


@test("TLS 1.3 works")
def _(c):
    r = get(c, "/", min_version=ssl.TLSVersion.TLSv1_3)
    check(r.tls_version == "TLSv1.3", "negotiated %s" % r.tls_version)
    expect(r, "20")


@test("plain TCP on the TLS port gets no Gemini reply")
def _(c):
    r = h.tcp_exchange(c.port, b"gemini://localhost:%d/\r\n" % c.port,
                       timeout=DEADLINE + 4)
    check(not re.match(rb"^\d\d ", bytes(r)), "got %r" % bytes(r)[:60])
    check(not r.timed_out, "connection left open past %d s" % (DEADLINE + 4))


@test("openssl s_client gets 20 text/gemini")
def _(c):
    if not shutil.which("openssl"):
        h.skip("no openssl")
    p = subprocess.run(
        ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:%d" % c.port,
         "-servername", "localhost"],
        input=b"gemini://localhost:%d/\r\n" % c.port,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    out = p.stdout
    check(out.startswith(b"20 text/gemini"), "stdout %r (stderr %r)" % (
        out[:60], p.stderr.decode(errors="replace")[-200:]))
    check(out.endswith(c.tree.files["/"]), "body is not the root index")


# ---------------------------------------------------------------- containment


def never_served(c, paths):
    seen = []
    for p in paths:
        line = p if isinstance(p, bytes) else h.req(c.port, p)
        r = raw(c, line)
        check(r.status is not None, "%r: no reply (%s)" % (line, r.describe()))
        check(r.status != "20", "%r served 20 (%r)" % (line, r.body[:60]))
        check(r.status[0] in "3456", "%r got %s" % (line, r.status))
        check(c.tree.secret not in r.raw, "%r leaked the secret" % line)
        if r.status.startswith("3"):
            seen.append((line, r.meta))
    # follow any redirect once: it must not lead outside either
    for line, meta in seen:
        from urllib.parse import urljoin
        target = urljoin(line.decode(errors="replace").strip(), meta.strip())
        r2 = raw(c, (target + "\r\n").encode())
        check(r2.status != "20" or c.tree.secret not in r2.raw,
              "redirect %r -> %r leaked" % (line, target))


@test("symlink to a file outside the root is never served")
def _(c):
    never_served(c, ["/en/leak.txt", "/en/./leak.txt", "/en/leak%2etxt"])


@test("symlinked directory outside the root is never served")
def _(c):
    never_served(c, ["/en/outdir/hidden.gmi", "/en/outdir/",
                     "/en/outdir/index.gmi", "/en/outdir"])


@test("traversal variants are never 20 and never leak")
def _(c):
    never_served(c, [
        "/../secret.txt", "/../../secret.txt", "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/en/../../secret.txt",
        "/en/%2e%2e/%2e%2e/secret.txt", "/en/..%2f..%2fsecret.txt",
        "/..%2fsecret.txt", "/en/leak.txt%00", "/a%00b",
        "/./../secret.txt", "/en/../en/../../secret.txt",
        "/%2e%2e%2fsecret.txt", "/..\\secret.txt", "/....//secret.txt",
        "/../outside/hidden.gmi",
    ])


# ---------------------------------------------------------------- lifecycle


@test("SIGTERM exits 0 and the access log has one line per request")
def _(c):
    srv = new_server(c, "logtest")
    srv.start()
    p = srv.port
    cases = [
        ("20", "/en/page.gmi", h.req(p, "/en/page.gmi")),
        ("51", "/log-missing-51.gmi", h.req(p, "/log-missing-51.gmi")),
        ("53", "/log-https-53", b"https://localhost:%d/log-https-53\r\n" % p),
        ("59", "/log-frag-59", b"gemini://localhost:%d/log-frag-59#x\r\n" % p),
    ]
    try:
        for status, _, line in cases:
            expect(h.gemini(p, line), status, line.decode())
    finally:
        rc = srv.stop()
    check(rc == 0 and not srv.killed, "exit %s%s after SIGTERM" % (
        rc, " (needed SIGKILL)" if srv.killed else ""))
    lines = srv.stdout().decode("utf-8", "replace").splitlines()
    for status, token, _ in cases:
        hits = [ln for ln in lines if token in ln]
        if status == "59" and not hits:
            # a malformed request may be logged without its path ("-");
            # the status follows the protocol (a time stamp may hold 59)
            hits = [ln for ln in lines
                    if re.search(r"\bgemini 59 ", ln, re.I)]
        check(len(hits) == 1, "%d log lines name %s: %r" % (
            len(hits), token, lines[-6:]))
        check(re.search(r"gemini", hits[0], re.I),
              "log line %r does not name the protocol" % hits[0])
        check(re.search(r"(?<!\d)%s(?!\d)" % status, hits[0]),
              "log line %r lacks status %s" % (hits[0], status))


@test("shared server exits 0 on SIGTERM after the whole suite")
def _(c):
    check(c.srv.alive(), "server died during the suite: %s" %
          c.srv.stderr_tail())
    rc = c.srv.stop()
    check(not c.srv.killed, "server ignored SIGTERM for %d s" %
          h.STOP_TIMEOUT)
    check(rc == 0, "exit %s: %s" % (rc, c.srv.stderr_tail()))


_CTX = None


@contextlib.contextmanager
def _setup_and_keep():
    global _CTX
    with setup() as c:
        _CTX = c
        yield c


if __name__ == "__main__":
    h.run(_setup_and_keep)
