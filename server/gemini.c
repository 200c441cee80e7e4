/*
 * gemini.c: the Gemini front: validates one request line and picks the
 * prepared reply, or answers 59, 53, 51 or 31 with a readable META.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gen.h"
#include "l10n.h"
#include "mime.h"
#include "name.h"
#include "net.h"
#include "search.h"
#include "searchpage.h"
#include "tree.h"
#include "uri.h"

#define GEMINI_PORT 1965

/* An IP literal is ours when it is the address the client connected to. */
static int
is_local_ip(struct conn *c, const char *host)
{
	const struct sockaddr_storage *ss;
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1) {
		ss = conn_local(c);
		return ss->ss_family == AF_INET &&
		       memcmp(&a4, &((const struct sockaddr_in *)ss)->sin_addr,
		           sizeof(a4)) == 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		ss = conn_local(c);
		return ss->ss_family == AF_INET6 &&
		       memcmp(&a6,
		           &((const struct sockaddr_in6 *)ss)->sin6_addr,
		           sizeof(a6)) == 0;
	}
	return 0;
}

/* One of the chosen capsule's names, or the address the client reached. */
static int
is_our_host(struct conn *c, const struct uri *u)
{
	size_t i;

	for (i = 0; i < c->cap->nnames; i++)
		if (name_equal(c->cap->names[i], u->host))
			return 1;
	return is_local_ip(c, u->host);
}

/* The longest prefix of s within max bytes that ends between characters. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}

/*
 * The one writer of Gemini status lines: "NN META\r\n", META cut on a
 * character boundary to the spec's 1024 bytes, never sent longer.
 */
static void gemini_reply(struct conn *c, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
gemini_reply(struct conn *c, enum status st, const char *fmt, ...)
{
	char meta[META_MAX + 8];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(meta, sizeof(meta), fmt, ap);
	va_end(ap);
	n = utf8_prefix(meta, META_MAX);
	conn_replyf(c, st, "%02d %.*s\r\n", (int)st, (int)n, meta);
}

static void
gemini_error(struct conn *c, enum status st, const char *msg)
{
	gemini_reply(c, st, "%s", msg);
}

/*
 * Only CRLF ends a Gemini request: a bare LF waits (and gets no reply). A
 * line is known to be too long as soon as the byte after REQ_MAX bytes is
 * not its CR: it is handed on then, not after the client's timeout.
 */
static long
gemini_frame(const char *req, size_t len, int eof)
{
	const char *p = req, *cr;
	size_t n = len;

	(void)eof;
	while ((cr = memchr(p, '\r', n)) != NULL) {
		n -= (size_t)(cr - p) + 1;
		if (n > 0 && cr[1] == '\n')
			return (long)(cr - req);
		p = cr + 1;
	}
	if (len > GEMINI_REQ_MAX &&
	    !(len == GEMINI_REQ_MAX + 1 && req[GEMINI_REQ_MAX] == '\r'))
		return (long)len;
	return -1;
}

/* The client asks too often: META is the seconds to wait, nothing else. */
static void
gemini_slow_down(struct conn *c, const char *line, size_t len, unsigned secs)
{
	const char *why;
	struct uri u;

	if (len <= GEMINI_REQ_MAX && uri_parse(line, len, &u, &why) == 0)
		conn_set_logpath(c, u.path);
	gemini_reply(c, ST_SLOW_DOWN, "%u", secs);
}

/*
 * 31 to path on the host and port the client asked, its query kept: a
 * folder named without its '/', or a path under a symlinked folder (to
 * the same place in the folder itself: the link is only another way in).
 */
static void
redirect_to(struct conn *c, const struct uri *u, const char *path)
{
	struct buf b = {0};

	buf_printf(&b, "gemini://%s%s%s", u->host_is_ipv6 ? "[" : "", u->host,
	    u->host_is_ipv6 ? "]" : "");
	if (u->port != -1)
		buf_printf(&b, ":%d", u->port);
	uri_encode_path(&b, path);
	if (u->has_query)
		buf_printf(&b, "?%s", u->query);
	if (b.oom)
		gemini_error(c, ST_TEMP_FAILURE, "Server out of memory");
	else if (b.len > META_MAX)
		gemini_error(c, ST_BAD_REQUEST, "Redirect target too long");
	else
		gemini_reply(c, ST_REDIRECT, "%s", b.data);
	buf_free(&b);
}

/* "/dir" → "/dir/", sent as an absolute URL so every client follows it. */
static void
redirect_to_dir(struct conn *c, const struct uri *u)
{
	char dir[sizeof(u->path) + 1];

	snprintf(dir, sizeof(dir), "%s/", u->path);
	redirect_to(c, u, dir);
}

/*
 * A search page: without a query, 10 asks for one in the folder's
 * language; with one, the results page, made for this request.
 */
static void
gemini_search(
    struct conn *c, const struct uri *u, const char *scope, unsigned page)
{
	const struct search *x = c->cap->snap->search;
	char q[SEARCH_QUERY_MAX + 1], lang[128];
	enum search_status st = SEARCH_EMPTY;
	struct buf b = {0};
	char *p;
	size_t len;
	long n = 0;

	searchpage_langs(x, scope, lang, sizeof(lang));
	if (u->has_query)
		n = searchpage_decode(u->query, strlen(u->query), q, sizeof(q));
	if (n == -1)
		st = SEARCH_TOO_LONG;
	else if (n == -2)
		st = SEARCH_BAD_ESCAPE;
	else if (n > 0)
		st = SEARCH_OK;
	if (st == SEARCH_OK) {
		buf_printf(
		    &b, "20 text/gemini; charset=utf-8; lang=%s\r\n", lang);
		st = searchpage_results(&b, x, scope, page, 0, q, (size_t)n);
	}
	if (st == SEARCH_OK) {
		p = buf_take(&b, &len);
		conn_reply_own(c, ST_SUCCESS, p, len);
		return;
	}
	buf_free(&b);
	if (st == SEARCH_NOMEM) {
		gemini_error(c, ST_TEMP_FAILURE, "Server out of memory");
		return;
	}
	/* Every language's words: the prompt or the reason, one line. */
	if (l10n_add(&b, lang,
	        st == SEARCH_EMPTY ? L10N_SEARCH_PROMPT
	                           : searchpage_refusal(st)) == -1) {
		buf_free(&b);
		gemini_error(c, ST_TEMP_FAILURE, "Server out of memory");
		return;
	}
	gemini_reply(
	    c, st == SEARCH_EMPTY ? ST_INPUT : ST_BAD_REQUEST, "%s", b.data);
	buf_free(&b);
}

/* A path's language: its folder's, else the capsule's. */
static const char *
path_lang(const struct conn *c, const char *path)
{
	const char *lang = lang_from_path(path);

	return lang != NULL ? lang : c->cap->cc->lang;
}

/*
 * The language of a request that did not parse: its path's first segment
 * when it has the shape "scheme://host/lang/...", else the capsule's.
 */
static const char *
raw_lang(const struct conn *c, const char *line, size_t len)
{
	char seg[16];
	const char *p, *end = line + len, *e;
	size_t n;

	for (p = line; p + 3 <= end && memcmp(p, "://", 3) != 0; p++)
		;
	if (p + 3 > end)
		return c->cap->cc->lang;
	for (p += 3; p < end && *p != '/'; p++)
		;
	for (e = p + 1; e < end && *e != '/'; e++)
		;
	n = (size_t)(e - p) + 1;
	if (p >= end || e >= end || n >= sizeof(seg))
		return c->cap->cc->lang;
	memcpy(seg, p, n);
	seg[n] = '\0';
	return path_lang(c, seg);
}

/* Prepared bytes, a big file from disk, or a text version streamed. */
static void
reply_node(struct conn *c, const struct node *n)
{
	const char *data;
	size_t len = 0;
	char *own;

	if (n->ondisk) {
		conn_reply_file(c, ST_SUCCESS, n->reply, n->reply_len, n);
		return;
	}
	if (node_gemini_recipe(n) != NULL) {
		conn_reply_recipe(c, ST_SUCCESS, n->reply, n->reply_len,
		    node_gemini_recipe(n), RECIPE_GEMINI);
		return;
	}
	data = node_gemini(n, &len, &own);
	if (data == NULL || own != NULL)
		conn_reply_own(c, ST_SUCCESS, own, len);
	else
		conn_reply(c, ST_SUCCESS, data, len);
}

static void
gemini_handle(struct conn *c, const char *line, size_t len)
{
	const struct node *n;
	const char *why = NULL, *lang;
	struct uri u;
	unsigned want, page;
	char scope[8], real[URI_MAX * 2];
	int port;

	if (len > GEMINI_REQ_MAX) {
		gemini_reply(c, ST_BAD_REQUEST, "%s",
		    l10n(raw_lang(c, line, len), L10N_TOO_LONG));
		return;
	}
	if (uri_parse(line, len, &u, &why) == -1) {
		/* The parser's reason is in English: for English only. */
		lang = raw_lang(c, line, len);
		if (l10n(lang, L10N_LANG_NAME) == l10n(NULL, L10N_LANG_NAME))
			gemini_reply(c, ST_BAD_REQUEST, "%s: %s",
			    l10n(lang, L10N_BAD_REQUEST), why);
		else
			gemini_reply(c, ST_BAD_REQUEST, "%s",
			    l10n(lang, L10N_BAD_REQUEST));
		return;
	}
	conn_set_logpath(c, u.path);
	lang = path_lang(c, u.path);
	if (strcmp(u.scheme, "gemini") != 0) {
		gemini_error(
		    c, ST_PROXY_REFUSED, l10n(lang, L10N_PROXY_SCHEME));
		return;
	}
	/* Behind a port redirect, clients name the public port. */
	want =
	    c->cap->cc->public_port ? c->cap->cc->public_port : c->l->gl->port;
	port = u.port == -1 ? GEMINI_PORT : u.port;
	if (!is_our_host(c, &u) || (unsigned)port != want) {
		gemini_reply(c, ST_PROXY_REFUSED, "%s %s, %s %u",
		    l10n(lang, L10N_PROXY_SERVER), c->cap->cc->uname,
		    l10n(lang, L10N_PORT), want);
		return;
	}
	if ((n = tree_lookup(c->cap->snap, u.path)) != NULL) {
		reply_node(c, n);
		return;
	}
	if (tree_folder(c->cap->snap, u.path) != NULL) {
		redirect_to_dir(c, &u);
		return;
	}
	if (tree_link(c->cap->snap, u.path, real, sizeof(real))) {
		redirect_to(c, &u, real);
		return;
	}
	/* Last: a real file or folder at a search path wins. */
	if (search_path(c->cap->snap->search, u.path, scope, &page)) {
		gemini_search(c, &u, scope, page);
		return;
	}
	gemini_reply(
	    c, ST_NOT_FOUND, "%s: %s", l10n(lang, L10N_NOT_FOUND), u.path);
}

const struct front gemini_front = {
    .name = "gemini",
    .tls = 1,
    .frame = gemini_frame,
    .handle = gemini_handle,
    .error = gemini_error,
    .slow_down = gemini_slow_down,
};
