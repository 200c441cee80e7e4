/*
 * net.c: listeners and the connection state machine for both protocols.
 * A connection reads one request line under a deadline, writes bytes that
 * were prepared at load time, then closes politely: TLS close_notify, a
 * half-close, and a short drain so the kernel never resets the reply.
 */
#define _GNU_SOURCE /* accept4 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "gen.h"
#include "limit.h"
#include "log.h"
#include "name.h"
#include "net.h"
#include "tcpinfo.h"
#include "proxy.h"
#include "sockbio.h"
#include "tree.h"

#define DRAIN_TIME   2           /* seconds to wait for the client's FIN */
#define DRAIN_MAX    (64 * 1024) /* bytes read and dropped after a reply */
#define PAUSE_MS     100         /* accept back-off after EMFILE */
#define LOG_FLUSH_MS 10          /* about how long an access line waits */
#define EDGE_LOGS    20          /* edge errors logged a minute, at most */
#define FILE_CHUNK   (16 * 1024) /* one TLS record of a big file */
/* sendfile() moves at most this much at once (Linux: 0x7ffff000). */
#define SENDFILE_MAX ((size_t)0x7ffff000)
/*
 * Connections a worker accepts past its share of max-conns, only to say
 * "busy": a full server answers instead of leaving clients unanswered in
 * the kernel's queue. The descriptors are there: the parent sets the
 * open-file limit to max-conns plus a spare that covers these.
 */
#define BUSY_RESERVE 16
/*
 * glibc keeps what thousands of closed connections freed for later
 * mallocs; once the count falls to an eighth of a peak this high, it is
 * given back (malloc_trim: madvise and brk, both in the allowlist).
 */
#define TRIM_PEAK 64
/* Descriptors a worker opens after its start besides connections. */
#define FD_FILL_SLACK 16
/*
 * Descriptor numbers made ahead at most (2.9 MB, some 35 ms at start): a
 * max-conns set far above what ever comes costs no more; past it, entries
 * are made as they come.
 */
#define FD_FILL_MAX 65536

/* C_CLOSE: the last records sent (close_notify), then the half-close. */
enum state {
	C_PROXY,
	C_HANDSHAKE,
	C_READ,
	C_WRITE,
	C_SHUTDOWN,
	C_CLOSE,
	C_DRAIN
};

static void conn_cb(evutil_socket_t, short, void *);
static void conn_free(struct conn *);

static void
now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* The shared table's clock: every worker reads the same one. */
static uint64_t
now_us(void)
{
	struct timeval t;

	now(&t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_usec;
}

static struct timeval
remaining(const struct timeval *deadline)
{
	struct timeval t, left = {0, 0};

	now(&t);
	timersub(deadline, &t, &left);
	if (left.tv_sec < 0) /* passed: fire at once */
		left.tv_sec = left.tv_usec = 0;
	return left;
}

/*
 * The event stays registered (EV_PERSIST) while the connection waits for
 * the same thing: a new wait only moves its timeout, without a system
 * call. Only a change between reading and writing touches epoll.
 */
static int
conn_wait(struct conn *c, short what, struct timeval tv)
{
	if (c->waiting != what) {
		if (c->waiting != 0)
			event_del(&c->ev);
		event_assign(
		    &c->ev, c->w->base, c->fd, what | EV_PERSIST, conn_cb, c);
		c->waiting = what;
	}
	event_add(&c->ev, &tv);
	return 1;
}

/* Returns 1 (waiting) for WANT_READ/WRITE, -1 for anything fatal. */
static int
ssl_wait(struct conn *c, int r, struct timeval tv)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return conn_wait(c, EV_READ, tv);
	case SSL_ERROR_WANT_WRITE:
		return conn_wait(c, EV_WRITE, tv);
	case SSL_ERROR_ZERO_RETURN:
		return -1;
	default:
		return -1;
	}
}

void
conn_reply(struct conn *c, enum status status, const char *data, size_t len)
{
	c->status = status;
	c->out = data;
	c->outlen = len;
	c->outoff = 0;
}

void
conn_replyf(struct conn *c, enum status status, const char *fmt, ...)
{
	char small[CONN_SMALL];
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(small))
		n = sizeof(small) - 1;
	/* Made per request, so idle connections carry no room for it. */
	if ((p = malloc((size_t)n + 1)) != NULL)
		memcpy(p, small, (size_t)n + 1);
	free(c->own);
	c->own = p;
	if (p == NULL) {
		static const char oom[] = "40 Server out of memory\r\n";

		/* Nothing left to build with: a fixed line, not silence. */
		if (c->front->tls)
			conn_reply(c, ST_TEMP_FAILURE, oom, sizeof(oom) - 1);
		else
			conn_reply(c, ST_TEMP_FAILURE,
			    "3Server out of memory"
			    "\t\terror.host\t1\r\n",
			    45);
		return;
	}
	conn_reply(c, status, p, (size_t)n);
}

void
conn_reply_file(struct conn *c, enum status status, const char *head,
    size_t len, const struct node *n)
{
	conn_reply(c, status, head, len);
	c->file = n;
	c->foff = 0;
	c->fend = n->size;
}

void
conn_reply_then(struct conn *c, enum status status, const char *head,
    size_t headlen, const char *data, size_t len)
{
	conn_reply(c, status, head, headlen);
	c->then = data;
	c->thenlen = len;
}

void
conn_reply_recipe(struct conn *c, enum status status, const char *head,
    size_t len, const struct recipe *r, int flavour)
{
	conn_reply(c, status, head, len);
	c->recipe = r;
	c->flavour = flavour;
	c->foff = 0;
	c->fend = (off_t)recipe_len(r, (enum recipe_flavour)flavour);
}

void
conn_reply_own(struct conn *c, enum status status, char *data, size_t len)
{
	free(c->own);
	c->own = data;
	if (data == NULL) {
		c->front->error(c, ST_TEMP_FAILURE, "Server out of memory");
		return;
	}
	conn_reply(c, status, data, len);
}

void
conn_set_logpath(struct conn *c, const char *path)
{
	/* Paths are bounded by the request: this never cuts one. A failed
	   copy logs "-", which says the path is unknown. */
	free(c->logpath);
	c->logpath = strdup(path);
}

/* Most requests never need it: asked of the kernel the first time. */
const struct sockaddr_storage *
conn_local(struct conn *c)
{
	socklen_t len = sizeof(c->local);

	if (!c->local_known &&
	    getsockname(c->fd, (struct sockaddr *)&c->local, &len) == -1)
		memset(&c->local, 0, sizeof(c->local));
	c->local_known = 1;
	return &c->local;
}

/*
 * Failed handshakes and silent timeouts say something about the network
 * or an attack, but a flood of them must not flood the log: a few a
 * minute, then a count.
 */
static void
edge_error(struct conn *c, const char *what)
{
	struct worker *w = c->w;

	if (w->logged >= EDGE_LOGS) {
		w->dropped++;
		return;
	}
	w->logged++;
	log_warn("%s%s%s on %s", c->ip[0] ? c->ip : "", c->ip[0] ? ": " : "",
	    what, c->l->gl->spec->text);
}

/*
 * Access lines are kept until a buffer fills or LOG_FLUSH_MS pass, as
 * nginx's "access_log ... buffer= flush=" does: under load one write(2)
 * carries dozens of lines, and a line is about that late at most (the
 * timer runs once the loop is free).
 * Flushing once per loop turn was tried first: most turns end a single
 * request, so it saved only a third of the writes.
 */
static void
logflush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_flush();
}

static void
logflush_arm(void *arg)
{
	struct worker *w = arg;
	struct timeval tv = {0, LOG_FLUSH_MS * 1000};

	if (!evtimer_pending(w->logflush, NULL))
		evtimer_add(w->logflush, &tv);
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (w->dropped > 0 || w->silent > 0)
		log_warn("last minute: %u more failed handshakes or timeouts "
		         "not logged; %u connections closed before a byte",
		    w->dropped, w->silent);
	if (w->capped > 0 || w->denied > 0 || w->busy > 0)
		log_warn("last minute: %u connections over max-conns-per-ip "
		         "and %u denied, closed at accept; %u told the server "
		         "is busy",
		    w->capped, w->denied, w->busy);
	w->logged = w->dropped = w->silent = 0;
	w->capped = w->denied = w->busy = 0;
}

/* Why a TLS handshake failed, in OpenSSL's words. */
static void
handshake_failed(struct conn *c, int r)
{
	char why[160] = "", msg[200];
	unsigned long e;

	/* Not a byte sent: a port scan or a health check; count it only. */
	if (BIO_number_read(SSL_get_rbio(c->ssl)) == 0) {
		c->w->silent++;
		return;
	}
	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, why, sizeof(why));
	else if (SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL)
		snprintf(why, sizeof(why), "connection closed");
	snprintf(msg, sizeof(msg), "TLS handshake failed (%s)", why);
	edge_error(c, msg);
}

/*
 * A reply may take as long as it needs, but never stall: send-timeout
 * seconds without a byte taken by the client, whatever the file's size,
 * and the slot is given back. A reader at any steady speed keeps it.
 */
static void
set_write_deadline(struct conn *c)
{
	struct timeval t = {c->w->send_timeout, 0};

	now(&c->deadline);
	timeradd(&c->deadline, &t, &c->deadline);
}

/*
 * A complete line is handed to the protocol front, unless the server is
 * full or the client over its rate; 1: still reading.
 */
static int
conn_parse(struct conn *c, const char *req)
{
	long len = c->front->frame(req, c->reqlen, c->eof);
	unsigned wait;

	if (len < 0)
		return 1;
	if (c->busy)
		c->front->error(c, ST_SERVER_UNAVAILABLE, "Server busy");
	else if (c->w->limits != NULL &&
	         (wait = limit_take(
	              c->w->limits, &c->w->policy, &c->lref, now_us())) > 0)
		c->front->slow_down(c, req, (size_t)len, wait);
	else
		c->front->handle(c, req, (size_t)len);
	set_write_deadline(c);
	c->state = C_WRITE;
	return 0;
}

/*
 * The abuse policy at the door, for the client's own address (the PROXY
 * header's when there is one): denied networks, then the per-address cap.
 * -1: close it now, without a reply or an access-log line.
 */
static int
admit(struct worker *w, const struct sockaddr *peer, struct limit_ref *ref,
    const struct conf *cf)
{
	unsigned char a[16], key[16];
	char ip[64];

	if (limit_addr(peer, a) == -1)
		return 0; /* no address to count by */
	if (cidr_match(cf->deny, cf->ndeny, a)) {
		w->denied++;
		return -1;
	}
	if (w->limits == NULL || cidr_match(cf->exempt, cf->nexempt, a))
		return 0;
	limit_key(a, key);
	switch (limit_open(w->limits, &w->policy, key, now_us(), ref)) {
	case LIMIT_CAPPED_LOG:
		log_format_ip(ip, sizeof(ip), peer, w->log_ip);
		log_warn("%s has %u connections open (max-conns-per-ip); "
		         "closing its new ones (said once a minute)",
		    ip[0] ? ip : "a client (log-ip is off)", w->policy.per_ip);
		/* FALLTHROUGH */
	case LIMIT_CAPPED:
		w->capped++;
		return -1;
	default:
		return 0;
	}
}

/*
 * A PROXY listener reads the balancer's header before anything else: by
 * peeking, then taking exactly the header's bytes, so the TLS hello
 * behind it stays in the socket for OpenSSL.
 */
static int
do_proxy(struct conn *c)
{
	struct proxy_hdr h;
	const char *why;
	ssize_t n;
	long len;

	if (c->req == NULL && (c->req = malloc(PROXY_MAX)) == NULL)
		return -1;
	for (;;) {
		n = recv(
		    c->fd, c->req + c->reqlen, PROXY_MAX - c->reqlen, MSG_PEEK);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return conn_wait(c, EV_READ, remaining(&c->deadline));
		if (n <= 0) {
			if (c->got == 0)
				c->w->silent++;
			else
				edge_error(c, "closed inside the PROXY header");
			return -1;
		}
		len = proxy_parse(
		    (unsigned char *)c->req, c->reqlen + (size_t)n, &h, &why);
		if (len < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "refused: %s", why);
			edge_error(c, msg);
			return -1;
		}
		/* Every byte seen is the header's, up to its end. */
		if (len > 0)
			n = (ssize_t)((size_t)len - c->reqlen);
		if (read(c->fd, c->req + c->reqlen, (size_t)n) != n)
			return -1;
		c->reqlen += (size_t)n;
		c->got += (size_t)n;
		if (len > 0)
			break;
	}
	/* LOCAL (a health check): the connection's own addresses stand. */
	if (!h.local) {
		c->peer = h.src;
		c->local = h.dst;
		c->local_known = 1;
	}
	free(c->req);
	c->req = NULL;
	c->reqlen = 0;
	c->got = 0; /* a check that closes now is silent, as it should */
	log_format_ip(
	    c->ip, sizeof(c->ip), (struct sockaddr *)&c->peer, c->w->log_ip);
	if (admit(c->w, (struct sockaddr *)&c->peer, &c->lref, c->gen->conf) ==
	    -1)
		return -1;
	c->state = c->ssl != NULL ? C_HANDSHAKE : C_READ;
	return 0;
}

static int
do_handshake(struct conn *c)
{
	int r;

	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->state = C_READ;
		return 0;
	}
	if ((r = ssl_wait(c, r, remaining(&c->deadline))) == -1)
		handshake_failed(c, r);
	return r;
}

/*
 * The line is read into the stack; only a line that comes in parts is
 * kept between reads, in a buffer made for it then.
 */
static int
do_read(struct conn *c)
{
	char line[REQ_MAX + 3];
	size_t space;
	ssize_t r;
	int rc;

	if (c->reqlen > 0)
		memcpy(line, c->req, c->reqlen);
	for (;;) {
		space = sizeof(line) - 1 - c->reqlen;
		if (c->ssl != NULL) {
			rc = SSL_read(c->ssl, line + c->reqlen, (int)space);
			if (rc <= 0) {
				rc = ssl_wait(c, rc, remaining(&c->deadline));
				goto wait;
			}
			r = rc;
		} else {
			r = read(c->fd, line + c->reqlen, space);
			if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
				rc = conn_wait(
				    c, EV_READ, remaining(&c->deadline));
				goto wait;
			}
			/* A Gopher client may half-close after its line. */
			if (r == 0 && c->reqlen > 0)
				c->eof = 1;
			else if (r <= 0)
				return -1;
		}
		c->reqlen += (size_t)r;
		c->got += (size_t)r;
		line[c->reqlen] = '\0';
		if (conn_parse(c, line) == 0) {
			free(c->req);
			c->req = NULL;
			return 0;
		}
	}
wait:
	if (rc == 1 && c->reqlen > 0) {
		if (c->req == NULL && (c->req = malloc(REQ_MAX + 3)) == NULL)
			return -1;
		memcpy(c->req, line, c->reqlen);
	}
	return rc;
}

/*
 * A big file, from its descriptor at our own offset: workers share the
 * file position. sendfile over plain TCP; over TLS, 16 KiB at a time
 * into SSL_write. A read that ends before the size said (0 bytes) means
 * the file was changed in place while sent; a read that fails (EIO) is
 * a disk's error, and logged as one. Either way the reply is cut.
 */
static int
file_failed(struct conn *c, int err)
{
	char msg[PATH_MAX + 160];

	if (err == 0)
		snprintf(msg, sizeof(msg),
		    "%s: changed while being sent (ended at byte %lld of "
		    "%lld); closed: replace files by rename",
		    c->logpath ? c->logpath : "-", (long long)c->foff,
		    (long long)c->fend);
	else
		snprintf(msg, sizeof(msg),
		    "%s: cannot read at byte %lld of %lld (%s); closed",
		    c->logpath ? c->logpath : "-", (long long)c->foff,
		    (long long)c->fend, strerror(err));
	edge_error(c, msg);
	return -1;
}

/* sendfile's errors about the client, who went away: no log line. */
static int
client_gone(int err)
{
	return err == EPIPE || err == ECONNRESET || err == ETIMEDOUT ||
	       err == EHOSTUNREACH || err == ENETUNREACH;
}

/*
 * Offsets stay off_t (64 bits): what is left of a file is narrowed to
 * size_t only once it is below one call's most, as size_t may be 32.
 */
static size_t
file_left(const struct conn *c, size_t most)
{
	off_t left = c->fend - c->foff;

	return left > (off_t)most ? most : (size_t)left;
}

/* The next bytes of what streams after out into fbuf; -1 with errno. */
static ssize_t
stream_fill(struct conn *c)
{
	size_t n = file_left(c, FILE_CHUNK);

	if (c->fbuf == NULL && (c->fbuf = malloc(FILE_CHUNK)) == NULL)
		return -1;
	if (c->recipe != NULL)
		return (ssize_t)recipe_read(c->recipe,
		    (enum recipe_flavour)c->flavour, &c->rcur, c->fbuf, n);
	return pread(c->file->fd, c->fbuf, n, c->foff);
}

/*
 * What follows out: a big file (sendfile over plain TCP), or through one
 * buffer of FILE_CHUNK bytes: a file over TLS, a text version's recipe.
 * Either way a slow reader holds a few KiB, never a copy of the whole.
 */
static int
write_stream(struct conn *c)
{
	off_t before = c->foff;
	ssize_t r;
	int rc;

	while (c->foff < c->fend || c->fbufoff < c->fbuflen) {
		if (c->ssl == NULL && c->file != NULL) {
			r = sendfile(c->fd, c->file->fd, &c->foff,
			    file_left(c, SENDFILE_MAX));
			if (r > 0)
				continue;
			if (r == 0)
				return file_failed(c, 0);
			if (errno != EAGAIN && errno != EINTR)
				return client_gone(errno)
				           ? -1
				           : file_failed(c, errno);
			if (c->foff > before)
				set_write_deadline(c);
			return conn_wait(c, EV_WRITE, remaining(&c->deadline));
		}
		if (c->fbufoff == c->fbuflen) {
			r = stream_fill(c);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0 && c->recipe != NULL)
				return -1; /* out of memory; a recipe never ends
				              short */
			if (r <= 0)
				return file_failed(c, r == 0 ? 0 : errno);
			/* Fewer bytes than asked, but some: the rest next. */
			c->fbuflen = (size_t)r;
			c->fbufoff = 0;
			c->foff += (off_t)r;
		}
		if (c->ssl != NULL) {
			rc = SSL_write(c->ssl, c->fbuf + c->fbufoff,
			    (int)(c->fbuflen - c->fbufoff));
			if (rc > 0) {
				c->fbufoff += (size_t)rc;
				continue;
			}
			if (c->foff > before)
				set_write_deadline(c);
			return ssl_wait(c, rc, remaining(&c->deadline));
		}
		r = write(c->fd, c->fbuf + c->fbufoff, c->fbuflen - c->fbufoff);
		if (r > 0) {
			c->fbufoff += (size_t)r;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (c->foff > before)
				set_write_deadline(c);
			return conn_wait(c, EV_WRITE, remaining(&c->deadline));
		}
		return -1;
	}
	free(c->fbuf);
	c->fbuf = NULL;
	c->file = NULL;
	c->recipe = NULL;
	c->state = C_SHUTDOWN;
	return 0;
}

static int
do_write(struct conn *c)
{
	size_t n, before = c->outoff;
	ssize_t r;
	int rc;

again:
	while (c->outoff < c->outlen) {
		n = c->outlen - c->outoff;
		if (c->ssl != NULL) {
			rc = SSL_write(c->ssl, c->out + c->outoff,
			    n > INT_MAX ? INT_MAX : (int)n);
			if (rc > 0) {
				c->outoff += (size_t)rc;
				continue;
			}
			if (c->outoff > before) /* progress: a new deadline */
				set_write_deadline(c);
			return ssl_wait(c, rc, remaining(&c->deadline));
		}
		r = write(c->fd, c->out + c->outoff, n);
		if (r > 0) {
			c->outoff += (size_t)r;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (c->outoff > before)
				set_write_deadline(c);
			return conn_wait(c, EV_WRITE, remaining(&c->deadline));
		}
		return -1;
	}
	if (c->then != NULL) {
		c->done += c->outlen;
		c->out = c->then;
		c->outlen = c->thenlen;
		c->outoff = before = 0;
		c->then = NULL;
		goto again;
	}
	if (c->file != NULL || c->recipe != NULL)
		return write_stream(c);
	c->state = C_SHUTDOWN;
	return 0;
}

/*
 * Our close_notify goes out without waiting for the client's (clients
 * hang waiting otherwise); then a half-close, and a drain, because
 * closing with unread bytes makes the kernel send RST over our reply.
 */
static int
do_shutdown(struct conn *c)
{
	int r;

	if (c->ssl != NULL && (r = SSL_shutdown(c->ssl)) < 0 &&
	    SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE)
		return conn_wait(c, EV_WRITE, remaining(&c->deadline));
	c->state = C_CLOSE;
	return 0;
}

/* The half-close only once every record the BIO holds is sent. */
static int
do_close(struct conn *c)
{
	struct timeval drain = {DRAIN_TIME, 0};

	if (c->ssl != NULL) {
		switch (sockbio_flush(SSL_get_wbio(c->ssl))) {
		case 0:
			return conn_wait(c, EV_WRITE, remaining(&c->deadline));
		case -1:
			return -1;
		}
	}
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAIN;
	now(&c->deadline);
	timeradd(&c->deadline, &drain, &c->deadline);
	return conn_wait(c, EV_READ, drain);
}

static int
do_drain(struct conn *c)
{
	char junk[4096];
	ssize_t r = 0;

	/* A client that keeps sending gets 64 KiB of our patience. */
	while (c->got < DRAIN_MAX && (r = read(c->fd, junk, sizeof(junk))) > 0)
		c->got += (size_t)r;
	if (c->got >= DRAIN_MAX)
		return -1;
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return conn_wait(c, EV_READ, remaining(&c->deadline));
	return -1;
}

/*
 * What OpenSSL wrote during a step (a flight, a session ticket, a reply
 * and its close_notify) leaves in one write before the connection waits.
 * A socket too full for it is waited on like any other write; after an
 * error, what is there (an alert saying why) is sent if it can be.
 */
static int
conn_flush(struct conn *c, int rc)
{
	int r = sockbio_flush(SSL_get_wbio(c->ssl));

	if (rc == -1 || r == 1)
		return rc;
	if (r == -1)
		return -1;
	return conn_wait(c, EV_WRITE, remaining(&c->deadline));
}

static void
conn_step(struct conn *c)
{
	int rc;

	/* A stale error left by another connection would make SSL_get_error
	   call this one's WANT_READ fatal. */
	if (c->ssl != NULL)
		ERR_clear_error();
	do {
		switch (c->state) {
		case C_PROXY:
			rc = do_proxy(c);
			break;
		case C_HANDSHAKE:
			rc = do_handshake(c);
			break;
		case C_READ:
			rc = do_read(c);
			break;
		case C_WRITE:
			rc = do_write(c);
			break;
		case C_SHUTDOWN:
			rc = do_shutdown(c);
			break;
		case C_CLOSE:
			rc = do_close(c);
			break;
		default:
			rc = do_drain(c);
			break;
		}
	} while (rc == 0);
	if (c->ssl != NULL)
		rc = conn_flush(c, rc);
	if (rc == -1)
		conn_free(c);
}

/*
 * A big reply fills the kernel's send buffer, and the socket is writable
 * again only once half of it has gone: a steady reader slower than that
 * half per send-timeout would look stalled. What the client acknowledged
 * says whether it is still taking bytes; if so, it keeps its slot.
 */
static int
still_taking(struct conn *c)
{
	long long acked = tcp_bytes_acked(c->fd);

	if (acked < 0 || acked <= c->acked)
		return 0;
	c->acked = acked;
	set_write_deadline(c);
	conn_wait(c, EV_WRITE, remaining(&c->deadline));
	return 1;
}

/*
 * Bytes of the reply wait for the reader: in C_WRITE, and in C_SHUTDOWN
 * and C_CLOSE too, where the last TLS record and close_notify are sent.
 */
static int
sending(const struct conn *c)
{
	return c->state == C_WRITE || c->state == C_SHUTDOWN ||
	       c->state == C_CLOSE;
}

/*
 * A reader that took nothing for send-timeout is cut with a reset, not a
 * FIN behind what it left unread: after a plain close the kernel keeps
 * the socket and its send buffer (up to megabytes) and goes on probing
 * a zero window for minutes; a reset frees both at once.
 */
static void
reset_on_close(int fd)
{
	struct linger lg = {1, 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		/* A silent client or a stalled reader: let it go. */
		if (c->state == C_PROXY)
			edge_error(c, "timed out before a PROXY header");
		else if (c->state == C_HANDSHAKE || c->state == C_READ) {
			if (c->got == 0 &&
			    (c->ssl == NULL ||
			        BIO_number_read(SSL_get_rbio(c->ssl)) == 0))
				c->w->silent++;
			else
				edge_error(
				    c, c->state == C_HANDSHAKE
				           ? "timed out in the TLS handshake"
				           : "timed out before a whole "
				             "request line");
		} else if (sending(c) && still_taking(c)) {
			return;
		} else if (sending(c)) {
			edge_error(c, "reply stalled for send-timeout");
			reset_on_close(c->fd);
		}
		conn_free(c);
		return;
	}
	conn_step(c);
}

static void
listeners_enable(struct worker *w, int on)
{
	size_t i;

	if (w->paused == !on)
		return;
	for (i = 0; i < w->nls; i++) {
		if (w->ls[i].ev == NULL)
			continue;
		if (on)
			event_add(w->ls[i].ev, NULL);
		else
			event_del(w->ls[i].ev);
	}
	w->paused = !on;
}

static void
listener_close(struct listener *l)
{
	if (l->ev == NULL)
		return;
	event_free(l->ev);
	close(l->fd);
	l->ev = NULL;
}

static void
conn_free(struct conn *c)
{
	struct worker *w = c->w;
	struct access a = {
	    .capsule = c->cap != NULL ? c->cap->cc->name : "-",
	    .proto = c->front->name,
	    .ip = c->ip,
	    .status = (int)c->status,
	    .sent = c->done + c->outoff,
	    .due = c->done + c->outlen + (c->then != NULL ? c->thenlen : 0),
	    .path = c->logpath != NULL ? c->logpath : "-",
	};

	/* A stream: what the client took of it (not what was read). */
	if (c->file != NULL || c->recipe != NULL) {
		a.sent +=
		    (unsigned long long)c->foff - (c->fbuflen - c->fbufoff);
		a.due += (unsigned long long)c->fend;
	} else if (c->status == ST_SUCCESS && c->fend > 0) {
		a.sent += (unsigned long long)c->fend;
		a.due += (unsigned long long)c->fend;
	}
	if (c->status != ST_NONE)
		log_access(&a);
	if (w->limits != NULL)
		limit_close(w->limits, &c->lref);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->waiting != 0)
		event_del(&c->ev);
	close(c->fd);
	gen_unref(c->gen);
	free(c->own);
	free(c->req);
	free(c->logpath);
	free(c->fbuf);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pool_put(&w->pool, c);
	w->nconns--;
	if (w->peak >= TRIM_PEAK && w->nconns <= w->peak / 8) {
		malloc_trim(0);
		w->peak = w->nconns;
	}
	if (w->stopping) {
		if (w->nconns == 0)
			event_base_loopexit(w->base, NULL);
	} else if (w->paused && w->nconns < w->max_conns + BUSY_RESERVE &&
	           !evtimer_pending(w->resume, NULL)) {
		listeners_enable(w, 1);
	}
}

/* SNI picks the capsule among those on this address; else the first. */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const struct gen_listener *gl;
	const struct capsule *cap;
	const char *name;
	size_t i, j;

	(void)alert;
	(void)arg;
	if (c == NULL ||
	    (name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) == NULL)
		return SSL_TLSEXT_ERR_OK;
	gl = c->l->gl;
	for (i = 0; i < gl->ncaps; i++) {
		cap = &c->gen->caps[gl->caps[i]];
		for (j = 0; j < cap->nnames; j++) {
			if (!name_equal(cap->names[j], name))
				continue;
			if (cap != c->cap &&
			    SSL_set_SSL_CTX(ssl, cap->ctx) == NULL)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			c->cap = cap;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

static void
accept_conn(
    struct listener *l, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
	struct worker *w = l->w;
	struct timeval t = {w->timeout, 0};
	struct limit_ref ref = {0, -1};
	struct sockaddr_storage ss;
	struct conn *c;
	BIO *bio;

	/* A dual-stack socket's IPv4 client is logged and counted as one. */
	if (peerlen > 0 && (size_t)peerlen <= sizeof(ss)) {
		memcpy(&ss, peer, (size_t)peerlen);
		proxy_unmap(&ss);
		peer = (struct sockaddr *)&ss;
	}
	/* Behind a balancer the socket's peer is the balancer: wait. */
	if (!l->gl->spec->proxy && admit(w, peer, &ref, w->gen->conf) == -1) {
		close(fd);
		return;
	}
	if ((c = pool_get(&w->pool)) == NULL)
		goto err;
	c->w = w;
	c->l = l;
	c->fd = fd;
	c->front = l->front;
	c->gen = w->gen;
	c->cap = &w->gen->caps[l->gl->caps[0]];
	c->lref = ref;
	if (peerlen > 0 && (size_t)peerlen <= sizeof(c->peer))
		memcpy(&c->peer, peer, (size_t)peerlen);
	event_assign(&c->ev, w->base, fd, 0, conn_cb, c);
	if (c->front->tls) {
		if ((c->ssl = SSL_new(c->cap->ctx)) == NULL ||
		    (bio = sockbio_new(fd)) == NULL)
			goto err;
		SSL_set_bio(c->ssl, bio, bio);
		SSL_set_app_data(c->ssl, c);
		SSL_set_accept_state(c->ssl);
		c->state = C_HANDSHAKE;
	} else {
		c->state = C_READ;
	}
	if (l->gl->spec->proxy)
		c->state = C_PROXY;
	/* TCP_NODELAY comes from the listening socket: no call here. */
	log_format_ip(c->ip, sizeof(c->ip), peer, w->log_ip);
	now(&c->deadline);
	timeradd(&c->deadline, &t, &c->deadline);
	gen_ref(c->gen);
	c->next = w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns = c;
	/* Past our share: served only to be told so, from the reserve. */
	if (w->nconns >= w->max_conns) {
		c->busy = 1;
		w->busy++;
	}
	if (++w->nconns >= w->max_conns + BUSY_RESERVE)
		listeners_enable(w, 0);
	if (w->nconns > w->peak)
		w->peak = w->nconns;
	conn_step(c);
	return;
err:
	log_warn("out of memory for a new connection");
	if (w->limits != NULL)
		limit_close(w->limits, &ref);
	if (c != NULL) {
		SSL_free(c->ssl);
		pool_put(&w->pool, c);
	}
	close(fd);
}

/*
 * One accept per readiness: epoll (level-triggered) says again when more
 * are queued, so an accept that would only say EAGAIN is never made.
 */
static void accept_error(struct listener *);

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	(void)what;
	fd = accept4(
	    lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			accept_error(l);
		return;
	}
	accept_conn(l, fd, (struct sockaddr *)&ss, len);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->stopping && w->nconns < w->max_conns + BUSY_RESERVE)
		listeners_enable(w, 1);
}

/*
 * libevent retries accept() only on EINTR/EAGAIN/ECONNABORTED; on EMFILE
 * the socket stays readable and this would fire in a tight loop. Pause.
 */
static void
accept_error(struct listener *l)
{
	struct worker *w = l->w;
	struct timeval t = {0, PAUSE_MS * 1000};
	static time_t last;
	time_t t0 = time(NULL);

	/* Once a minute tells the operator; ten times a second floods. */
	if (t0 - last >= 60) {
		log_warn("accept on %s: %s; pausing %d ms at a time",
		    l->gl->spec->text, strerror(errno), PAUSE_MS);
		last = t0;
	}
	listeners_enable(w, 0);
	evtimer_add(w->resume, &t);
}

/*
 * libevent keeps a small entry for every descriptor number it has
 * watched, for the life of the loop. Made lazily, the entry of each new
 * number lands between the allocations of the TLS connection that first
 * reached it, and after thousands of connections close those entries
 * pin a page of the heap each (35 MB stayed after 10,000). Made here,
 * before any connection, for every number a connection can get, they
 * sit together: about 44 bytes a number. A spare socket stands in for
 * each free number (epoll wants a real one); open ones are left alone.
 * Connections take the lowest free numbers, so the first conns free
 * numbers are all they can reach, with a few the loop opens later.
 */
static void
fill_fd_map(struct event_base *base, size_t conns)
{
	struct event ev;
	size_t filled = 0;
	int fd, spare;

	if ((spare = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (conns > FD_FILL_MAX - FD_FILL_SLACK)
		conns = FD_FILL_MAX - FD_FILL_SLACK;
	for (fd = spare + 1; filled < conns + FD_FILL_SLACK; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* Past the open-file limit: nothing more to reach. */
		if (dup2(spare, fd) == -1)
			break;
		event_assign(&ev, base, fd, EV_READ, conn_cb, NULL);
		if (event_add(&ev, NULL) == 0)
			event_del(&ev);
		close(fd);
		filled++;
	}
	close(spare);
}

int
worker_init(struct worker *w, struct event_base *base, struct gen *g,
    const int *fds, unsigned nworkers, struct limit_table *limits)
{
	struct timeval minute = {60, 0};
	struct listener *l;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->base = base;
	w->gen = g;
	w->timeout = g->conf->timeout;
	w->send_timeout = g->conf->send_timeout;
	w->log_ip = (int)g->conf->log_ip;
	w->limits = limits;
	w->policy.per_ip = g->conf->max_conns_per_ip;
	w->policy.rate_n = g->conf->rate_n;
	w->policy.rate_secs = g->conf->rate_secs;
	/* The connection cap is shared out: each worker takes its part. */
	w->max_conns = (g->conf->max_conns + nworkers - 1) / nworkers;
	pool_init(&w->pool, sizeof(struct conn));
	fill_fd_map(base, w->max_conns + BUSY_RESERVE);
	if ((w->resume = evtimer_new(base, resume_cb, w)) == NULL ||
	    (w->stats = event_new(base, -1, EV_PERSIST, stats_cb, w)) == NULL ||
	    event_add(w->stats, &minute) == -1 ||
	    (w->logflush = evtimer_new(base, logflush_cb, w)) == NULL)
		return -1;
	log_batch(logflush_arm, w);
	if ((w->ls = calloc(g->nls + 1, sizeof(*w->ls))) == NULL)
		return -1;
	for (i = 0; i < g->ncaps; i++)
		if (g->caps[i].ctx != NULL)
			SSL_CTX_set_tlsext_servername_callback(
			    g->caps[i].ctx, sni_cb);
	for (i = 0; i < g->nls; i++) {
		l = &w->ls[w->nls];
		l->w = w;
		l->gl = &g->ls[i];
		l->front = g->ls[i].proto == PROTO_GEMINI ? &gemini_front
		                                          : &gopher_front;
		l->fd = fds[i];
		l->ev =
		    event_new(base, fds[i], EV_READ | EV_PERSIST, accept_cb, l);
		if (l->ev == NULL || event_add(l->ev, NULL) == -1)
			return -1;
		w->nls++;
	}
	return 0;
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	/*
	 * After a reload, a big file still streaming to a reader who takes
	 * it goes on: send-timeout, not the drain limit, decides its end (a
	 * 1 GiB episode would otherwise break at every content deploy).
	 */
	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (!w->draining || c->state != C_WRITE || c->file == NULL)
			conn_free(c);
	}
	if (w->nconns == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	log_warn("%zu big file(s) still streaming after the drain limit; "
	         "they go on while their readers take bytes",
	    w->nconns);
}

/*
 * Stop accepting and finish what is in flight. At shutdown, clients that
 * sent no request yet are dropped; at a reload they are served, since the
 * new workers will not see them.
 */
void
worker_stop(struct worker *w, int grace, int drop_idle)
{
	struct timeval t = {grace, 0};
	struct conn *c, *next;
	size_t i;

	/* A stop during a drain: the shorter grace wins, idle ones go. */
	if (w->stopping) {
		w->draining = 0;
		for (c = w->conns; drop_idle && c != NULL; c = next) {
			next = c->next;
			if (c->state <= C_READ)
				conn_free(c);
		}
		if (w->grace != NULL && w->nconns > 0)
			evtimer_add(w->grace, &t);
		return;
	}
	w->stopping = 1;
	w->draining = !drop_idle;
	for (i = 0; i < w->nls; i++)
		listener_close(&w->ls[i]);
	for (c = w->conns; drop_idle && c != NULL; c = next) {
		next = c->next;
		if (c->state <= C_READ)
			conn_free(c);
	}
	if (w->nconns == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	if ((w->grace = evtimer_new(w->base, grace_cb, w)) != NULL)
		evtimer_add(w->grace, &t);
}

void
worker_free(struct worker *w)
{
	size_t i;

	while (w->conns != NULL)
		conn_free(w->conns);
	log_batch(NULL, NULL); /* the last lines out, before the event goes */
	pool_free(&w->pool);
	for (i = 0; i < w->nls; i++)
		listener_close(&w->ls[i]);
	free(w->ls);
	w->ls = NULL;
	w->nls = 0;
	if (w->resume != NULL)
		event_free(w->resume);
	if (w->grace != NULL)
		event_free(w->grace);
	if (w->stats != NULL)
		event_free(w->stats);
	if (w->logflush != NULL)
		event_free(w->logflush);
	w->resume = w->grace = w->stats = w->logflush = NULL;
}
