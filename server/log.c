/*
 * log.c: one access-log line per request on stdout, errors on stderr.
 * Paths are printed with control bytes, C1 controls and bidi overrides
 * escaped, so a request can neither forge lines nor steer a terminal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define LINE_MAX_LOG 4096 /* a request line escaped fits with room */

static int plain;

void
log_set_plain(int on)
{
	plain = on;
}

struct line {
	char s[LINE_MAX_LOG];
	size_t n;
};

static void
add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (l->n >= sizeof(l->s))
		return;
	va_start(ap, fmt);
	r = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		l->n += (size_t)r;
	if (l->n >= sizeof(l->s))
		l->n = sizeof(l->s) - 1;
}

/*
 * The access log is written once per request: its fields are copied, not
 * formatted (a printf per byte of the path cost more than a Gopher reply).
 * The line keeps its last byte free, as add() does, for emit's newline.
 */
static void
put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->s) - 1 - l->n;

	if (n > room)
		n = room;
	memcpy(l->s + l->n, s, n);
	l->n += n;
}

static void
put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
put_num(struct line *l, unsigned long long v)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	put(l, d + i, sizeof(d) - i);
}

static void
put_hex(struct line *l, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

	put(l, e, sizeof(e));
}

/* U+0080–U+009F, U+202A–U+202E and U+2066–U+2069, as UTF-8 at p. */
static size_t
dangerous_len(const unsigned char *p)
{
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

/*
 * 1: a byte add_safe copies as it is in any case. NUL, controls, DEL,
 * '\\' and the lead bytes of the sequences it may escape are 0.
 */
/* clang-format off */
static const unsigned char harmless[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/* Runs of harmless bytes are copied whole; the rest as \xNN. */
static void
add_safe(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t i, k;

	for (;; p++) {
		while (harmless[*p])
			p++;
		if (*p == '\0')
			break;
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			k = 1;
		else if ((k = dangerous_len(p)) == 0)
			continue;
		put(l, (const char *)run, (size_t)(p - run));
		for (i = 0; i < k; i++)
			put_hex(l, p[i]);
		p += k - 1;
		run = p + 1;
	}
	put(l, (const char *)run, (size_t)(p - run));
}

/*
 * Not strftime: glibc's reads /etc/localtime, which a sandbox forbids.
 * Made once a second: a busy worker logs thousands of lines in each.
 */
static void
add_time(struct line *l)
{
	static char stamp[32];
	static size_t len;
	static time_t last = -1;
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (t != last) {
		gmtime_r(&t, &tm);
		n = snprintf(stamp, sizeof(stamp),
		    "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
		len = n > 0 && (size_t)n < sizeof(stamp) ? (size_t)n : 0;
		last = t;
	}
	put(l, stamp, len);
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void
end_line(struct line *l)
{
	if (l->n >= sizeof(l->s) - 1)
		l->n = sizeof(l->s) - 2;
	l->s[l->n++] = '\n';
}

/* One write(2) per line: lines of several workers never mix. */
static void
emit(int fd, struct line *l)
{
	end_line(l);
	write_all(fd, l->s, l->n);
}

/*
 * A worker's access lines wait here until the buffer is full or its
 * event loop's timer says they have waited long enough: under load one
 * write(2) then carries dozens of lines instead of one (a Gopher request
 * costs about 15 us of CPU, a write about 0.7). PIPE_BUF bytes at most,
 * so a write to a pipe still lands whole between workers, as a single
 * line's did (and a journal's stream socket takes it in one piece).
 */
_Static_assert(LINE_MAX_LOG <= PIPE_BUF, "a line must fit in one batch");
static struct {
	char s[PIPE_BUF];
	size_t n;
	void (*arm)(void *);
	void *arg;
} batch;

/*
 * A worker that crashes writes the lines it kept first: they are the
 * requests an operator reads to see what came before. Only write(2) and
 * sigaction(2) are called here. The old action (the default, or a
 * sanitizer's) is put back; a fault then happens again and meets it, a
 * signal someone sent (or abort's) is raised again.
 */
static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction crash_old[sizeof(crash_sigs) / sizeof(crash_sigs[0])];

static void
crash_flush(int sig, siginfo_t *si, void *uc)
{
	size_t i;
	int saved = errno;

	(void)uc;
	write_all(STDOUT_FILENO, batch.s, batch.n);
	batch.n = 0;
	for (i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
		if (crash_sigs[i] == sig)
			sigaction(sig, &crash_old[i], NULL);
	errno = saved;
	if (si == NULL || si->si_code <= 0) /* sent, not a fault */
		raise(sig);
}

static void
crash_handlers(int on)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = crash_flush;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++) {
		if (on)
			sigaction(crash_sigs[i], &sa, &crash_old[i]);
		else
			sigaction(crash_sigs[i], &crash_old[i], NULL);
	}
}

void
log_batch(void (*arm)(void *), void *arg)
{
	log_flush();
	if ((arm != NULL) != (batch.arm != NULL))
		crash_handlers(arm != NULL);
	batch.arm = arm;
	batch.arg = arg;
}

void
log_flush(void)
{
	write_all(STDOUT_FILENO, batch.s, batch.n);
	batch.n = 0;
}

void
log_access(const struct access *a)
{
	struct line l;

	l.n = 0;
	add_time(&l);
	if (a->ip != NULL && a->ip[0] != '\0') {
		put(&l, " ", 1);
		put_str(&l, a->ip);
	}
	put(&l, " ", 1);
	put_str(&l, a->capsule);
	put(&l, " ", 1);
	put_str(&l, a->proto);
	put(&l, " ", 1);
	if (a->status < 0)
		put(&l, "-", 1);
	put_num(&l, a->status < 0 ? -(unsigned long long)a->status
	                          : (unsigned long long)a->status);
	put(&l, " ", 1);
	put_num(&l, a->sent);
	if (a->sent < a->due) {
		put(&l, "/", 1);
		put_num(&l, a->due);
	}
	put(&l, " ", 1);
	add_safe(&l, a->path);
	end_line(&l);
	if (batch.arm == NULL) {
		log_flush();
		write_all(STDOUT_FILENO, l.s, l.n);
		return;
	}
	if (batch.n + l.n > sizeof(batch.s))
		log_flush();
	if (batch.n == 0)
		batch.arm(batch.arg);
	memcpy(batch.s + batch.n, l.s, l.n);
	/* A crash handler writes batch.n bytes: only whole lines. */
	atomic_signal_fence(memory_order_release);
	batch.n += l.n;
}

void
log_warn(const char *fmt, ...)
{
	struct line l = {.n = 0};
	va_list ap;
	int r;

	if (!plain) {
		add_time(&l);
		add(&l, " kapsula[%ld]: ", (long)getpid());
	}
	va_start(ap, fmt);
	r = vsnprintf(l.s + l.n, sizeof(l.s) - l.n, fmt, ap);
	va_end(ap);
	if (r > 0)
		l.n += (size_t)r;
	if (l.n >= sizeof(l.s))
		l.n = sizeof(l.s) - 1;
	emit(STDERR_FILENO, &l);
}

void
log_format_ip(char *out, size_t outsz, const struct sockaddr *sa, int mode)
{
	struct in6_addr a6;
	struct in_addr a4;

	out[0] = '\0';
	if (mode == LOG_IP_OFF)
		return;
	if (sa->sa_family == AF_INET) {
		a4 = ((const struct sockaddr_in *)sa)->sin_addr;
		if (mode == LOG_IP_TRUNCATED)
			a4.s_addr &= htonl(0xffffff00);
		inet_ntop(AF_INET, &a4, out, (socklen_t)outsz);
		if (mode == LOG_IP_TRUNCATED)
			strncat(out, "/24", outsz - strlen(out) - 1);
	} else if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (mode == LOG_IP_TRUNCATED)
			memset(a6.s6_addr + 6, 0, 10);
		inet_ntop(AF_INET6, &a6, out, (socklen_t)outsz);
		if (mode == LOG_IP_TRUNCATED)
			strncat(out, "/48", outsz - strlen(out) - 1);
	}
}
