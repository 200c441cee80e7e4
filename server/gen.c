/*
 * gen.c: builds a generation: content first (a root that cannot load must
 * not leave a new certificate behind), then each capsule's TLS context.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "charset.h"
#include "gen.h"
#include "log.h"
#include "tree.h"

#define MAX_FILE (64 * 1024 * 1024) /* larger files are skipped */

static struct gen_listener *
find_listener(struct gen *g, size_t sock)
{
	size_t i;

	for (i = 0; i < g->nls; i++)
		if (g->ls[i].sock == sock)
			return &g->ls[i];
	return NULL;
}

static struct gen_listener *
add_listener(struct gen *g, enum proto proto, const struct listen_spec *l,
    const struct gen_opts *o)
{
	struct gen_listener *gl;
	size_t sock;
	unsigned port;

	if (o->sock(o->sockarg, proto, l, &sock, &port) == -1)
		return NULL;
	if ((gl = find_listener(g, sock)) != NULL)
		return gl;
	gl = &g->ls[g->nls++];
	memset(gl, 0, sizeof(*gl));
	gl->proto = proto;
	gl->spec = l;
	gl->sock = sock;
	gl->port = port;
	return gl;
}

static size_t
view_of(struct capsule *cap, unsigned port, int charset)
{
	size_t v;

	for (v = 0; v < cap->nviews; v++)
		if (cap->views[v].port == port &&
		    cap->views[v].charset == charset)
			return v;
	cap->views[cap->nviews].port = port;
	cap->views[cap->nviews].charset = charset;
	return cap->nviews++;
}

/*
 * The port a Gopher listener's menus name: advertise= first; then the
 * capsule's gopher-port, but only for UTF-8 listeners, so that a legacy
 * reader's menus lead back to the listener that speaks its charset.
 */
static unsigned
view_port(
    const struct capsule_conf *cc, const struct listen_spec *l, unsigned bound)
{
	if (l->advertise != 0)
		return l->advertise;
	if (cc->gopher_port != 0 && l->charset == CHARSET_UTF8)
		return cc->gopher_port;
	return bound;
}

static int
map_listeners(struct gen *g, const struct gen_opts *o)
{
	struct conf *c = g->conf;
	struct capsule_conf *cc;
	struct gen_listener *gl;
	struct capsule *cap;
	size_t i, j, n = 0;

	for (i = 0; i < c->ncaps; i++)
		n += c->caps[i].ngemini + c->caps[i].ngopher;
	if ((g->ls = calloc(n + 1, sizeof(*g->ls))) == NULL)
		return -1;
	for (i = 0; i < c->ncaps; i++) {
		cc = &c->caps[i];
		cap = &g->caps[i];
		for (j = 0; j < cc->ngemini; j++) {
			if ((gl = add_listener(
			         g, PROTO_GEMINI, &cc->gemini[j], o)) == NULL)
				return -1;
			if (gl->ncaps ==
			    sizeof(gl->caps) / sizeof(gl->caps[0])) {
				conf_error(c, cc->gemini[j].line,
				    "%s: too many capsules on one address",
				    cc->gemini[j].text);
				return -1;
			}
			gl->caps[gl->ncaps++] = i;
			if (cap->feed_port == 0)
				cap->feed_port = gl->port;
		}
		for (j = 0; j < cc->ngopher; j++) {
			if ((gl = add_listener(
			         g, PROTO_GOPHER, &cc->gopher[j], o)) == NULL)
				return -1;
			gl->caps[gl->ncaps++] = i;
			gl->view = view_of(cap,
			    view_port(cc, &cc->gopher[j], gl->port),
			    cc->gopher[j].charset);
		}
		if (cc->public_port != 0)
			cap->feed_port = cc->public_port;
		if (cap->feed_port == 0)
			cap->feed_port = 1965;
		if (cap->nviews == 0) /* no Gopher listener: render nothing */
			view_of(cap, 70, CHARSET_UTF8);
	}
	return 0;
}

static void
unbecome(const gid_t *saved, int nsaved)
{
	if (seteuid(0) == -1 || setegid(0) == -1 ||
	    setgroups((size_t)nsaved, saved) == -1) {
		log_warn("cannot take back root's rights: %s", strerror(errno));
		abort(); /* never go on with the wrong rights */
	}
}

/* Content is read with the rights of the user the workers run as. */
static int
become(const struct gen_opts *o, gid_t *saved, int *nsaved)
{
	if (o->uid == 0 || geteuid() != 0)
		return 0;
	if ((*nsaved = getgroups(NGROUPS_MAX, saved)) == -1)
		return -1;
	if (setgroups(o->ngroups > 0 ? (size_t)o->ngroups : 1,
	        o->ngroups > 0 ? o->groups : &o->gid) == -1 ||
	    setegid(o->gid) == -1 || seteuid(o->uid) == -1) {
		unbecome(saved, *nsaved);
		return -1;
	}
	return 1;
}

static int
load_content(struct gen *g, size_t i, const struct gen_opts *o)
{
	struct capsule *cap = &g->caps[i];
	const struct capsule_conf *cc = cap->cc;
	struct tree_opts t = {
	    .root = cc->root,
	    .hostname = cc->name,
	    .gemini_port = cap->feed_port,
	    .gopher_host = cc->gopher_host,
	    .views = cap->views,
	    .nviews = cap->nviews,
	    .lang = cc->lang,
	    .author = cc->author,
	    .max_file = MAX_FILE,
	    .ondisk = 1,
	    .memory_file_max = g->conf->memory_file_max,
	    .max_paths = g->conf->max_paths,
	    .names = cap->names,
	    .nnames = cap->nnames,
	    .types = cc->types,
	    .ntypes = cc->ntypes,
	    .list = o->check_only,
	    .search = !cc->no_search,
	};
	char err[PATH_MAX + 256];
	static gid_t saved[NGROUPS_MAX];
	int nsaved = 0, became;

	if (cc->root == NULL) /* already reported */
		return -1;
	if ((became = become(o, saved, &nsaved)) == -1) {
		conf_error(g->conf, cc->line,
		    "capsule %s: cannot take the rights of uid %u: %s",
		    cc->uname, (unsigned)o->uid, strerror(errno));
		return -1;
	}
	cap->snap = tree_load(&t, err, sizeof(err));
	if (became)
		unbecome(saved, nsaved);
	if (cap->snap == NULL) {
		conf_error(g->conf, cc->line, "capsule %s: %s", cc->uname, err);
		return -1;
	}
	return 0;
}

struct warnctx {
	struct conf *c;
	int line;
};

static void
cert_warning(void *arg, const char *msg)
{
	struct warnctx *w = arg;

	conf_warning(w->c, w->line, "%s", msg);
}

static int
load_tls(struct gen *g, size_t i, const struct gen_opts *o)
{
	struct capsule *cap = &g->caps[i];
	const struct capsule_conf *cc = cap->cc;
	char kpath[PATH_MAX], cpath[PATH_MAX], err[PATH_MAX * 2 + 256] = "";
	struct warnctx w = {g->conf, cc->line_cert ? cc->line_cert : cc->line};
	struct tls_spec ts = {
	    .names = cap->names,
	    .nnames = cap->nnames,
	    .dir = g->conf->certs,
	    .cert = cc->cert,
	    .key = cc->key,
	    .may_create = cc->cert == NULL,
	    .check_only = o->check_only,
	    .keys = &g->keys,
	    .warn = o->check_only ? cert_warning : NULL,
	    .warnarg = &w,
	};

	if (cc->ngemini == 0)
		return 0;
	if (cc->cert == NULL) {
		if ((size_t)snprintf(kpath, sizeof(kpath), "%s/%s.key",
		        g->conf->certs, cc->name) >= sizeof(kpath) ||
		    (size_t)snprintf(cpath, sizeof(cpath), "%s/%s.crt",
		        g->conf->certs, cc->name) >= sizeof(cpath)) {
			conf_error(
			    g->conf, cc->line, "certs folder name too long");
			return -1;
		}
		ts.cert = cpath;
		ts.key = kpath;
	}
	cap->ctx = tls_capsule(&ts, &cap->ids, err, sizeof(err));
	if (cap->ctx == NULL && err[0] != '\0') {
		conf_error(g->conf, w.line, "capsule %s: %s", cc->uname, err);
		return -1;
	}
	return 0;
}

/*
 * The ticket keys: from the file every instance of a fleet shares, read
 * again at each reload (that is how keys rotate); else the parent's.
 */
static int
load_keys(struct gen *g, const struct gen_opts *o)
{
	struct conf *c = g->conf;
	char err[PATH_MAX + 256];
	int line;

	if (c->ticket_keys == NULL) {
		if (o->ticket_keys != NULL) {
			memcpy(g->keys.key[0], o->ticket_keys,
			    sizeof(g->keys.key[0]));
			g->keys.n = 1;
		}
		return 0;
	}
	if (tls_read_keys(c->ticket_keys, &g->keys, &line, err, sizeof(err)) ==
	    -1) {
		conf_error(c, c->ticket_keys_line, "ticket-keys: %s", err);
		return -1;
	}
	return 0;
}

struct gen *
gen_build(struct conf *c, const struct gen_opts *o)
{
	struct gen *g;
	struct capsule *cap;
	char err[256];
	size_t i, j;

	/* Here, in the parent: sandboxed workers cannot load iconv's modules.
	 */
	if (charset_init(err, sizeof(err)) == -1)
		log_warn("%s", err);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		goto oom;
	g->refs = 1;
	g->conf = c;
	if ((g->caps = calloc(c->ncaps + 1, sizeof(*g->caps))) == NULL)
		goto oom;
	g->ncaps = c->ncaps;
	for (i = 0; i < c->ncaps; i++) {
		cap = &g->caps[i];
		cap->cc = &c->caps[i];
		cap->names[cap->nnames++] = cap->cc->name;
		for (j = 0; j < cap->cc->nalias; j++)
			cap->names[cap->nnames++] = cap->cc->alias[j];
	}
	if (map_listeners(g, o) == -1)
		goto err;
	if (load_keys(g, o) == -1)
		goto err;
	for (i = 0; i < g->ncaps; i++)
		load_content(g, i, o);
	for (i = 0; i < g->ncaps && c->errors == 0; i++)
		load_tls(g, i, o);
	if (c->errors > 0)
		goto err;
	return g;
oom:
	conf_error(c, 0, "out of memory");
err:
	if (g != NULL)
		g->conf = NULL; /* the caller still owns it */
	gen_unref(g);
	return NULL;
}

size_t
gen_files(const struct gen *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->ncaps; i++)
		n += g->caps[i].snap != NULL ? g->caps[i].snap->files : 0;
	return n;
}

void
gen_ref(struct gen *g)
{
	g->refs++;
}

void
gen_unref(struct gen *g)
{
	size_t i;

	if (g == NULL || --g->refs > 0)
		return;
	for (i = 0; i < g->ncaps; i++) {
		snapshot_unref(g->caps[i].snap);
		SSL_CTX_free(g->caps[i].ctx);
	}
	free(g->caps);
	free(g->ls);
	OPENSSL_cleanse(&g->keys, sizeof(g->keys));
	conf_free(g->conf);
	free(g);
}
