/*
 * gen.h: a generation: the configuration, every capsule's content and TLS
 * context, and which capsules each listener serves. Immutable once built.
 */
#ifndef KAPSULA_GEN_H
#define KAPSULA_GEN_H

#include <sys/types.h>

#include <stddef.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "tls.h"
#include "tree.h"

struct snapshot;

struct capsule {
	const struct capsule_conf *cc;
	const char *names[ALIAS_MAX + 1]; /* A-labels: name, then aliases */
	size_t nnames;
	struct snapshot *snap;
	SSL_CTX *ctx; /* NULL when it has no Gemini listener */
	struct tls_ids ids;
	struct view_spec views[LISTEN_MAX]; /* per (advertised port, charset) */
	size_t nviews;
	unsigned feed_port; /* the Gemini port its feeds' URLs name */
};

struct gen_listener {
	enum proto proto;
	const struct listen_spec *spec; /* as the first capsule wrote it */
	size_t sock;                    /* the parent's socket table slot */
	unsigned port;                  /* bound */
	size_t caps[64]; /* Gemini: SNI chooses; first: default */
	size_t ncaps;
	size_t view; /* Gopher: the capsule's view for this listener */
};

struct gen {
	unsigned refs;
	struct conf *conf;
	struct capsule *caps;
	size_t ncaps;
	struct gen_listener *ls;
	size_t nls;
	struct tls_keys keys; /* session tickets: ticket-keys, or ours */
};

/* Where a listener's socket is, once the parent has bound it. */
typedef int (*gen_sock_fn)(void *, enum proto, const struct listen_spec *,
    size_t *sock, unsigned *port);

struct gen_opts {
	/* The parent's own key, shared by every worker: without ticket-keys. */
	const unsigned char *ticket_keys;
	uid_t uid; /* read content with these rights (0: as we are) */
	gid_t gid;
	const gid_t *groups; /* and these groups */
	int ngroups;
	int check_only; /* -n: create nothing */
	gen_sock_fn sock;
	void *sockarg;
};

/* Takes conf. NULL on failure, each problem reported with its line. */
struct gen *gen_build(struct conf *, const struct gen_opts *);
/* Big files every capsule keeps open, for the descriptor limit. */
size_t gen_files(const struct gen *);
void gen_ref(struct gen *);
void gen_unref(struct gen *);

#endif
