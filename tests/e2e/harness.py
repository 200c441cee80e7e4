"""Shared helpers for kapsula's end-to-end tests (Gemini now, Gopher later).

Every wait here is bounded and every socket has a timeout; the only processes
ever signalled are the ones this module started (by their own PID).
"""

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

KAPSULA = os.environ.get("KAPSULA", "")
START_TIMEOUT = 10.0  # seconds a server may take to accept TCP
STOP_TIMEOUT = 10.0  # seconds a server may take to exit after SIGTERM
TEST_TIMEOUT = 60  # seconds one test may take before it is failed


# ---------------------------------------------------------------- ports


def _port_free(host, port):
    """True when `port` can be bound on `host` right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(host="127.0.0.1"):
    """A loopback port free on `host` (bind port 0, ask the kernel)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_both():
    """A port free on both 127.0.0.1 and ::1 (falls back to v4 only)."""
    for _ in range(50):
        port = free_port("127.0.0.1")
        if not has_ipv6() or _port_free("::1", port):
            return port
    return free_port("127.0.0.1")


_ipv6 = None


def has_ipv6():
    """True when ::1 can be bound here."""
    global _ipv6
    if os.environ.get("KAPSULA_TEST_NO_IPV6"):
        return False  # e.g. to bisect a failure that only dual-stack shows
    if _ipv6 is None:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", 0))
            _ipv6 = True
        except OSError:
            _ipv6 = False
    return _ipv6


def bracket(host):
    """`::1` -> `[::1]` for URLs and --gemini ADDR:PORT; v4 unchanged."""
    return "[%s]" % host if ":" in host else host


# ---------------------------------------------------------------- content


# A 1x1 transparent PNG: real image bytes, not text.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d000000"
    "0049454e44ae426082")


class Tree:
    """Paths and bytes of a content tree built by make_tree()."""

    def __init__(self, base):
        self.base = base  # holds root/ plus things outside it
        self.root = os.path.join(base, "root")
        self.secret = b""  # bytes that live only outside the root
        self.files = {}  # URL path -> exact bytes on disk

    def body(self, path):
        return self.files[path]


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_tree(tmpdir):
    """Build the test capsule under tmpdir; returns a Tree.

    tmpdir/secret.txt and tmpdir/outside/ sit beside the root and must never
    be served; root/en/leak.txt and root/en/outdir are symlinks to them.
    """
    t = Tree(tmpdir)
    token = "KAPSULA-SECRET-%d-%s" % (os.getpid(), os.urandom(6).hex())
    t.secret = token.encode()
    _write(os.path.join(tmpdir, "secret.txt"), t.secret + b"\n")
    _write(os.path.join(tmpdir, "outside", "hidden.gmi"),
           b"# hidden\n" + t.secret + b"\n")
    _write(os.path.join(tmpdir, "outside", "index.gmi"),
           b"# outside index\n" + t.secret + b"\n")

    files = {
        "/index.gmi": ("# Kapsula test capsule\n\nWelcome to the test tree.\n\n"
                       "=> en/ English pages\n=> ru/ Russian pages\n"
                       "=> other/page.gmi Other page\n").encode(),
        "/en/index.gmi": ("# English index\n\n"
                          "=> page.gmi First English page\n"
                          "=> notes.txt Notes\n").encode(),
        "/en/page.gmi": ("# Target page\n\nThe quick brown fox "
                         "reached the English page.\n").encode(),
        "/en/notes.txt": b"English notes, plain text.\n",
        "/ru/index.gmi": ("# Русский указатель\n\n"
                          "=> page.gmi Первая страница\n").encode(),
        "/ru/page.gmi": "# Страница\n\nТекст по-русски.\n".encode(),
        "/ru/notes.txt": "Заметки.\n".encode(),
        "/other/page.gmi": b"# Other\n\nNo language here.\n",
        "/other/notes.txt": b"other notes\n",
        "/robots.txt": b"User-agent: *\nDisallow:\n",
        "/image.png": PNG_1X1,
        "/data.zzqx": bytes(range(256)),
    }
    for path, data in files.items():
        _write(t.root + path, data)
    t.files = dict(files)
    # A root index reached as "/" (and as the empty path).
    t.files["/"] = files["/index.gmi"]
    t.files["/en/"] = files["/en/index.gmi"]
    t.files["/ru/"] = files["/ru/index.gmi"]

    os.symlink("../../secret.txt", os.path.join(t.root, "en", "leak.txt"))
    os.symlink("../../outside", os.path.join(t.root, "en", "outdir"))
    return t


# ---------------------------------------------------------------- server


_started = []  # every Server this process started, for the atexit guard


class ServerError(Exception):
    pass


class Server:
    """One kapsula process started by these tests.

    listen: list of (host, port) Gemini listeners; gopher: list for Gopher,
    where a third element holds listener options ("charset=ascii").
    """

    def __init__(self, root, certs, listen, gopher=(), timeout=2,
                 extra=(), hostname="localhost", workdir=None):
        if not KAPSULA:
            raise ServerError("KAPSULA is not set")
        self.root = root
        self.certs = certs
        self.listen = list(listen)
        self.gopher_listen = [tuple(g[:2]) for g in gopher]
        self.hostname = hostname
        self.workdir = workdir or tempfile.mkdtemp(prefix="kapsula-srv-")
        self.argv = [KAPSULA, "--root", root, "--hostname", hostname,
                     "--certs", certs]
        for host, port in self.listen:
            self.argv += ["--gemini", "%s:%d" % (bracket(host), port)]
        for g in gopher:
            self.argv += ["--gopher", ("%s:%d %s" % (
                bracket(g[0]), g[1], g[2] if len(g) > 2 else "")).strip()]
        if timeout is not None:
            self.argv += ["--timeout", str(timeout)]
        self.argv += list(extra)
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self.proc = None
        self.returncode = None
        self.killed = False

    @property
    def port(self):
        return self.listen[0][1]

    def start(self):
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        finally:
            out.close()
            err.close()
        _started.append(self)
        self._wait_ready()
        return self

    def bound_ports(self):
        """[(proto, host, port)] from the server's start-up lines."""
        return [(m.group(1).decode(), m.group(2).decode().strip("[]"),
                 int(m.group(3)))
                for m in re.finditer(rb"(gemini|gopher) listener (\S+):(\d+)",
                                     self.stderr())]

    def _resolve_zero_ports(self, deadline):
        """Port 0 makes the server bind a free port and announce it: no
        race between picking a port and binding it."""
        want = len(self.listen) + len(self.gopher_listen)
        while len(self.bound_ports()) < want:
            if self.proc.poll() is not None:
                raise ServerError("server exited %d at start: %s" % (
                    self.proc.returncode, self.stderr_tail()))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError("no listener announcement within %.0f s: "
                                  "%s" % (START_TIMEOUT, self.stderr_tail()))
            time.sleep(0.02)
        got = self.bound_ports()

        def resolve(proto, listen):
            """Each listener's announced port: the next line of its
            protocol and address, in order."""
            left = [(h, p) for pr, h, p in got if pr == proto]
            out = []
            for h, p in listen:
                i = next((k for k, (ah, _) in enumerate(left) if ah == h), 0)
                ap = left.pop(i)[1] if left else p
                out.append((h, ap if p == 0 else p))
            return out

        self.listen = resolve("gemini", self.listen)
        self.gopher_listen = resolve("gopher", self.gopher_listen)

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        if any(p == 0 for _, p in self.listen + self.gopher_listen):
            self._resolve_zero_ports(deadline)
        pending = list(self.listen) + list(self.gopher_listen)
        while pending:
            if self.proc.poll() is not None:
                raise ServerError("server exited %d at start: %s" % (
                    self.proc.returncode, self.stderr_tail()))
            host, port = pending[0]
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                pending.pop(0)
                continue
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError("server did not accept TCP on %s:%d within "
                                  "%.0f s: %s" % (host, port, START_TIMEOUT,
                                                  self.stderr_tail()))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM our own PID, wait (bounded), return the exit code.

        After STOP_TIMEOUT the process gets SIGKILL and self.killed is set;
        the code returned is then the (negative) kill status.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.returncode = self.proc.returncode
        if self in _started:
            _started.remove(self)
        return self.returncode

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()

    def stderr_tail(self, n=300):
        try:
            text = self.stderr().decode("utf-8", "replace").strip()
        except OSError:
            return "(no stderr)"
        text = text[-n:].replace("\n", " | ")
        return text or "(empty stderr)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- shared


def poll(fn, timeout, step=0.05):
    """fn()'s first true value within timeout seconds, else its last."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def connect_from(port, src="127.0.0.1", timeout=5, host="127.0.0.1"):
    """A TCP connection to host:port from the loopback address src (the
    limits count per client address: 127.0.0.2 is another client)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_all(s, timeout=5):
    """Bytes until the peer closes, resets, or timeout seconds pass."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = s.recv(65536)
        except (socket.timeout, OSError, ssl.SSLError):
            break
        if not d:
            break
        out += d
    return out


class ConfServer(Server):
    """kapsula -c FILE; listeners are learnt from its start-up lines."""

    def __init__(self, conf, workdir, nlisten):
        Server.__init__(self, "-", "-", [], workdir=workdir)
        self.argv = [KAPSULA, "-c", conf]
        self.nlisten = nlisten

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while len(self.bound_ports()) < self.nlisten:
            if self.proc.poll() is not None:
                raise ServerError("exited %d at start: %s" % (
                    self.proc.returncode, self.stderr_tail(600)))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError("no start-up lines: %s" %
                                  self.stderr_tail(600))
            time.sleep(0.02)

    def ports(self, proto):
        return [p for pr, _, p in self.bound_ports() if pr == proto]


class Ctx:
    """What a suite's setup hands to each of its tests."""


CAPSULE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "capsule")


@contextlib.contextmanager
def capsule_server(name):
    """The repository's capsule/ on fresh loopback ports, Gemini and Gopher.

    Yields a Ctx with .port (Gemini), .gport (Gopher) and .srv; fails the
    suite if the server died while the tests ran.
    """
    check(os.path.isfile(os.path.join(CAPSULE, "index.gmi")),
          "no capsule/index.gmi at %s" % CAPSULE)
    tmp = tempfile.mkdtemp(prefix="kapsula-e2e-%s-" % name)
    c = Ctx()
    c.srv = Server(CAPSULE, os.path.join(tmp, "certs"),
                   listen=[("127.0.0.1", 0)],
                   gopher=[("127.0.0.1", 0)], timeout=5, workdir=tmp)
    try:
        c.srv.start()
        c.port = c.srv.listen[0][1]
        c.gport = c.srv.gopher_listen[0][1]
        yield c
        check(c.srv.alive(), "server died during the tests: %s" %
              c.srv.stderr_tail())
    finally:
        c.srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@atexit.register
def _stop_leftovers():
    for srv in list(_started):
        try:
            srv.stop()
        except Exception:
            pass


def run_binary(args, timeout=5):
    """Run $KAPSULA with args (no server expected); returns CompletedProcess."""
    return subprocess.run([KAPSULA] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


# ---------------------------------------------------------------- gemini


class Reply:
    """What a Gemini server sent back on one connection."""

    def __init__(self):
        self.raw = b""
        self.header = b""  # bytes before the first CRLF (CRLF excluded)
        self.has_crlf = False  # header was terminated by CRLF
        self.status = None  # "20", "59"... or None when no valid header
        self.meta = None  # str (META decoded as UTF-8, errors replaced)
        self.body = b""
        self.close_notify = False  # server sent TLS close_notify
        self.timed_out = False  # our read deadline passed first
        self.reset = False  # connection reset / aborted
        self.eof_error = None  # text of a ragged-EOF or other read error
        self.tls_version = None
        self.cert_der = None
        self.elapsed = 0.0

    def parse(self):
        idx = self.raw.find(b"\r\n")
        if idx >= 0:
            self.header = self.raw[:idx]
            self.has_crlf = True
            self.body = self.raw[idx + 2:]
        else:
            self.header = self.raw
            self.body = b""
        m = re.match(rb"^([0-9]{2}) (.*)$", self.header, re.S)
        if m and self.has_crlf:
            self.status = m.group(1).decode()
            self.meta = m.group(2).decode("utf-8", "replace")
        elif self.has_crlf and re.match(rb"^[0-9]{2}$", self.header):
            self.status = self.header.decode()
            self.meta = ""
        return self

    def mime_params(self):
        """(mime, {param: value}) of a 2x META."""
        parts = [p.strip() for p in (self.meta or "").split(";")]
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip().lower()] = v.strip()
            else:
                params[p.lower()] = None
        return parts[0].lower(), params

    def describe(self):
        """Short text for failure messages."""
        if self.status is not None:
            s = "%r" % self.header[:120]
        elif self.raw:
            s = "no valid header, got %r" % self.raw[:80]
        else:
            s = "no bytes"
        if self.timed_out:
            s += " (timed out)"
        if self.reset:
            s += " (reset)"
        return s

    def __repr__(self):
        return "<Reply %s>" % self.describe()


def client_context(min_version=None, max_version=None, ciphers=None):
    """An unverified TLS client context (Gemini uses TOFU, not CAs)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Debian's Python 3.11 sets OP_IGNORE_UNEXPECTED_EOF by default, which
    # makes a ragged EOF read as a clean close: clear it, or a missing
    # close_notify could never be detected.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def tls_connect(port, sni="localhost", timeout=5, host="127.0.0.1",
                context=None, min_version=None, max_version=None):
    """TCP + TLS handshake; returns an SSLSocket (raises on failure)."""
    ctx = context or client_context(min_version, max_version)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        ss = ctx.wrap_socket(sock, server_hostname=sni,
                             suppress_ragged_eofs=False,
                             do_handshake_on_connect=False)
        ss.settimeout(timeout)
        ss.do_handshake()
        return ss
    except BaseException:
        sock.close()
        raise


def read_reply(ss, timeout=5, reply=None, limit=16 * 1024 * 1024):
    """Read until the server closes (or the deadline); fills a Reply."""
    r = reply or Reply()
    t0 = time.monotonic()
    deadline = t0 + timeout
    chunks = []
    total = 0
    while total < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            r.timed_out = True
            break
        ss.settimeout(left)
        try:
            data = ss.recv(65536)
        except socket.timeout:
            r.timed_out = True
            break
        except ssl.SSLZeroReturnError:
            r.close_notify = True
            break
        except ssl.SSLEOFError as e:
            r.eof_error = "ragged EOF: %s" % e
            break
        except (ConnectionResetError, ConnectionAbortedError,
                BrokenPipeError) as e:
            r.reset = True
            r.eof_error = "%s" % e
            break
        except ssl.SSLError as e:
            # With OP_IGNORE_UNEXPECTED_EOF cleared, OpenSSL 3 reports a
            # ragged EOF as UNEXPECTED_EOF_WHILE_READING.
            kind = "ragged EOF" if "UNEXPECTED_EOF" in str(e) else "TLS error"
            r.eof_error = "%s: %s" % (kind, e)
            break
        if not data:
            # suppress_ragged_eofs=False: an empty read is a clean shutdown.
            r.close_notify = True
            break
        chunks.append(data)
        total += len(data)
    r.raw = b"".join(chunks)
    r.elapsed = time.monotonic() - t0
    return r.parse()


def gemini(port, request_bytes, sni="localhost", timeout=5, min_version=None,
           max_version=None, host="127.0.0.1", chunks=None, chunk_delay=0.1,
           context=None):
    """One Gemini exchange: connect, TLS, send the request, read to close.

    chunks: optional list of byte strings sent as separate writes (separate
    TLS records) with chunk_delay between them instead of request_bytes.
    Handshake failures raise (ssl.SSLError / OSError).
    """
    t0 = time.monotonic()
    ss = tls_connect(port, sni=sni, timeout=timeout, host=host,
                     context=context, min_version=min_version,
                     max_version=max_version)
    r = Reply()
    try:
        r.tls_version = ss.version()
        r.cert_der = ss.getpeercert(binary_form=True)
        try:
            if chunks is None:
                ss.sendall(request_bytes)
            else:
                for i, c in enumerate(chunks):
                    if i:
                        time.sleep(chunk_delay)
                    ss.sendall(c)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            r.eof_error = "send failed: %s" % e
        left = max(0.1, timeout - (time.monotonic() - t0))
        read_reply(ss, timeout=left, reply=r)
    finally:
        ss.close()
    r.elapsed = time.monotonic() - t0
    return r


def url(port, path="/", host="localhost", scheme="gemini"):
    return "%s://%s:%d%s" % (scheme, bracket(host), port, path)


def req(port, path="/", host="localhost"):
    """Request bytes for gemini://host:port/path CRLF."""
    return (url(port, path, host) + "\r\n").encode()


# ---------------------------------------------------------------- plain TCP


class PlainReply(bytes):
    """Bytes a plain TCP server sent until close; .timed_out, .reset."""
    timed_out = False
    reset = False
    elapsed = 0.0


def tcp_exchange(port, request_bytes, host="127.0.0.1", timeout=5,
                 limit=16 * 1024 * 1024):
    """Send bytes over plain TCP, read until close or deadline."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    t0 = time.monotonic()
    deadline = t0 + timeout
    chunks = []
    timed_out = reset = False
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        try:
            if request_bytes:
                s.sendall(request_bytes)
            total = 0
            while total < limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                s.settimeout(left)
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
                total += len(data)
        except socket.timeout:
            timed_out = True
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            reset = True
    r = PlainReply(b"".join(chunks))
    r.timed_out = timed_out
    r.reset = reset
    r.elapsed = time.monotonic() - t0
    return r


def gopher(port, request_bytes, host="127.0.0.1", timeout=5):
    """One Gopher exchange: all bytes until the server closes."""
    return tcp_exchange(port, request_bytes, host=host, timeout=timeout)


# ---------------------------------------------------------------- certs


def cert_text(path):
    """`openssl x509 -noout -text` of a PEM file (str)."""
    p = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    if p.returncode != 0:
        raise AssertionError("openssl x509 failed on %s: %s" % (
            path, p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode(errors="replace")


def pem_to_der(path):
    with open(path) as f:
        pem = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  pem, re.S)
    if not m:
        raise AssertionError("no PEM certificate in %s" % path)
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def fingerprint(der):
    import hashlib
    return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------- runner


class Skip(Exception):
    pass


def skip(why):
    raise Skip(why)


def check(cond, why):
    """assert that survives python -O, with a message."""
    if not cond:
        raise AssertionError(why)


class _TestTimeout(Exception):
    pass


_tests = []


def test(name):
    """Decorator: register fn(ctx) as test `name` (run in definition order)."""
    def deco(fn):
        _tests.append((name, fn))
        return fn
    return deco


def _one_line(text):
    return " ".join(str(text).split())[:400]


def _alarm(signum, frame):
    raise _TestTimeout("test took more than %d s" % TEST_TIMEOUT)


def _server_state(ctx):
    """' [server ... exited ...]' when the suite's shared server is gone."""
    srv = getattr(ctx, "srv", None)
    if not isinstance(srv, Server) or srv.proc is None:
        return ""
    rc = srv.proc.poll()
    if rc is None or srv.returncode is not None:
        return ""  # running, or stopped on purpose by a test
    sig = ""
    if rc < 0:
        try:
            sig = " (%s)" % signal.Signals(-rc).name
        except ValueError:
            pass
    return " [shared server had exited %d%s]" % (rc, sig)


def run(setup=None):
    """Run every registered test and exit (1 if any failed).

    setup: optional context manager factory; its value is passed to each
    test. If it fails, every test is reported as FAIL with that reason.
    argv[1:] (or $KAPSULA_TEST_FILTER) keeps tests whose name contains one
    of the words.
    """
    words = sys.argv[1:] or os.environ.get("KAPSULA_TEST_FILTER", "").split()
    tests = [(n, f) for n, f in _tests
             if not words or any(w in n for w in words)]
    verbose = bool(os.environ.get("KAPSULA_TEST_VERBOSE"))
    failed = 0
    signal.signal(signal.SIGALRM, _alarm)

    def report(line):
        print(line, flush=True)

    if not KAPSULA or not os.access(KAPSULA, os.X_OK):
        for name, _ in tests:
            report("FAIL %s: KAPSULA=%r is not an executable" % (name, KAPSULA))
        sys.exit(1)

    ctx_mgr = setup() if setup else None
    try:
        ctx = ctx_mgr.__enter__() if ctx_mgr else None
    except Exception as e:
        for name, _ in tests:
            report("FAIL %s: setup failed: %s" % (name, _one_line(e)))
        sys.exit(1)
    try:
        for name, fn in tests:
            t0 = time.monotonic()
            signal.alarm(TEST_TIMEOUT)
            try:
                fn(ctx)
                signal.alarm(0)
                report("PASS %s" % name)
            except Skip as e:
                signal.alarm(0)
                report("SKIP %s: %s" % (name, _one_line(e)))
            except Exception as e:
                signal.alarm(0)
                failed += 1
                why = _one_line(e) or type(e).__name__
                if not isinstance(e, (AssertionError, _TestTimeout)):
                    why = "%s: %s" % (type(e).__name__, why)
                why += _server_state(ctx)
                report("FAIL %s: %s" % (name, why))
                if verbose:
                    traceback.print_exc()
            if verbose:
                print("   (%.2f s)" % (time.monotonic() - t0),
                      file=sys.stderr, flush=True)
    finally:
        signal.alarm(0)
        if ctx_mgr:
            try:
                ctx_mgr.__exit__(None, None, None)
            except Exception as e:
                report("FAIL teardown: %s" % _one_line(e))
                failed += 1
    sys.exit(1 if failed else 0)
