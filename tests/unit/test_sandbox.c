/*
 * test_sandbox.c: workers in forked children: what still works after the
 * sandbox (loop, sockets, TLS, logs), what gets them killed, the user drop.
 */
#define _GNU_SOURCE

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <seccomp.h>

#include "sandbox.h"
#include "tls.h"
#include "unit.h"

/*
 * ASan and LSan make calls of their own (sigaltstack on exit, for one)
 * that the filter rightly forbids: the sandbox is meant to be off there.
 */
#if defined(__SANITIZE_ADDRESS__)
static const int sanitized = 1;
#else
static const int sanitized = 0;
#endif

/* Exit code of a child that found the feature under test missing. */
#define CHILD_SKIP 77

static const char *skip_why;

#define RUN_OR_SKIP(fn)                                                        \
	do {                                                                   \
		skip_why = NULL;                                               \
		unit_name = #fn;                                               \
		unit_failed_checks = 0;                                        \
		fn();                                                          \
		if (unit_failed_checks != 0)                                   \
			unit_failures++;                                       \
		else if (skip_why != NULL)                                     \
			printf("SKIP %s: %s\n", unit_name, skip_why);          \
		else                                                           \
			printf("PASS %s\n", unit_name);                        \
	} while (0)

/*
 * In a child, a failed step says where on stderr and exits 1. snprintf
 * and write only: stdio might make calls the sandbox forbids.
 */
#define MUST(cond)                                                             \
	do {                                                                   \
		if (!(cond)) {                                                 \
			char m_[256];                                          \
			int n_ = snprintf(m_, sizeof(m_),                      \
			    "# child: %s:%d: %s (errno %d)\n", __FILE__,       \
			    __LINE__, #cond, errno);                           \
			if (write(2, m_, n_) < 0)                              \
				_exit(2);                                      \
			_exit(1);                                              \
		}                                                              \
	} while (0)

static char certdir[] = "/tmp/kapsula-sandbox-XXXXXX";
static SSL_CTX *server_ctx;
static int is_root;

static int
landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    (uint32_t)1 /* LANDLOCK_CREATE_RULESET_VERSION */);
}

/* Runs fn in a child and returns its wait status. */
static int
in_child(void (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		fn();
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return st;
}

static int
exited_ok(int st)
{
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int
killed_by_seccomp(int st)
{
	return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void
restrict_or_die(int log_mode)
{
	char err[256];
	int skipped;

	if (sandbox_restrict(log_mode, &skipped, err, sizeof(err)) == -1) {
		MUST(write(2, err, strlen(err)) >= 0);
		_exit(3);
	}
}

/* What a worker does once sandboxed: each step exits non-zero if it fails. */

static int sig_seen, read_seen, timer_seen;

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	sig_seen = 1;
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct evbuffer *b = arg;

	(void)what;
	/* evbuffer_read: ioctl(FIONREAD) to size, then readv. */
	if (evbuffer_read(b, fd, -1) > 0)
		read_seen = 1;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	timer_seen = 1;
}

/* Both ends of a TLS connection in one process, driven to completion. */
static void
tls_roundtrip(int sfd, int cfd)
{
	SSL_CTX *cctx;
	SSL *s, *c;
	char buf[16];
	int i, sdone = 0, cdone = 0, r;

	MUST((cctx = SSL_CTX_new(TLS_client_method())) != NULL);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	MUST((s = SSL_new(server_ctx)) != NULL && SSL_set_fd(s, sfd) == 1);
	MUST((c = SSL_new(cctx)) != NULL && SSL_set_fd(c, cfd) == 1);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 1000 && !(sdone && cdone); i++) {
		if (!cdone) {
			r = SSL_do_handshake(c);
			MUST(r == 1 ||
			     SSL_get_error(c, r) == SSL_ERROR_WANT_READ);
			cdone = r == 1;
		}
		if (!sdone) {
			r = SSL_do_handshake(s);
			MUST(r == 1 ||
			     SSL_get_error(s, r) == SSL_ERROR_WANT_READ);
			sdone = r == 1;
		}
	}
	MUST(sdone && cdone);
	MUST(SSL_write(s, "20 ok\r\n", 7) == 7);
	for (i = 0; i < 1000; i++)
		if ((r = SSL_read(c, buf, sizeof(buf))) > 0)
			break;
	MUST(r == 7 && memcmp(buf, "20 ok\r\n", 7) == 0);
	/* The close net.c does: close_notify, then a half-close. */
	MUST(SSL_shutdown(s) >= 0);
	MUST(shutdown(sfd, SHUT_WR) == 0);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
}

static void
worker_body(void)
{
	struct event_base *base;
	struct event *rd, *tm, *sg;
	struct evbuffer *in;
	struct sockaddr_in sin;
	struct timeval ms = {0, 1000};
	socklen_t len = sizeof(sin);
	unsigned char rnd[32];
	char buf[64];
	FILE *devnull;
	int sv[2], lfd, cfd, afd, one = 1, fl, i;
	char *p, *q;

	/* Before: everything that opens files or sockets, as a worker. */
	MUST((base = event_base_new()) != NULL);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	MUST((in = evbuffer_new()) != NULL);
	MUST((rd = event_new(base, sv[1], EV_READ, on_read, in)) != NULL);
	MUST((tm = evtimer_new(base, on_timer, NULL)) != NULL);
	MUST((sg = evsignal_new(base, SIGUSR1, on_signal, NULL)) != NULL);
	MUST((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	MUST(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	MUST(listen(lfd, 8) == 0);
	MUST(getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
	MUST((cfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	MUST(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	/* A stream on a character device: stdio will ask isatty(). */
	MUST((devnull = fopen("/dev/null", "w")) != NULL);

	restrict_or_die(0);

	/* The loop: a read, a timer, and a signal added after the filter. */
	MUST(event_add(rd, NULL) == 0);
	MUST(event_add(tm, &ms) == 0);
	MUST(evsignal_add(sg, NULL) == 0);
	MUST(write(sv[0], "x", 1) == 1);
	MUST(raise(SIGUSR1) == 0);
	for (i = 0; i < 100 && !(read_seen && timer_seen && sig_seen); i++)
		MUST(event_base_loop(base, EVLOOP_ONCE) == 0);
	MUST(read_seen && timer_seen && sig_seen);
	MUST(event_del(sg) == 0);

	/* A client, as net.c takes one. */
	MUST((afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	     -1);
	MUST(setsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	len = sizeof(sin);
	MUST(getpeername(afd, (struct sockaddr *)&sin, &len) == 0);
	MUST((fl = fcntl(cfd, F_GETFL)) != -1);
	MUST(fcntl(cfd, F_SETFL, fl | O_NONBLOCK) == 0);
	MUST(evutil_make_socket_closeonexec(cfd) == 0);
	tls_roundtrip(afd, cfd);
	MUST(RAND_bytes(rnd, sizeof(rnd)) == 1);

	/* malloc's big blocks: mmap, mremap, munmap. */
	MUST((p = malloc(1 << 20)) != NULL);
	memset(p, 1, 1 << 20);
	MUST((q = realloc(p, 8 << 20)) != NULL);
	free(q);

	/* A log line through stdio: fstat, isatty (TCGETS), write. */
	MUST(fprintf(devnull, "log line %d\n", 1) > 0 && fflush(devnull) == 0);
	snprintf(buf, sizeof(buf), "%ld", (long)time(NULL));

	close(afd);
	close(cfd);
	event_free(rd);
	event_free(tm);
	event_free(sg);
	evbuffer_free(in);
	event_base_free(base);
	/* exit, not _exit: OpenSSL's and libc's atexit work runs too. */
	exit(0);
}

static void
test_worker_still_works(void)
{
	if (sanitized) {
		skip_why = "sanitizer build: the sandbox is off there";
		return;
	}
	CHECK(exited_ok(in_child(worker_body)));
}

/* Each forbidden call, after sandbox_restrict, must end in SIGSYS. */

static void
f_open(void)
{
	restrict_or_die(0);
	(void)open("/etc/passwd", O_RDONLY);
}

static void
f_socket(void)
{
	restrict_or_die(0);
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
f_bind(void)
{
	struct sockaddr_in sin;
	int fd;

	MUST((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	restrict_or_die(0);
	(void)bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static void
f_execve(void)
{
	char *argv[] = {"true", NULL}, *envp[] = {NULL};

	restrict_or_die(0);
	(void)execve("/bin/true", argv, envp);
}

static void
f_fork(void)
{
	restrict_or_die(0);
	/* glibc's fork() is the clone syscall. */
	if (fork() == 0)
		_exit(0);
}

static void
f_event_base_new(void)
{
	/* epoll_create1: a worker must make its event_base before. */
	restrict_or_die(0);
	(void)event_base_new();
}

static void
f_kill_parent(void)
{
	restrict_or_die(0);
	(void)kill(getppid(), 0);
}

static void
f_mprotect_exec(void)
{
	void *p;

	MUST((p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED);
	restrict_or_die(0);
	(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void
f_mmap_exec(void)
{
	restrict_or_die(0);
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void
f_ioctl_other(void)
{
	struct winsize ws;

	restrict_or_die(0);
	(void)ioctl(0, TIOCGWINSZ, &ws);
}

static void
f_fcntl_dup(void)
{
	restrict_or_die(0);
	(void)fcntl(0, F_DUPFD, 10);
}

static void
f_setuid(void)
{
	restrict_or_die(0);
	(void)setuid(0);
}

static void
f_prctl(void)
{
	restrict_or_die(0);
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void
test_forbidden_calls_kill(void)
{
	static const struct {
		const char *what;
		void (*fn)(void);
	} calls[] = {
	    {"open", f_open},
	    {"socket", f_socket},
	    {"bind", f_bind},
	    {"execve", f_execve},
	    {"fork", f_fork},
	    {"event_base_new", f_event_base_new},
	    {"kill(parent)", f_kill_parent},
	    {"mprotect(PROT_EXEC)", f_mprotect_exec},
	    {"mmap(PROT_EXEC)", f_mmap_exec},
	    {"ioctl(TIOCGWINSZ)", f_ioctl_other},
	    {"fcntl(F_DUPFD)", f_fcntl_dup},
	    {"setuid", f_setuid},
	    {"prctl", f_prctl},
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		st = in_child(calls[i].fn);
		if (!killed_by_seccomp(st))
			fprintf(stderr, "# %s: status %#x, not SIGSYS\n",
			    calls[i].what, st);
		CHECK(killed_by_seccomp(st));
	}
}

/* log_mode: a forbidden call is logged and goes on; Landlock still holds. */
static void
log_mode_body(void)
{
	int fd;

	restrict_or_die(1);
	MUST(getuid() != (uid_t)-1); /* not in the allowlist */
	fd = open("/etc/passwd", O_RDONLY);
	if (landlock_abi() >= 1)
		MUST(fd == -1 && errno == EACCES);
}

static void
test_log_mode_survives(void)
{
	CHECK(exited_ok(in_child(log_mode_body)));
}

/* Landlock alone, without seccomp: the kernel answers EACCES. */
static void
landlock_body(void)
{
	struct sockaddr_in sin;
	int skipped, fd, sv[2], abi = landlock_abi();

	MUST(sandbox_landlock(&skipped) == 0);
	if (skipped)
		_exit(CHILD_SKIP);
	MUST(open("/", O_RDONLY) == -1 && errno == EACCES);
	MUST(open("/etc/passwd", O_RDONLY) == -1 && errno == EACCES);
	MUST(open("/tmp/kapsula-new", O_WRONLY | O_CREAT, 0600) == -1 &&
	     errno == EACCES);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	MUST(write(sv[0], "x", 1) == 1);
	if (abi < 4)
		return;
	/* ABI 4: TCP bind and connect are handled, with no rule to allow. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	MUST((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	MUST(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	     errno == EACCES);
	sin.sin_port = htons(1);
	MUST(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	     errno == EACCES);
}

static void
test_landlock_denies(void)
{
	int st = in_child(landlock_body);

	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == CHILD_SKIP) {
		skip_why = "the kernel has no Landlock";
		return;
	}
	CHECK(exited_ok(st));
	if (landlock_abi() < 4)
		skip_why = "Landlock ABI < 4: TCP bind/connect not checked";
}

/* A kernel without Landlock, faked: its first syscall answers ENOSYS. */
static void
no_landlock_body(void)
{
	scmp_filter_ctx ctx;
	char err[256];
	int skipped = 0;

	MUST((ctx = seccomp_init(SCMP_ACT_ALLOW)) != NULL);
	MUST(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	         SCMP_SYS(landlock_create_ruleset), 0) == 0);
	MUST(seccomp_load(ctx) == 0);
	seccomp_release(ctx);
	MUST(sandbox_restrict(0, &skipped, err, sizeof(err)) == 0);
	MUST(skipped == 1);
	/* No Landlock, but the allowlist still holds. */
	(void)socket(AF_INET, SOCK_STREAM, 0);
	_exit(0);
}

static void
test_no_landlock_goes_on(void)
{
	CHECK(killed_by_seccomp(in_child(no_landlock_body)));
}

static void
test_user_lookup(void)
{
	struct sandbox_user u;
	char err[128];

	CHECK(sandbox_user_lookup("nobody", &u, err, sizeof(err)) == 0);
	CHECK_STR(u.name, "nobody");
	CHECK(u.uid != 0 && u.gid != 0);
	CHECK(
	    sandbox_user_lookup("kapsula-no-such", &u, err, sizeof(err)) == -1);
	CHECK_STR(err, "no such user: kapsula-no-such");
	CHECK(sandbox_user_lookup("root", &u, err, sizeof(err)) == -1);
}

static void
test_jail_make(void)
{
	char jail[256], bad[] = "/tmp/kapsula-open-XXXXXX", err[256];
	struct stat st;
	DIR *d;
	struct dirent *de;
	int n = 0;

	CHECK(sandbox_jail_make("/tmp", jail, sizeof(jail), err, sizeof(err)) ==
	      0);
	CHECK(lstat(jail, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK((st.st_mode & 07777) == 0755 && st.st_uid == geteuid());
	if ((d = opendir(jail)) != NULL) {
		while ((de = readdir(d)) != NULL)
			n++;
		closedir(d);
	}
	CHECK(n == 2);
	sandbox_jail_remove(jail);
	CHECK(lstat(jail, &st) == -1 && errno == ENOENT);

	/* Anyone could swap the jail in a world-writable, non-sticky folder. */
	CHECK(mkdtemp(bad) != NULL && chmod(bad, 0777) == 0);
	CHECK(
	    sandbox_jail_make(bad, jail, sizeof(jail), err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a folder only root") != NULL);
	rmdir(bad);
	CHECK(sandbox_jail_make(
	          "/nonexistent", jail, sizeof(jail), err, sizeof(err)) == -1);
}

/* Root only: the drop to nobody in the jail, then the filters. */
static char jail[256];

static int
status_has(int fd, const char *line)
{
	char buf[4096];
	ssize_t n;

	/* pread from 0: /proc files are regenerated on each read. */
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

static void
drop_body(void)
{
	struct sandbox_user u;
	char err[256], want[64];
	int fd, sig = 0;

	MUST(sandbox_user_lookup("nobody", &u, err, sizeof(err)) == 0);
	/* Opened before: /proc is not in the jail. */
	MUST((fd = open("/proc/self/status", O_RDONLY)) != -1);
	if (sandbox_drop(jail, &u, err, sizeof(err)) == -1) {
		MUST(write(2, err, strlen(err)) >= 0);
		_exit(3);
	}
	snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u\t%u\n", (unsigned)u.uid,
	    (unsigned)u.uid, (unsigned)u.uid, (unsigned)u.uid);
	MUST(status_has(fd, want));
	MUST(u.uid != 65534 || status_has(fd, "Uid:\t65534\t"));
	snprintf(want, sizeof(want), "Gid:\t%u\t%u\t%u\t%u\n", (unsigned)u.gid,
	    (unsigned)u.gid, (unsigned)u.gid, (unsigned)u.gid);
	MUST(status_has(fd, want));
	snprintf(want, sizeof(want), "Groups:\t%u \n", (unsigned)u.gid);
	MUST(status_has(fd, want));
	MUST(setuid(0) == -1 && errno == EPERM);
	MUST(seteuid(0) == -1 && errno == EPERM);
	/* Set after the uid change, so it survived it. */
	MUST(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGTERM);
	/* In the jail: an empty root. */
	MUST(access("/etc/passwd", F_OK) == -1 && errno == ENOENT);
	MUST(status_has(fd, "NoNewPrivs:\t0\n"));
	if (sanitized)
		return;
	restrict_or_die(0);
	MUST(status_has(fd, "NoNewPrivs:\t1\n"));
	MUST(status_has(fd, "Seccomp:\t2\n"));
	MUST(status_has(fd, "Seccomp_filters:\t") &&
	     !status_has(fd, "Seccomp_filters:\t0\n"));
}

static void
test_drop_to_nobody(void)
{
	char err[256];

	if (!is_root) {
		skip_why = "not root";
		return;
	}
	CHECK(sandbox_jail_make("/tmp", jail, sizeof(jail), err, sizeof(err)) ==
	      0);
	CHECK(exited_ok(in_child(drop_body)));
	sandbox_jail_remove(jail);
}

static void
refuse_body(void)
{
	struct sandbox_user u;
	char err[256];

	MUST(sandbox_user_lookup("nobody", &u, err, sizeof(err)) == 0);
	MUST(sandbox_drop(jail, &u, err, sizeof(err)) == -1);
	MUST(strstr(err, "not empty") != NULL);
}

static void
test_drop_refuses_full_jail(void)
{
	char err[256], file[300];
	int fd;

	if (!is_root) {
		skip_why = "not root";
		return;
	}
	CHECK(sandbox_jail_make("/tmp", jail, sizeof(jail), err, sizeof(err)) ==
	      0);
	snprintf(file, sizeof(file), "%s/planted", jail);
	CHECK((fd = open(file, O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);
	CHECK(exited_ok(in_child(refuse_body)));
	unlink(file);
	sandbox_jail_remove(jail);
}

static void
no_user_body(void)
{
	char err[256];
	int sig = 0;

	MUST(sandbox_drop(NULL, NULL, err, sizeof(err)) == 0);
	MUST(getuid() == 0 || !is_root);
	MUST(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGTERM);
}

static void
test_drop_without_user(void)
{
	CHECK(exited_ok(in_child(no_user_body)));
}

int
main(void)
{
	struct rlimit no_core = {0, 0};
	static const char *names[] = {"localhost"};
	char kpath[600], cpath[600], err[512], path[600];
	struct tls_ids ids;
	struct tls_spec ts = {
	    .names = names,
	    .nnames = 1,
	    .dir = certdir,
	    .cert = cpath,
	    .key = kpath,
	    .may_create = 1,
	};

	/* Children die of SIGSYS on purpose; no core files for them. */
	setrlimit(RLIMIT_CORE, &no_core);
	setvbuf(stdout, NULL, _IOLBF, 0);
	is_root = geteuid() == 0;
	err[0] = '\0';
	if (mkdtemp(certdir) == NULL ||
	    snprintf(kpath, sizeof(kpath), "%s/localhost.key", certdir) < 0 ||
	    snprintf(cpath, sizeof(cpath), "%s/localhost.crt", certdir) < 0 ||
	    (server_ctx = tls_capsule(&ts, &ids, err, sizeof(err))) == NULL) {
		printf("FAIL setup: %s\n", err);
		return 1;
	}

	RUN_OR_SKIP(test_user_lookup);
	RUN_OR_SKIP(test_jail_make);
	RUN_OR_SKIP(test_worker_still_works);
	RUN_OR_SKIP(test_forbidden_calls_kill);
	RUN_OR_SKIP(test_log_mode_survives);
	RUN_OR_SKIP(test_landlock_denies);
	RUN_OR_SKIP(test_no_landlock_goes_on);
	RUN_OR_SKIP(test_drop_to_nobody);
	RUN_OR_SKIP(test_drop_refuses_full_jail);
	RUN_OR_SKIP(test_drop_without_user);

	SSL_CTX_free(server_ctx);
	snprintf(path, sizeof(path), "%s/localhost.key", certdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/localhost.crt", certdir);
	unlink(path);
	rmdir(certdir);
	return UNIT_EXIT();
}
