/*
 * net.c: listeners and the connection state machine for both protocols.
 * A connection reads one request line under a deadline, writes bytes that
 * were prepared at load time, then closes politely: TLS close_notify, a
 * half-close, and a short drain so the kernel never resets the reply.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "log.h"
#include "net.h"
#include "tree.h"

#define WRITE_MIN  60          /* seconds any reply may take to send */
#define WRITE_RATE (16 * 1024) /* bytes a second a reader must average */
#define DRAIN_TIME 2           /* seconds to wait for the client's FIN */
#define GRACE_TIME 10          /* seconds replies in flight get at shutdown */
#define PAUSE_MS   100         /* accept back-off after EMFILE */

enum state { C_HANDSHAKE, C_READ, C_WRITE, C_SHUTDOWN, C_DRAIN };

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

static int
conn_wait(struct conn *c, short what, struct timeval tv)
{
	event_del(c->ev);
	event_assign(c->ev, c->srv->base, c->fd, what, conn_cb, c);
	event_add(c->ev, &tv);
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
conn_reply(struct conn *c, int status, const char *data, size_t len)
{
	c->status = status;
	c->out = data;
	c->outlen = len;
	c->outoff = 0;
}

void
conn_replyf(struct conn *c, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->small, sizeof(c->small), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(c->small))
		n = sizeof(c->small) - 1;
	conn_reply(c, status, c->small, (size_t)n);
}

void
conn_reply_own(struct conn *c, int status, char *data, size_t len)
{
	free(c->own);
	c->own = data;
	if (data == NULL) {
		if (c->proto == PROTO_GEMINI)
			conn_replyf(c, 40, "40 Server out of memory\r\n");
		else
			conn_replyf(c, 40,
			    "3Server out of memory\t\terror\t1"
			    "\r\n.\r\n");
		return;
	}
	conn_reply(c, status, data, len);
}

void
conn_set_logpath(struct conn *c, const char *path)
{
	snprintf(c->logpath, sizeof(c->logpath), "%s", path);
}

static const char *
find_crlf(const char *p, size_t n)
{
	const char *cr;

	while ((cr = memchr(p, '\r', n)) != NULL) {
		n -= (size_t)(cr - p) + 1;
		if (n > 0 && cr[1] == '\n')
			return cr;
		p = cr + 1;
	}
	return NULL;
}

/*
 * A reply gets a total deadline, not an idle one: a client that reads a
 * byte every few seconds must not keep its slot for as long as it likes.
 */
static void
set_write_deadline(struct conn *c)
{
	struct timeval t = {WRITE_MIN, 0};

	if (c->outlen / WRITE_RATE > WRITE_MIN)
		t.tv_sec = (time_t)(c->outlen / WRITE_RATE);
	now(&c->deadline);
	timeradd(&c->deadline, &t, &c->deadline);
}

/* A complete line is handed to the protocol front; 1: still reading. */
static int
conn_parse(struct conn *c)
{
	const char *eol;
	size_t len;

	if (c->proto == PROTO_GEMINI) {
		/* Only CRLF ends a Gemini request: a bare LF waits. */
		eol = find_crlf(c->req, c->reqlen);
		if (eol == NULL && c->reqlen < REQ_MAX + 2)
			return 1;
		len = eol ? (size_t)(eol - c->req) : c->reqlen;
		if (len > REQ_MAX)
			conn_replyf(c, 59,
			    "59 Request longer than %d bytes\r\n", REQ_MAX);
		else
			gemini_handle(c, c->req, len);
	} else {
		eol = memchr(c->req, '\n', c->reqlen);
		if (eol == NULL && !c->eof && c->reqlen < REQ_MAX + 2)
			return 1;
		len = eol ? (size_t)(eol - c->req) : c->reqlen;
		if (len > 0 && c->req[len - 1] == '\r')
			len--;
		gopher_handle(c, c->req, len);
	}
	set_write_deadline(c);
	c->state = C_WRITE;
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
	return ssl_wait(c, r, remaining(&c->deadline));
}

static int
do_read(struct conn *c)
{
	size_t space;
	ssize_t r;
	int rc;

	for (;;) {
		space = sizeof(c->req) - 1 - c->reqlen;
		if (c->ssl != NULL) {
			rc = SSL_read(c->ssl, c->req + c->reqlen, (int)space);
			if (rc <= 0)
				return ssl_wait(c, rc, remaining(&c->deadline));
			r = rc;
		} else {
			r = read(c->fd, c->req + c->reqlen, space);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				return conn_wait(
				    c, EV_READ, remaining(&c->deadline));
			/* A Gopher client may half-close after its line. */
			if (r == 0 && c->reqlen > 0)
				c->eof = 1;
			else if (r <= 0)
				return -1;
		}
		c->reqlen += (size_t)r;
		c->req[c->reqlen] = '\0';
		if (conn_parse(c) == 0)
			return 0;
	}
}

static int
do_write(struct conn *c)
{
	struct timeval left = remaining(&c->deadline);
	size_t n;
	ssize_t r;
	int rc;

	while (c->outoff < c->outlen) {
		n = c->outlen - c->outoff;
		if (c->ssl != NULL) {
			rc = SSL_write(c->ssl, c->out + c->outoff,
			    n > INT_MAX ? INT_MAX : (int)n);
			if (rc <= 0)
				return ssl_wait(c, rc, left);
			r = rc;
		} else {
			r = write(c->fd, c->out + c->outoff, n);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				return conn_wait(c, EV_WRITE, left);
			if (r <= 0)
				return -1;
		}
		c->outoff += (size_t)r;
	}
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
	struct timeval drain = {DRAIN_TIME, 0};
	int r;

	if (c->ssl != NULL && (r = SSL_shutdown(c->ssl)) < 0 &&
	    SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE)
		return conn_wait(c, EV_WRITE, remaining(&c->deadline));
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
	ssize_t r;

	while ((r = read(c->fd, junk, sizeof(junk))) > 0)
		;
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return conn_wait(c, EV_READ, remaining(&c->deadline));
	return -1;
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
		default:
			rc = do_drain(c);
			break;
		}
	} while (rc == 0);
	if (rc == -1)
		conn_free(c);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		/* A silent client or a stalled reader: let it go. */
		conn_free(c);
		return;
	}
	conn_step(c);
}

static void
listeners_enable(struct server *srv, int on)
{
	size_t i;

	for (i = 0; i < srv->nls; i++) {
		if (srv->ls[i].lev == NULL)
			continue;
		if (on)
			evconnlistener_enable(srv->ls[i].lev);
		else
			evconnlistener_disable(srv->ls[i].lev);
	}
	srv->paused = !on;
}

static void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->status != 0)
		log_access(c->proto == PROTO_GEMINI ? "gemini" : "gopher",
		    c->ip, c->status, c->outoff, c->logpath);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	event_free(c->ev);
	close(c->fd);
	snapshot_unref(c->snap);
	free(c->own);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	srv->nconns--;
	if (srv->stopping) {
		if (srv->nconns == 0)
			event_base_loopexit(srv->base, NULL);
	} else if (srv->paused && srv->nconns < srv->conf->max_conns &&
	           !evtimer_pending(srv->resume, NULL)) {
		listeners_enable(srv, 1);
	}
}

static void
conn_addresses(struct conn *c, const struct sockaddr *peer, int peerlen)
{
	socklen_t len = sizeof(c->local);

	if (getsockname(c->fd, (struct sockaddr *)&c->local, &len) == -1)
		memset(&c->local, 0, sizeof(c->local));
	if (c->local.ss_family == AF_INET)
		c->local_port =
		    ntohs(((struct sockaddr_in *)&c->local)->sin_port);
	else if (c->local.ss_family == AF_INET6)
		c->local_port =
		    ntohs(((struct sockaddr_in6 *)&c->local)->sin6_port);
	if (c->srv->conf->log_ip &&
	    getnameinfo(peer, (socklen_t)peerlen, c->ip, sizeof(c->ip), NULL, 0,
	        NI_NUMERICHOST) != 0)
		c->ip[0] = '\0';
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *peer,
    int peerlen, void *arg)
{
	struct listener *l = arg;
	struct server *srv = l->srv;
	struct timeval t = {srv->conf->timeout, 0};
	struct conn *c;
	int one = 1;

	(void)lev;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err;
	c->srv = srv;
	c->fd = fd;
	c->proto = l->proto;
	if ((c->ev = event_new(srv->base, fd, 0, conn_cb, c)) == NULL)
		goto err;
	if (l->proto == PROTO_GEMINI) {
		if ((c->ssl = SSL_new(srv->ctx)) == NULL ||
		    !SSL_set_fd(c->ssl, fd))
			goto err;
		SSL_set_accept_state(c->ssl);
		c->state = C_HANDSHAKE;
	} else {
		c->state = C_READ;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_addresses(c, peer, peerlen);
	now(&c->deadline);
	timeradd(&c->deadline, &t, &c->deadline);
	c->snap = srv->snap;
	snapshot_ref(c->snap);
	conn_set_logpath(c, "-");
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prev = c;
	srv->conns = c;
	if (++srv->nconns >= srv->conf->max_conns)
		listeners_enable(srv, 0);
	conn_step(c);
	return;
err:
	if (c != NULL) {
		if (c->ev != NULL)
			event_free(c->ev);
		SSL_free(c->ssl);
		free(c);
	}
	close(fd);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (!srv->stopping && srv->nconns < srv->conf->max_conns)
		listeners_enable(srv, 1);
}

/*
 * libevent retries accept() only on EINTR/EAGAIN/ECONNABORTED; on EMFILE
 * the socket stays readable and this would fire in a tight loop. Pause.
 */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	struct server *srv = l->srv;
	struct timeval t = {0, PAUSE_MS * 1000};
	static time_t last;
	time_t t0 = time(NULL);

	(void)lev;
	/* Once a minute tells the operator; ten times a second floods. */
	if (t0 - last >= 60) {
		log_warn("accept on %s: %s; pausing %d ms at a time", l->name,
		    strerror(errno), PAUSE_MS);
		last = t0;
	}
	listeners_enable(srv, 0);
	evtimer_add(srv->resume, &t);
}

int
server_listen(struct server *srv, enum proto proto, const char *addr)
{
	struct sockaddr_storage ss;
	struct listener *l;
	int len = sizeof(ss);
	unsigned flags =
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &len) ==
	    -1) {
		log_warn("%s: not an address:port (try 0.0.0.0:1965 or "
		         "[::]:1965)",
		    addr);
		return -1;
	}
	if (srv->resume == NULL &&
	    (srv->resume = evtimer_new(srv->base, resume_cb, srv)) == NULL)
		return -1;
	if (srv->nls == LISTEN_MAX) {
		log_warn("%s: at most %d listeners", addr, LISTEN_MAX);
		return -1;
	}
	/* The v6 socket is v6-only so a v4 socket can share the port. */
	if (ss.ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	l = &srv->ls[srv->nls];
	memset(l, 0, sizeof(*l));
	l->srv = srv;
	l->proto = proto;
	snprintf(l->name, sizeof(l->name), "%s", addr);
	l->lev = evconnlistener_new_bind(
	    srv->base, accept_cb, l, flags, 511, (struct sockaddr *)&ss, len);
	if (l->lev == NULL) {
		log_warn("cannot listen on %s: %s%s", addr, strerror(errno),
		    errno == EACCES       ? " (ports below 1024 need root or "
		                            "CAP_NET_BIND_SERVICE; or choose "
		                            "another port)"
		    : errno == EADDRINUSE ? " (another server holds it; "
		                            "choose another port)"
		                          : "");
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, accept_error_cb);
	srv->nls++;
	return 0;
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	log_warn("shutdown: %zu connection(s) still open after %d s; closing",
	    srv->nconns, GRACE_TIME);
	while (srv->conns != NULL)
		conn_free(srv->conns);
	event_base_loopexit(srv->base, NULL);
}

/* Stop accepting, drop clients that sent no request, finish the rest. */
void
server_stop(struct server *srv)
{
	struct timeval t = {GRACE_TIME, 0};
	struct conn *c, *next;
	size_t i;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	for (i = 0; i < srv->nls; i++) {
		if (srv->ls[i].lev != NULL)
			evconnlistener_free(srv->ls[i].lev);
		srv->ls[i].lev = NULL;
	}
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_HANDSHAKE || c->state == C_READ)
			conn_free(c);
	}
	if (srv->nconns == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	if ((srv->grace = evtimer_new(srv->base, grace_cb, srv)) != NULL)
		evtimer_add(srv->grace, &t);
}

void
server_free(struct server *srv)
{
	size_t i;

	while (srv->conns != NULL)
		conn_free(srv->conns);
	for (i = 0; i < srv->nls; i++)
		if (srv->ls[i].lev != NULL)
			evconnlistener_free(srv->ls[i].lev);
	srv->nls = 0;
	if (srv->resume != NULL)
		event_free(srv->resume);
	if (srv->grace != NULL)
		event_free(srv->grace);
	srv->resume = srv->grace = NULL;
}
