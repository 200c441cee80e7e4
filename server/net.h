/*
 * net.h: listeners and the life of one connection, shared by both
 * protocols: accept, TLS (Gemini only), read one request line under a
 * deadline, write prepared bytes, close cleanly.
 */
#ifndef KAPSULA_NET_H
#define KAPSULA_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <openssl/ssl.h>

#define REQ_MAX    1024 /* longest request line, CRLF excluded */
#define LISTEN_MAX 32   /* listeners, both protocols together */

enum proto { PROTO_GEMINI, PROTO_GOPHER };

struct event;
struct event_base;
struct evconnlistener;
struct snapshot;

struct config {
	const char *root;
	const char *hostname;
	const char *certs;
	const char *gopher_host; /* advertised; default: hostname */
	unsigned gopher_port;    /* advertised; default: first listener */
	unsigned gemini_port;    /* of the first Gemini listener, for feeds */
	int timeout;             /* seconds for handshake + request line */
	size_t max_conns;
	int log_ip;
};

struct listener {
	struct evconnlistener *lev;
	struct server *srv;
	enum proto proto;
	char name[64]; /* "[::]:1965", for messages */
};

struct conn;

struct server {
	struct event_base *base;
	SSL_CTX *ctx;
	struct snapshot *snap;
	const struct config *conf;
	struct listener ls[LISTEN_MAX]; /* fixed: callbacks point into it */
	size_t nls;
	struct event
	    *resume; /* re-enables accept after EMFILE or a full house */
	struct event *grace; /* ends a shutdown that takes too long */
	struct conn *conns;  /* every open connection, newest first */
	size_t nconns;
	int paused;
	int stopping;
};

struct conn {
	struct conn *prev;
	struct conn *next;
	struct server *srv;
	struct snapshot *snap; /* holds the reply bytes alive */
	struct event *ev;
	SSL *ssl;
	int fd;
	enum proto proto;
	int state;
	struct timeval deadline; /* handshake + request line; then the reply */
	struct sockaddr_storage local;
	unsigned local_port;
	char ip[64];
	char req[REQ_MAX + 3];
	size_t reqlen;
	int eof; /* the client half-closed after sending bytes */
	const char *out;
	char *own; /* a reply made for this request, freed with it */
	size_t outlen;
	size_t outoff;
	int status;
	char logpath[256];
	char small[REQ_MAX + 256]; /* error replies are built here */
};

int server_listen(struct server *, enum proto, const char *addr);
void server_stop(struct server *);
void server_free(struct server *);

/* For the protocol fronts: queue a reply held elsewhere, or a copy. */
void conn_reply(struct conn *, int status, const char *data, size_t len);
void conn_replyf(struct conn *, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Takes a malloc'd reply (or NULL after a failed allocation). */
void conn_reply_own(struct conn *, int status, char *data, size_t len);
void conn_set_logpath(struct conn *, const char *);

/* The protocol fronts (gemini.c, gopher.c). */
void gemini_handle(struct conn *, const char *line, size_t len);
void gopher_handle(struct conn *, const char *line, size_t len);

#endif
