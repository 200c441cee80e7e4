/*
 * site.c: pages derived from the loaded tree, made once per snapshot:
 * listings for folders without index.gmi, plain-text versions, feeds per
 * language, and the Gopher rendering of every gemtext page.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "feed.h"
#include "mime.h"
#include "render.h"
#include "search.h"
#include "searchpage.h"
#include "tree.h"
#include "uri.h"

#define TEXT_SUFFIX ".txt" /* "/en/a.gmi" is also "/en/a.gmi.txt" */

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

static int
add_listing(
    struct snapshot *s, size_t nsorted, size_t i, const struct tree_opts *o)
{
	struct buf g = {0};
	const char *dir = s->nodes[i].path, *p, *name;
	size_t j, dlen = strlen(dir);
	int rc;

	buf_printf(&g, "# Index of %s\n\n", dir);
	if (strcmp(dir, "/") != 0)
		buf_addstr(&g, "=> ../ Parent folder\n");
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
	if (g.oom)
		return -1;
	rc = tree_set_reply(
	    &s->nodes[i], "text/gemini", tree_lang(o, dir), g.data, g.len);
	buf_free(&g);
	return rc;
}

static int
add_text_version(struct snapshot *s, size_t nsorted, size_t i,
    const struct render_opts *ro, const struct tree_opts *to)
{
	char path[URI_MAX * 2];
	struct render_opts o = *ro;
	struct buf t = {0};
	struct node *n;
	const char *body;
	size_t len;
	int rc;

	/* A real file of that name wins over the generated version. */
	if (join(path, sizeof(path), s->nodes[i].path, TEXT_SUFFIX) == -1 ||
	    lookup_sorted(s, nsorted, path) != NULL)
		return 0;
	o.self = s->nodes[i].path;
	body = body_of(&s->nodes[i], &len);
	if (render_text(&t, body, len, &o) == -1)
		goto err;
	/* tree_add may move the array: nothing of nodes[i] is used below. */
	if ((n = tree_add(s, path)) == NULL)
		goto err;
	rc =
	    tree_set_reply(n, "text/plain", tree_lang(to, path), t.data, t.len);
	buf_free(&t);
	return rc;
err:
	buf_free(&t);
	return -1;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct feed_entry *x = a, *y = b;
	int c = strcmp(y->date, x->date);

	return c ? c : strcmp(x->path, y->path);
}

static int
add_feed_node(struct snapshot *s, size_t nsorted, const char *dir,
    const char *name, const char *mime, const struct buf *b,
    const struct tree_opts *o)
{
	char path[URI_MAX * 2];
	struct node *n;

	if (join(path, sizeof(path), dir, name) == -1)
		return 0;
	if (lookup_sorted(s, nsorted, path) != NULL)
		return 0; /* a real file of that name wins */
	if ((n = tree_add(s, path)) == NULL)
		return -1;
	return tree_set_reply(n, mime, tree_lang(o, path), b->data, b->len);
}

/* Every dated gemtext page under a language folder is an entry. */
static int
add_feeds(
    struct snapshot *s, size_t nsorted, size_t di, const struct tree_opts *o)
{
	char dir[URI_MAX], idx[URI_MAX + 16], base[512];
	struct feed_entry *e = NULL;
	struct feed_info fi;
	struct buf atom = {0}, sub = {0};
	const struct node *n, *home;
	const char *body;
	size_t i, ne = 0, len, dlen;
	int rc = -1, v6;

	if (join(dir, sizeof(dir), s->nodes[di].path, "") == -1 ||
	    join(idx, sizeof(idx), dir, "index.gmi") == -1)
		return 0;
	dlen = strlen(dir);
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
		ne++;
	}
	/* No dated page, no feed: an empty one would date from 1970. */
	if (ne == 0) {
		free(e);
		return 0;
	}
	qsort(e, ne, sizeof(*e), entry_cmp);
	home = lookup_sorted(s, nsorted, idx);
	fi.lang = lang_from_path(dir);
	fi.dir = dir;
	fi.author = o->author;
	fi.title = NULL;
	if (home != NULL) {
		body = body_of(home, &len);
		fi.title = feed_page_title(body, len);
	}
	/* An IPv6 literal goes in brackets in a URL. */
	v6 = strchr(o->hostname, ':') != NULL;
	if (o->gemini_port == 1965)
		snprintf(base, sizeof(base), "gemini://%s%s%s", v6 ? "[" : "",
		    o->hostname, v6 ? "]" : "");
	else
		snprintf(base, sizeof(base), "gemini://%s%s%s:%u",
		    v6 ? "[" : "", o->hostname, v6 ? "]" : "", o->gemini_port);
	fi.base = base;
	if (feed_atom(&atom, &fi, e, ne) == -1 ||
	    feed_gemsub(&sub, &fi, e, ne) == -1)
		goto err;
	/* The entries point into nodes: add the feed nodes last. */
	if (add_feed_node(s, nsorted, dir, "atom.xml", "application/atom+xml",
	        &atom, o) == -1 ||
	    add_feed_node(
	        s, nsorted, dir, "feed.gmi", "text/gemini", &sub, o) == -1)
		goto err;
	rc = 0;
err:
	for (i = 0; i < ne; i++)
		free(e[i].title);
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
	ro->port = to->nviews > 0 ? to->gopher_ports[0] : 0;
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
    char *want, size_t wantsz, char *label, size_t labelsz)
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
	searchpage_label(s->search, scope, label, labelsz);
	o->search = want;
	o->search_label = label;
}

static int
render_node(struct snapshot *s, struct node *n, const struct tree_opts *to)
{
	char self[URI_MAX * 2], text[URI_MAX * 2], want[32], label[128];
	struct render_opts o;
	struct buf m = {0};
	const char *body;
	size_t len, v;

	if (join(self, sizeof(self), n->path, n->is_dir ? "index.gmi" : "") ==
	        -1 ||
	    join(text, sizeof(text), self, TEXT_SUFFIX) == -1)
		return 0;
	base_opts(&o, to);
	o.self = self;
	o.text = tree_lookup(s, text) != NULL ? text : NULL;
	o.is_folder = is_folder;
	o.mime_of = mime_of;
	o.is_search = is_search;
	o.arg = s;
	offer_search(s, self, &o, want, sizeof(want), label, sizeof(label));
	body = body_of(n, &len);
	if ((n->gopher = calloc(s->nviews, sizeof(*n->gopher))) == NULL)
		return -1;
	for (v = 0; v < s->nviews; v++) {
		o.port = to->gopher_ports[v];
		if (render_menu(&m, body, len, &o) == -1) {
			buf_free(&m);
			return -1;
		}
		n->gopher[v].data = buf_take(&m, &n->gopher[v].len);
		if (n->gopher[v].data == NULL)
			return -1;
		s->bytes += n->gopher[v].len;
	}
	return 0;
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

int
site_derive(
    struct snapshot *s, const struct tree_opts *o, char *err, size_t errsz)
{
	struct render_opts ro;
	size_t i, nsorted = s->n;

	base_opts(&ro, o);
	for (i = 0; i < nsorted; i++)
		if (s->nodes[i].is_dir && !has_index(s, &s->nodes[i]) &&
		    add_listing(s, nsorted, i, o) == -1)
			goto err;
	for (i = 0; i < nsorted; i++) {
		if (s->nodes[i].is_dir) {
			if (lang_from_path(s->nodes[i].path) != NULL &&
			    strchr(s->nodes[i].path + 1, '/')[1] == '\0' &&
			    add_feeds(s, nsorted, i, o) == -1)
				goto err;
		} else if (is_gemtext(&s->nodes[i]) &&
		           add_text_version(s, nsorted, i, &ro, o) == -1)
			goto err;
	}
	tree_sort(s);
	for (i = 0; i < s->n; i++)
		if (!s->nodes[i].is_dir || !has_index(s, &s->nodes[i]))
			if (is_gemtext(&s->nodes[i]) &&
			    render_node(s, &s->nodes[i], o) == -1)
				goto err;
	for (i = 0; i < s->n; i++)
		if (s->nodes[i].is_dir && s->nodes[i].reply == NULL)
			alias_index(s, &s->nodes[i]);
	for (i = 0; i < s->n; i++)
		s->bytes += s->nodes[i].alias ? 0 : s->nodes[i].reply_len;
	return 0;
err:
	snprintf(err, errsz, "out of memory while preparing pages");
	return -1;
}
