/*
 * site.c: pages derived from the loaded tree, made once per snapshot:
 * listings for folders without index.gmi, plain-text versions, feeds per
 * language, and every node's Gopher bytes per view (port and charset).
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "buf.h"
#include "charset.h"
#include "feed.h"
#include "gemtext.h"
#include "l10n.h"
#include "mime.h"
#include "recipe.h"
#include "render.h"
#include "search.h"
#include "tree.h"
#include "uri.h"

#define TEXT_SUFFIX ".txt" /* "/en/a.gmi" is also "/en/a.gmi.txt" */
/* Rendering threads at most: more cores than this share a small tree. */
#define RENDER_THREADS_MAX 4
/* Nodes a thread renders in a row (neighbours share a folder's pages). */
#define RENDER_BLOCK 32

/* a + b into out; 0, or -1 when it does not fit. */
static int
join(char *out, size_t outsz, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na + nb >= outsz)
		return -1;
	memcpy(out, a, na);
	memcpy(out + na, b, nb + 1);
	return 0;
}

/* What rendering reads: the body in UTF-8 (converted when it was not). */
static const char *
body_of(const struct node *n, size_t *len)
{
	return node_text(n, len);
}

static int
is_gemtext(const struct node *n)
{
	return n->mime != NULL && strcmp(n->mime, "text/gemini") == 0;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Generated nodes are appended unsorted: search the sorted part only. */
static const struct node *
lookup_sorted(const struct snapshot *s, size_t nsorted, const char *path)
{
	struct snapshot view = *s;

	view.n = nsorted;
	return tree_lookup(&view, path);
}

/*
 * A page's language: its folder's, else the capsule's; the root index of
 * a capsule with several language folders speaks all of them.
 */
static const char *
page_lang(const struct snapshot *s, const struct tree_opts *o, const char *path)
{
	if (s->root_lang[0] != '\0' &&
	    (strcmp(path, "/") == 0 || strcmp(path, "/index.gmi") == 0 ||
	        strcmp(path, "/index.gmi" TEXT_SUFFIX) == 0))
		return s->root_lang;
	return tree_lang(o, path);
}

/*
 * "en,ru" from the top-level language folders, when there are two or more.
 * It replaces the root index's reply: call it before anything keeps a
 * pointer into that reply (the search index does).
 */
int
site_root_lang(struct snapshot *s, const struct tree_opts *o)
{
	size_t nsorted = s->n;
	struct node *idx;
	const char *lang, *body;
	size_t i, n = 0, len, used = 0;

	for (i = 0; i < nsorted; i++) {
		if (!s->nodes[i].is_dir ||
		    (lang = lang_from_path(s->nodes[i].path)) == NULL ||
		    strchr(s->nodes[i].path + 1, '/')[1] != '\0')
			continue;
		if (used + strlen(lang) + 2 > sizeof(s->root_lang))
			break;
		used += (size_t)snprintf(s->root_lang + used,
		    sizeof(s->root_lang) - used, "%s%s", n ? "," : "", lang);
		n++;
	}
	if (n < 2) {
		s->root_lang[0] = '\0';
		return 0;
	}
	idx = (struct node *)lookup_sorted(s, nsorted, "/index.gmi");
	if (idx == NULL || !is_gemtext(idx))
		return 0;
	/* The reply's own bytes, in whatever charset they came. */
	body = idx->reply + idx->hdr_len;
	len = idx->reply_len - idx->hdr_len;
	(void)o;
	return tree_set_reply(idx, idx->mime, s->root_lang, body, len);
}

static int
add_listing(
    struct snapshot *s, size_t nsorted, size_t i, const struct tree_opts *o)
{
	struct buf g = {0};
	const char *dir = s->nodes[i].path, *p, *name;
	const char *lang = page_lang(s, o, dir);
	size_t j, dlen = strlen(dir);
	int rc;

	buf_addstr(&g, "# ");
	l10n_add(&g, lang, L10N_INDEX_OF);
	buf_printf(&g, "%s\n\n", dir);
	if (strcmp(dir, "/") != 0) {
		buf_addstr(&g, "=> ../ ");
		l10n_add(&g, lang, L10N_PARENT);
		buf_addch(&g, '\n');
	}
	/* Sorted by path, so a folder's children follow it directly. */
	for (j = i + 1;
	     j < nsorted && strncmp(s->nodes[j].path, dir, dlen) == 0; j++) {
		name = s->nodes[j].path + dlen;
		p = strchr(name, '/');
		if (p != NULL && p[1] != '\0')
			continue; /* deeper than one level */
		buf_addstr(&g, "=> ");
		uri_encode_path(&g, name);
		buf_printf(&g, " %s\n", name);
	}
	/* Symlinked folders: listed here, leading to where they are. */
	for (j = 0; j < s->nlinks; j++) {
		name = s->links[j].path + dlen;
		if (strncmp(s->links[j].path, dir, dlen) != 0 ||
		    strchr(name, '/')[1] != '\0')
			continue;
		buf_addstr(&g, "=> ");
		uri_encode_path(&g, s->links[j].target);
		buf_printf(&g, " %s\n", name);
	}
	if (g.oom)
		return -1;
	rc = tree_set_reply(&s->nodes[i], "text/gemini", lang, g.data, g.len);
	buf_free(&g);
	return rc;
}

/* "gemini://host" or "gemini://host:port": what Gemini URLs start with. */
static void
gemini_base(char *out, size_t outsz, const struct tree_opts *o)
{
	int v6 = strchr(o->hostname, ':') != NULL;

	if (o->gemini_port == 1965)
		snprintf(out, outsz, "gemini://%s%s%s", v6 ? "[" : "",
		    o->hostname, v6 ? "]" : "");
	else
		snprintf(out, outsz, "gemini://%s%s%s:%u", v6 ? "[" : "",
		    o->hostname, v6 ? "]" : "", o->gemini_port);
}

/* The same for one Gopher view: "gopher://host:port". */
static void
gopher_base(char *out, size_t outsz, const struct tree_opts *o, size_t v)
{
	int v6 = strchr(o->gopher_host, ':') != NULL;

	if (o->views[v].port == 70)
		snprintf(out, outsz, "gopher://%s%s%s", v6 ? "[" : "",
		    o->gopher_host, v6 ? "]" : "");
	else
		snprintf(out, outsz, "gopher://%s%s%s:%u", v6 ? "[" : "",
		    o->gopher_host, v6 ? "]" : "", o->views[v].port);
}

/*
 * A gemtext page's plain-text version "/a.gmi.txt", added empty: its page
 * renders it with its menus, in one pass. A real file of that name wins.
 */
static int
add_text_node(
    struct snapshot *s, size_t nsorted, size_t i, const struct tree_opts *to)
{
	char path[URI_MAX * 2];
	struct node *n;

	if (join(path, sizeof(path), s->nodes[i].path, TEXT_SUFFIX) == -1 ||
	    lookup_sorted(s, nsorted, path) != NULL)
		return 0;
	if ((n = tree_add(s, path)) == NULL)
		return -1;
	n->derived = 1;
	n->mime = "text/plain";
	n->lang = page_lang(s, to, path);
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct feed_entry *x = a, *y = b;
	int c = strcmp(y->date, x->date);

	return c ? c : strcmp(x->path, y->path);
}

static struct node *
add_feed_node(struct snapshot *s, size_t nsorted, const char *dir,
    const char *name, const char *mime, const struct buf *b,
    const struct tree_opts *o)
{
	char path[URI_MAX * 2];
	struct node *n;

	if (join(path, sizeof(path), dir, name) == -1)
		return NULL;
	if (lookup_sorted(s, nsorted, path) != NULL)
		return NULL; /* a real file of that name wins */
	if ((n = tree_add(s, path)) == NULL)
		return NULL;
	if (tree_set_reply(n, mime, tree_lang(o, path), b->data, b->len) == -1)
		return NULL;
	return n;
}

/* A link without a scheme is local. */
static int
is_local_url(const char *u, size_t n)
{
	size_t i;

	for (i = 0; i < n && u[i] != '/' && u[i] != '?' && u[i] != '#'; i++)
		if (u[i] == ':')
			return 0;
	return 1;
}

/*
 * The label the language index gives its link to path, without a leading
 * date ("2026-11-28 Title"): what the author calls the page in context.
 */
static char *
index_label(const struct node *home, const char *idx, const char *path)
{
	char target[URI_MAX + 1], date[11], head[11];
	struct gmi_parser gp;
	struct gmi_line l;
	const char *body, *why, *t;
	size_t len, n, tl;

	body = body_of(home, &len);
	gmi_init(&gp, body, len);
	while (gmi_next(&gp, &l)) {
		if (l.type != GMI_LINK || l.textlen == 0 ||
		    !is_local_url(l.url, l.urllen))
			continue;
		n = strcspn(l.url, "?#");
		if (n > l.urllen)
			n = l.urllen;
		if (uri_resolve_path(
		        idx, l.url, n, target, sizeof(target), &why) == -1 ||
		    strcmp(target, path) != 0)
			continue;
		t = l.text;
		tl = l.textlen;
		memcpy(head, t, tl < 10 ? tl : 10);
		head[tl < 10 ? tl : 10] = '\0';
		if (tl > 11 && t[10] == ' ' && feed_page_date(head, date)) {
			t += 11;
			tl -= 11;
		}
		return strndup(t, tl);
	}
	return NULL;
}

/* A dated gemtext page under dir: the folder gets feeds. */
static int
has_dated(const struct snapshot *s, size_t nsorted, size_t di)
{
	const char *dir = s->nodes[di].path;
	size_t i, dlen = strlen(dir);
	char date[11];

	for (i = di + 1;
	     i < nsorted && strncmp(s->nodes[i].path, dir, dlen) == 0; i++)
		if (!s->nodes[i].is_dir && is_gemtext(&s->nodes[i]) &&
		    feed_page_date(base_name(s->nodes[i].path), date))
			return 1;
	return 0;
}

/* The other language folders with feeds, for the switch on feed.gmi. */
static size_t
other_langs(const struct snapshot *s, size_t nsorted, const char *dir,
    const char **out, size_t max)
{
	const char *p;
	size_t i, n = 0;

	for (i = 0; i < nsorted && n < max; i++) {
		p = s->nodes[i].path;
		if (!s->nodes[i].is_dir || lang_from_path(p) == NULL ||
		    strchr(p + 1, '/')[1] != '\0' || strcmp(p, dir) == 0 ||
		    !has_dated(s, nsorted, i))
			continue;
		out[n++] = p;
	}
	return n;
}

/* The Gopher Atom feed of each view: gopher:// links, XML in its charset. */
static int
add_gopher_atom(struct snapshot *s, struct node *n, const struct feed_info *gem,
    const struct feed_entry *e, size_t ne, const struct tree_opts *o)
{
	char base[512];
	struct feed_info fi = *gem;
	struct buf a = {0}, x = {0};
	size_t v;

	if ((n->gopher = calloc(s->nviews, sizeof(*n->gopher))) == NULL)
		return -1;
	fi.gopher = 1;
	fi.base = base;
	for (v = 0; v < s->nviews; v++) {
		gopher_base(base, sizeof(base), o, v);
		if (feed_atom(&a, &fi, e, ne) == -1)
			goto err;
		if (o->views[v].charset != CHARSET_UTF8) {
			if (charset_xml(&x, a.data, a.len) == -1)
				goto err;
			buf_free(&a);
			a = x;
			memset(&x, 0, sizeof(x));
		}
		if ((n->gopher[v].data = buf_take(&a, &n->gopher[v].len)) ==
		    NULL)
			goto err;
		s->bytes += n->gopher[v].len;
	}
	return 0;
err:
	buf_free(&a);
	buf_free(&x);
	return -1;
}

/* Every dated gemtext page under a language folder is an entry. */
static int
add_feeds(struct snapshot *s, size_t nsorted, size_t di,
    const struct tree_opts *o, const char *author)
{
	char dir[URI_MAX], idx[URI_MAX + 16], base[512];
	const char *others[64];
	struct feed_entry *e = NULL;
	struct feed_info fi = {0};
	struct buf atom = {0}, sub = {0};
	const struct node *n, *home;
	struct node *an;
	const char *body;
	size_t i, ne = 0, len, dlen;
	int rc = -1;

	if (join(dir, sizeof(dir), s->nodes[di].path, "") == -1 ||
	    join(idx, sizeof(idx), dir, "index.gmi") == -1)
		return 0;
	dlen = strlen(dir);
	home = lookup_sorted(s, nsorted, idx);
	if ((e = calloc(nsorted, sizeof(*e))) == NULL)
		return -1;
	for (i = di + 1; i < nsorted; i++) {
		n = &s->nodes[i];
		if (strncmp(n->path, dir, dlen) != 0)
			break;
		if (n->is_dir || !is_gemtext(n) ||
		    !feed_page_date(base_name(n->path), e[ne].date))
			continue;
		body = body_of(n, &len);
		e[ne].path = n->path;
		e[ne].title = feed_page_title(body, len);
		e[ne].summary = feed_page_summary(body, len);
		e[ne].label = home ? index_label(home, idx, n->path) : NULL;
		ne++;
	}
	/* No dated page, no feed: an empty one would date from 1970. */
	if (ne == 0) {
		free(e);
		return 0;
	}
	qsort(e, ne, sizeof(*e), entry_cmp);
	fi.lang = lang_from_path(dir);
	fi.dir = dir;
	fi.author = author;
	if (home != NULL) {
		body = body_of(home, &len);
		fi.title = feed_page_title(body, len);
	}
	fi.others = others;
	fi.nothers = other_langs(
	    s, nsorted, dir, others, sizeof(others) / sizeof(others[0]));
	gemini_base(base, sizeof(base), o);
	fi.base = base;
	if (feed_atom(&atom, &fi, e, ne) == -1 ||
	    feed_gemsub(&sub, &fi, e, ne) == -1)
		goto err;
	/* Entries point at path strings, which do not move with the array. */
	if ((an = add_feed_node(s, nsorted, dir, "atom.xml",
	         "application/atom+xml", &atom, o)) != NULL &&
	    add_gopher_atom(s, an, &fi, e, ne, o) == -1)
		goto err;
	if (add_feed_node(
	        s, nsorted, dir, "feed.gmi", "text/gemini", &sub, o) == NULL &&
	    sub.oom)
		goto err;
	rc = 0;
err:
	for (i = 0; i < ne; i++) {
		free(e[i].title);
		free(e[i].summary);
		free(e[i].label);
	}
	free(e);
	free((char *)fi.title);
	buf_free(&atom);
	buf_free(&sub);
	return rc;
}

static int
is_folder(void *arg, const char *path)
{
	return tree_folder(arg, path) != NULL;
}

static const char *
mime_of(void *arg, const char *path)
{
	const struct node *n = tree_lookup(arg, path);

	return n != NULL ? n->mime : NULL;
}

/* What every rendering of this capsule shares. */
static void
base_opts(struct render_opts *ro, const struct tree_opts *to)
{
	memset(ro, 0, sizeof(*ro));
	ro->host = to->gopher_host;
	/* The text version is one for every view: its gopher:// links to
	   the first view's port are local (menus check their own). */
	ro->port = to->nviews > 0 ? to->views[0].port : 0;
	ro->width = RENDER_WIDTH;
	ro->names = to->names;
	ro->nnames = to->nnames;
	ro->gemini_port = to->gemini_port;
}

/* A search page, unless a real file or folder holds its path. */
static int
is_search(void *arg, const char *path)
{
	const struct snapshot *s = arg;
	unsigned page;
	char lang[8];

	return search_path(s->search, path, lang, &page) &&
	       tree_lookup(s, path) == NULL && tree_folder(s, path) == NULL;
}

/*
 * The root and language menus offer their search page: self is the
 * page's index.gmi path; sets o->search to the search path in want.
 */
static void
offer_search(const struct snapshot *s, const char *self, struct render_opts *o,
    char *want, size_t wantsz)
{
	const char *lang = lang_from_path(self), *slash;
	char scope[8] = "";
	size_t n;

	if (s->search == NULL)
		return;
	slash = strrchr(self, '/');
	if (strcmp(slash, "/index.gmi") != 0)
		return;
	n = (size_t)(slash - self);
	if (n == 0)
		lang = NULL;
	else if (lang == NULL || n != strlen(lang) + 1)
		return; /* deeper than a language folder */
	if (lang != NULL)
		snprintf(scope, sizeof(scope), "%s", lang);
	snprintf(want, wantsz, "%s%s/search", *scope ? "/" : "", scope);
	if (!is_search((void *)(uintptr_t)s, want))
		return;
	o->search = want;
}

/* The root menu of a view links to each other charset's first view. */
static size_t
alts_of(const struct tree_opts *o, size_t v, struct render_alt *alts)
{
	size_t i, j, n = 0;

	for (i = 0; i < o->nviews; i++) {
		if (o->views[i].charset == o->views[v].charset)
			continue;
		for (j = 0; j < n && alts[j].charset != o->views[i].charset;
		     j++)
			;
		if (j < n)
			continue;
		alts[n].port = o->views[i].port;
		alts[n].charset = o->views[i].charset;
		n++;
	}
	return n;
}

int
site_opts(struct site_opts *so, const struct snapshot *s,
    const struct node *page, const struct tree_opts *to, size_t v)
{
	struct render_opts *o = &so->o;

	base_opts(o, to);
	o->lang = page->lang;
	o->is_folder = is_folder;
	o->mime_of = mime_of;
	o->arg = (void *)(uintptr_t)s;
	if (join(so->self, sizeof(so->self), page->path,
	        page->is_dir ? "index.gmi" : "") == -1 ||
	    join(so->text, sizeof(so->text), so->self, TEXT_SUFFIX) == -1)
		return -1;
	o->self = so->self;
	if (v == to->nviews) {              /* the Gemini text version */
		if (to->hostname != NULL) { /* else the links list paths */
			gemini_base(so->base, sizeof(so->base), to);
			o->base = so->base;
		}
		return 0;
	}
	o->port = to->views[v].port;
	o->charset = to->views[v].charset;
	o->is_search = is_search;
	o->gopher_urls = 1; /* the text version's links; menus make items */
	o->text = tree_lookup(s, so->text) != NULL ? so->text : NULL;
	offer_search(s, so->self, o, so->want, sizeof(so->want));
	if (strcmp(so->self, "/index.gmi") == 0) {
		o->alts = so->alts;
		o->nalts = alts_of(to, v, so->alts);
	}
	return 0;
}

/* The text version a page renders: its derived node, or NULL. */
static struct node *
text_of(struct snapshot *s, const struct site_opts *so)
{
	struct node *t = (struct node *)tree_lookup(s, so->text);

	return t != NULL && t->derived ? t : NULL;
}

/* The first UTF-8 view, whose menus the Gemini text version refers to. */
static size_t
utf8_view(const struct tree_opts *to)
{
	size_t v;

	for (v = 0; v < to->nviews; v++)
		if (to->views[v].charset == CHARSET_UTF8)
			break;
	return v;
}

/*
 * A page's menu in view v and, in the same pass, its text version's
 * recipe in that view (with gem, the Gemini text version's URL list too).
 */
static int
render_view(struct snapshot *s, struct node *n, struct node *t,
    const struct tree_opts *to, size_t v, const struct render_opts *gem,
    size_t *bytes)
{
	struct site_opts so;
	struct buf menu = {0};
	struct recipe *r = NULL;
	const char *body;
	size_t len;

	if (site_opts(&so, s, n, to, v) == -1)
		return -1;
	body = body_of(n, &len);
	if (t != NULL && (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if (render_page(&menu, r, body, len, &so.o, gem) == -1 ||
	    (n->gopher[v].data = buf_take(&menu, &n->gopher[v].len)) == NULL)
		goto err;
	*bytes += n->gopher[v].len;
	if (r != NULL) {
		r->menu = n->gopher[v].data;
		t->gopher[v].text = r;
		*bytes += r->size;
	}
	return 0;
err:
	buf_free(&menu);
	recipe_free(r);
	return -1;
}

/*
 * The Gemini text version: a recipe on the first UTF-8 view's menu, its
 * header made as for any reply (rendered text is clean UTF-8, wrap_clean
 * made it so); with no such view, made whole.
 */
static int
gemini_text(struct snapshot *s, struct node *n, struct node *t,
    const struct tree_opts *to)
{
	struct site_opts gem;
	struct buf b = {0};
	const char *body;
	size_t len, u = utf8_view(to);
	int rc = -1;

	if (u < to->nviews) {
		t->text = t->gopher[u].text;
		rc = tree_set_body(t, "", 0);
	} else {
		body = body_of(n, &len);
		if (site_opts(&gem, s, n, to, to->nviews) == 0 &&
		    render_text(&b, body, len, &gem.o) == 0)
			rc = tree_set_body(t, b.data ? b.data : "", b.len);
		buf_free(&b);
	}
	return rc;
}

/*
 * A gemtext page's menu in every view and its text version: one pass per
 * view makes both (its text node is this page's to fill, no one else's).
 */
static int
render_page_views(struct snapshot *s, struct node *n,
    const struct tree_opts *to, size_t *bytes)
{
	struct site_opts gem;
	struct node *t;
	size_t v, u = utf8_view(to);

	/* A path too long for a selector: no menu, as no one can ask. */
	if (site_opts(&gem, s, n, to, to->nviews) == -1)
		return 0;
	t = text_of(s, &gem);
	if (s->nviews > 0 &&
	    ((n->gopher = calloc(s->nviews, sizeof(*n->gopher))) == NULL ||
	        (t != NULL && (t->gopher = calloc(
	                           s->nviews, sizeof(*t->gopher))) == NULL)))
		return -1;
	for (v = 0; v < s->nviews; v++)
		if (render_view(s, n, t, to, v, v == u && t ? &gem.o : NULL,
		        bytes) == -1)
			return -1;
	/* Its reply is counted with every node's, once they are all made. */
	return t != NULL ? gemini_text(s, n, t, to) : 0;
}

/*
 * A file's bytes in one view, where they differ from its body (text in
 * an 8-bit charset, XML with character references); NULL data (and 0)
 * when the body serves.
 */
static int
view_bytes(
    const struct node *n, const struct tree_opts *to, size_t v, struct buf *out)
{
	const char *body;
	size_t len;
	int cs = to->views[v].charset;

	body = body_of(n, &len);
	if (cs == CHARSET_UTF8 || u8_check((const uint8_t *)body, len) != NULL)
		return 0;
	if (mime_is_text(n->mime))
		return charset_encode(out, (enum charset)cs, body, len);
	if (strcmp(n->mime, "application/xml") == 0 ||
	    (strlen(n->mime) > 4 &&
	        strcmp(n->mime + strlen(n->mime) - 4, "+xml") == 0))
		return charset_xml(out, body, len);
	return 0;
}

/* A file's Gopher bytes in every view, where they differ from its body. */
static int
render_views(struct snapshot *s, struct node *n, const struct tree_opts *to,
    size_t *bytes)
{
	struct gview *g;
	struct buf b = {0};
	size_t v;
	int any = 0;

	if ((g = calloc(s->nviews, sizeof(*g))) == NULL)
		return -1;
	for (v = 0; v < s->nviews; v++) {
		if (view_bytes(n, to, v, &b) == -1)
			goto err;
		if (b.len == 0 && b.data == NULL)
			continue;
		if ((g[v].data = buf_take(&b, &g[v].len)) == NULL)
			goto err;
		*bytes += g[v].len;
		any = 1;
	}
	if (any)
		n->gopher = g;
	else
		free(g);
	return 0;
err:
	buf_free(&b);
	for (v = 0; v < s->nviews; v++)
		free(g[v].data);
	free(g);
	return -1;
}

static int has_index(const struct snapshot *, const struct node *);

/*
 * One node's renderings. A text version is its page's to make; a folder
 * with an index.gmi is that page's alias; Gopher Atom feeds came with
 * their node. Reads only fields no thread writes (path, mime, is_dir).
 */
static int
render_node(struct snapshot *s, struct node *n, const struct tree_opts *to,
    size_t *bytes)
{
	if (n->derived || (n->is_dir && has_index(s, n)) || n->gopher != NULL)
		return 0;
	if (is_gemtext(n))
		return render_page_views(s, n, to, bytes);
	return render_views(s, n, to, bytes);
}

/* One thread's share: every nthreads-th block of nodes, from its own. */
struct part {
	struct snapshot *s;
	const struct tree_opts *to;
	size_t first;
	size_t step;
	size_t bytes; /* summed into s->bytes once every thread is done */
	int rc;
	int started;
	pthread_t tid;
};

static void *
render_part(void *arg)
{
	struct part *p = arg;
	size_t b, i, end;

	for (b = p->first * RENDER_BLOCK; b < p->s->n && p->rc == 0;
	     b += p->step * RENDER_BLOCK) {
		end = b + RENDER_BLOCK < p->s->n ? b + RENDER_BLOCK : p->s->n;
		for (i = b; i < end && p->rc == 0; i++)
			p->rc = render_node(
			    p->s, &p->s->nodes[i], p->to, &p->bytes);
	}
	return NULL;
}

/*
 * One per core the parent may run on, up to RENDER_THREADS_MAX, for a
 * tree of TREE_THREAD_TEXT bytes of gemtext or more; else this thread.
 */
static size_t
render_threads(const struct snapshot *s)
{
	cpu_set_t set;
	size_t i, text = 0, len;
	int n;

	for (i = 0; i < s->n; i++)
		if (is_gemtext(&s->nodes[i]) && !s->nodes[i].alias) {
			body_of(&s->nodes[i], &len);
			text += len;
		}
	/* Each Gopher view renders every page again. */
	if (s->nviews > 1)
		text *= s->nviews;
	if (text < tree_thread_text ||
	    sched_getaffinity(0, sizeof(set), &set) == -1)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1                    ? 1
	       : n > RENDER_THREADS_MAX ? RENDER_THREADS_MAX
	                                : (size_t)n;
}

/*
 * Every node's renderings, on several threads: each writes only the
 * nodes it renders (and a page's text version), and the lookups they
 * make read a sorted array nothing adds to meanwhile. Threads inherit
 * the parent's nice value; workers are forked after they are joined.
 */
static int
render_all(struct snapshot *s, const struct tree_opts *to)
{
	struct part parts[RENDER_THREADS_MAX] = {{0}};
	size_t i, n = render_threads(s);
	int rc = 0;

	for (i = 0; i < n; i++)
		parts[i] =
		    (struct part){.s = s, .to = to, .first = i, .step = n};
	for (i = 1; i < n; i++)
		parts[i].started = pthread_create(&parts[i].tid, NULL,
		                       render_part, &parts[i]) == 0;
	render_part(&parts[0]);
	for (i = 1; i < n; i++) {
		if (parts[i].started)
			pthread_join(parts[i].tid, NULL);
		else /* no thread: this one does its share */
			render_part(&parts[i]);
	}
	for (i = 0; i < n; i++) {
		s->bytes += parts[i].bytes;
		rc |= parts[i].rc;
	}
	return rc;
}

/* A folder's index.gmi node, or NULL (the snapshot must be sorted). */
static const struct node *
index_of(const struct snapshot *s, const struct node *dir)
{
	char idx[URI_MAX * 2];

	if (join(idx, sizeof(idx), dir->path, "index.gmi") == -1)
		return NULL;
	return tree_lookup(s, idx);
}

static void
alias_index(struct snapshot *s, struct node *dir)
{
	const struct node *n;

	if ((n = index_of(s, dir)) == NULL)
		return;
	dir->alias = 1;
	dir->mime = n->mime;
	dir->lang = n->lang;
	dir->reply = n->reply;
	dir->reply_len = n->reply_len;
	dir->hdr_len = n->hdr_len;
	dir->gopher = n->gopher;
	dir->charset = n->charset;
	dir->utf8 = n->utf8;
	dir->utf8_len = n->utf8_len;
}

static int
has_index(const struct snapshot *s, const struct node *dir)
{
	return index_of(s, dir) != NULL;
}

/* The feeds' author: the setting, else the root index's first heading. */
static char *
feed_author(const struct snapshot *s, size_t nsorted, const struct tree_opts *o)
{
	const struct node *root;
	const char *body;
	size_t len;

	if (o->author != NULL && o->author[0] != '\0')
		return strdup(o->author);
	if ((root = lookup_sorted(s, nsorted, "/index.gmi")) == NULL ||
	    !is_gemtext(root))
		return NULL;
	body = body_of(root, &len);
	return feed_page_title(body, len);
}

/* Nothing is added from here on: the array loses its doubling slack. */
static void
shrink_nodes(struct snapshot *s)
{
	struct node *n;

	if (s->n > 0 && s->n < s->cap &&
	    (n = reallocarray(s->nodes, s->n, sizeof(*n))) != NULL) {
		s->nodes = n;
		s->cap = s->n;
	}
}

int
site_derive(
    struct snapshot *s, const struct tree_opts *o, char *err, size_t errsz)
{
	size_t i, nsorted = s->n;
	char *author = NULL;

	for (i = 0; i < nsorted; i++)
		if (s->nodes[i].is_dir && !has_index(s, &s->nodes[i]) &&
		    add_listing(s, nsorted, i, o) == -1)
			goto err;
	author = feed_author(s, nsorted, o);
	for (i = 0; i < nsorted; i++) {
		if (s->nodes[i].is_dir) {
			if (lang_from_path(s->nodes[i].path) != NULL &&
			    strchr(s->nodes[i].path + 1, '/')[1] == '\0' &&
			    add_feeds(s, nsorted, i, o, author) == -1)
				goto err;
		} else if (is_gemtext(&s->nodes[i]) &&
		           add_text_node(s, nsorted, i, o) == -1)
			goto err;
	}
	free(author);
	author = NULL;
	tree_sort(s);
	shrink_nodes(s);
	if (render_all(s, o) == -1)
		goto err;
	for (i = 0; i < s->n; i++)
		if (s->nodes[i].is_dir && s->nodes[i].reply == NULL)
			alias_index(s, &s->nodes[i]);
	for (i = 0; i < s->n; i++)
		s->bytes += s->nodes[i].alias ? 0 : s->nodes[i].reply_len;
	return 0;
err:
	free(author);
	snprintf(err, errsz, "out of memory while preparing pages");
	return -1;
}
