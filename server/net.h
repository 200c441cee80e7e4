/*
 * net.h: a worker's listeners and the life of one connection, shared by
 * both protocols: accept, TLS (Gemini only), read one request line under a
 * deadline, write prepared bytes, close cleanly. The protocols are fronts.
 */
#ifndef KAPSULA_NET_H
#define KAPSULA_NET_H

#include <sys/socket.h>
#include <sys/time.h>

#include <stddef.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "limit.h"
#include "pool.h"
#include "recipe.h"
#include "status.h"

#define GEMINI_REQ_MAX 1024 /* a Gemini request line, CRLF excluded */
/*
 * A Gopher request line: a selector of up to 1,024 bytes (RFC 1436's 255
 * is too few for percent-encoded non-ASCII names), then a TAB and a search
 * of up to 256 bytes, then a TAB and a Gopher+ character.
 */
#define GOPHER_QUERY_MAX 256
#define GOPHER_REQ_MAX   (1024 + 1 + GOPHER_QUERY_MAX + 2)
#define REQ_MAX          GOPHER_REQ_MAX /* the longer: the buffer's bound */

struct event;
struct event_base;
struct gen;
struct node;
struct gen_listener;
struct capsule;
struct conn;

/* What a protocol gives the connection core: the core has no `if gemini`. */
struct front {
	const char *name; /* for the access log: "gemini", "gopher" */
	int tls;
	/*
	 * The length of the request line at the start of req (its end
	 * excluded), or -1 to wait for more bytes; eof: the client
	 * half-closed. A line past the protocol's limit is handed on whole:
	 * handle says no.
	 */
	long (*frame)(const char *req, size_t len, int eof);
	void (*handle)(struct conn *, const char *line, size_t len);
	/* An error reply in the protocol's own form, msg in plain words. */
	void (*error)(struct conn *, enum status, const char *msg);
	/*
	 * Over the rate: come back in secs seconds (Gemini 44). The line
	 * is not served, but the access log names what it asked for.
	 */
	void (*slow_down)(
	    struct conn *, const char *line, size_t len, unsigned secs);
};

extern const struct front gemini_front;
extern const struct front gopher_front;

struct listener {
	struct event *ev; /* readable: a client to accept; NULL: closed */
	int fd;
	struct worker *w;
	const struct gen_listener *gl;
	const struct front *front;
};

struct worker {
	struct event_base *base;
	struct gen *gen;
	struct listener *ls;
	size_t nls;
	size_t max_conns; /* this worker's share */
	int timeout;
	int send_timeout;
	struct limit_table *limits; /* shared by every worker */
	struct limit_policy policy;
	int log_ip;
	struct event
	    *resume; /* re-enables accept after EMFILE or a full house */
	struct event *grace;    /* ends a shutdown that takes too long */
	struct event *stats;    /* the bounded-rate summary of dropped errors */
	struct event *logflush; /* writes the kept access lines, 10 ms on */
	struct conn *conns;     /* every open connection, newest first */
	size_t nconns;
	size_t peak;      /* connections at most since memory was trimmed */
	struct pool pool; /* of struct conn */
	int paused;
	int stopping;
	int draining; /* stopping for a reload, not for good */
	/* Edge errors (failed handshakes, timeouts), logged at a bounded rate.
	 */
	unsigned logged, dropped, silent;
	/* The abuse policy's refusals this minute, for the summary line. */
	unsigned capped, denied, busy;
};

/*
 * One client. Idle connections are many: everything per request (the
 * line being read, a reply made for it, its log path, a file's buffer)
 * is allocated when it is needed and only as long as it is.
 */
struct conn {
	struct conn *prev;
	struct conn *next;
	struct worker *w;
	const struct listener *l;
	const struct front *front;
	struct gen *gen;           /* holds the reply bytes alive */
	const struct capsule *cap; /* Gemini: chosen by SNI; Gopher: fixed */
	struct event ev;           /* persistent while it waits for one thing */
	SSL *ssl;
	int fd;
	short state;
	short waiting;           /* the events ev is registered for */
	struct timeval deadline; /* handshake + request line; then the reply */
	struct sockaddr_storage peer;  /* the client: from PROXY, or TCP's */
	struct sockaddr_storage local; /* conn_local(): asked when needed */
	int local_known;
	struct limit_ref lref; /* its count in the shared table */
	int busy;              /* over max-conns: answer "busy" */
	int eof;               /* the client half-closed after sending bytes */
	char *req; /* a request line that came in parts, or a PROXY header */
	size_t reqlen;
	size_t got; /* bytes the client sent at all */
	const char *out;
	const char *then; /* prepared bytes sent after out, or NULL */
	size_t thenlen;
	size_t done; /* bytes of out sent before then took its place */
	char *own;   /* a reply made for this request, freed with it */
	size_t outlen;
	size_t outoff;
	enum status status;
	char *logpath; /* NULL: "-" */
	/* A big file streamed from its descriptor after out, by offset, or
	   a text version streamed from its recipe (foff: bytes made). */
	const struct node *file;
	const struct recipe *recipe;
	int flavour; /* enum recipe_flavour */
	struct recipe_cursor rcur;
	off_t foff;
	off_t fend;
	long long acked; /* bytes the client had acknowledged at the deadline */
	char *fbuf;      /* TLS: one read of it, until SSL_write took it all */
	size_t fbuflen;
	size_t fbufoff;
	char ip[56]; /* formatted for the log, as log-ip says */
};

/* A worker serving gen on the sockets fds[i] of gen's listeners. */
int worker_init(struct worker *, struct event_base *, struct gen *,
    const int *fds, unsigned nworkers, struct limit_table *);
/* Stop accepting; finish replies in flight within grace seconds. */
void worker_stop(struct worker *, int grace, int drop_idle);
void worker_free(struct worker *);

/* For the fronts: queue a reply held elsewhere, or a copy. */
void conn_reply(struct conn *, enum status, const char *data, size_t len);
void conn_replyf(struct conn *, enum status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes a malloc'd reply; NULL after a failed allocation is answered. */
void conn_reply_own(struct conn *, enum status, char *data, size_t len);
/* A short head of our own, then prepared bytes: no copy of them. */
void conn_reply_then(struct conn *, enum status, const char *head,
    size_t headlen, const char *data, size_t len);
/* head (may be empty), then a text version made from its recipe as it
   is sent, a few KiB at a time. */
void conn_reply_recipe(struct conn *, enum status, const char *head, size_t len,
    const struct recipe *, int flavour);
/* head (may be empty), then the node's file from its descriptor. */
void conn_reply_file(struct conn *, enum status, const char *head, size_t len,
    const struct node *);
void conn_set_logpath(struct conn *, const char *);
/* The address the client connected to (asked of the kernel once). */
const struct sockaddr_storage *conn_local(struct conn *);
/* Room for a short reply made by conn_replyf. */
#define CONN_SMALL (META_MAX + 256)

#endif
